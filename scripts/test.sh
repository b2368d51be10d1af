#!/usr/bin/env bash
# `npm test`: build (the e2e suites drive the built binary), then every suite: unit, integration (SQLite,
# MariaDB, PostgreSQL, Redis for real), e2e and the reliability scenarios at reduced scale (`npm run
# test:reliability` runs them in full). Under CI=true an unreachable service fails the run;
# elsewhere its tests are reported pending with the reason. `npm test -- test/unit` runs a part.
#
# Two test files run at once, in two mocha worker processes (--parallel --jobs 2): most of the suite waits
# on child processes, servers and databases, so the 2 cores CI has do twice the work in the same time. Each
# file already makes its own databases, workspaces, ports and private servers; on the shared Redis each
# worker takes a numbered database of its own (test/helpers/services.ts). A worker reports a file once it
# has finished, so the output comes file by file.
set -euo pipefail
cd "$(dirname "$0")/.."
export OCLIF_SKIP_NEW_VERSION_CHECK=true
npm run --silent build >/dev/null
if [ $# -eq 0 ]; then set -- 'test/unit/**/*.test.ts' 'test/integration/**/*.test.ts' 'test/e2e/**/*.test.ts' 'test/reliability/**/*.test.ts'; fi
npx mocha --parallel --jobs 2 --recursive "$@"
