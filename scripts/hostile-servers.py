#!/usr/bin/env python3
"""Hostile servers and documents, end to end: one `feedcorpus fetch --once` over a local server
that mixes good feeds with attacks and junk.

    python3 scripts/hostile-servers.py [--binary PATH] [--json]

Feeds: two good ones (RSS and Atom, 3 stories each), billion laughs, quadratic blowup, XXE
(file:// and http:// external entities), an external DTD, deep nesting, a huge single text node,
a gzip bomb, a 1 GB stream, a trickle, a hang, a redirect loop, an HTML page instead of a feed,
random bytes, a feed with invalid UTF-8 (readable: its stories are stored, repaired), a JSON Feed
of 300,000 items (read up to fetch.max_entries_per_feed), a feed with a 300,000-attribute tag
(refused) and an article page with one (cut, and the page's story stored).

Checks: the process exits by itself (no crash, no signal) with status 1 (some feeds failed);
every good story is stored; every bad feed is reported with a reason (FAILED, or for a document
that can be partly read, ok with a "malformed feed" warning: deep nesting, the huge text node,
invalid UTF-8); nothing external was
fetched and no file content leaked; every stored file is valid UTF-8; `feedcorpus verify` is
clean; peak RSS of the run is printed (and must stay under --max-rss-mb). Exit 1 if a check
fails. The test suite runs it (CLITests/HostileServersTests).
"""
import argparse
import json
import os
import random
import subprocess
import sys
import time
import urllib.request

from testserver import ROOT, LoopbackServer



def rss(title, items, declaration='<?xml version="1.0" encoding="UTF-8"?>'):
    body = "".join(
        "<item><title>%s</title><link>https://good.example/%s</link><guid>%s</guid>"
        "<pubDate>Mon, 04 Nov 2024 12:00:00 GMT</pubDate><description>&lt;p&gt;%s&lt;/p&gt;</description></item>\n"
        % (t, g, g, text) for g, t, text in items)
    return '%s\n<rss version="2.0"><channel><title>%s</title><link>https://good.example/</link>\n%s</channel></rss>\n' % (
        declaration, title, body)


