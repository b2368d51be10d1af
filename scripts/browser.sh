#!/usr/bin/env bash
# Installs Debian's `chromium` for the tests that run in a real browser (test/helpers/browser.ts drives it
# with playwright-core, which never downloads a browser of its own). Idempotent and quiet when
# /usr/bin/chromium is there; prints the version either way. With the package's recommends, as on the
# machine the tests were written on: fonts-liberation among them, which the console screenshots are drawn
# with. Debian/Ubuntu, as root (.ci/run).
set -euo pipefail

if [ ! -x /usr/bin/chromium ]; then
  export DEBIAN_FRONTEND=noninteractive
  install=(apt-get -qq -y -o Dpkg::Use-Pty=0 install chromium)
  # The package lists of a fresh machine may be missing or stale: refresh them once if the install fails.
  "${install[@]}" >/dev/null 2>&1 || { apt-get -qq update && "${install[@]}" >/dev/null; }
fi
# The launcher sources /etc/chromium.d/*, whose dev-shm check prints a shell error on some machines
# ("[: …: unexpected operator"): keep only the version line.
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null | head -n 1)"
