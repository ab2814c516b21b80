#!/usr/bin/env python3
"""Cluster mode's proof: several `feedcorpus worker`s and materializers on one PostgreSQL.

A scratch PostgreSQL server on 127.0.0.1, feeds from ../shared/tools/gen_feeds.py (with article
pages and planted syndicated copies and near-duplicates) served from several loopback addresses
by a server that adds latency to every response (so workers are network-bound, as across the
Internet), and then:

  throughput  the same feeds polled by 1 worker, then by N workers, each on a fresh database:
              polls per second and the ratio (target: 4 workers >= 3x one);
  chaos       N workers and a materializer as services while feeds are re-polled and gain new
              items (gen_feeds --round 1): workers and the materializer are killed with SIGKILL
              and restarted, one worker is stalled past its lease (SIGSTOP, then SIGCONT), a host
              answers 503 with Retry-After; then every story is checked: none lost (truth.jsonl),
              none stored twice (content hash, URL, entry id, planted copies), `verify` clean,
              a second copy materialized from scratch identical to the first; a killed worker's
              feeds are polled again within lease + 5 s; per host, no two request starts closer
              than the host delay and none inside a Retry-After.

Prints the figures and exits 1 when a check fails. Small by default (the test suite runs it);
by hand: scripts/cluster-proof.py --feeds 2000 --chaos-seconds 120.
"""
import argparse
import glob
import http.server
import json
import os
import random
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


JSON_OUTPUT = False
FIGURES = {}


def log(message):
    print(message, file=sys.stderr if JSON_OUTPUT else sys.stdout, flush=True)


# --- PostgreSQL ------------------------------------------------------------------------------

