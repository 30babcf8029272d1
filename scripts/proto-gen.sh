#!/usr/bin/env bash
# Regenerates libs/contracts/src/gen from proto/ with ts-proto, and the descriptor set the
# gateway and Envoy transcoder read. Offline: buf runs from the npm package.
set -euo pipefail
cd "$(dirname "$0")/../proto"
../node_modules/.bin/buf lint
rm -rf ../libs/contracts/src/gen
../node_modules/.bin/buf generate
../node_modules/.bin/buf build -o ../libs/contracts/descriptor.binpb
../node_modules/.bin/prettier --log-level warn --write ../libs/contracts/src/gen >/dev/null
