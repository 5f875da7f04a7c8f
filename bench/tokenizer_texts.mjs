// Writes the tokenizer benchmark's three texts, the same bytes on every run (seeded generator):
// English prose, source code and CJK text (Chinese with some Japanese), about MB megabytes each.
// Usage: node bench/tokenizer_texts.mjs OUT_DIR [MB]
import fs from "node:fs";
import path from "node:path";

const [outDir, megabytes = "3"] = process.argv.slice(2);
if (!outDir) {
  console.error("usage: node tokenizer_texts.mjs OUT_DIR [MB]");
  process.exit(2);
}
const targetBytes = Number(megabytes) * 1_000_000;

let state = 0x7e57da7a;
function random() {
  state = (state + 0x6d2b79f5) | 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const below = (n) => Math.floor(random() * n);
const pick = (list) => list[below(list.length)];

function generate(makeParagraph) {
  const parts = [];
  let bytes = 0;
  while (bytes < targetBytes) {
    const paragraph = makeParagraph();
    parts.push(paragraph);
    bytes += Buffer.byteLength(paragraph);
  }
  return parts.join("");
}

const words = `the of and to in is was for on that with as by at from his her they we you it this which or
  be are not have has had but were an their been one all would there what so when who will more no if out up
  about into than them can only other new some time could these two may first then do any like my now over
  such our man me even most made after also did many before must through back years where much your way well
  down should because each just those people how too little state good very make world still own see men work
  long get here between both life being under never day same another know while last might us great old year
  off come since against go came right used take three house small found thought went say part once general
  high upon school every does got united left number course war until always away something fact though water
  less public put think almost hand enough far took head yet government system better set told nothing night
  end why called didn't eyes find going look asked later knew point next program city business give group
  toward young days let room president side social given present several order national second possible rather
  per face among form important often things looked early white case John become large big need four within
  felt children along saw best church ever least power development light thing seemed family interest want
  members mind country area others done turned although open God service problem certain kind different
  thus began door help means sense whole matter perhaps itself York times law human line above name example
  action company hands local show whether five history gave today either act feet across taken past quite
  anything seen having death week experience body word half really field am car words already themselves I'm
  information tell together college shall money period held keep sure probably free seems political real`.split(/\s+/);

function prose() {
  const sentences = 3 + below(6);
  let text = "";
  for (let s = 0; s < sentences; ++s) {
    const length = 6 + below(18);
    const sentence = [];
    for (let w = 0; w < length; ++w) {
      let word = pick(words);
      if (w === 0) word = word[0].toUpperCase() + word.slice(1);
      if (w > 2 && w < length - 1 && random() < 0.08) word += ",";
      if (random() < 0.02) word = `${below(2000)}`;
      sentence.push(word);
    }
    text += sentence.join(" ") + pick([".", ".", ".", "?", "!", ";"]) + " ";
  }
  return text.trimEnd() + "\n\n";
}

const identifiers = ["value", "index", "count", "buffer", "result", "tokens", "config", "layer", "weight",
  "offset", "length", "size", "data", "node", "cache", "item", "key", "state", "scale", "input", "output"];
const types = ["int", "size_t", "float", "double", "std::string", "std::vector<int32_t>", "auto", "bool"];
function code() {
  const a = pick(identifiers), b = pick(identifiers), c = pick(identifiers);
  const templates = [
    () => `def ${a}_${b}(${c}, ${b}=None):\n    """Return the ${a} of ${c}."""\n    if ${b} is None:\n        ${b} = []\n    for i, x in enumerate(${c}):\n        ${b}.append(x * ${below(100)})\n    return ${b}\n\n`,
    () => `${pick(types)} ${a}_${b}(const ${pick(types)}& ${c}) {\n  // ${pick(words)} ${pick(words)} ${pick(words)}\n  for (size_t i = 0; i < ${c}.size(); ++i) {\n    if (${c}[i] > ${below(1000)}) return ${c}[i] + ${a};\n  }\n  return ${below(10)};\n}\n\n`,
    () => `const ${a} = await fetch(\`/api/${b}/\${${c}.id}?limit=${below(500)}\`);\nif (!${a}.ok) throw new Error("${pick(words)} ${pick(words)}: " + ${a}.status);\nconst { ${b}, ${c} } = await ${a}.json();\n\n`,
    () => `struct ${a[0].toUpperCase() + a.slice(1)} {\n  ${pick(types)} ${b} = ${below(64)};\n  ${pick(types)} ${c};\n};\n\n`,
    () => `    ${a}[${below(16)}] = (${b} << ${below(8)}) | (${c} & 0x${below(65536).toString(16)});\n`,
    () => `<div class="${a}-${b}"><span id="${c}">${pick(words)} ${pick(words)}</span></div>\n`,
  ];
  return pick(templates)();
}

// Common Chinese characters, Chinese punctuation, and Japanese kana.
const han = `的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天
  而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把
  法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平
  真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路
  期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色
  字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七
  必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找
  友孩站广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坐集编宝谈府拉黑且随格尽剑
  讲布杀微怕母调局根曾准团段终乐切级克精哪官示冷域读`.replace(/\s+/g, "");
const punctuationZh = ["，", "，", "，", "。", "。", "、", "；", "：", "？", "！", "“", "”", "（", "）", "《", "》"];
const kana = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんがぎぐげござじずぜぞだでどばびぶべぼアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモラリルレロン";
function cjk() {
  let text = "";
  const japanese = random() < 0.2;
  const clauses = 4 + below(10);
  for (let i = 0; i < clauses; ++i) {
    const length = 4 + below(14);
    for (let j = 0; j < length; ++j) text += japanese && random() < 0.45 ? pick(kana) : pick(han);
    if (random() < 0.05) text += `${below(3000)}年`;
    text += pick(punctuationZh);
  }
  return text + "\n";
}

fs.mkdirSync(outDir, { recursive: true });
for (const [name, make] of [["prose", prose], ["code", code], ["cjk", cjk]]) {
  fs.writeFileSync(path.join(outDir, `${name}.txt`), generate(make));
}
