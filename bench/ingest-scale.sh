#!/usr/bin/env bash
# Ingest at scale (a benchmark, not a test): N feeds x 30 items from ../shared/tools/gen_feeds.py
# (with article pages and its truth.jsonl), served by nginx on 127.0.0.1-127.0.0.8 (eight
# loopback hosts), one cold `feedcorpus fetch --once --all` of the release build, then:
#   - the score against truth.jsonl (bench/ingest-score.py): distinct stories lost, duplicates
#     kept, planted exact copies and near-duplicates caught;
#   - wall and CPU seconds, peak RSS and the bytes written to disk of the pass (GNU time);
#   - in the same invocation, newsboat's cold reload of the same feeds (when installed), once with
#     its default single reload thread and once with as many threads as feedcorpus has
#     connections. newsboat reads the feeds only; feedcorpus also fetches and extracts the article
#     pages of the summary-only feeds, so the figure printed as "feeds-only" (fulltext: never, a
#     second cold pass) is the like-for-like comparison.
#
# Usage: bench/ingest-scale.sh [N] [--keep DIR]
#   FEEDCORPUS_BIN=path  use this binary instead of building the release one
#   NO_FEEDS_ONLY=1      skip the feeds-only pass
#   NO_FULL=1            skip the full (fulltext auto) pass and its score
#   KEEP_RUNS=1          leave earlier runs' folders in DIR/.trash-* (repeated runs: no deletions
#                        between them, see below; delete them by hand afterwards)
#   WRAP="cmd args"      run feedcorpus under this command (e.g. "perf record -g -o F"): profiling only
#   NO_NEWSBOAT=1        skip the newsboat reference runs
#   DROP_CACHES=1        empty the page cache before each pass and read the feeds back in (root
#                        only; bench/ingest-scaling.sh sets it when it can)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
count=${1:-1000}
keep=""
if [ "${2:-}" = "--keep" ]; then keep=${3:?--keep needs a folder}; fi
shared=${SHARED_DIR:-$root/../shared}
[ -f "$shared/tools/gen_feeds.py" ] || { echo "ingest-scale: $shared/tools/gen_feeds.py not found (set SHARED_DIR)" >&2; exit 2; }
command -v nginx >/dev/null || { echo "ingest-scale: nginx is needed: apt-get install nginx-light" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "ingest-scale: GNU time is needed: apt-get install time" >&2; exit 2; }
if [ -z "${FEEDCORPUS_BIN:-}" ]; then
  swift build -c release --product feedcorpus >/dev/null
  FEEDCORPUS_BIN=$root/.build/release/feedcorpus
fi
bin=$FEEDCORPUS_BIN
hosts=8
port=${PORT:-18473}
connections=16

