#!/usr/bin/env bash
# Builds a release binary and installs it with the default config and the systemd units.
#   sudo deploy/install.sh            # binary, config (kept if present), units
# Then either `systemctl enable --now feedcorpus.service` (the service) or
# `systemctl enable --now feedcorpus-fetch.timer` (the one-shot every 15 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${PREFIX:-/usr/local}
[ "$(id -u)" = 0 ] || { echo "run as root (it installs into $prefix and /etc)"; exit 1; }
make release
install -D -m 0755 .build/release/feedcorpus "$prefix/bin/feedcorpus"
# The service's user, and the group whose members (analysis tools) may read the corpus.
getent group feedcorpus-readers >/dev/null || groupadd --system feedcorpus-readers
getent passwd feedcorpus >/dev/null || useradd --system --user-group --home-dir /var/lib/feedcorpus \
    --shell /usr/sbin/nologin --comment "feedcorpus service" feedcorpus
# /var/lib/feedcorpus: 0755; state/: the service's alone; corpus/: readable by feedcorpus-readers
# (setgid, so day folders and story files get that group; the units' UMask=0027 makes them 0750/0640).
install -d -m 0755 /var/lib/feedcorpus
install -d -m 0700 -o feedcorpus -g feedcorpus /var/lib/feedcorpus/state
install -d -m 2750 -o feedcorpus -g feedcorpus-readers /var/lib/feedcorpus/corpus
install -d -m 0755 /etc/feedcorpus
[ -e /etc/feedcorpus/feedcorpus.yaml ] || install -m 0644 deploy/feedcorpus.yaml /etc/feedcorpus/feedcorpus.yaml
for unit in feedcorpus.service feedcorpus-fetch.service feedcorpus-fetch.timer; do
    sed "s|/usr/local/bin/feedcorpus|$prefix/bin/feedcorpus|" "deploy/$unit" > "/etc/systemd/system/$unit"
    chmod 0644 "/etc/systemd/system/$unit"
done
if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
echo "installed $prefix/bin/feedcorpus, /etc/feedcorpus/feedcorpus.yaml and the units in /etc/systemd/system"
echo "next: add feeds to /etc/feedcorpus/feedcorpus.yaml, then systemctl enable --now feedcorpus.service"
