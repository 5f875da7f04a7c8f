// Compares lightseek's ids with @lenml/tokenizers' ids for every corpus string and exits 1 on
// any difference, except where the JavaScript port is known to differ from the HF reference
// (which lightseek follows). The exceptions are narrow: a string is exempt only if it contains
// a character whose \s membership differs between JavaScript and Oniguruma (HF's regex engine):
//   U+0085 NEXT LINE: white space for Oniguruma/Unicode, not for JavaScript's \s
//     (tests/fixtures/tokenizer/deepseek-v3/README.md; the Rust ids for such strings are in
//     cases.jsonl and lightseek's unit tests check them);
//   U+FEFF ZERO WIDTH NO-BREAK SPACE: white space for JavaScript's \s, but not Unicode
//     White_Space, so not for Oniguruma's \s.
// Exempt strings are counted, and how many of them actually differ is reported.
// Usage: node compare.mjs CORPUS_JSONL LIGHTSEEK_IDS NPM_IDS [LABEL]
import fs from "node:fs";

const [corpusPath, lightseekPath, npmPath, label = "differential"] = process.argv.slice(2);
const readLines = (file) => fs.readFileSync(file, "utf8").split("\n").filter((line) => line !== "");
const corpus = readLines(corpusPath).map((line) => JSON.parse(line));
const lightseek = readLines(lightseekPath);
const npm = readLines(npmPath);
if (lightseek.length !== corpus.length || npm.length !== corpus.length) {
  console.error(`${label}: ${corpus.length} strings but ${lightseek.length} lightseek and ${npm.length} npm results`);
  process.exit(1);
}

const exemptions = [
  ["U+0085", "\u0085"],
  ["U+FEFF", "\ufeff"],
];
let matched = 0;
let exemptStrings = 0;
const mismatches = [];
const exempt = Object.fromEntries(exemptions.map(([name]) => [name, { strings: 0, differing: 0 }]));
for (let i = 0; i < corpus.length; ++i) {
  const same = lightseek[i] === npm[i];
  const reasons = exemptions.filter(([, character]) => corpus[i].includes(character)).map(([name]) => name);
  if (reasons.length > 0) {
    exemptStrings += 1;
    for (const reason of reasons) {
      exempt[reason].strings += 1;
      if (!same) exempt[reason].differing += 1;
    }
    continue;
  }
  if (same) matched += 1;
  else mismatches.push(i);
}

const compared = corpus.length - exemptStrings;
const exemptSummary = Object.entries(exempt)
  .map(([name, e]) => `${e.strings} with ${name} (${e.differing} of them differ)`)
  .join(", ");
console.log(`${label}: ${corpus.length} strings; ${matched} of ${compared} compared strings identical; exempt: ${exemptSummary}`);
for (const i of mismatches.slice(0, 10)) {
  console.log(`  MISMATCH line ${i + 1}: ${JSON.stringify(corpus[i])}\n    lightseek ${lightseek[i]}\n    npm       ${npm[i]}`);
}
if (mismatches.length > 0) {
  console.log(`${label}: FAILED, ${mismatches.length} strings differ`);
  process.exit(1);
}
