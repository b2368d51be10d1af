#!/usr/bin/env bash
# `npm run demo`: the main job on the embedded default (SQLite file, in-memory rate limits): build,
# scaffold a demo workspace, migrate its database, show `env check` and `migrate status`, then create
# the first admin headless and list the users and the audit log.
set -euo pipefail
cd "$(dirname "$0")/.."
export OCLIF_SKIP_NEW_VERSION_CHECK=true
npm run --silent build >/dev/null
gantry="node $PWD/bin/run.js"
demo="${GANTRY_DEMO_DIR:-$PWD/.gantry/demo}"
rm -rf "$demo"
mkdir -p "$demo"
cd "$demo"
set -x
$gantry init --yes --name demo
$gantry migrate make create_widgets
$gantry migrate latest
$gantry env check
$gantry migrate status
printf '%s' 'correct-horse-battery-staple' | $gantry users create --email admin@example.com --name Admin --role admin --password-stdin
$gantry users list
$gantry audit list
