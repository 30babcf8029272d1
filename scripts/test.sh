#!/usr/bin/env bash
# The one test command (README, CI): infrastructure, contract and Envoy config drift, lint, typecheck, and every
# Jest suite against the real PostgreSQL and NATS. Ends with "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false
bash scripts/ensure-infra.sh
if [ ! -d ../shared/data ]; then
  echo "test: ../shared/data is missing; the engine tests read the shared logs in place" >&2
  exit 1
fi
npm run --silent proto:check
npm run --silent check:envoy
npm run --silent lint
npm run --silent build
report=$(mktemp)
status=0
npx jest --ci --maxWorkers=2 --json --outputFile="$report" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
  if (r.numTotalTests === 0) process.exitCode = 1;
' "$report" || status=1
rm -f "$report"
exit $status
