#!/usr/bin/env bash
# `npm test`: build (the e2e suites drive the built binary), then every suite: unit, integration (SQLite,
# MariaDB, PostgreSQL, Redis for real), e2e and the reliability scenarios at reduced scale (`npm run
# test:reliability` runs them in full). Under CI=true an unreachable service fails the run;
# elsewhere its tests are reported pending with the reason. `npm test -- test/unit` runs a part.
set -euo pipefail
cd "$(dirname "$0")/.."
export OCLIF_SKIP_NEW_VERSION_CHECK=true
npm run --silent build >/dev/null
if [ $# -eq 0 ]; then set -- 'test/unit/**/*.test.ts' 'test/integration/**/*.test.ts' 'test/e2e/**/*.test.ts' 'test/reliability/**/*.test.ts'; fi
npx mocha --recursive "$@"
