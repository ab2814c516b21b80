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
install -d -m 0755 /etc/feedcorpus
[ -e /etc/feedcorpus/feedcorpus.yaml ] || install -m 0644 deploy/feedcorpus.yaml /etc/feedcorpus/feedcorpus.yaml
for unit in feedcorpus.service feedcorpus-fetch.service feedcorpus-fetch.timer; do
    sed "s|/usr/local/bin/feedcorpus|$prefix/bin/feedcorpus|" "deploy/$unit" > "/etc/systemd/system/$unit"
    chmod 0644 "/etc/systemd/system/$unit"
done
if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
echo "installed $prefix/bin/feedcorpus, /etc/feedcorpus/feedcorpus.yaml and the units in /etc/systemd/system"
echo "next: add feeds to /etc/feedcorpus/feedcorpus.yaml, then systemctl enable --now feedcorpus.service"
