// Encodes every line of a corpus (one JSON string per line) with @lenml/tokenizers and prints
// one JSON array of ids per line, the format of `lightseek tokenize --jsonl`.
// Usage: node encode.mjs TOKENIZER_JSON CORPUS_JSONL > ids.jsonl
// tokenizer_config.json beside TOKENIZER_JSON is used when present (it picks the JS class).
import fs from "node:fs";
import path from "node:path";
import { TokenizerLoader } from "@lenml/tokenizers";

export function loadTokenizer(tokenizerPath) {
  const configPath = path.join(path.dirname(tokenizerPath), "tokenizer_config.json");
  const tokenizerConfig = fs.existsSync(configPath) ? JSON.parse(fs.readFileSync(configPath, "utf8")) : {};
  const tokenizerJSON = JSON.parse(fs.readFileSync(tokenizerPath, "utf8"));
  return TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });
}

// Run as a script (not when imported by the benchmark).
if (import.meta.url === `file://${process.argv[1]}`) {
  const [tokenizerPath, corpusPath] = process.argv.slice(2);
  if (!tokenizerPath || !corpusPath) {
    console.error("usage: node encode.mjs TOKENIZER_JSON CORPUS_JSONL");
    process.exit(2);
  }
  const tokenizer = loadTokenizer(tokenizerPath);
  const out = [];
  for (const line of fs.readFileSync(corpusPath, "utf8").split("\n")) {
    if (line === "") continue;
    out.push(JSON.stringify(tokenizer.encode(JSON.parse(line), { add_special_tokens: false })));
  }
  process.stdout.write(out.join("\n") + (out.length ? "\n" : ""));
}
