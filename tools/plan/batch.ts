/**
 * Evaluates many stack files in one process: what the config fuzz tests and the benchmarks need
 * (a process per plan would measure Node's start-up, not the plan). Each evaluation loads the
 * program afresh; the SDK's runtime state is reset by the mock runtime on every run.
 *
 *   tsx tools/plan/batch.ts FILE...     prints one JSON line per file:
 *   {"file": ..., "code": 0 | 1 | "crash", "resources": n, "message": ...}
 */
import { buildPlan, renderJson } from "./render";
import { PlanInputError, evaluate } from "./run";

export type BatchResult =
  | { file: string; code: 0; resources: number; json: string }
  | { file: string; code: 1; message: string }
  | { file: string; code: "crash"; message: string };

/** Plans one stack file in this process. */
export async function planFile(file: string, stack = "batch"): Promise<BatchResult> {
  try {
    const ev = await evaluate({ stack, configFile: file });
    const plan = buildPlan(ev, { showSecrets: false });
    return { file, code: 0, resources: plan.summary.resources, json: renderJson(plan) };
  } catch (err) {
    if (err instanceof PlanInputError) return { file, code: 1, message: err.message };
    return {
      file,
      code: "crash",
      message: err instanceof Error ? (err.stack ?? err.message) : String(err),
    };
  }
}

async function main(files: string[]): Promise<void> {
  for (const file of files) {
    const res = await planFile(file);
    const { json: _json, ...line } = res as BatchResult & { json?: string };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`internal error: ${String(err)}\n`);
    process.exitCode = 1;
  });
}