work=${keep:-$(mktemp -d)}
mkdir -p "$work"
chmod 755 "$work"  # nginx's workers (another user) must read the site below it
nginx_pid=""
cleanup() {
  if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null || true; fi
  [ -n "${KEEP_RUNS:-}" ] || rm -rf "$work"/.trash-*
  if [ -z "$keep" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT

site=$work/site
if [ ! -f "$site/truth.jsonl" ]; then
  echo "generating $count feeds x 30 items (with article pages) ..."
  python3 "$shared/tools/gen_feeds.py" --out "$site" --feeds "$count" --items 30 --article-pages \
    --base-url "http://127.0.0.1:$port" >/dev/null
  # Spread the outlets over eight loopback hosts: a feed and its article pages live on the host
  # its outlet slug hashes to, so a syndicated copy that keeps the original link keeps its host.
  python3 - "$site" "$port" "$hosts" <<'PY'
import os, re, sys, zlib
site, port, hosts = sys.argv[1], sys.argv[2], int(sys.argv[3])
pattern = re.compile(r"http://127\.0\.0\.1:%s/(articles|img)/([^/\"'<>?&]+)" % port)
def host(slug):
    return "127.0.0.%d" % (1 + zlib.crc32(slug.encode()) % hosts)
def fix(text):
    return pattern.sub(lambda m: "http://%s:%s/%s/%s" % (host(m.group(2)), port, m.group(1), m.group(2)), text)
for folder, _, files in os.walk(site):
    for name in files:
        if not (name.endswith((".rss", ".atom", ".rdf", ".html")) or name == "truth.jsonl"):
            continue
        path = os.path.join(folder, name)
        with open(path, "rb") as handle:
            data = handle.read()
        text = data.decode("latin-1")
        fixed = fix(text)
        if fixed != text:
            with open(path, "wb") as handle:
                handle.write(fixed.encode("latin-1"))
PY
fi

# nginx on the eight loopback addresses, serving the generated site.
mkdir -p "$work/nginx"
{
  echo "worker_processes 1; daemon off; pid $work/nginx/nginx.pid; error_log $work/nginx/error.log;"
  echo "events { worker_connections 1024; }"
  echo "http { access_log off; sendfile on; keepalive_requests 100000;"
  echo "  types { application/rss+xml rss; application/atom+xml atom; application/rdf+xml rdf; text/html html; }"
  echo "  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;"
  echo "  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;"
  echo "  server {"
  for i in $(seq 1 $hosts); do echo "    listen 127.0.0.$i:$port;"; done
  echo "    root $site; }"
  echo "}"
} > "$work/nginx/nginx.conf"
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
nginx_pid=$!
for _ in $(seq 1 50); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/feeds.txt" && break
  sleep 0.1
done

feed_url() {  # feeds/00042.rss -> http://127.0.0.X:port/feeds/00042.rss (host by feed number)
  local path=$1 number
  number=$(basename "$path"); number=${number%%.*}
  echo "http://127.0.0.$((1 + 10#$number % hosts)):$port/$path"
}
write_config() {  # $1 folder, $2 fulltext policy
  {
    echo "corpus: corpus"
    echo "state: state/state.sqlite"
    echo "fetch:"
    echo "  allow_private_networks: true   # the benchmark's hosts are loopback addresses"
    echo "  host_delay: 0                  # loopback: no politeness pause between requests"
    echo "  max_connections: $connections"
    echo "  max_connections_per_host: 4"
    echo "feeds:"
    while read -r path; do
      echo "  - url: $(feed_url "$path")"
      echo "    name: \"${path#feeds/}\""
      [ "$2" = auto ] || echo "    fulltext: $2"
    done < "$site/feeds.txt"
  } > "$1/config.yaml"
}

# The previous run's folders are moved aside now and deleted after the timed passes: on ext4
# without a journal, every file created within minutes of deleting many others makes the kernel
# step over each recently freed inode (find_inode_bit -> recently_deleted), a cost that grows
# with the number deleted and is no part of feedcorpus's work (100,000s of files per run here).
trash=$work/.trash-$$
for old in "$work/full" "$work/feeds-only"; do
  if [ -e "$old" ]; then mkdir -p "$trash"; mv "$old" "$trash/$(basename "$old")"; fi
done
run_pass() {  # $1 folder, $2 fulltext policy -> prints "wall cpu rss_kb"
  mkdir -p "$1"
  write_config "$1" "$2"
  sync  # the previous pass's (or run's) dirty pages are written back now, not during this pass
  if [ -n "${DROP_CACHES:-}" ]; then
    # Every pass starts from the same page cache: emptied, then the feeds nginx serves read back.
    # Otherwise a pass pays for reclaiming what earlier passes left cached (after a 5,000-feed
    # run, a 1,000-feed pass took 10-40 % more CPU than the first one of the invocation).
    echo 3 > /proc/sys/vm/drop_caches
    find "$site/feeds" -type f -exec cat {} + > /dev/null
  fi
  /usr/bin/time -f "%e %U %S %M %O" -o "$1/time.txt" ${WRAP:-} "$bin" fetch --once --all --quiet --config "$1/config.yaml" \
    > "$1/stdout.txt" 2> "$1/stderr.txt" || { echo "feedcorpus failed: $(tail -5 "$1/stderr.txt")" >&2; exit 1; }
  awk '{ printf "%.1f %.1f %d %d\n", $1, $2 + $3, $4, $5 / 2048 }' "$1/time.txt"
}

echo "feedcorpus $("$bin" --version 2>/dev/null || echo '?'): $count feeds, $(wc -l < "$site/truth.jsonl") items"
if [ -z "${NO_FULL:-}" ]; then
  read -r wall cpu rss written < <(run_pass "$work/full" auto)
  echo "cold pass (fulltext auto): wall ${wall} s, CPU ${cpu} s, peak RSS $((rss / 1024)) MB, wrote ${written} MB"
  tail -1 "$work/full/stdout.txt" | sed 's/^/  /'
  python3 "$root/bench/ingest-score.py" --truth "$site/truth.jsonl" --corpus "$work/full/corpus" --state "$work/full/state/state.sqlite"
fi

if [ -z "${NO_FEEDS_ONLY:-}" ]; then
  read -r fwall fcpu frss fwritten < <(run_pass "$work/feeds-only" never)
  echo "cold pass (fulltext never, feeds only): wall ${fwall} s, CPU ${fcpu} s, peak RSS $((frss / 1024)) MB, wrote ${fwritten} MB"
fi

newsboat_reload() {  # $1 reload threads -> prints "wall cpu rss_kb"
  mkdir -p "$work/newsboat"
  while read -r path; do feed_url "$path"; done < "$site/feeds.txt" > "$work/newsboat/urls"
  printf 'reload-threads %d\nsuppress-first-reload yes\n' "$1" > "$work/newsboat/config"
  rm -f "$work/newsboat/cache.db" "$work/newsboat/cache.db.lock"
  /usr/bin/time -f "%e %U %S %M" -o "$work/newsboat/time.txt" \
    newsboat -x reload -u "$work/newsboat/urls" -c "$work/newsboat/cache.db" -C "$work/newsboat/config" \
    > /dev/null 2> "$work/newsboat/stderr.txt" || true
  awk '{ printf "%.1f %.1f %d\n", $1, $2 + $3, $4 }' "$work/newsboat/time.txt"
}

if [ -n "${NO_NEWSBOAT:-}" ]; then
  echo "newsboat reference skipped (NO_NEWSBOAT)"
elif command -v newsboat >/dev/null; then
  read -r nwall ncpu nrss < <(newsboat_reload 1)
  echo "newsboat cold reload (its default, 1 reload thread): wall ${nwall} s, CPU ${ncpu} s, peak RSS $((nrss / 1024)) MB"
  read -r pwall pcpu prss < <(newsboat_reload "$connections")
  echo "newsboat cold reload ($connections reload threads): wall ${pwall} s, CPU ${pcpu} s, peak RSS $((prss / 1024)) MB"
  [ -n "${NO_FULL:-}" ] || echo "ratio feedcorpus fulltext / newsboat default: $(echo "scale=2; $wall / $nwall" | bc)"
  if [ -z "${NO_FEEDS_ONLY:-}" ]; then
    echo "ratio feedcorpus feeds-only / newsboat default: $(echo "scale=2; $fwall / $nwall" | bc)"
    echo "ratio feedcorpus feeds-only / newsboat $connections threads: $(echo "scale=2; $fwall / $pwall" | bc)"
  fi
else
  echo "newsboat not installed: no reference time (apt-get install newsboat)"
fi
