#!/usr/bin/env bash
# Article-extraction benchmark (not a test): scores `feedcorpus extract --json` and trafilatura
# on ../shared/extraction-dev with that set's metric, in one run, and prints both F1s, the mean
# per-page F1, empties and pages/s (feedcorpus with all cores and with --jobs 1; trafilatura in
# one Python process). Targets: F1 >= 0.975 and above trafilatura, mean page F1 >= 0.965, no
# empty output, >= 10x trafilatura's pages/s.
#
# Usage: bench/extract.sh [--dataset DIR] [--worst N]
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import trafilatura' 2>/dev/null || pip install -q trafilatura lxml_html_clean
# The binary as deployed (`make release`): static Swift runtime.
swift build -c release --static-swift-stdlib --scratch-path .build-static --product feedcorpus >/dev/null
python3 bench/extract-score.py --binary .build-static/release/feedcorpus "$@"
