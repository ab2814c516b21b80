#!/usr/bin/env bash
# Parser benchmark (not a test): generates a realistic RSS 2.0 file of at least 50 MB (thousands
# of items with content:encoded HTML) and prints, from one run, the throughput of
# `feedcorpus-bench parse` (the parse alone) and of `feedcorpus parse` printing its JSON, of `xmllint --stream --noout` and of
# Python's feedparser on the same file, the time ratio to xmllint (target: at most 1.3), the
# speed-up over feedparser (target: at least 50x) and feedcorpus's peak memory (target: at most
# the input size plus the parsed model plus 30 MB).
#
# Usage: bench/parse.sh [MEGABYTES] [RUNS]     (defaults: 60 and 5)
# Each round runs ours, then xmllint, back to back; the ratio reported against the target is the
# median of the rounds' ratios (a shared or virtual machine's slow spells hit both runs of a
# round alike), printed beside the ratio of the best runs.
#   FEEDCORPUS_BIN=path FEEDCORPUS_BENCH_BIN=path  binaries built with --static-swift-stdlib (else built here)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${1:-60}
runs=${2:-5}
command -v xmllint >/dev/null || { echo "needs xmllint: apt-get install libxml2-utils"; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install time"; exit 2; }
python3 -c 'import feedparser' 2>/dev/null || pip install -q feedparser
# The binary as deployed (`make release`): static Swift runtime, so start-up is not a dynamic
# link of Foundation. Its own build folder keeps the ordinary release build intact.
# FEEDCORPUS_BIN and FEEDCORPUS_BENCH_BIN name binaries already built that way (no build then).
if [ -n "${FEEDCORPUS_BIN:-}" ] && [ -n "${FEEDCORPUS_BENCH_BIN:-}" ]; then
    bin=$FEEDCORPUS_BIN
    benchbin=$FEEDCORPUS_BENCH_BIN
else
    swift build -c release --static-swift-stdlib --scratch-path .build-static --product feedcorpus >/dev/null
    swift build -c release --static-swift-stdlib --scratch-path .build-static --product feedcorpus-bench >/dev/null
    bin=.build-static/release/feedcorpus
    benchbin=.build-static/release/feedcorpus-bench
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
feed="$work/feed.xml"

python3 - "$feed" "$size_mb" <<'PY'
import random, sys, html
path, target = sys.argv[1], int(sys.argv[2]) * 1_000_000
random.seed(7)
words = ("the minister said on monday that troops in the region would be withdrawn after talks with "
         "officials from both sides ended without agreement amid growing pressure on the government "
         "über café naïve – “quoted” — résumé").split()
def paragraph(n):
    return " ".join(random.choice(words) for _ in range(n)).capitalize() + "."
with open(path, "w", encoding="utf-8") as out:
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
              'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n'
              '<title>Benchmark News</title><link>https://bench.example/</link><description>Generated</description><language>en</language>\n')
    written, i = 0, 0
    while written < target:
        i += 1
        body = "".join("<p>%s <a href=\"https://bench.example/x/%d\">link</a> &amp; more</p>" % (paragraph(60), i) for _ in range(6))
        item = ('<item><title>%s &amp; story %d</title><link>https://bench.example/story/%d?utm_source=rss</link>'
                '<guid isPermaLink="false">bench-%d</guid><pubDate>Mon, 04 Nov 2024 %02d:%02d:00 +0000</pubDate>'
                '<dc:creator>Reporter %d</dc:creator><category>World</category><category>Europe</category>'
                '<description>%s</description>'
                '<content:encoded>%s</content:encoded></item>\n') % (
            paragraph(8), i, i, i, i % 24, i % 60, i % 50, html.escape(paragraph(30)),
            ("<![CDATA[%s]]>" % body) if i % 2 else html.escape(body))
        out.write(item)
        written += len(item.encode())
    out.write("</channel>\n</rss>\n")
PY
bytes=$(stat -c %s "$feed")
echo "input: $feed, $((bytes / 1000000)) MB"

# Wall time with a fine clock (GNU time prints hundredths, too coarse for a ratio).
seconds() { python3 -c 'import subprocess, sys, time; t = time.perf_counter(); subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); print(f"{time.perf_counter() - t:.4f}")' "$@"; }
best() { sort -g | head -1; }
ours=(); json=(); theirs=(); rss=()
for _ in $(seq "$runs"); do
    ours+=("$(seconds "$benchbin" parse "$feed")")
    theirs+=("$(seconds xmllint --stream --noout "$feed")")
    json+=("$(seconds "$bin" parse "$feed")")
    /usr/bin/time -f "%M" -o "$work/t" "$benchbin" parse "$feed" > "$work/stats"
    rss+=("$(cat "$work/t")")
done
our_best=$(printf '%s\n' "${ours[@]}" | best)
json_best=$(printf '%s\n' "${json[@]}" | best)
their_best=$(printf '%s\n' "${theirs[@]}" | best)
peak_kb=$(printf '%s\n' "${rss[@]}" | sort -g | tail -1)
# feedparser once (it takes about half a second per megabyte), in-process: its start-up and
# import are not counted, ours are.
feedparser_seconds=$(python3 - "$feed" <<'PY'
import sys, time, feedparser
data = open(sys.argv[1], "rb").read()
started = time.perf_counter()
parsed = feedparser.parse(data)
print(f"{time.perf_counter() - started:.3f}")
PY
)
cat "$work/stats"
model_mb=$(sed -n 's/.*model_mb=\([0-9.]*\).*/\1/p' "$work/stats")
python3 - "$bytes" "$our_best" "$their_best" "$peak_kb" "$model_mb" "$json_best" "$feedparser_seconds" "${ours[*]}" "${theirs[*]}" <<'PY'
import statistics, sys
size, ours, theirs, peak, model, json, feedparser = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7])
rounds = [float(a) / float(b) for a, b in zip(sys.argv[8].split(), sys.argv[9].split())]
mb = size / 1e6
peak_mb = peak * 1024 / 1e6
print(f"feedcorpus-bench parse (whole process):  {ours:.3f} s  {mb / ours:.0f} MB/s")
print(f"feedcorpus parse, JSON to /dev/null:      {json:.3f} s  {mb / json:.0f} MB/s")
print(f"xmllint --stream --noout:                 {theirs:.3f} s  {mb / theirs:.0f} MB/s")
print(f"feedparser.parse (in Python, once):       {feedparser:.2f} s  {mb / feedparser:.1f} MB/s")
print(f"time ratio feedcorpus/xmllint:            {statistics.median(rounds):.2f}  median of {len(rounds)} rounds (target <= 1.3); "
      f"rounds {min(rounds):.2f}-{max(rounds):.2f}; best runs {ours / theirs:.2f}")
print(f"speed-up over feedparser:                 {feedparser / ours:.0f}x parse only, {feedparser / json:.0f}x printing JSON  (target >= 50x)")
print(f"peak memory feedcorpus:                   {peak_mb:.0f} MB; input {mb:.0f} MB + model {model:.0f} MB + 30 MB = {mb + model + 30:.0f} MB allowed")
PY