def words(rng, n=40):
    vocabulary = "ledger quarry beacon meadow tundra canyon harbor summit orchard lantern".split()
    return " ".join(rng.choice(vocabulary) + str(rng.randrange(10000)) for _ in range(n))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/debug/feedcorpus"))
    parser.add_argument("--max-rss-mb", type=float, default=256)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = random.Random(7)

    server = LoopbackServer("feedcorpus-hostile-")
    work, served, base = server.work, server.served, server.base

    def put(name, data):
        with open(os.path.join(served, name), "wb") as handle:
            handle.write(data if isinstance(data, bytes) else data.encode())

    good = {}
    items_rss = [("r%d" % i, "Good RSS story %d" % i, words(rng)) for i in range(3)]
    put("good.xml", rss("Good", items_rss))
    atom_entries = [("a%d" % i, "Good Atom story %d" % i, words(rng)) for i in range(3)]
    put("good-atom.xml", '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
        '<id>urn:a</id><updated>2024-11-04T12:00:00Z</updated>' + "".join(
            '<entry><id>urn:a:%s</id><title>%s</title><link href="https://good.example/%s"/><updated>2024-11-04T12:00:00Z</updated>'
            '<content type="html">&lt;p&gt;%s&lt;/p&gt;</content></entry>' % (g, t, g, text) for g, t, text in atom_entries) + "</feed>\n")
    for _, title, text in items_rss + atom_entries:
        good[title] = text
    put("secret.txt", "TOP-SECRET-CONTENT\n")
    put("evil.dtd", '<!ENTITY leak SYSTEM "file:///etc/passwd">\n')
    laughs = "".join('<!ENTITY lol%d "%s">' % (i, "&lol%d;" % (i - 1) * 10) for i in range(1, 10))
    put("billion-laughs.xml", '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY lol0 "lol">%s]>\n' % laughs
        + '<rss version="2.0"><channel><title>&lol9;</title><item><title>x</title><description>&lol9;</description></item></channel></rss>\n')
    put("quadratic.xml", '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "%s">]>\n' % ("A" * 50000)
        + '<rss version="2.0"><channel><title>q</title><item><title>x</title><description>%s</description></item></channel></rss>\n' % ("&a;" * 50000))
    put("xxe.xml", '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY file SYSTEM "file:///etc/passwd"><!ENTITY web SYSTEM "%s/files/secret.txt">]>\n' % base
        + rss("XXE", [("x1", "XXE story", "before &file; middle &web; after " + words(rng))], declaration=""))
    put("external-dtd.xml", '<?xml version="1.0"?>\n<!DOCTYPE rss SYSTEM "%s/files/evil.dtd">\n' % base
        + rss("DTD", [("d1", "DTD story &leak;", words(rng))], declaration=""))
    put("deep.xml", '<?xml version="1.0"?>\n<rss version="2.0"><channel><title>deep</title>' + "<x>" * 200000 + "</x>" * 200000 + "</channel></rss>\n")
    put("huge-text.xml", '<?xml version="1.0"?>\n<rss version="2.0"><channel><title>huge</title><item><title>h</title><description>'
        + "y" * (15 * 1024 * 1024) + "</description></item></channel></rss>\n")
    put("page.html", "<!DOCTYPE html><html><head><title>Not a feed</title></head><body><p>Welcome to our site.</p></body></html>\n")
    put("random.bin", bytes(rng.randrange(256) for _ in range(200000)))
    bad_utf8 = rss("Bad UTF-8", [("u1", "Invalid bytes story", "caf\xe9 \x93quoted\x94 " + words(rng))]).encode("latin-1") + b"\xff\xfe tail"
    bad_utf8 = bad_utf8.replace(b"</channel>", b"<!-- \xc3\x28 --></channel>")
    put("bad-utf8.xml", bad_utf8)
    good["Invalid bytes story"] = None
    # A JSON Feed of 300,000 tiny items: only the first 1,000 (fetch.max_entries_per_feed) are read.
    put("flood.json", json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Flood",
                                  "items": [{"id": str(i), "content_text": "x%d" % i} for i in range(300000)]}))
    # A start tag with 300,000 attributes (libxml2's time is quadratic in them): in a feed it is
    # refused; on an article page it is cut and the page is still read.
    bomb = " ".join('a%d="x"' % i for i in range(300000))
    put("attributes.xml", '<?xml version="1.0"?>\n<rss version="2.0"><channel><title>t</title><item %s><title>x</title></item></channel></rss>\n' % bomb)
    page_text = words(rng, 120)
    put("attribute-page.html", '<html><body><div %s>x</div><article><h1>Attribute page story</h1><p>%s</p></article></body></html>' % (bomb, page_text))
    put("teaser.xml", rss("Teaser", [("t1", "Attribute page story", "A short teaser ...")]).replace(
        "https://good.example/t1", "%s/files/attribute-page.html" % base))
    good["Attribute page story"] = page_text

    feeds = {
        "good": "files/good.xml", "good-atom": "files/good-atom.xml", "billion-laughs": "files/billion-laughs.xml",
        "quadratic": "files/quadratic.xml", "xxe": "files/xxe.xml", "external-dtd": "files/external-dtd.xml",
        "deep": "files/deep.xml", "huge-text": "files/huge-text.xml", "gzip-bomb": "gzipbomb/200000000",
        "gigabyte": "big/1073741824", "trickle": "trickle/120", "hang": "hang", "redirect-loop": "loop",
        "html": "files/page.html", "random-bytes": "files/random.bin", "bad-utf8": "files/bad-utf8.xml",
        "json-flood": "files/flood.json", "attribute-feed": "files/attributes.xml", "attribute-page": "files/teaser.xml",
    }
    config = os.path.join(work, "feedcorpus.yaml")
    with open(config, "w") as handle:
        handle.write("corpus: corpus\nstate: state.sqlite\n"
                     "fetch: {host_delay: 0, max_connections_per_host: 32, timeout: 10, low_speed_limit: 1024, low_speed_time: 3,"
                     " allowed_addresses: [127.0.0.1], robots_txt: false}\nfeeds:\n")
        for name, path in feeds.items():
            handle.write('  - {url: "%s/%s", name: %s, fulltext: %s}\n' % (base, path, name, "always" if name == "attribute-page" else "never"))

    # The server compresses the bomb once; done now, its time does not count against the feed's timeouts.
    urllib.request.urlopen("%s/gzipbomb/200000000" % base, timeout=120).read()

    try:
        started = time.time()
        process = subprocess.Popen([args.binary, "fetch", "--once", "--config", config],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.time() - started
        peak_rss_mb = usage.ru_maxrss / 1024.0

        lines = {}
        for line in output.splitlines():
            for name in feeds:
                if line.split(":", 1)[0].split() and line.split(":", 1)[0].split()[-1] == name:
                    lines[name] = line
        corpus = os.path.join(work, "corpus")
        stored = {}
        invalid_utf8 = []
        for folder, _, names in os.walk(corpus):
            for name in names:
                if name.endswith(".txt"):
                    data = open(os.path.join(folder, name), "rb").read()
                    try:
                        text = data.decode("utf-8")
                    except UnicodeDecodeError:
                        invalid_utf8.append(name)
                        text = data.decode("utf-8", "replace")
                    stored[text.split("\n", 1)[0]] = text
        requested = [line.split()[0] for line in open(os.path.join(served, "requests.log")) if line.strip()]
        verify = subprocess.run([args.binary, "verify", "--config", config], capture_output=True, text=True)

        failures = []
        if process.returncode != 1:
            failures.append("exit status %s (expected 1: some feeds failed)" % process.returncode)
        for title, text in good.items():
            if title not in stored:
                failures.append("good story not stored: %s" % title)
            elif title == "Attribute page story" and text not in stored[title]:
                failures.append("the attribute page's text was not stored")
        for name in feeds:
            line = lines.get(name, "")
            if name.startswith("good"):
                if not line.startswith("ok") or "warning" in line:
                    failures.append("%s: not ok: %s" % (name, line))
            elif name in ("bad-utf8", "deep", "huge-text"):
                # Readable: what can be recovered is kept, and the defect is reported.
                if not line.startswith("ok") or "warning: malformed feed" not in line:
                    failures.append("%s: not reported as read with a warning: %s" % (name, line))
            elif name == "json-flood":
                if not line.startswith("ok") or "only the first 1000 are read" not in line:
                    failures.append("%s: not read up to the entry cap: %s" % (name, line))
            elif name == "attribute-page":
                if not line.startswith("ok") or "warning" in line:
                    failures.append("%s: the page was not read: %s" % (name, line))
            elif name in ("xxe", "external-dtd"):
                pass  # readable documents; what matters is what was (not) fetched and stored
            elif not line.startswith("FAILED"):
                failures.append("%s: not reported as failed: %s" % (name, line))
        leaked = [title for title, text in stored.items() if "root:" in text or "TOP-SECRET" in text]
        if leaked: failures.append("external entity content stored: %s" % leaked)
        fetched_external = [path for path in requested if path.endswith("secret.txt") or path.endswith("evil.dtd")]
        if fetched_external: failures.append("external resources were fetched: %s" % fetched_external)
        if invalid_utf8: failures.append("stored files that are not valid UTF-8: %s" % invalid_utf8)
        if verify.returncode != 0: failures.append("verify: %s" % verify.stdout[-300:])
        if peak_rss_mb > args.max_rss_mb: failures.append("peak RSS %.0f MB > %.0f MB" % (peak_rss_mb, args.max_rss_mb))
        summary = {
            "exit_status": process.returncode, "seconds": round(seconds, 1), "peak_rss_mb": round(peak_rss_mb, 1),
            "good_stories": len(good), "stored": len(stored), "feeds": lines,
            "external_requests": fetched_external, "failures": failures, "ok": not failures,
        }
        if args.json:
            print(json.dumps(summary, indent=1))
        else:
            for name, line in lines.items():
                print(line)
            print("peak RSS %.1f MB, %.1f s, %d stories stored; %s" % (
                peak_rss_mb, seconds, len(stored), "OK" if not failures else "FAILED: " + "; ".join(failures)))
        return 0 if not failures else 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
