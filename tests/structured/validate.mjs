// Structured output checked by an independent validator: for every schema in schemas/ and
// several seeds, `lightseek run --json-schema` on the built-in model (random weights, so its
// choices are arbitrary) must answer with JSON that Ajv validates against the schema.
// `--json` is left out: with random weights its free strings and keys can outrun any token
// budget (the unit tests cover any-object mode).
// Usage: node validate.mjs LIGHTSEEK_BIN
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), "..", "clients", "package.json"));
const Ajv2020 = require("ajv/dist/2020").default;

const lightseek = process.argv[2];
const here = dirname(fileURLToPath(import.meta.url));
const seeds = [1, 2];
const parallel = 2;

function run(args) {
  return new Promise((resolve) => {
    const child = spawn(lightseek, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const jobs = [];
const schemaDir = join(here, "schemas");
for (const file of readdirSync(schemaDir).filter((name) => name.endsWith(".json")).sort()) {
  const schema = JSON.parse(readFileSync(join(schemaDir, file), "utf8"));
  const validate = new Ajv2020({ strict: false }).compile(schema);
  for (const seed of seeds) {
    jobs.push({ name: `${file} seed ${seed}`, args: ["--json-schema", join(schemaDir, file)], seed, validate });
  }
}
let failures = 0;
async function check(job) {
  const result = await run(["run", "-p", "Answer in JSON.", "--seed", String(job.seed), "-n", "300", "--threads", "1", ...job.args]);
  const text = result.stdout.trim();
  let problem = null;
  if (result.code !== 0) problem = `exit code ${result.code}: ${result.stderr}`;
  else if (!result.stderr.includes("stop: stop token")) problem = `did not finish the document: ${result.stderr.trim().split("\n").pop()}`;
  else {
    try {
      const value = JSON.parse(text);
      if (!job.validate(value)) problem = `does not validate: ${JSON.stringify(job.validate.errors)}`;
    } catch (error) {
      problem = `not JSON: ${error.message}`;
    }
  }
  if (problem) {
    failures++;
    console.log(`FAIL ${job.name}: ${problem}\n  output: ${text}`);
  } else {
    console.log(`ok   ${job.name}: ${text}`);
  }
}

const queue = [...jobs];
await Promise.all(Array.from({ length: parallel }, async () => {
  while (queue.length) await check(queue.shift());
}));
console.log(`${jobs.length - failures}/${jobs.length} answers valid`);
process.exit(failures ? 1 : 0);
