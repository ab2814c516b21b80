#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/) and runs each for a given time.
#
#   bash Fuzz/run.sh [SECONDS] [TARGET...]
#   bash Fuzz/run.sh --regress [TARGET...]   run each target once over its kept crash inputs
#
# SECONDS per target (default 600); TARGET one of FuzzFeedParser FuzzHTMLExtractor
# FuzzDateParser FuzzConfigLoader (default: all, one after another). Each target starts from
# its seed corpus (Fuzz/seeds/TARGET plus the project's own feeds, pages and configs) and keeps
# what it learns in .build-fuzz/corpus/TARGET. A crash, timeout or out-of-memory input is
# written to Fuzz/crashes/TARGET/ and the script exits non-zero: reproduce with
#   .build-fuzz/debug/TARGET Fuzz/crashes/TARGET/FILE
# then fix it and move the file into Tests/FeedParserTests/Fixtures/fuzz/TARGET/ (the regression tests read every
# file there).
set -euo pipefail
cd "$(dirname "$0")/.."
regress=false
if [ "${1:-}" = "--regress" ]; then regress=true; shift; seconds=0; else seconds=${1:-600}; shift || true; fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzFeedParser FuzzHTMLExtractor FuzzDateParser FuzzConfigLoader)

scratch=$PWD/.build-fuzz
echo "building fuzz targets (--sanitize=fuzzer --sanitize=address) in $scratch ..."
# SwiftPM's --sanitize=fuzzer instruments only the fuzz target itself; the coverage flags make the
# project's modules report coverage too (without them libFuzzer fuzzes blind).
for t in "${targets[@]}"; do
  (cd Fuzz && swift build --scratch-path "$scratch" --sanitize=fuzzer --sanitize=address \
      -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table --product "$t")
done

status=0
if $regress; then
  for t in "${targets[@]}"; do
    fixtures=(Tests/FeedParserTests/Fixtures/fuzz/$t/*)
    [ -e "${fixtures[0]}" ] || { echo "$t: no fixtures"; continue; }
    if "$scratch/debug/$t" "${fixtures[@]}" >"$scratch/$t.regress.log" 2>&1; then
      echo "$t: ${#fixtures[@]} fixtures pass"
    else
      status=1; echo "$t: FAILED"; tail -30 "$scratch/$t.regress.log"
    fi
  done
  exit $status
fi
for t in "${targets[@]}"; do
  corpus=$scratch/corpus/$t
  crashes=Fuzz/crashes/$t
  mkdir -p "$corpus" "$crashes"
  seeds=(Fuzz/seeds/$t)
  case $t in
    FuzzFeedParser) seeds+=(Config/demo-feeds Tests/FeedParserTests/Fixtures/fuzz/$t) ;;
    FuzzHTMLExtractor) seeds+=(Config/demo-feeds/pages Tests/FeedParserTests/Fixtures/fuzz/$t) ;;
    *) seeds+=(Tests/FeedParserTests/Fixtures/fuzz/$t) ;;
  esac
  existing=()
  for s in "${seeds[@]}"; do [ -d "$s" ] && existing+=("$s"); done
  echo "== $t for ${seconds}s"
  started=$(date +%s)
  set +e
  "$scratch/debug/$t" "$corpus" "${existing[@]}" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -max_len=262144 -artifact_prefix="$crashes/" -print_final_stats=1 2>"$scratch/$t.log"
  rc=$?
  set -e
  grep -E "^stat::(number_of_executed_units|peak_rss_mb|new_units_added)|^#[0-9]+.*DONE" "$scratch/$t.log" || true
  echo "$t: exit $rc after $(( $(date +%s) - started ))s; corpus $(ls "$corpus" | wc -l) inputs; crashes: $(ls "$crashes" | wc -l)"
  [ $rc -eq 0 ] || { status=1; tail -40 "$scratch/$t.log"; }
done
exit $status
