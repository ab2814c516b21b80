#!/usr/bin/env python3
"""Scores article extraction on ../shared/extraction-dev (or --dataset DIR) with that set's metric.

Runs `feedcorpus extract --json` over every page in one process (one JSON object per line) and,
unless --no-trafilatura, trafilatura on the same pages in this process, then prints for each:
corpus precision, recall, F1 (of the mean P and mean R), mean per-page F1 (empty = 0), empties,
and pages/s. Metric (the set's README): tokens are maximal \\w+ runs; shingles are 4 consecutive
tokens as a multiset (1-4 tokens: one shingle); precision is averaged over non-empty extractions.
"""
import argparse, collections, gzip, json, os, re, subprocess, sys, tempfile, time

TOKEN = re.compile(r"\w+")


def shingles(text):
    tokens = TOKEN.findall(text or "")
    if not tokens:
        return collections.Counter()
    if len(tokens) <= 4:
        return collections.Counter([tuple(tokens)])
    return collections.Counter(tuple(tokens[i:i + 4]) for i in range(len(tokens) - 3))


def score_page(extracted, truth):
    e, t = shingles(extracted), shingles(truth)
    tp = sum((e & t).values())
    fp = sum(e.values()) - tp
    fn = sum(t.values()) - tp
    precision = tp / (tp + fp) if (tp + fp) else None
    recall = tp / (tp + fn) if (tp + fn) else 0.0
    if precision is None or precision + recall == 0:
        f1 = 0.0
    else:
        f1 = 2 * precision * recall / (precision + recall)
    return precision, recall, f1


def summarize(name, results, seconds):
    precisions = [p for p, _, _ in results.values() if p is not None]
    recalls = [r for _, r, _ in results.values()]
    p = sum(precisions) / len(precisions) if precisions else 0.0
    r = sum(recalls) / len(recalls)
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    mean_f1 = sum(f for _, _, f in results.values()) / len(results)
    empties = sum(1 for pr, _, _ in results.values() if pr is None)
    rate = len(results) / seconds if seconds else float("inf")
    print(f"{name:12s} precision {p:.4f}  recall {r:.4f}  F1 {f1:.4f}  mean page F1 {mean_f1:.4f}  "
          f"empty {empties}  {rate:8.1f} pages/s ({seconds:.2f} s)")
    return {"precision": p, "recall": r, "f1": f1, "mean_f1": mean_f1, "empty": empties, "pages_per_s": rate}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default=os.path.join(here, "..", "..", "shared", "extraction-dev"))
    parser.add_argument("--binary", default=os.path.join(here, "..", ".build", "release", "feedcorpus"))
    parser.add_argument("--no-trafilatura", action="store_true")
    parser.add_argument("--worst", type=int, default=0, help="list the N worst pages of feedcorpus")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs of feedcorpus (best is reported)")
    args = parser.parse_args()

    truth = json.load(open(os.path.join(args.dataset, "ground-truth.json")))
    ids = sorted(truth)
    work = tempfile.mkdtemp()
    pages = {}
    paths = []
    for page_id in ids:
        html = gzip.open(os.path.join(args.dataset, "html", page_id + ".html.gz")).read()
        pages[page_id] = html
        path = os.path.join(work, page_id + ".html")
        with open(path, "wb") as f:
            f.write(html)
        paths.append(path)

    # feedcorpus: one process, every page; best of --repeat runs for the rate.
    best = None
    output = None
    for _ in range(max(1, args.repeat)):
        start = time.perf_counter()
        run = subprocess.run([args.binary, "extract", "--json", *paths], capture_output=True, check=False)
        elapsed = time.perf_counter() - start
        if run.returncode != 0:
            sys.stderr.write(run.stderr.decode(errors="replace"))
            sys.exit(f"feedcorpus extract exited {run.returncode}")
        best = elapsed if best is None else min(best, elapsed)
        output = run.stdout
    # The same run on one core, for the record.
    single = None
    for _ in range(max(1, args.repeat)):
        start = time.perf_counter()
        subprocess.run([args.binary, "extract", "--json", "--jobs", "1", *paths], capture_output=True, check=True)
        elapsed = time.perf_counter() - start
        single = elapsed if single is None else min(single, elapsed)
    lines = output.decode().splitlines()
    if len(lines) != len(ids):
        sys.exit(f"expected {len(ids)} JSON lines, got {len(lines)}")
    ours = {}
    for page_id, line in zip(ids, lines):
        ours[page_id] = score_page(json.loads(line).get("text") or "", truth[page_id]["articleBody"])
    print(f"{len(ids)} pages from {os.path.normpath(args.dataset)}")
    mine = summarize("feedcorpus", ours, best)
    print(f"{'':12s} on one core (--jobs 1): {len(ids) / single:8.1f} pages/s ({single:.2f} s)")

    if args.worst:
        for page_id in sorted(ours, key=lambda k: ours[k][2])[:args.worst]:
            p, r, f = ours[page_id]
            print(f"  {page_id[:12]}  P {p if p is None else round(p, 3)}  R {r:.3f}  F1 {f:.3f}  {truth[page_id]['url'][:90]}")

    if not args.no_trafilatura:
        import trafilatura
        start = time.perf_counter()
        theirs = {}
        for page_id in ids:
            text = trafilatura.extract(pages[page_id], url=truth[page_id]["url"]) or ""
            theirs[page_id] = score_page(text, truth[page_id]["articleBody"])
        other = summarize("trafilatura", theirs, time.perf_counter() - start)
        print(f"F1 difference {mine['f1'] - other['f1']:+.4f}; speed ratio {mine['pages_per_s'] / other['pages_per_s']:.1f}x "
              f"(one core: {len(ids) / single / other['pages_per_s']:.1f}x)")
        ok = (mine["f1"] >= 0.975 and mine["f1"] > other["f1"] and mine["mean_f1"] >= 0.965
              and mine["empty"] == 0 and mine["pages_per_s"] >= 10 * other["pages_per_s"])
        print("targets (F1 >= 0.975 and > trafilatura, mean page F1 >= 0.965, no empty, >= 10x speed):",
              "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
