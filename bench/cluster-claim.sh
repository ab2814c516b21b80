#!/usr/bin/env bash
# Cluster state at scale (a benchmark, not a test): a scratch PostgreSQL server on 127.0.0.1
# (Debian's postgresql, default durability settings), a million feeds loaded with COPY, several
# workers claiming feeds, committing a story under the commit lock and finishing each lease.
# Prints the claim latency and the commit-lock hold time (p50, p99, max).
#
# Usage: bench/cluster-claim.sh [FEEDS] [WORKERS] [CLAIMS_PER_WORKER] [feedcorpus-bench cluster-claim options]
#   (e.g. --stories 1, or --no-staged: the texts written under the lock, for comparison)
# Needs: postgresql (apt-get install postgresql); FEEDCORPUS_BENCH_BIN (default: a release build
# of feedcorpus-bench, built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
feeds=${1:-1000000}
workers=${2:-4}
claims=${3:-500}
pg_bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$pg_bin/initdb" ] || { echo "cluster-claim: PostgreSQL's server programs not found (apt-get install postgresql, or set PG_BIN)" >&2; exit 2; }
bench=${FEEDCORPUS_BENCH_BIN:-.build/release/feedcorpus-bench}
if [ ! -x "$bench" ]; then swift build -c release --product feedcorpus-bench >&2; fi

work=$(mktemp -d /tmp/cluster-claim-XXXXXX)
as_server=()
if [ "$(id -u)" = 0 ]; then chown postgres "$work"; as_server=(runuser -u postgres --); fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
stop() {
  "${as_server[@]}" "$pg_bin/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap stop EXIT
"${as_server[@]}" "$pg_bin/initdb" -D "$work/data" -U feedcorpus --auth=trust -E UTF8 --locale=C >/dev/null
"${as_server[@]}" "$pg_bin/pg_ctl" -D "$work/data" -l "$work/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $work -c max_connections=100 -c shared_buffers=256MB" start >/dev/null
"$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U feedcorpus feedcorpus
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (fsync on, synchronous_commit on)"
"$bench" cluster-claim --database "postgres://feedcorpus@127.0.0.1:$port/feedcorpus" --feeds "$feeds" --workers "$workers" --claims "$claims" "${@:4}"
