import { spawnSync } from "node:child_process";
import * as path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `npm run plan -- <args>` the way a user does, without npm's own output. */
export function runPlanCli(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): CliResult {
  const res = spawnSync(
    process.execPath,
    ["--import", "tsx", path.join(REPO_ROOT, "tools", "plan.ts"), ...args],
    { cwd: REPO_ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env } },
  );
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** True when the text carries a JavaScript stack trace. */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+[(:]\d+/m.test(text) || /\bTypeError\b/.test(text);
}
