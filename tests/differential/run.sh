#!/usr/bin/env bash
# Differential test: lightseek's tokenizer against @lenml/tokenizers, an independent JavaScript
# port of the HF tokenizers, on a generated corpus of several thousand strings, for DeepSeek-V3's
# tokenizer.json and for a variant whose pre-tokenizer is ByteLevel with GPT-2's regex.
# Exits 77 (CTest's SKIP_RETURN_CODE) only when the npm package is not installed: run `npm ci`
# in tests/differential first (.ci/run does).
# Usage: tests/differential/run.sh LIGHTSEEK_BIN TOKENIZER_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lightseek=$1
tokenizer_dir=$2

if [ ! -d "$here/node_modules/@lenml/tokenizers" ]; then
  echo "SKIP: tests/differential/node_modules is missing (run: cd tests/differential && npm ci)"
  exit 77
fi
command -v node >/dev/null 2>&1 || { echo "node is not on PATH, but node_modules is installed"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
node "$here/generate_corpus.mjs" 6000 > "$work/corpus.jsonl"

compare_variant() {
  local label=$1 tokenizer=$2
  "$lightseek" tokenize --jsonl --tokenizer "$tokenizer" < "$work/corpus.jsonl" > "$work/$label.lightseek"
  node "$here/encode.mjs" "$tokenizer" "$work/corpus.jsonl" > "$work/$label.npm"
  node "$here/compare.mjs" "$work/corpus.jsonl" "$work/$label.lightseek" "$work/$label.npm" "$label"
}

compare_variant deepseek-v3 "$tokenizer_dir/tokenizer.json"

# The same vocabulary behind the ByteLevel pre-tokenizer's own GPT-2 split (use_regex true).
mkdir -p "$work/gpt2-split"
node -e '
  const fs = require("fs");
  const [source, target] = process.argv.slice(1);
  const tokenizer = JSON.parse(fs.readFileSync(source, "utf8"));
  tokenizer.pre_tokenizer = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  fs.writeFileSync(target, JSON.stringify(tokenizer));
' "$tokenizer_dir/tokenizer.json" "$work/gpt2-split/tokenizer.json"
cp "$tokenizer_dir/tokenizer_config.json" "$work/gpt2-split/"
compare_variant gpt2-split "$work/gpt2-split/tokenizer.json"
