// Writes the differential test's corpus to stdout: one JSON string per line, the same strings
// on every run (a seeded generator, no clock, no locale). Only valid UTF-8, and only characters
// assigned by Unicode 14 or earlier, which every implementation compared here knows; lightseek
// rejects invalid UTF-8, which its unit tests cover.
// Usage: node generate_corpus.mjs [COUNT] > corpus.jsonl

const count = Number(process.argv[2] ?? 6000);

// mulberry32: small, fast and the same everywhere.
let state = 0x5eed1234;
function random() {
  state = (state + 0x6d2b79f5) | 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const below = (n) => Math.floor(random() * n);
const pick = (list) => list[below(list.length)];
const fromRange = (first, last) => String.fromCodePoint(first + below(last - first + 1));
const repeat = (n, make) => Array.from({ length: n }, make).join("");

const english = `the of and to in is was for on that with as by at from his her they we you it this
  which or be are not have has had but were an their been one all would there what so when who
  will more no if out up about into than them can only other new some time could these two may
  first then do any like my now over such our man me even most made after also did many before
  must through back years where much your way well down should because each just those people
  Mr how too little state good very make world still own see men work long get here between
  both life being under never day same another know while last might us great old year off
  come since against go came right used take three tokenizer DeepSeek attention transformer
  Hello World OpenAI JSON HTTP URL API GPU CPU naïve café résumé coöperate façade Zürich`.split(/\s+/);
const contractions = ["don't", "I'm", "they've", "we'll", "she'd", "it's", "can't", "won't", "y'all",
  "O'Neil", "DON'T", "I'M", "THEY'VE", "WE'LL", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "rock'n'roll"];
const codeSnippets = [
  "def f(x):\n    return x ** 2  # square\n",
  "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}\n",
  "const x = {a: 1, 'b': [2, 3], \"c\": null};",
  "#include <vector>\nstd::vector<int> v{1,2,3};",
  "if (a && b || !c) { return a->b.c[0]; }",
  "<div class=\"box\">&nbsp;<a href='https://example.com/path?q=1&r=2'>link</a></div>",
  "SELECT id, name FROM users WHERE age >= 18 ORDER BY name;",
  "let s = `template ${value}`; // comment",
  "x+=1;y-=2;z*=3;w/=4;v%=5;u**=6;t//=7",
  "    indented\n        more\n\t\ttabs\n",
  "fn main() -> Result<(), Box<dyn Error>> { Ok(()) }",
  "$ echo \"$HOME\" | grep -E '^/root' && ls -la ~/.config",
  "user@example.com, first.last+tag@sub.domain.org",
  "https://github.com/deepseek-ai/DeepSeek-V3/blob/main/README.md#L10-L20",
  "```python\nprint('hi')\n```",
  "{\"key\": \"value\", \"list\": [1, 2.5, -3e10, true, false, null]}",
];
const specialTokens = ["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜▁pad▁｜>", "<｜User｜>",
  "<｜Assistant｜>", "<|EOT|>", "<｜fim▁hole｜>", "<｜fim▁begin｜>", "<｜fim▁end｜>",
  "<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>", "<｜tool▁sep｜>", "<｜tool▁call▁end｜>",
  "<｜tool▁calls▁end｜>", "<｜tool▁outputs▁begin｜>", "<｜tool▁output▁begin｜>", "<｜tool▁output▁end｜>",
  "<｜tool▁outputs▁end｜>", "<｜place▁holder▁no▁7｜>", "<think>", "</think>",
  // Near misses, which must stay text.
  "<｜User", "｜User｜>", "<｜user｜>", "< ｜User｜>", "<|User|>", "<｜begin▁of▁sentence"];
const emoji = ["😀", "😂", "🤔", "👍", "👍🏽", "👋🏿", "❤️", "🔥", "🎉", "🚀", "🇯🇵", "🇺🇸", "🏳️‍🌈",
  "👨‍👩‍👧‍👦", "👩‍💻", "🧑🏾‍🚀", "👁️‍🗨️", "🤷‍♀️", "🐈‍⬛", "☕", "✅", "⚠️", "🦀", "🐍", "🧪", "🫠"];
const spaces = [" ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n", "\r\n\r\n", "\r", " \n", "\n ",
  "\u00a0", "\u3000", "\u2002", "\u2009", "\u200a", "\u202f", "\u205f", "\u1680", "\u2028", "\u2029",
  "\u000b", "\u000c", "\u200b", "\u180e"];
// White space on which JavaScript's \s and HF's (Oniguruma's) disagree; the comparison exempts
// strings holding them, so they go into a few strings only (see compare.mjs).
const disputedSpaces = ["\u0085", " \u0085", "\u0085\n", "\n\u0085 ", "\ufeff", " \ufeff", "\ufeff\n"];
const punctuation = [".", ",", "!", "?", "...", "?!", ":", ";", "-", "--", "—", "–", "(", ")", "[", "]",
  "{", "}", "\"", "'", "«", "»", "“", "”", "‘", "’", "、", "。", "，", "！", "？", "：", "「", "」",
  "€", "$", "£", "¥", "₹", "%", "&", "*", "#", "@", "^", "~", "`", "|", "\\", "/", "<", ">", "=", "+",
  "±", "×", "÷", "°", "§", "¶", "©", "®", "™", "…", "•", "→", "⇒", "∑", "∞", "√", "½", "¼"];

const scripts = {
  han: () => repeat(1 + below(12), () => fromRange(0x4e00, 0x9fa5)),
  rareHan: () => repeat(1 + below(3), () => fromRange(0x20000, 0x2a6d6)),  // CJK Extension B
  hiragana: () => repeat(1 + below(8), () => fromRange(0x3041, 0x3096)),
  katakana: () => repeat(1 + below(8), () => fromRange(0x30a1, 0x30fa)),
  hangul: () => repeat(1 + below(6), () => fromRange(0xac00, 0xd7a3)),
  thai: () => repeat(2 + below(10), () => (random() < 0.8 ? fromRange(0x0e01, 0x0e30) : fromRange(0x0e31, 0x0e3a))),
  arabic: () => repeat(2 + below(8), () => fromRange(0x0621, 0x064a) + (random() < 0.3 ? fromRange(0x064b, 0x0652) : "")),
  devanagari: () => repeat(2 + below(8), () => fromRange(0x0915, 0x0939) + (random() < 0.5 ? fromRange(0x093e, 0x094d) : "")),
  cyrillic: () => repeat(2 + below(10), () => fromRange(0x0430, 0x044f)),
  greek: () => repeat(2 + below(10), () => fromRange(0x03b1, 0x03c9)),
  hebrew: () => repeat(2 + below(8), () => fromRange(0x05d0, 0x05ea)),
  latinAccents: () => repeat(2 + below(8), () => fromRange(0x00c0, 0x00ff)),
  combining: () => repeat(1 + below(6), () => fromRange(0x61, 0x7a) + repeat(1 + below(3), () => fromRange(0x0300, 0x036f))),
  khmer: () => repeat(2 + below(6), () => fromRange(0x1780, 0x17b3)),
  math: () => repeat(1 + below(4), () => fromRange(0x1d400, 0x1d433)),  // mathematical bold letters
};

const digits = () => {
  const kind = below(6);
  if (kind === 0) return repeat(1 + below(20), () => fromRange(0x30, 0x39));
  if (kind === 1) return repeat(1 + below(8), () => fromRange(0x0660, 0x0669));  // Arabic-Indic
  if (kind === 2) return repeat(1 + below(8), () => fromRange(0xff10, 0xff19));  // fullwidth
  if (kind === 3) return repeat(1 + below(6), () => fromRange(0x0966, 0x096f));  // Devanagari
  if (kind === 4) return `${below(100000)}.${below(1000)}`;
  return ["½", "²", "Ⅻ", "①", "٣", "〇", "1,234,567", "3.14159", "-42", "1e-9", "0x1F"][below(11)];
};

const atoms = [
  [30, () => pick(english)],
  [6, () => pick(english).toUpperCase()],
  [6, () => pick(english).replace(/^./, (c) => c.toUpperCase())],
  [6, () => pick(contractions)],
  [14, () => pick(spaces)],
  [10, () => pick(punctuation) + (random() < 0.3 ? pick(punctuation) : "")],
  [8, digits],
  [5, () => pick(emoji)],
  [3, () => pick(specialTokens)],
  [3, () => pick(codeSnippets)],
  [16, () => scripts[pick(Object.keys(scripts))]()],
  [2, () => repeat(1 + below(40), () => pick([" ", "\t", "\n", "\r\n", "\u00a0", "\u3000"]))],
];
const totalWeight = atoms.reduce((sum, [weight]) => sum + weight, 0);
function atom() {
  let roll = below(totalWeight);
  for (const [weight, make] of atoms) {
    if (roll < weight) return make();
    roll -= weight;
  }
  throw new Error("unreachable");
}

function sentence() {
  const shape = below(10);
  if (shape === 0) return atom();  // a single piece, often just white space or one token
  const length = shape < 8 ? 2 + below(14) : 20 + below(80);
  let text = "";
  for (let i = 0; i < length; ++i) {
    text += atom();
    if (random() < 0.55) text += " ";
  }
  return text;
}

const lines = [];
for (let i = 0; i < count; ++i) {
  let text = sentence();
  if (i % 40 === 39) {
    const at = below(text.length + 1);
    const cut = /[\uDC00-\uDFFF]/.test(text[at] ?? "") ? at + 1 : at;  // never inside a surrogate pair
    text = text.slice(0, cut) + pick(disputedSpaces) + text.slice(cut);
  }
  lines.push(JSON.stringify(text));
}
process.stdout.write(lines.join("\n") + "\n");