class Postgres:
    """A scratch cluster on 127.0.0.1 (as the postgres user when run as root)."""

    def __init__(self, work):
        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [int(x) for x in re.findall(r"\d+", p)])
        self.bin = os.environ.get("PG_BIN") or (candidates[-1] if candidates else "")
        if not os.path.exists(os.path.join(self.bin, "initdb")):
            sys.exit("cluster-proof: PostgreSQL's server programs not found (apt-get install postgresql, or set PG_BIN)")
        self.folder = os.path.join(work, "postgres")
        os.makedirs(self.folder)
        self.as_server = []
        if os.getuid() == 0:
            shutil.chown(self.folder, "postgres")
            self.as_server = ["runuser", "-u", "postgres", "--"]
        self.port = free_port()
        data = os.path.join(self.folder, "data")
        self.server(["initdb", "-D", data, "-U", "feedcorpus", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"])
        self.server(["pg_ctl", "-D", data, "-l", os.path.join(self.folder, "server.log"), "-w", "-t", "60", "-o",
                     f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c max_connections=300 -c fsync=off "
                     "-c synchronous_commit=off -c full_page_writes=off", "start"])

    def server(self, command):
        subprocess.run(self.as_server + [os.path.join(self.bin, command[0])] + command[1:], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True)

    def createdb(self, name):
        subprocess.run([os.path.join(self.bin, "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "feedcorpus", name], check=True)
        return f"postgres://feedcorpus@127.0.0.1:{self.port}/{name}"

    def sql(self, database, statement):
        out = subprocess.run([os.path.join(self.bin, "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "feedcorpus", "-d", database,
                              "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", statement], check=True, capture_output=True, text=True)
        return [line.split("\t") for line in out.stdout.splitlines() if line]

    def stop(self):
        try:
            self.server(["pg_ctl", "-D", os.path.join(self.folder, "data"), "-m", "immediate", "-w", "stop"])
        except subprocess.CalledProcessError:
            pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- The site and its server -----------------------------------------------------------------

def generate(site, feeds, items, hosts, port, round_number=0):
    """Writes the site (a later round over a served one: each file is replaced whole, once final)."""
    if os.path.exists(site):
        fresh = site + ".next"
        shutil.rmtree(fresh, ignore_errors=True)
        generate(fresh, feeds, items, hosts, port, round_number)
        for folder, _, files in os.walk(fresh):
            target = os.path.join(site, os.path.relpath(folder, fresh))
            os.makedirs(target, exist_ok=True)
            for name in files:
                os.replace(os.path.join(folder, name), os.path.join(target, name))
        shutil.rmtree(fresh, ignore_errors=True)
        return
    args = [sys.executable, os.path.join(SHARED, "tools/gen_feeds.py"), "--out", site, "--feeds", str(feeds), "--items", str(items),
            "--article-pages", "--base-url", f"http://127.0.0.1:{port}", "--round", str(round_number), "--update-fraction", "0.5"]
    if feeds < 1000:
        args += ["--jobs", "1"]  # its process pool hung once in a test run; one process is quick enough here
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Each outlet's pages live on the loopback host its slug hashes to (as bench/ingest-scale.sh),
    # any but the first: 127.0.0.1 serves feeds only, so the Retry-After it answers holds no
    # article page (a page not fetched leaves its story with the feed's teaser, which the truth
    # would count as a second version of the story told in full elsewhere).
    pattern = re.compile(r"http://127\.0\.0\.1:%d/(articles|img)/([^/\"'<>?&]+)" % port)

    def fix(text):
        return pattern.sub(lambda m: "http://127.0.0.%d:%d/%s/%s" % (2 + zlib.crc32(m.group(2).encode()) % (hosts - 1), port, m.group(1),
                                                                     m.group(2)), text)

    for folder, _, files in os.walk(site):
        for name in files:
            if name.endswith((".rss", ".atom", ".rdf", ".html")) or name == "truth.jsonl":
                path = os.path.join(folder, name)
                with open(path, "rb") as handle:
                    text = handle.read().decode("latin-1")
                fixed = fix(text)
                if fixed != text:
                    with open(path, "wb") as handle:
                        handle.write(fixed.encode("latin-1"))


class LatencyServer:
    """Serves the site on 127.0.0.1..127.0.0.H with a delay before every response; logs each
    request's arrival (host, path, time). `retry_after(host, seconds)` makes the next feed request
    to that host get 503 with Retry-After."""

    def __init__(self, site, hosts, port, latency):
        self.site, self.latency = site, latency
        self.lock = threading.Lock()
        self.requests = []          # (host, path, arrival)
        self.armed = {}             # host -> seconds
        self.holds = []             # (host, answered_at, seconds)
        self.servers = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                host = self.server.server_address[0]
                arrival = time.time()
                path = self.path.split("?")[0]
                with outer.lock:
                    outer.requests.append((host, path, arrival))
                    hold = outer.armed.pop(host, None) if path.startswith("/feeds/") else None
                time.sleep(outer.latency)
                if hold is not None:
                    with outer.lock:
                        outer.holds.append((host, time.time(), hold))
                    self.send_response(503)
                    self.send_header("Retry-After", str(hold))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                local = os.path.normpath(os.path.join(outer.site, path.lstrip("/")))
                if not local.startswith(outer.site + os.sep) or not os.path.isfile(local):
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with open(local, "rb") as handle:
                    body = handle.read()
                kind = "text/html" if local.endswith(".html") else "application/xml"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            request_queue_size = 256

        for index in range(hosts):
            server = Server(("127.0.0.%d" % (index + 1), port), Handler)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)

    def retry_after(self, host, seconds):
        with self.lock:
            self.armed[host] = seconds

    def snapshot(self):
        with self.lock:
            return list(self.requests), list(self.holds)

    def clear(self):
        with self.lock:
            self.requests.clear()
            self.holds.clear()

    def stop(self):
        for server in self.servers:
            server.shutdown()


# --- feedcorpus ------------------------------------------------------------------------------

def write_config(folder, site, state, hosts, port, host_delay, corpus="corpus", intervals=None, connections=8):
    lines = [f"corpus: {corpus}", f"state: {state}", "fetch:", "  allow_private_networks: true", f"  host_delay: {host_delay}",
             f"  max_connections: {connections}", "  timeout: 30"]
    if intervals:
        lines += ["schedule:", f"  min_interval: {intervals}", f"  max_interval: {intervals}", f"  default_interval: {intervals}"]
    lines.append("feeds:")
    for path in open(os.path.join(site, "feeds.txt")).read().split():
        number = int(os.path.basename(path).split(".")[0])
        lines += [f"  - url: http://127.0.0.{1 + number % hosts}:{port}/{path}", f"    name: \"{os.path.basename(path)}\""]
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "config.yaml")
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def spawn(binary, arguments, logfile):
    return subprocess.Popen([binary] + arguments, stdout=open(logfile, "ab"), stderr=subprocess.STDOUT, close_fds=True)


def worker_args(config, worker_id, lease, concurrency, exit_when_idle):
    args = ["worker", "--config", config, "--id", worker_id, "--lease", str(lease), "--concurrency", str(concurrency),
            "--idle", "0.5", "-q", "--log-level", "warning"]
    return args + (["--exit-when-idle"] if exit_when_idle else [])


def machine_cpu():
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def run_workers(binary, config, count, lease, concurrency, work, tag):
    """Runs `count` workers with --exit-when-idle to their end; returns the seconds it took."""
    started = time.monotonic()
    processes = [spawn(binary, worker_args(config, f"{tag}-{i}", lease, concurrency, True), os.path.join(work, f"{tag}-{i}.log"))
                 for i in range(count)]
    codes = [process.wait() for process in processes]
    elapsed = time.monotonic() - started
    if any(code not in (0, 1) for code in codes):
        for i in range(count):
            sys.stderr.write(open(os.path.join(work, f"{tag}-{i}.log")).read()[-3000:])
        raise SystemExit(f"cluster-proof: a worker exited with {codes}")
    return elapsed


# --- Checks ----------------------------------------------------------------------------------

def timing_lines(paths):
    """The claim and commit-lock figures the workers printed when they stopped: per worker
    (p50, p99, max, n) in ms, for claims and for lock holds."""
    pattern = re.compile(r"p50 ([\d.]+) ms, p99 ([\d.]+) ms, max ([\d.]+) ms \(n (\d+)\)")
    claims, holds = [], []
    for path in paths:
        for line in open(path, errors="replace"):
            if ": claims " not in line:
                continue
            claim_part, _, hold_part = line.partition("; commit lock held ")
            for part, into in ((claim_part, claims), (hold_part, holds)):
                match = pattern.search(part)
                if match:
                    into.append(tuple(float(v) for v in match.groups()))
    return claims, holds


def describe(figures):
    if not figures:
        return "none reported"
    return (f"p99 {max(f[1] for f in figures):.1f} ms at worst over {len(figures)} workers "
            f"(p50 {max(f[0] for f in figures):.1f} ms, max {max(f[2] for f in figures):.1f} ms, {int(sum(f[3] for f in figures))} in all)")


class StarvationProbe:
    """A thread that sleeps 10 ms at a time and notes when it woke 40 ms or more late: the machine
    (or this process's interpreter lock) did not run it. The server's log stamps a request when
    its handler thread runs, and a worker's request leaves when its process runs: during such a
    spell either may come late, so that two requests granted slots `delay` apart are logged
    closer than that. Pairs logged during a spell are reported apart, with the spell."""

    def __init__(self):
        self.spells = []   # (time.time() at waking, seconds late)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopped.is_set():
            before = time.monotonic()
            time.sleep(0.01)
            late = time.monotonic() - before - 0.01
            if late >= 0.04:
                self.spells.append((time.time(), late))

    def during(self, start, end):
        """The longest spell that overlaps [start, end], or None."""
        found = [late for woke, late in self.spells if woke - late <= end and woke >= start]
        return max(found) if found else None


def spacing_violations(requests, holds, host_delay, resumes=(), probe=None):
    """Request starts closer than the host delay, and starts inside a Retry-After hold.

    A pair whose later start comes within a second after a stalled worker was continued
    (SIGCONT) is returned apart: a process stopped after its slot was granted and before its
    request left sends that request the moment it runs again, and no protocol between the
    workers can take back a grant from a process that is not running. Those pairs are
    reported, not counted as failures."""
    by_host = {}
    for host, path, at in requests:
        by_host.setdefault(host, []).append(at)
    close = []
    after_stall = []
    smallest = None
    for host, times in by_host.items():
        times.sort()
        for a, b in zip(times, times[1:]):
            gap = b - a
            if gap < host_delay and any(resumed <= b <= resumed + 1.0 for resumed in resumes):
                after_stall.append((host, round(gap, 4), "worker continued"))
                continue
            spell = probe.during(a - 0.5, b) if probe and gap < host_delay else None
            if spell is not None:
                after_stall.append((host, round(gap, 4), f"machine stalled {spell * 1000:.0f} ms"))
                continue
            smallest = gap if smallest is None else min(smallest, gap)
            if gap < host_delay:
                close.append((host, round(gap, 4)))
    inside = []
    for host, answered, seconds in holds:
        for other, path, at in requests:
            if other == host and answered < at < answered + seconds:
                inside.append((host, path, round(at - answered, 3)))
    return close, inside, smallest, after_stall


def copy_tree(root):
    """The day folders' files of a corpus copy, by path (the copy's own marker files left out)."""
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, root)
            if os.sep not in relative:
                continue  # root files: the copy's id, lock, position
            with open(path, "rb") as handle:
                files[relative] = handle.read()
    return files


class Done(Exception):
    """Ends the run early (--skip-chaos)."""


def main():
    global SHARED, JSON_OUTPUT
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--feeds", type=int, default=60)
    ap.add_argument("--items", type=int, default=12)
    ap.add_argument("--hosts", type=int, default=12)
    ap.add_argument("--latency", type=float, default=0.15, help="seconds added to every response")
    ap.add_argument("--host-delay", type=float, default=0.05)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--concurrency", type=int, default=3, help="feeds each worker polls at once")
    ap.add_argument("--lease", type=float, default=4)
    ap.add_argument("--chaos-seconds", type=float, default=30)
    ap.add_argument("--interval", type=int, help="seconds between polls of a feed in the chaos run (default: feeds / 4, at least 10: "
                    "within what the workers can poll, so that a dead worker's feeds wait for their lease, not for a queue)")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--skip-chaos", action="store_true")
    ap.add_argument("--min-ratio", type=float, default=0, help="fail when N workers poll fewer than this many times as fast as one")
    ap.add_argument("--json", action="store_true", help="print the figures and failures as one JSON object (the log goes to stderr)")
    ap.add_argument("--bin", "--binary", dest="bin", default=os.environ.get("FEEDCORPUS_BIN", os.path.join(ROOT, ".build/debug/feedcorpus")))
    ap.add_argument("--shared", default=os.environ.get("SHARED_DIR", os.path.join(ROOT, "../shared")))
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    JSON_OUTPUT = args.json
    SHARED = args.shared
    if not os.path.exists(os.path.join(SHARED, "tools/gen_feeds.py")):
        sys.exit(f"cluster-proof: {SHARED}/tools/gen_feeds.py not found (--shared or SHARED_DIR)")
    binary = os.path.abspath(args.bin)
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="cluster-proof-")
    os.chmod(work, 0o755)
    port = free_port()
    postgres = Postgres(work)
    failures = []
    processes = []
    server = None
    try:
        site = os.path.join(work, "site")
        generate(site, args.feeds, args.items, args.hosts, port)
        server = LatencyServer(site, args.hosts, port, args.latency)
        log(f"{args.feeds} feeds x {args.items} items on {args.hosts} loopback hosts, {args.latency:.2f} s latency per response, "
            f"host delay {args.host_delay} s; PostgreSQL on 127.0.0.1:{postgres.port}")

        # 1. Throughput: one worker, then N, each on a fresh database.
        if not args.skip_throughput:
            rates = {}
            for count in (1, args.workers):
                name = f"throughput{count}"
                state = postgres.createdb(name)
                config = write_config(os.path.join(work, name), site, state, args.hosts, port, args.host_delay)
                cpu_before, children_before = machine_cpu(), os.times()
                elapsed = run_workers(binary, config, count, 60, args.concurrency, os.path.join(work, name), "w")
                cpu_after, children_after = machine_cpu(), os.times()
                busy = (cpu_after[0] - cpu_before[0]) / max(1, cpu_after[1] - cpu_before[1])
                worker_cpu = (children_after.children_user + children_after.children_system
                              - children_before.children_user - children_before.children_system)
                polled = int(postgres.sql(name, "SELECT count(*) FROM feeds WHERE last_poll_at IS NOT NULL")[0][0])
                requests, _ = server.snapshot()
                server.clear()
                rates[count] = polled / elapsed
                FIGURES[f"polls_per_second_{count}"] = round(rates[count], 3)
                log(f"throughput: {count} worker(s): {polled} polls ({len(requests)} requests) in {elapsed:.1f} s = {rates[count]:.2f} polls/s; "
                    f"workers' CPU {worker_cpu:.1f} s, machine busy {100 * busy:.0f} %")
                if polled != args.feeds:
                    failures.append(f"throughput with {count} worker(s): {polled} of {args.feeds} feeds polled")
            claims, holds = timing_lines(glob.glob(os.path.join(work, "throughput*", "w-*.log")))
            log(f"throughput runs: claim {describe(claims)}; commit lock held {describe(holds)}")
            if holds:
                FIGURES["lock_hold_p99_ms"] = max(f[1] for f in holds)
            ratio = rates[args.workers] / rates[1]
            FIGURES["throughput_ratio"] = round(ratio, 3)
            log(f"throughput ratio: {args.workers} workers / 1 worker = {ratio:.2f}x (target >= 3)")
            if ratio < args.min_ratio:
                failures.append(f"throughput ratio {ratio:.2f} below {args.min_ratio}")
        if args.skip_chaos:
            raise Done()

        # 2. Chaos.
        server.clear()
        state = postgres.createdb("chaos")
        chaos = os.path.join(work, "chaos")
        interval = args.interval or max(10, args.feeds // 4)
        config = write_config(chaos, site, state, args.hosts, port, args.host_delay, intervals=interval, connections=args.concurrency)
        # The second copy registers now (texts are pruned only once every registered copy has them)
        # and is written at the end, from scratch, to compare with the first.
        second = write_config(os.path.join(work, "copy2"), site, state, args.hosts, port, args.host_delay, intervals=interval)
        subprocess.run([binary, "materialize", "--config", second, "--once", "-q"], check=True, stdout=subprocess.DEVNULL)
        materializer_args = ["materialize", "--config", config, "--interval", "0.3", "-q", "--log-level", "warning"]
        materializer = spawn(binary, materializer_args, os.path.join(chaos, "materializer.log"))
        processes.append(materializer)
        workers = {}
        serial = [0]

        def start_worker():
            serial[0] += 1
            worker_id = f"chaos-{serial[0]}"
            workers[worker_id] = spawn(binary, worker_args(config, worker_id, args.lease, args.concurrency, False),
                                       os.path.join(chaos, f"{worker_id}.log"))
            processes.append(workers[worker_id])

        for _ in range(args.workers):
            start_worker()
        started = time.monotonic()
        kills = stalls = materializer_kills = 0
        recoveries = []   # seconds from a kill to the re-poll of each feed the dead worker held
        finished_before_kill = [0]
        watching = []     # (killed_at, worker_id, [(feed_id, fence)])
        stalled = None
        resumes = []      # when a stalled worker was continued (time.time(), the server log's clock)
        probe = StarvationProbe()
        round_one = False
        retry_armed = False
        while time.monotonic() - started < args.chaos_seconds or watching or stalled:
            time.sleep(0.25)
            now = time.monotonic()
            # New items in half the feeds (and as many old ones gone), once every feed's first
            # poll is committed: an item that leaves a feed before any poll saw it is no loss.
            if not round_one and now - started > args.chaos_seconds / 3 and now - started < args.chaos_seconds * 0.8 and int(postgres.sql(
                    "chaos", "SELECT count(DISTINCT feed_id) FROM entries")[0][0]) == args.feeds:
                generate(site, args.feeds, args.items, args.hosts, port, round_number=1)
                round_one = True
            if not retry_armed and now - started > args.chaos_seconds / 4:
                server.retry_after("127.0.0.1", 3)
                retry_armed = True
            if stalled and now >= stalled[1]:
                os.kill(stalled[0].pid, signal.SIGCONT)
                resumes.append(time.time())
                stalled = None
            # Recovery: a killed worker's feeds are claimed again (a new fence) or polled since.
            for entry in list(watching):
                killed_at, worker_id, held, backlog = entry
                pending = []
                for feed_id, fence, polled in held:
                    now_fence, owner, last = postgres.sql("chaos", f"SELECT fence, coalesce(lease_owner, ''), "
                                                          f"coalesce(extract(epoch FROM last_poll_at), 0) FROM feeds WHERE id = {feed_id}")[0]
                    if int(now_fence) > fence:
                        # Claimed again by another worker: its fencing counter moved on.
                        recoveries.append((time.monotonic() - killed_at, backlog))
                    elif owner == "" and float(last) != polled:
                        finished_before_kill[0] += 1  # the victim committed it just before it died: not a dead lease
                    else:
                        pending.append((feed_id, fence, polled))
                if pending:
                    watching[watching.index(entry)] = (killed_at, worker_id, pending, backlog)
                    if time.monotonic() - killed_at > args.lease + 30:
                        failures.append(f"feeds {pending} of killed worker {worker_id} not polled again {args.lease + 30:.0f} s after")
                        watching.remove((killed_at, worker_id, pending, backlog))
                else:
                    watching.remove(entry)
            if now - started >= args.chaos_seconds or rng.random() > 0.12:
                continue
            action = rng.choice(["kill", "kill", "materializer", "stall"])
            live = [worker_id for worker_id, process in workers.items() if process.poll() is None and (not stalled or stalled[0] is not process)]
            if action == "kill" and live:
                victim = rng.choice(live)
                # Feeds already due and waiting for a free worker: a kill then measures the queue too.
                backlog = int(postgres.sql("chaos", "SELECT count(*) FROM feeds WHERE next_poll_at <= now() "
                                                    "AND (lease_owner IS NULL OR lease_expires < now())")[0][0])
                held = [(int(feed), int(fence), float(polled)) for feed, fence, polled in postgres.sql(
                    "chaos", f"SELECT id, fence, coalesce(extract(epoch FROM last_poll_at), 0) FROM feeds "
                             f"WHERE lease_owner = '{victim}' AND lease_expires > now()")]
                workers[victim].kill()
                workers[victim].wait()
                killed_at = time.monotonic()
                kills += 1
                if held:
                    watching.append((killed_at, victim, held, backlog))
                start_worker()
            elif action == "materializer":
                materializer.kill()
                materializer.wait()
                materializer_kills += 1
                materializer = spawn(binary, materializer_args, os.path.join(chaos, "materializer.log"))
                processes.append(materializer)
            elif action == "stall" and live and not stalled:
                victim = workers[rng.choice(live)]
                os.kill(victim.pid, signal.SIGSTOP)
                stalled = (victim, now + args.lease + 2)
                stalls += 1
        # Quiet down: the services stop; one worker polls whatever is still due, then the copies catch up.
        for process in workers.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in workers.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                failures.append("a worker did not stop within 60 s of SIGTERM")
        materializer.send_signal(signal.SIGTERM)
        materializer.wait(timeout=60)
        requests, holds = server.snapshot()
        lost_leases = sum(int(m.group(1)) for path in glob.glob(os.path.join(chaos, "chaos-*.log"))
                          for m in re.finditer(r"(\d+) lease\(s\) lost", open(path, errors="replace").read()))
        pages_not_used = sum(open(path, errors="replace").read().count("article page not used")
                             for path in glob.glob(os.path.join(chaos, "*.log")))
        log(f"article pages not used (their stories keep the feed's text): {pages_not_used}")
        FIGURES.update(pages_not_used=pages_not_used)
        claims, lock_holds = timing_lines(glob.glob(os.path.join(chaos, "*.log")))
        log(f"chaos (workers that stopped on SIGTERM): claim {describe(claims)}; commit lock held {describe(lock_holds)}")
        log(f"fencing: {lost_leases} poll(s) discarded by workers that had lost their lease (stalled or slow past it)")
        FIGURES.update(leases_lost=lost_leases)
        FIGURES.update(worker_kills=kills, stalls=stalls, materializer_kills=materializer_kills, second_round=round_one)
        log(f"chaos: {args.chaos_seconds:.0f} s (feeds polled every {interval} s), {kills} worker kills (SIGKILL), {stalls} stall(s) past the lease, "
            f"{'new items published mid-run' if round_one else 'no second round (the first polls took the whole run)'}, "
            f"{materializer_kills} materializer kills, {len(requests)} requests, {len(holds)} Retry-After answer(s)")

        # Everything due now (the next round of polls), then both copies.
        postgres.sql("chaos", "UPDATE feeds SET next_poll_at = now() WHERE lease_owner IS NULL OR lease_expires < now()")
        time.sleep(args.lease + 0.5)  # leases of stalled/killed workers run out
        postgres.sql("chaos", "UPDATE feeds SET next_poll_at = now()")
        run_workers(binary, config, 2, args.lease, args.concurrency, chaos, "final")
        # A poll that failed in that pass (a timeout on a loaded machine) is retried as the
        # schedule would later: the corpus is judged once every feed's last poll succeeded.
        for attempt in range(3):
            failing = postgres.sql("chaos", "SELECT url, coalesce(last_error, last_result) FROM feeds "
                                            "WHERE last_result IS NULL OR last_result NOT IN ('ok', 'not_modified')")
            if not failing:
                break
            log(f"final pass: {len(failing)} feed(s) whose last poll failed, polled again: {failing[:3]}")
            FIGURES["final_repolls"] = FIGURES.get("final_repolls", 0) + len(failing)
            postgres.sql("chaos", "UPDATE feeds SET next_poll_at = now()")
            run_workers(binary, config, 2, args.lease, args.concurrency, chaos, f"final{attempt + 1}")
        requests, holds = server.snapshot()
        subprocess.run([binary, "materialize", "--config", config, "--once", "-q"], check=True, stdout=subprocess.DEVNULL)
        counts = postgres.sql("chaos", "SELECT count(*), count(DISTINCT sha256), count(url), count(DISTINCT url), "
                                       "count(entry_id), count(DISTINCT entry_id), count(text) FROM stories")[0]
        stories, hashes, urls, distinct_urls, ids, distinct_ids, texts = map(int, counts)
        log(f"state: {stories} stories, {hashes} distinct hashes, {urls}/{distinct_urls} URLs, {ids}/{distinct_ids} entry ids, "
            f"{texts} texts not yet pruned")
        FIGURES.update(stories=stories)
        if stories != hashes or urls != distinct_urls or ids != distinct_ids:
            failures.append("a story is stored twice in the state")

        # Score the copy against the truth of both rounds.
        truth = os.path.join(work, "truth.jsonl")
        seen = set()
        with open(truth, "w") as out:
            for round_number in ((0, 1) if round_one else (0,)):
                generate(os.path.join(work, f"truth{round_number}"), args.feeds, args.items, args.hosts, port, round_number)
                for line in open(os.path.join(work, f"truth{round_number}", "truth.jsonl")):
                    item = json.loads(line)
                    key = (item["feed"], item.get("id"), item["link"])
                    if key not in seen:
                        seen.add(key)
                        out.write(line)
        corpus = os.path.join(chaos, "corpus")
        score = subprocess.run([sys.executable, os.path.join(ROOT, "bench/ingest-score.py"), "--truth", truth, "--corpus", corpus],
                               capture_output=True, text=True)
        for line in score.stdout.splitlines():
            if line.startswith(("truth:", "corpus:", "distinct stories lost", "duplicates kept", "planted")):
                log("score: " + line)
        lost = re.search(r"distinct stories lost: (\d+)", score.stdout)
        kept = re.search(r"duplicates kept: (\d+)", score.stdout)
        FIGURES.update(stories_lost=int(lost.group(1)) if lost else None, duplicates_kept=int(kept.group(1)) if kept else None)
        if not lost or int(lost.group(1)) != 0:
            failures.append("stories lost: " + (lost.group(1) if lost else score.stdout[-500:] + score.stderr[-500:]))
        if not kept or int(kept.group(1)) != 0:
            failures.append("duplicates kept: " + (kept.group(1) if kept else "?"))
        verify = subprocess.run([binary, "verify", "--config", config], capture_output=True, text=True)
        log("verify: exit %d, %s" % (verify.returncode, (verify.stdout.strip().splitlines() or [""])[-1]))
        FIGURES.update(verify_exit=verify.returncode)
        if verify.returncode != 0:
            failures.append("verify: " + verify.stdout[-800:] + verify.stderr[-800:])

        # The second copy, written now in one go, against the first (written through the kills).
        copy2 = os.path.join(work, "copy2", "corpus")
        subprocess.run([binary, "materialize", "--config", second, "--once", "-q"], check=True, stdout=subprocess.DEVNULL)
        first, other = copy_tree(corpus), copy_tree(copy2)
        same = first == other
        FIGURES.update(copy_files=len(first), copies_identical=same)
        log(f"copies: {len(first)} files in copy 1, {len(other)} in copy 2, identical: {same}")
        if not same:
            differing = sorted(set(first) ^ set(other)) or [name for name in first if first[name] != other.get(name)]
            failures.append("the two materialized copies differ: " + ", ".join(differing)[:500])

        # Politeness over the whole chaos run.
        close, inside, smallest, after_stall = spacing_violations(requests, holds, args.host_delay, resumes, probe)
        log(f"politeness: {len(requests)} requests on {args.hosts} hosts; smallest gap between two starts on one host "
            f"{(smallest or 0) * 1000:.1f} ms (host delay {args.host_delay * 1000:.0f} ms); {len(close)} closer; "
            f"{len(inside)} inside a Retry-After ({len(holds)} answered); {len(after_stall)} closer while a worker or "
            f"the machine had been stopped (a worker continued within a second before, or this process's 10 ms "
            f"timer woke 40 ms or more late within half a second before; {len(probe.spells)} such spells in all): "
            f"{after_stall[:5]}")
        FIGURES.update(requests=len(requests), smallest_gap_ms=round((smallest or 0) * 1000, 1), closer_than_delay=len(close),
                       closer_after_stall=len(after_stall), retry_after_answers=len(holds), inside_retry_after=len(inside))
        if close:
            failures.append(f"request starts closer than the host delay: {close[:5]}")
        if inside:
            failures.append(f"requests inside a Retry-After: {inside[:5]}")
        idle = [seconds for seconds, backlog in recoveries if backlog == 0]
        queued = [seconds for seconds, backlog in recoveries if backlog > 0]
        if idle:
            log(f"recovery: {len(idle)} feeds of workers killed while no other feed waited for a worker claimed again after "
                f"{min(idle):.1f}-{max(idle):.1f} s (lease {args.lease:.0f} s; target <= lease + 5 s); "
                f"{finished_before_kill[0]} held at a kill had just been committed")
            FIGURES.update(recovered_feeds=len(idle), recovery_max_seconds=round(max(idle), 2))
            if max(idle) > args.lease + 5:
                failures.append(f"a killed worker's feed waited {max(idle):.1f} s (lease {args.lease} s + 5)")
        if queued:
            log(f"recovery during a backlog (other feeds already waiting for a worker): {len(queued)} feeds after "
                f"{min(queued):.1f}-{max(queued):.1f} s (they queue with the others, oldest due first)")
            FIGURES.update(recovered_in_backlog=len(queued), recovery_in_backlog_max_seconds=round(max(queued), 2))
    except Done:
        pass
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
        if server:
            server.stop()
        postgres.stop()
        if args.keep:
            log(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    for failure in failures:
        log("FAIL: " + failure)
    if JSON_OUTPUT:
        print(json.dumps({"passed": not failures, "failures": failures, "figures": FIGURES}))
    if failures:
        sys.exit(1)
    log("cluster proof: all checks passed")


if __name__ == "__main__":
    main()
