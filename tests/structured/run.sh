#!/usr/bin/env bash
# Structured output against an independent validator (Ajv, from tests/clients' npm packages):
# see validate.mjs. Exits 77 (CTest's SKIP_RETURN_CODE) when Ajv is not installed: run `npm ci`
# in tests/clients first (.ci/run does).
# Usage: tests/structured/run.sh LIGHTSEEK_BIN
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$here/../clients/node_modules/ajv" ]; then
  echo "SKIP: tests/clients/node_modules/ajv is missing (run: cd tests/clients && npm ci)"
  exit 77
fi
command -v node >/dev/null 2>&1 || { echo "node is not on PATH, but node_modules is installed"; exit 1; }
exec node "$here/validate.mjs" "$1"
