#!/usr/bin/env bash
# Puts Prometheus's promtool (the rule unit tester) into the cache folder the alert-rule tests look
# in, from the distribution's prometheus package, unpacked without installing it (no root, no
# service started). Prints promtool's path. Usage: tools/promtool.sh
set -euo pipefail
dir="${XDG_CACHE_HOME:-$HOME/.cache}/homebrew-dev/promtool"
bin="$dir/usr/bin/promtool"
if [ ! -x "$bin" ]; then
  command -v apt-get >/dev/null || { echo "promtool: apt-get is needed (or put promtool on PATH)" >&2; exit 1; }
  sudo=""
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then sudo="sudo"; fi
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && { apt-get download prometheus >/dev/null 2>&1 || { $sudo apt-get update >/dev/null && apt-get download prometheus >/dev/null; }; })
  mkdir -p "$dir"
  dpkg-deb -x "$work"/prometheus_*.deb "$dir"
fi
"$bin" --version >/dev/null
echo "$bin"
