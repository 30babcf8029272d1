#!/usr/bin/env bash
# Fails when the committed generated contracts differ from a fresh regeneration.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/proto-gen.sh
if ! git diff --quiet --exit-code -- libs/contracts || [ -n "$(git ls-files --others --exclude-standard libs/contracts)" ]; then
  echo "proto:check: libs/contracts is out of date with proto/; run 'npm run proto:gen' and commit." >&2
  git status --short -- libs/contracts >&2
  exit 1
fi
echo "proto:check: generated contracts match proto/"
