// The npm side of bench/tokenizer_bench.sh: encode throughput of @lenml/tokenizers on the same
// texts, one encode call per text as lightseek's Google Benchmark case does, after one warm-up
// call (both implementations keep a BPE word cache). Prints one JSON object per text.
// Usage: node bench_npm.mjs TOKENIZER_JSON TEXT_DIR
import fs from "node:fs";
import path from "node:path";
import { loadTokenizer } from "./encode.mjs";

const [tokenizerPath, textDir] = process.argv.slice(2);
const tokenizer = loadTokenizer(tokenizerPath);
const minSeconds = 2.0;
for (const name of ["prose", "code", "cjk"]) {
  const file = path.join(textDir, `${name}.txt`);
  if (!fs.existsSync(file)) continue;
  const text = fs.readFileSync(file, "utf8");
  const bytes = Buffer.byteLength(text);
  let tokens = tokenizer.encode(text, { add_special_tokens: false }).length;
  let runs = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < minSeconds || runs < 1) {
    tokens = tokenizer.encode(text, { add_special_tokens: false }).length;
    ++runs;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  console.log(JSON.stringify({ name, bytes, tokens, runs, seconds_per_run: elapsed / runs, mb_per_s: (bytes * runs) / elapsed / 1e6 }));
}
