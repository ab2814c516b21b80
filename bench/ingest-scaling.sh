#!/usr/bin/env bash
# Does the cost of a cold feeds-only pass grow linearly with the feeds (a benchmark, not a test)?
# Runs bench/ingest-scale.sh's feeds-only pass (fulltext: never) at 1,000 and at 5,000 feeds x 30
# items, ROUNDS times each, alternating, and prints every run, the medians and the ratios of
# 5,000 to 1,000 (issue 14's target: at most 5.5x).
#
# Single runs of this pass vary by 10-30 % on one machine, most of it from the file system: each
# run writes 100,000s of files, whose write-back and deletion slow the next run down. Here every
# pass starts after a `sync`, and the runs' folders are only deleted at the end (KEEP_RUNS), so
# no run pays for an earlier one, and (as root) each pass starts with the page cache emptied and
# the feeds read back in (DROP_CACHES, see bench/ingest-scale.sh); the medians are the figures.
#
# Usage: bench/ingest-scaling.sh [ROUNDS] (default 3)
#   FEEDCORPUS_BIN=path  the binary (else the release build)
#   SMALL=N LARGE=M      other sizes (default 1000 and 5000)
#   WORK=DIR             where the generated sites are kept (default /tmp/feedcorpus-scaling)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
small=${SMALL:-1000}
large=${LARGE:-5000}
work=${WORK:-/tmp/feedcorpus-scaling}
if [ -z "${FEEDCORPUS_BIN:-}" ]; then
  swift build -c release --product feedcorpus >/dev/null
  export FEEDCORPUS_BIN=$PWD/.build/release/feedcorpus
fi
# Each pass starts from the same page cache when this process may empty it (root).
if [ -z "${DROP_CACHES+x}" ] && [ -w /proc/sys/vm/drop_caches ]; then export DROP_CACHES=1; fi
results=$(mktemp)
trap 'rm -f "$results"; rm -rf "$work"/'"$small"'/.trash-* "$work"/'"$large"'/.trash-*' EXIT
for round in $(seq 1 "$rounds"); do
  for n in "$small" "$large"; do
    line=$(KEEP_RUNS=1 NO_FULL=1 NO_NEWSBOAT=1 bench/ingest-scale.sh "$n" --keep "$work/$n" | grep 'cold pass')
    read -r wall cpu < <(echo "$line" | sed -E 's/.*wall ([0-9.]+) s, CPU ([0-9.]+) s.*/\1 \2/')
    echo "round $round, $n feeds: $line"
    echo "$n $wall $cpu" >> "$results"
  done
done
python3 - "$results" "$small" "$large" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
small, large = sys.argv[2], sys.argv[3]
def median(n, column):
    return statistics.median(float(row[column]) for row in rows if row[0] == n)
ws, cs, wl, cl = median(small, 1), median(small, 2), median(large, 1), median(large, 2)
print(f"median {small} feeds: wall {ws:.1f} s, CPU {cs:.1f} s")
print(f"median {large} feeds: wall {wl:.1f} s, CPU {cl:.1f} s")
print(f"ratio {large}/{small}: wall {wl / ws:.2f}x, CPU {cl / cs:.2f}x (linear: {int(large) / int(small):.1f}x)")
PY
