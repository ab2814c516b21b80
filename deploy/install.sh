#!/usr/bin/env bash
# Builds a release binary and installs it with the default config, the systemd units, the man
# page and shell completions.
#   sudo deploy/install.sh                 # build, then install into PREFIX (/usr/local) and /etc
#   sudo deploy/install.sh --no-build      # install the binary already built (.build/release, or BIN=path)
#   DESTDIR=/tmp/pkg deploy/install.sh     # stage into a folder for a package (no user, chown or systemctl)
#   NO_MANUAL=1                            # skip the man page (it needs the swift toolchain)
# Then either `systemctl enable --now feedcorpus.service` (the service) or
# `systemctl enable --now feedcorpus-fetch.timer` (the one-shot every 15 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${PREFIX:-/usr/local}
destdir=${DESTDIR:-}
build=1
for argument in "$@"; do
  case $argument in
    --no-build) build=0 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $argument (see --help)"; exit 2 ;;
  esac
done
if [ -z "$destdir" ] && [ "$(id -u)" != 0 ]; then
  echo "run as root (it installs into $prefix and /etc), or set DESTDIR to stage into a folder"; exit 1
fi
binary=${BIN:-.build/release/feedcorpus}
if [ "$build" = 1 ]; then make release; fi
[ -x "$binary" ] || { echo "no binary at $binary: build it (make release) or drop --no-build"; exit 1; }

install -D -m 0755 "$binary" "$destdir$prefix/bin/feedcorpus"

# Man page (swift-argument-parser's generate-manual plugin) and shell completions.
manual=$(mktemp -d)
if [ -z "${NO_MANUAL:-}" ] && command -v swift >/dev/null && swift package --allow-writing-to-directory "$manual" generate-manual --output-directory "$manual" >/dev/null 2>&1; then
  install -D -m 0644 "$manual/feedcorpus.1" "$destdir$prefix/share/man/man1/feedcorpus.1"
else
  echo "note: no man page (the swift toolchain is needed to generate it)"
fi
rm -rf "$manual"
"$binary" --generate-completion-script bash > "$manual.bash"
"$binary" --generate-completion-script zsh > "$manual.zsh"
"$binary" --generate-completion-script fish > "$manual.fish"
install -D -m 0644 "$manual.bash" "$destdir/usr/share/bash-completion/completions/feedcorpus"
install -D -m 0644 "$manual.zsh" "$destdir/usr/share/zsh/vendor-completions/_feedcorpus"
install -D -m 0644 "$manual.fish" "$destdir/usr/share/fish/vendor_completions.d/feedcorpus.fish"
rm -f "$manual.bash" "$manual.zsh" "$manual.fish"

install -d -m 0755 "$destdir/etc/feedcorpus"
[ -e "$destdir/etc/feedcorpus/feedcorpus.yaml" ] || install -m 0644 deploy/feedcorpus.yaml "$destdir/etc/feedcorpus/feedcorpus.yaml"
for unit in feedcorpus.service feedcorpus-fetch.service feedcorpus-fetch.timer feedcorpus-materialize.service feedcorpus-worker.service; do
  install -d -m 0755 "$destdir/etc/systemd/system"
  sed "s|/usr/local/bin/feedcorpus|$prefix/bin/feedcorpus|" "deploy/$unit" > "$destdir/etc/systemd/system/$unit"
  chmod 0644 "$destdir/etc/systemd/system/$unit"
done

if [ -n "$destdir" ]; then
  # A package's maintainer scripts create the user, group and folders (see README, Deploying).
  echo "staged into $destdir; on the target: create the user feedcorpus and the group feedcorpus-readers, then"
  echo "  install -d -m 0755 /var/lib/feedcorpus; install -d -m 0700 -o feedcorpus -g feedcorpus /var/lib/feedcorpus/state"
  echo "  install -d -m 2750 -o feedcorpus -g feedcorpus-readers /var/lib/feedcorpus/corpus"
  exit 0
fi

# The service's user, and the group whose members (analysis tools) may read the corpus.
getent group feedcorpus-readers >/dev/null || groupadd --system feedcorpus-readers
getent passwd feedcorpus >/dev/null || useradd --system --user-group --home-dir /var/lib/feedcorpus \
    --shell /usr/sbin/nologin --comment "feedcorpus service" feedcorpus
# /var/lib/feedcorpus: 0755; state/: the service's alone; corpus/: readable by feedcorpus-readers
# (setgid, so day folders and story files get that group; the units' UMask=0027 makes them 0750/0640).
install -d -m 0755 /var/lib/feedcorpus
install -d -m 0700 -o feedcorpus -g feedcorpus /var/lib/feedcorpus/state
install -d -m 2750 -o feedcorpus -g feedcorpus-readers /var/lib/feedcorpus/corpus
if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
echo "installed $prefix/bin/feedcorpus (man page, completions), /etc/feedcorpus/feedcorpus.yaml and the units in /etc/systemd/system"
echo "next: add feeds to /etc/feedcorpus/feedcorpus.yaml (feedcorpus add URL finds a site's feed), check with"
echo "  feedcorpus check, then systemctl enable --now feedcorpus.service"
