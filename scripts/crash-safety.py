#!/usr/bin/env python3
"""Crash safety: kill feedcorpus with SIGKILL at random moments during a large ingest, many times,
restarting each time, then check the corpus.

    python3 scripts/crash-safety.py [--feeds 40] [--entries 25] [--rounds 100] [--binary PATH]
                                    [--seed N] [--max-delay SECONDS] [--json]

A local HTTP server (Tests/TestSupport/http_server.py) serves FEEDS feeds. Each round adds ENTRIES
new entries to every feed (every 7th one a copy of another feed's story under another title and
link, which must be dropped as a duplicate), starts `feedcorpus fetch --once --all`, and kills it
with SIGKILL after a random delay (uniform in 0..MAX_DELAY). After the last round one run goes to
the end. Then:

  - no temporary file is left in the corpus;
  - `feedcorpus verify` finds every .txt recorded once in the state and once in the manifests,
    every recorded story on disk with its text, no two files with the same text;
  - every distinct story served is stored (none lost) and no story is stored twice.

Prints a summary (JSON with --json) and exits 1 if any check fails. The test suite runs it small
(CLITests); run it large by hand: the defaults kill 100 runs over 100,000 stories.
"""
import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

from testserver import ROOT, LoopbackServer

WORDS = ("harbor senate river budget vaccine rocket drought tariff glacier festival verdict orchard "
         "pipeline satellite election museum wildfire merger strike treaty airline reactor census "
         "bridge coral mayor ferry lithium vineyard cyclone refinery archive stadium").split()


def story_text(rng, feed, number):
    words = " ".join(rng.choice(WORDS) + str(rng.randrange(1000)) for _ in range(40))
    return "Story %d of feed %d: %s." % (number, feed, words)


