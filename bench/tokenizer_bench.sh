#!/usr/bin/env bash
# Tokenizer throughput, lightseek against the npm package @lenml/tokenizers (a JavaScript port
# of the HF tokenizers), on generated English prose, code and CJK text (MB each, default 3),
# with DeepSeek-V3's tokenizer.json. Both single-threaded, both encoding each text in one call,
# both timed by the wall clock.
# Usage: bench/tokenizer_bench.sh [MB]     (needs a release build: make release)
set -euo pipefail
cd "$(dirname "$0")/.."
megabytes=${1:-3}
bench=${LIGHTSEEK_BENCH:-build/release/bench/lightseek_bench}
tokenizer=tests/fixtures/tokenizer/deepseek-v3/tokenizer.json
texts=build/tokenizer-bench
differential=tests/differential

node bench/tokenizer_texts.mjs "$texts" "$megabytes"
LIGHTSEEK_TOKENIZER=$tokenizer LIGHTSEEK_TOKENIZER_TEXTS=$texts \
  "$bench" --benchmark_filter='^Tokenizer/' --benchmark_format=json --benchmark_out="$texts/lightseek.json" \
  --benchmark_out_format=json >/dev/null

if [ ! -d "$differential/node_modules/@lenml/tokenizers" ]; then
  (cd "$differential" && npm ci --no-audit --no-fund >/dev/null) ||
    echo "tokenizer bench: could not install @lenml/tokenizers; showing lightseek only"
fi
: > "$texts/npm.jsonl"
if [ -d "$differential/node_modules/@lenml/tokenizers" ]; then
  node "$differential/bench_npm.mjs" "$tokenizer" "$texts" > "$texts/npm.jsonl"
fi

node - "$texts/lightseek.json" "$texts/npm.jsonl" <<'JS'
const fs = require("fs");
const [lightseekFile, npmFile] = process.argv.slice(2);
const ours = Object.fromEntries(JSON.parse(fs.readFileSync(lightseekFile, "utf8")).benchmarks
  .map((b) => [b.name.split("/")[2], b]));
const theirs = Object.fromEntries(fs.readFileSync(npmFile, "utf8").split("\n").filter(Boolean)
  .map((line) => JSON.parse(line)).map((r) => [r.name, r]));
const pad = (value, width) => String(value).padStart(width);
console.log(`${"text".padEnd(6)} ${pad("MB", 6)} ${pad("lightseek MB/s", 15)} ${pad("npm MB/s", 10)} ${pad("speed-up", 9)} ${pad("tokens (lightseek / npm)", 26)}`);
for (const name of ["prose", "code", "cjk"]) {
  const a = ours[name];
  if (!a) continue;
  const b = theirs[name];
  const ourRate = a.bytes_per_second / 1e6;
  const tokens = b ? `${a.tokens} / ${b.tokens}` : `${a.tokens}`;
  console.log(`${name.padEnd(6)} ${pad((a.bytes / 1e6).toFixed(2), 6)} ${pad(ourRate.toFixed(1), 15)} ` +
              `${pad(b ? b.mb_per_s.toFixed(1) : "-", 10)} ${pad(b ? (ourRate / b.mb_per_s).toFixed(1) + "x" : "-", 9)} ${pad(tokens, 26)}`);
}
JS
