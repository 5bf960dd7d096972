/**
 * Writes the generated documentation: docs/stack.schema.json (editor schema of stack files) and
 * docs/config-reference.md. `--check` only compares and exits 1 when a file is out of date.
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { renderConfigReference, stackFileJsonSchema } from "./docs";

const root = path.resolve(__dirname, "..");
const files: Record<string, string> = {
  "docs/stack.schema.json": `${JSON.stringify(stackFileJsonSchema(), null, 2)}\n`,
  "docs/config-reference.md": renderConfigReference(),
};

const check = process.argv.includes("--check");
let stale = 0;
for (const [file, text] of Object.entries(files)) {
  const target = path.join(root, file);
  let current: string;
  try {
    current = readFileSync(target, "utf8");
  } catch {
    current = "";
  }
  if (current === text) continue;
  if (check) {
    process.stderr.write(`${file} is out of date: run npm run docs\n`);
    stale++;
  } else {
    writeFileSync(target, text);
    process.stdout.write(`wrote ${file}\n`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
