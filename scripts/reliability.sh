#!/usr/bin/env bash
# `npm run test:reliability [-- FILE…]`: the reliability suite (test/reliability) at full scale. Each
# scenario starts its own servers, private Redis/MariaDB/PostgreSQL instances and proxies, records its
# figure (test/helpers/scorecard.ts) and asserts its target. The records then become
# bench/results/reliability.json and the table of docs/reliability.md (bench/reliability-table.mjs); a run
# of some files replaces only their rows. The exit code is mocha's: 0 when every target is met.
set -uo pipefail
cd "$(dirname "$0")/.."
export OCLIF_SKIP_NEW_VERSION_CHECK=true GANTRY_RELIABILITY=full
npm run --silent build >/dev/null || exit 1
GANTRY_SCORECARD="$(mktemp -t gantry-scorecard-XXXXXX.jsonl)"
export GANTRY_SCORECARD
started=$(date +%s)
part=(--part)
if [ $# -eq 0 ]; then set -- 'test/reliability/**/*.test.ts'; part=(); fi
npx mocha --timeout 600000 "$@"
rc=$?
node bench/reliability-table.mjs "$GANTRY_SCORECARD" --seconds "$(( $(date +%s) - started ))" --exit-code "$rc" "${part[@]}" || rc=1
rm -f "$GANTRY_SCORECARD"
exit "$rc"
