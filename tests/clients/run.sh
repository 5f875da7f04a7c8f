#!/usr/bin/env bash
# `lightseek serve --scripted` against the official JavaScript clients (openai, @anthropic-ai/sdk,
# ollama; package-lock.json pins them): each request gets the next scripted completion, so
# reasoning, content and tool calls are asserted exactly as the clients parse them.
# Exits 77 (CTest's SKIP_RETURN_CODE) only when the npm packages are not installed: run `npm ci`
# in tests/clients first (.ci/run does).
# With "model" as second argument it serves the built-in model instead (real sampling) and runs
# structured.test.mjs: the openai client's structured-output calls against constrained decoding.
# Usage: tests/clients/run.sh LIGHTSEEK_BIN [model]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lightseek=$1
mode=${2:-scripted}

for package in openai @anthropic-ai/sdk ollama ajv; do
  if [ ! -d "$here/node_modules/$package" ]; then
    echo "SKIP: tests/clients/node_modules/$package is missing (run: cd tests/clients && npm ci)"
    exit 77
  fi
done
command -v node >/dev/null 2>&1 || { echo "node is not on PATH, but node_modules is installed"; exit 1; }

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

api_key="clients-test-key"
if [ "$mode" = model ]; then
  tests="$here/structured.test.mjs"
  "$lightseek" serve --port 0 --api-key "$api_key" --parallel 2 --threads 1 2> "$work/server.log" &
else
  tests="$here/clients.test.mjs"
  # The scripted completions, in the order clients.test.mjs sends its generating requests.
  node "$here/completions.mjs" > "$work/script.jsonl"
  "$lightseek" serve --scripted "$work/script.jsonl" --port 0 --api-key "$api_key" 2> "$work/server.log" &
fi
server_pid=$!

# The server reports its port on stderr: "lightseek serve: model '…' on http://127.0.0.1:PORT (…".
port=
for _ in $(seq 1 600); do
  port=$(sed -n 's|.* on http://[^:]*:\([0-9][0-9]*\) .*|\1|p' "$work/server.log" | head -n 1)
  if [ -n "$port" ] && node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' \
      "http://127.0.0.1:$port/health"; then break; fi
  port=
  kill -0 "$server_pid" 2>/dev/null || { echo "server exited early:"; cat "$work/server.log"; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "server did not become healthy:"; cat "$work/server.log"; exit 1; }

status=0
LIGHTSEEK_URL="http://127.0.0.1:$port" LIGHTSEEK_API_KEY="$api_key" \
  node --test --test-concurrency=1 "$tests" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- server log ---"
  cat "$work/server.log"
fi
exit "$status"
