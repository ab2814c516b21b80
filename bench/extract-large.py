#!/usr/bin/env python3
"""Scores `feedcorpus extract --json` on ../shared/extraction-dev-large (679 pages of 600+ hosts
with must-have / must-not-have snippets) with that set's metric (trafilatura's own): a `With`
snippet found in the body text is a true positive, one missing a false negative; a `Without`
snippet found is a false positive. Prints precision, recall, F1 and empty pages.

A development measure, not a test.
Usage: bench/extract-large.py [--binary PATH] [--dataset DIR] [--dump FILE]
  --dump FILE  writes one JSON line per page (file, url, text length, the With snippets missed
               and the Without snippets kept), to study the misses by class.
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build-static/release/feedcorpus"))
    parser.add_argument("--dataset", default=os.path.join(ROOT, "..", "shared", "extraction-dev-large"))
    parser.add_argument("--dump", help="write per-page results (JSON lines) to this file")
    args = parser.parse_args()
    dump = open(args.dump, "w") if args.dump else None
    annotations = json.load(open(os.path.join(args.dataset, "annotations.json")))
    tp = fp = fn = empty = 0
    with tempfile.TemporaryDirectory() as work:
        for entry in annotations:
            source = os.path.join(args.dataset, "files", entry["File"] + ".gz")
            page = os.path.join(work, "page.html")
            with gzip.open(source, "rb") as compressed, open(page, "wb") as out:
                out.write(compressed.read())
            run = subprocess.run([args.binary, "extract", "--json", "--url", entry["URL"], page], capture_output=True, timeout=60)
            text = ""
            if run.returncode == 0 and run.stdout.strip():
                text = json.loads(run.stdout.decode("utf-8").split("\n")[0]).get("text") or ""
            if not text.strip():
                empty += 1
            for snippet in entry.get("With", []):
                if snippet in text:
                    tp += 1
                else:
                    fn += 1
            fp += sum(1 for snippet in entry.get("Without", []) if snippet in text)
            if dump:
                dump.write(json.dumps({"file": entry["File"], "url": entry["URL"], "length": len(text),
                                       "missed": [s for s in entry.get("With", []) if s not in text],
                                       "kept": [s for s in entry.get("Without", []) if s in text]}) + "\n")
    precision = tp / (tp + fp) if tp + fp else 0
    recall = tp / (tp + fn) if tp + fn else 0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0
    print(f"{len(annotations)} pages from {args.dataset}")
    print(f"feedcorpus   precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}  empty {empty}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
