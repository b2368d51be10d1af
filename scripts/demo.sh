#!/usr/bin/env bash
# `npm run demo`: the main job on the embedded default (SQLite file, in-memory rate limits): build,
# scaffold a demo workspace, migrate its database, show `env check` and `migrate status`, create the first
# admin headless with a generated password (printed this once), then run the server in the foreground
# (Ctrl-C drains and stops it). GANTRY_DEMO_SERVE=0 stops before the server; PORT picks its port.
set -euo pipefail
cd "$(dirname "$0")/.."
export OCLIF_SKIP_NEW_VERSION_CHECK=true
npm run --silent build >/dev/null
gantry="node $PWD/bin/run.js"
demo="${GANTRY_DEMO_DIR:-$PWD/.gantry/demo}"
port="${PORT:-3000}"
rm -rf "$demo"
mkdir -p "$demo"
cd "$demo"
set -x
$gantry init --yes --name demo
$gantry migrate make create_widgets
$gantry migrate latest
$gantry env check
$gantry migrate status
$gantry users create --email admin@example.com --name Admin --role admin --generate-password
$gantry users list
$gantry audit list
{ set +x; } 2>/dev/null
[ "${GANTRY_DEMO_SERVE:-1}" = "0" ] && exit 0
cat <<HELP

The server starts below on http://127.0.0.1:$port (JSON log lines follow). In another terminal:
  curl -s http://127.0.0.1:$port/api/health
  curl -s http://127.0.0.1:$port/api/health/ready
  curl -s -X POST http://127.0.0.1:$port/api/v1/auth/login -H 'Content-Type: application/json' \\
       -d '{"email":"admin@example.com","password":"<the generated password above>"}'
  curl -s http://127.0.0.1:$port/api/v1/admin/users -H "Authorization: Bearer <accessToken from the login>"
Ctrl-C stops it (drain, then exit 0).

HELP
exec $gantry serve --port "$port"
