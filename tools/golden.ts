/**
 * `npm run golden`: writes the `--json` plan of every shipped stack to test/golden/<stack>.json.
 * The test suite compares each plan with its file, so any change to what a stack plans shows up
 * as a diff of these files in review; run this after a change that means to alter a plan.
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { planCli } from "./plan/cli";
import { REPO_ROOT, knownStacks } from "./plan/run";

async function main(): Promise<void> {
  for (const stack of knownStacks()) {
    const res = await planCli([stack, "--json"]);
    if (res.code !== 0) throw new Error(`${stack}: the plan exited ${res.code}\n${res.stderr}`);
    const file = path.join(REPO_ROOT, "test", "golden", `${stack}.json`);
    writeFileSync(file, res.stdout);
    process.stdout.write(`wrote ${path.relative(REPO_ROOT, file)}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
