import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { planCli, type CliResult } from "../../tools/plan/cli";
import { serialized } from "./plans";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export type { CliResult };

const shipped = new Map<string, Promise<CliResult>>();

/**
 * `npm run plan -- <args>` in this process: the command's own function, the same output and
 * exit code as the process, without paying Node's and the SDK's start-up for every plan. Plans of
 * the shipped stacks (no `--config`) are made once per test file.
 */
export function runPlanCli(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<CliResult> {
  const run = () =>
    serialized(async () => {
      // Variables the plan reads while it runs, set for this run only.
      const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
      Object.assign(process.env, env);
      try {
        return await planCli(args);
      } finally {
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      }
    });
  if (args.includes("--config") || args.includes("--diff") || Object.keys(env).length > 0) {
    return run();
  }
  const key = JSON.stringify(args);
  let res = shipped.get(key);
  if (res === undefined) {
    res = run();
    shipped.set(key, res);
  }
  return res;
}

/**
 * `npm run plan -- <args>` as its own process, the way a user runs it: for what only a process
 * shows (exit status, output streams, environment variables, determinism across processes).
 */
export function runPlanProcess(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): CliResult {
  const res = spawnSync(
    process.execPath,
    ["--import", "tsx", path.join(REPO_ROOT, "tools", "plan.ts"), ...args],
    { cwd: REPO_ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env } },
  );
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

/** True when the text carries a JavaScript stack trace. */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+[(:]\d+/m.test(text) || /\bTypeError\b/.test(text);
}
