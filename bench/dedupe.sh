#!/usr/bin/env bash
# Near-duplicate index benchmark (not a test): builds a state file holding N stored stories'
# fingerprints (default 1,000,000; random SimHashes and MinHash signatures of the schema's
# shape), then has the release binary load the indexes the way `fetch` does at start-up and time
# the lookup and verification of one story (half of the queries are edited copies of stored
# stories, half are new). Prints load time, memory and the median and p99 latency. Target:
# median < 20 µs. Also prints the quality figures of bench/dedupe-quality.py.
#
# Usage: bench/dedupe.sh [N]
#   FEEDCORPUS_BIN=path  use this binary instead of building the release one
#   FEEDCORPUS_BENCH_BIN=path  the benchmark tools (default: feedcorpus-bench beside FEEDCORPUS_BIN)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-1000000}
if [ -z "${FEEDCORPUS_BIN:-}" ]; then
  swift build -c release --product feedcorpus >/dev/null
  swift build -c release --product feedcorpus-bench >/dev/null
  FEEDCORPUS_BIN=$PWD/.build/release/feedcorpus
fi
bin=$FEEDCORPUS_BIN
benchbin=${FEEDCORPUS_BENCH_BIN:-$(dirname "$bin")/feedcorpus-bench}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# An empty run creates the state with the current schema.
printf 'corpus: corpus\nstate: state.sqlite\nfeeds: []\n' > "$work/c.yaml"
"$bin" fetch --once --quiet --config "$work/c.yaml" >/dev/null
python3 - "$work/state.sqlite" "$count" <<'PY'
import random, sqlite3, sys
path, count = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(path)
db.execute("INSERT INTO feeds(id, url, name) VALUES(1, 'https://bench.example/rss', 'bench')")
rng = random.Random(5)
def signed(value):
    return value - (1 << 64) if value >= (1 << 63) else value
def signature(slots, shingles):
    # MinHashSignature.bytes: the shingle count (4 bytes LE), then 16-bit slots (LE).
    return shingles.to_bytes(4, "little") + rng.randbytes(2 * slots)
rows = ((i, "b/%07d_%016x.txt" % (i, i), "%064x" % i, signed(rng.getrandbits(64)), "k%d" % i,
         signature(64, rng.randint(200, 900)), signature(24, 46))
        for i in range(1, count + 1))
db.executemany("INSERT INTO stories(id, file, sha256, simhash, feed_id, entry_key, title, fetched_at, manifest_line, minhash, lead_minhash) "
               "VALUES(?, ?, ?, ?, 1, ?, 't', 0, '', ?, ?)", rows)
db.commit()
PY
echo "state with $count fingerprints: $(du -h "$work/state.sqlite" | cut -f1)"
"$benchbin" simhash --state "$work/state.sqlite"
echo
python3 bench/dedupe-quality.py --binary "$benchbin"
