#!/usr/bin/env bash
# Fetch benchmark (not a test): serves N generated feeds (default 2000) from nginx on 127.0.0.1
# (its own config in a temporary folder), runs `feedcorpus fetch --once` cold (every feed new:
# fetch, parse, store) and then warm (every feed answers 304), and prints requests/s for each,
# peak memory, and the cold/warm time ratio. Targets: warm at least 10 times faster than cold;
# peak memory under 150 MB with 2000 feeds.
#
# Usage: bench/fetch.sh [FEEDS] [ITEMS_PER_FEED]    (defaults: 2000 and 5)
# Needs nginx (Debian's nginx-light) and GNU time; installs them when run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
feeds=${1:-2000}
items=${2:-5}
need=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "needs: sudo apt-get install ${need[*]}"; exit 2
    fi
fi
swift build -c release --product feedcorpus >/dev/null
bin=$PWD/.build/release/feedcorpus
work=$(mktemp -d)
cleanup() { [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/www" "$work/logs" "$work/tmp"
chmod 755 "$work"  # nginx's workers run as another user and must read the feeds

python3 - "$work/www" "$feeds" "$items" <<'PY'
import os, sys, random
root, feeds, items = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(11)
words = "minister said troops region talks officials agreement pressure government parliament vote budget".split()
for f in range(feeds):
    out = ['<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Feed %d</title><link>https://site%d.example/</link><description>d</description>' % (f, f)]
    for i in range(items):
        body = "".join("<p>%s.</p>" % " ".join(random.choice(words) for _ in range(40)) for _ in range(4))
        out.append('<item><title>Story %d of feed %d</title><link>https://site%d.example/%d</link><guid>f%d-i%d</guid>'
                   '<pubDate>Mon, 04 Nov 2024 %02d:00:00 GMT</pubDate><description><![CDATA[%s]]></description></item>' % (i, f, f, i, f, i, i % 24, body))
    out.append("</channel></rss>")
    with open(os.path.join(root, "feed%d.xml" % f), "w") as handle:
        handle.write("".join(out))
PY
chmod -R a+rX "$work/www"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
cat > "$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/tmp; proxy_temp_path $work/tmp; fastcgi_temp_path $work/tmp;
    uwsgi_temp_path $work/tmp; scgi_temp_path $work/tmp;
    keepalive_requests 100000;
    types { application/rss+xml xml; }
    server { listen 127.0.0.1:$port; root $work/www; etag on; }
}
CONF
nginx=$(command -v nginx || echo /usr/sbin/nginx)
"$nginx" -c "$work/nginx.conf" -p "$work"
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/feed0.xml" >/dev/null && break; sleep 0.1; done

{
    echo "corpus: corpus"
    echo "state: state.sqlite"
    echo "fetch: {host_delay: 0, max_connections: 64, max_connections_per_host: 64}"
    echo "feeds:"
    for f in $(seq 0 $((feeds - 1))); do echo "  - {url: \"http://127.0.0.1:$port/feed$f.xml\", name: f$f}"; done
} > "$work/feedcorpus.yaml"

run() {
    /usr/bin/time -f "%e %M" -o "$work/time" "$bin" fetch --once --quiet --config "$work/feedcorpus.yaml" > "$work/out" 2> "$work/err" || true
    tail -1 "$work/out" >&2
    tail -1 "$work/time"  # GNU time puts "Command exited with non-zero status" first when a feed failed
}
read -r cold_s cold_kb < <(run)
read -r warm_s warm_kb < <(run)
stories=$(find "$work/corpus" -name '*.txt' | wc -l)
python3 - "$feeds" "$cold_s" "$warm_s" "$cold_kb" "$warm_kb" "$stories" <<'PY'
import sys
feeds, cold, warm, cold_kb, warm_kb, stories = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
print(f"feeds: {feeds}, stories stored by the cold run: {stories}")
print(f"cold pass (fetch, parse, store): {cold:.2f} s  {feeds / cold:.0f} requests/s")
print(f"warm pass (all 304):             {warm:.2f} s  {feeds / max(warm, 0.001):.0f} requests/s")
print(f"cold/warm time ratio:            {cold / max(warm, 0.001):.1f}  (target >= 10)")
print(f"peak memory:                     {max(cold_kb, warm_kb) / 1024:.0f} MB  (target < 150 MB)")
PY
