#!/usr/bin/env python3
"""Measures the near-duplicate and event stages (not a test).

Builds an evaluation set from story texts at hand:
  - the five seed stories (../shared/seeds), distinct reports on one event;
  - the hand-checked article bodies of the extraction development set (../shared/extraction-dev);
  - Tests/DedupeTests/Fixtures/other-events: stories on other events that name the same people.
True near duplicates are made from each text by syndication-like edits (other boilerplate
lines, a changed headline, a paragraph added or removed, truncation, re-wrapping, typographic
quotes). Non-duplicates are all pairs of distinct texts, same-event seed pairs included. The
event stage is scored on the seeds (all pairs one event) against the other-event stories.
Then `feedcorpus-bench dedupe-eval` scores the set with the pipeline's own code and prints precision
and recall of both stages.

Usage: bench/dedupe-quality.py [--binary PATH] [--distance 3] [--event-threshold 0.27] [--show-errors]
"""
import argparse, glob, json, os, random, re, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")

BOILERPLATE = [
    "Follow us on Facebook and X for the latest news.",
    "Copyright 2024 The Daily Courier. All rights reserved.",
    "This story has been updated with additional reporting.",
    "Sign up for our morning newsletter.",
    "Additional reporting by staff writers; editing by the news desk.",
]
EXTRA = [
    "Officials did not immediately respond to requests for comment on Tuesday evening.",
    "The agency said further details would be released in the coming days.",
    "The report could not be independently verified.",
]


def paragraphs(text):
    lines = [line.strip() for line in text.replace("\r", "").split("\n")]
    return [line for line in lines if line]


def load_texts():
    texts = {}
    for path in sorted(glob.glob(os.path.join(SHARED, "seeds", "*.txt"))):
        lines = paragraphs(open(path, encoding="utf-8").read())
        texts["seed-" + os.path.basename(path)[:3]] = {"headline": lines[0], "paragraphs": lines[1:]}
    truth = os.path.join(SHARED, "extraction-dev", "ground-truth.json")
    if os.path.exists(truth):
        for key, value in sorted(json.load(open(truth, encoding="utf-8")).items()):
            body = paragraphs(value.get("articleBody", ""))
            if len(" ".join(body).split()) >= 80:
                texts["dev-" + key[:10]] = {"headline": "", "paragraphs": body}
    for path in sorted(glob.glob(os.path.join(ROOT, "Tests", "DedupeTests", "Fixtures", "other-events", "*.txt"))):
        lines = paragraphs(open(path, encoding="utf-8").read())
        texts["other-" + os.path.basename(path)[:2]] = {"headline": lines[0], "paragraphs": lines[1:]}
    return texts


def variants(story, rng):
    head, body = story["headline"], story["paragraphs"]
    words = " ".join(body).split()
    out = {}
    out["boilerplate"] = {"headline": head, "paragraphs": [rng.choice(BOILERPLATE)] + body + rng.sample(BOILERPLATE, 2)}
    out["headline"] = {"headline": "UPDATED: " + (head or "Story") + " (wire)", "paragraphs": body}
    if len(body) >= 3:
        cut = list(body)
        del cut[rng.randrange(1, len(cut))]
        out["paragraph-removed"] = {"headline": head, "paragraphs": cut}
    added = list(body)
    added.insert(rng.randrange(1, len(added) + 1), rng.choice(EXTRA))
    out["paragraph-added"] = {"headline": head, "paragraphs": added}
    keep = int(len(words) * 0.9)
    out["truncated"] = {"headline": head, "paragraphs": [" ".join(words[:keep]) + " ..."]}
    rewrapped, line = [], []
    for word in words:
        line.append(word)
        if len(line) >= 25:
            rewrapped.append(" ".join(line)); line = []
    if line:
        rewrapped.append(" ".join(line))
    out["rewrapped"] = {"headline": head, "paragraphs": rewrapped}
    def typographic(text):
        text = re.sub(r'"(\w)', "\u201c\\1", text).replace('"', "\u201d")
        return text.replace("'", "\u2019").replace(" - ", " \u2013 ")
    out["quotes"] = {"headline": typographic(head), "paragraphs": [typographic(p) for p in body]}
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "feedcorpus-bench"))
    parser.add_argument("--distance", type=int, default=3)
    parser.add_argument("--event-threshold", type=float, default=0.27)
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args()
    if not os.path.exists(args.binary):
        args.binary = os.path.join(ROOT, ".build", "debug", "feedcorpus-bench")
    rng = random.Random(42)
    base = load_texts()
    texts = dict(base)
    near_pairs = []
    for key, story in base.items():
        for name, variant in variants(story, rng).items():
            vid = key + "~" + name
            texts[vid] = variant
            near_pairs.append([key, vid, True])
    keys = sorted(base)
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            near_pairs.append([a, b, False])
    seeds = [k for k in keys if k.startswith("seed-")]
    others = [k for k in keys if k.startswith("other-")]
    event_pairs = []
    for i, a in enumerate(seeds):
        for b in seeds[i + 1:]:
            event_pairs.append([a, b, True])
    for group in (seeds, others):
        pass
    for a in seeds + others:
        for b in others:
            if a < b or a in seeds:
                if a != b:
                    event_pairs.append([a, b, False])
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"texts": texts, "near_pairs": near_pairs, "event_pairs": event_pairs}, handle)
        path = handle.name
    print("texts: %d base (%d seeds, %d development-set bodies, %d other-event stories), %d edited copies"
          % (len(base), len(seeds), len([k for k in keys if k.startswith("dev-")]), len(others), len(texts) - len(base)))
    print("pairs: %d near-duplicate (%d true), %d event (%d same event)"
          % (len(near_pairs), sum(1 for p in near_pairs if p[2]), len(event_pairs), sum(1 for p in event_pairs if p[2])))
    command = [args.binary, "dedupe-eval", path, "--distance", str(args.distance), "--event-threshold", str(args.event_threshold)]
    if args.show_errors:
        command.append("--show-errors")
    result = subprocess.run(command, capture_output=True, text=True)
    os.unlink(path)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