def rss(items):
    def esc(text):
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    body = "".join(
        "<item><title>%s</title><link>%s</link><guid isPermaLink=\"false\">%s</guid>"
        "<pubDate>Mon, 04 Nov 2024 12:00:00 GMT</pubDate><description>%s</description></item>\n"
        % (esc(title), esc(link), esc(guid), esc("<p>%s</p>" % esc(text)))
        for guid, title, link, text in reversed(items))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>t</title>'
            "<link>https://crash.example/</link><description>d</description>\n%s</channel></rss>\n" % body)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=40)
    parser.add_argument("--entries", type=int, default=25, help="new entries per feed per round")
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--max-delay", type=float, default=1.5)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/debug/feedcorpus"))
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)

    server = LoopbackServer("feedcorpus-crash-")
    work, served, port = server.work, server.served, server.port
    config = os.path.join(work, "feedcorpus.yaml")
    with open(config, "w") as handle:
        handle.write("corpus: corpus\nstate: state/feedcorpus.sqlite\n"
                     "fetch: {host_delay: 0, max_connections_per_host: 8, max_connections: 8}\nfeeds:\n")
        for feed in range(args.feeds):
            handle.write('  - {url: "http://127.0.0.1:%d/files/f%d.xml", name: f%d, fulltext: never}\n' % (port, feed, feed))

    feeds = [[] for _ in range(args.feeds)]
    distinct = {}  # headline -> text, one per distinct story
    kills = interrupted = debris_seen = unrecorded_seen = 0
    exit_codes = {}
    started = time.time()
    try:
        for round_number in range(args.rounds + 1):
            final = round_number == args.rounds
            if not final:
                for feed in range(args.feeds):
                    for _ in range(args.entries):
                        number = len(feeds[feed])
                        guid = "f%d-%d" % (feed, number)
                        title = "Feed %d story %d" % (feed, number)
                        if number % 7 == 6 and args.feeds > 1 and feeds[(feed + 1) % args.feeds]:
                            # A syndicated copy: the text of another feed's story.
                            original = rng.choice(feeds[(feed + 1) % args.feeds])
                            text = original[3]
                            title = "Copy: " + title
                        else:
                            text = story_text(rng, feed, number)
                            distinct[title] = text
                        feeds[feed].append((guid, title, "https://crash.example/f%d/%d" % (feed, number), text))
                    path = os.path.join(served, "f%d.xml" % feed)
                    with open(path + ".new", "w") as handle:
                        handle.write(rss(feeds[feed]))
                    os.replace(path + ".new", path)
            process = subprocess.Popen([args.binary, "fetch", "--once", "--all", "-q", "--config", config],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if final:
                code = process.wait()
            else:
                try:
                    code = process.wait(timeout=rng.uniform(0, args.max_delay))
                except subprocess.TimeoutExpired:
                    process.send_signal(signal.SIGKILL)
                    code = process.wait()
                    interrupted += 1
                kills += 1
                # Debris the kill left: evidence that it hit a write in progress.
                on_disk = set()
                for folder, _, names in os.walk(os.path.join(work, "corpus")):
                    if any(name.startswith(".tmp-") for name in names):
                        debris_seen += 1
                    on_disk.update(os.path.relpath(os.path.join(folder, name), os.path.join(work, "corpus"))
                                   for name in names if name.endswith(".txt"))
                recorded = set()
                state = os.path.join(work, "state/feedcorpus.sqlite")
                if os.path.exists(state):
                    db = sqlite3.connect("file:%s?mode=ro" % state, uri=True)
                    try:
                        recorded = {row[0] for row in db.execute("SELECT file FROM stories")}
                    except sqlite3.OperationalError:
                        # Killed before its first commit made the schema: nothing is recorded.
                        recorded = set()
                    db.close()
                if on_disk - recorded:
                    unrecorded_seen += 1
            exit_codes[code] = exit_codes.get(code, 0) + 1

        corpus = os.path.join(work, "corpus")
        temporary = []
        files = {}
        for folder, _, names in os.walk(corpus):
            for name in names:
                if name.startswith(".tmp-"):
                    temporary.append(os.path.join(folder, name))
                elif name.endswith(".txt"):
                    with open(os.path.join(folder, name), encoding="utf-8") as handle:
                        files[os.path.relpath(os.path.join(folder, name), corpus)] = handle.read()
        verify = subprocess.run([args.binary, "verify", "--json", "--config", config], capture_output=True, text=True)
        report = json.loads(verify.stdout) if verify.stdout.strip() else {}
        manifest_lines = 0
        for folder, _, names in os.walk(corpus):
            if "manifest.jsonl" in names:
                with open(os.path.join(folder, "manifest.jsonl"), encoding="utf-8") as handle:
                    manifest_lines += sum(1 for line in handle if line.strip())
        # A copy may be read before its original: then the copy's headline is the one stored, so
        # stories are matched by their text.
        bodies = [text.split("\n", 1)[1].strip() if "\n" in text else "" for text in files.values()]
        stored_bodies = set(bodies)
        lost = sorted(title for title, text in distinct.items() if text not in stored_bodies)
        twice = len(bodies) - len(set(bodies))
        summary = {
            "seed": seed, "feeds": args.feeds, "rounds": args.rounds, "entries_served": sum(len(f) for f in feeds),
            "distinct_stories": len(distinct), "kills": kills, "killed_while_running": interrupted,
            "kills_that_left_temporary_files": debris_seen, "kills_that_left_unrecorded_files": unrecorded_seen, "exit_codes": {str(k): v for k, v in exit_codes.items()},
            "stored_files": len(files), "manifest_lines": manifest_lines, "state_records": report.get("recorded"),
            "temporary_files_left": len(temporary), "lost": len(lost), "stored_twice": twice,
            "verify_exit": verify.returncode, "verify_problems": report.get("problems", []),
            "seconds": round(time.time() - started, 1),
        }
        failures = []
        if temporary: failures.append("temporary files left: %s" % temporary[:3])
        if verify.returncode != 0: failures.append("verify found problems: %s" % verify.stdout[-500:])
        if lost: failures.append("%d stories lost, e.g. %s" % (len(lost), lost[:3]))
        if twice: failures.append("%d stories stored twice" % twice)
        if len(files) != len(distinct): failures.append("%d files for %d distinct stories" % (len(files), len(distinct)))
        if manifest_lines != len(files) or report.get("recorded") != len(files):
            failures.append("files %d, manifest lines %d, state records %s" % (len(files), manifest_lines, report.get("recorded")))
        summary["failures"] = failures
        summary["ok"] = not failures
        if args.json:
            print(json.dumps(summary, indent=1))
        else:
            for key, value in summary.items():
                print("%-32s %s" % (key, value))
        return 0 if not failures else 1
    finally:
        server.stop(keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
