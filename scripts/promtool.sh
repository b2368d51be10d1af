#!/usr/bin/env bash
# Puts Prometheus's promtool on PATH (/usr/local/bin) for test/integration/server/promtool.test.ts, which
# runs `promtool check metrics` on a scrape. Idempotent: nothing to do when promtool is there. Debian ships
# promtool only inside the `prometheus` package (the server, its web assets and 11 JavaScript packages:
# ~330 MB installed, a service to keep from starting); this takes the one binary from that package instead:
# a 19 MB download, 48 MB on disk, a few seconds. Debian/Ubuntu, as root (.ci/run).
set -euo pipefail

command -v promtool >/dev/null 2>&1 && exit 0
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
# The package lists of a fresh machine may be missing or stale: refresh them once if the download fails.
apt-get -qq -o APT::Sandbox::User=root download prometheus >/dev/null 2>&1 ||
  { apt-get -qq update && apt-get -qq -o APT::Sandbox::User=root download prometheus >/dev/null; }
dpkg-deb --fsys-tarfile prometheus_*.deb | tar -x ./usr/bin/promtool
install -m 0755 usr/bin/promtool /usr/local/bin/promtool
echo "promtool: $(promtool --version 2>&1 | head -n 1)"
