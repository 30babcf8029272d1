#!/usr/bin/env bash
# `npm start`: installs and starts what is missing, then runs the platform (scripts/platform.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-infra.sh
exec node --import tsx scripts/platform.ts "$@"
