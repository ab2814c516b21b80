#!/usr/bin/env python3
"""Scores a corpus built from ../shared/tools/gen_feeds.py output against its truth.jsonl.

Each stored file is traced back to the generated item it came from (feed name + canonical
link, from the manifest), and so to the story that item tells. Prints:
  - distinct stories in the truth, stories present in the corpus, stories lost;
  - duplicates kept (files beyond the first of a story), split by the planted kind;
  - the share of planted exact (syndicated) copies and near-duplicates that were dropped;
  - for a few lost stories, why their items were dropped (from the state's duplicates table).
Exits 1 when a story was lost or a file cannot be traced, so scripts can stop on it.
"""
import argparse
import glob
import json
import os
import sqlite3
import sys
from collections import defaultdict
from urllib.parse import urlsplit, urlunsplit


def canonical(link):
    parts = urlsplit(link)
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path, "", ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--truth", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--state")
    args = ap.parse_args()

    items = [json.loads(line) for line in open(args.truth, encoding="utf-8")]
    by_feed_link = {}
    by_link = defaultdict(set)
    kinds = defaultdict(int)
    for item in items:
        feed = os.path.basename(item["feed"])
        link = canonical(item["link"])
        by_feed_link[(feed, link)] = item
        by_link[link].add(item["story"])
        kinds[item["kind"]] += 1
    stories = {item["story"] for item in items}

    files = []
    for path in sorted(glob.glob(os.path.join(args.corpus, "**", "manifest.jsonl"), recursive=True)):
        for line in open(path, encoding="utf-8"):
            try:
                files.append(json.loads(line))
            except json.JSONDecodeError:
                pass  # a torn last line
    per_story = defaultdict(list)
    untraced = []
    for record in files:
        url = record.get("url")
        item = by_feed_link.get((record.get("feed"), canonical(url))) if url else None
        if item is None and url and len(by_link.get(canonical(url), ())) == 1:
            story = next(iter(by_link[canonical(url)]))
            item = {"story": story, "kind": "synd"}
        if item is None:
            untraced.append(record.get("file"))
            continue
        per_story[item["story"]].append(item["kind"])

    lost = sorted(stories - set(per_story))
    kept = defaultdict(int)
    for story, stored_kinds in per_story.items():
        ordered = sorted(stored_kinds, key=lambda kind: kind != "orig")
        for kind in ordered[1:]:
            kept[kind] += 1
    extra = sum(kept.values())
    print(f"truth: {len(items)} items, {len(stories)} distinct stories "
          f"({kinds['synd']} planted exact copies, {kinds['near']} planted near-duplicates)")
    print(f"corpus: {len(files)} files, {len(per_story)} distinct stories present")
    print(f"distinct stories lost: {len(lost)}")
    print(f"duplicates kept: {extra} (exact copies {kept['synd']}, near-duplicates {kept['near']}, other {kept['orig']})")
    if kinds["synd"]:
        print(f"planted exact copies dropped: {100 * (1 - kept['synd'] / kinds['synd']):.2f} %")
    if kinds["near"]:
        print(f"planted near-duplicates dropped: {100 * (1 - kept['near'] / kinds['near']):.2f} %")
    if untraced:
        print(f"files not traced to an item: {len(untraced)} (e.g. {untraced[:3]})")
    if lost and args.state and os.path.exists(args.state):
        db = sqlite3.connect(args.state)
        story_of_file = {}
        for record in files:
            url = record.get("url")
            item = by_feed_link.get((record.get("feed"), canonical(url))) if url else None
            if item:
                story_of_file[record["file"]] = item["story"]
        rows = db.execute("SELECT f.name, d.url, d.reason, d.distance, s.file FROM duplicates d "
                          "JOIN feeds f ON f.id = d.feed_id JOIN stories s ON s.id = d.duplicate_of").fetchall()
        dropped = defaultdict(list)
        for feed, url, reason, distance, of in rows:
            item = by_feed_link.get((feed, canonical(url))) if url else None
            if item:
                dropped[item["story"]].append((reason, distance, of, story_of_file.get(of)))
        for story in lost[:8]:
            print(f"  lost {story}: " + ("; ".join(f"{r} (distance {d}) of {o} which tells {s}" for r, d, o, s in dropped[story])
                                         or "no item was stored or recorded as a duplicate (fetch or text failure?)"))
    return 1 if lost or untraced else 0


if __name__ == "__main__":
    sys.exit(main())
