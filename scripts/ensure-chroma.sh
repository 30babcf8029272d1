#!/usr/bin/env bash
# Makes sure a ChromaDB server listens on CHROMA_HOST:CHROMA_PORT (default 127.0.0.1:8000).
# Starts `chroma run` from the npm package's server binary (chromadb-js-bindings, pinned by
# the root package.json's overrides) when nothing listens there, detached, and waits for its
# heartbeat. Data lives in .data/chroma (under CI: a fresh temporary directory); the log goes
# to <data dir>/../chroma.log. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

host=${CHROMA_HOST:-127.0.0.1}
port=${CHROMA_PORT:-8000}
log() { printf '\033[36m[infra]\033[0m %s\n' "$*"; }
heartbeat() { node -e '
  fetch(process.argv[1], { signal: AbortSignal.timeout(1000) })
    .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));
' "http://$host:$port/api/v2/heartbeat"; }
port_open() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && exec 3>&- 3<&-; }

if port_open; then
  heartbeat && exit 0
  echo "chroma: something listens on $host:$port but does not answer Chroma's heartbeat" >&2
  exit 1
fi

if [ -n "${CI:-}" ]; then
  data=$(mktemp -d "${TMPDIR:-/tmp}/chroma-ci-XXXXXX")/data
else
  data=${CHROMA_DATA_DIR:-.data/chroma}
fi
mkdir -p "$data"
logfile="$(dirname "$data")/chroma.log"
cli=node_modules/chromadb/dist/cli.mjs
if [ ! -f "$cli" ]; then
  echo "chroma: $cli is missing (run npm ci)" >&2
  exit 1
fi

log "starting ChromaDB on $host:$port (data $data, log $logfile)"
setsid nohup node "$cli" run --path "$data" --host "$host" --port "$port" >"$logfile" 2>&1 </dev/null &
for _ in $(seq 1 150); do
  heartbeat && exit 0
  sleep 0.2
done
echo "chroma: no heartbeat from $host:$port after 30 s; see $logfile" >&2
tail -n 20 "$logfile" >&2 || true
exit 1
