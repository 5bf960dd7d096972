import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { parseStackConfig, type StackConfig } from "../../components/config";
import { readStackFile } from "../../tools/plan/run";
import { REPO_ROOT, runPlanCli, type CliResult } from "./cli";

/** The path of a shipped stack file. */
export const stackFile = (name: string): string =>
  path.join(REPO_ROOT, "stacks", `Pulumi.${name}.yaml`);

/** A shipped stack, read exactly as the plan and the Pulumi CLI hand it to the program. */
export function shippedStack(name: string): StackConfig {
  return parseStackConfig(shippedStackRaw(name));
}

/** The raw config object of a shipped stack (keys without the namespace), before validation. */
export function shippedStackRaw(name: string): Record<string, unknown> {
  const { config } = readStackFile(stackFile(name));
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const short = key.replace(/^homebrew-dev:/, "");
    raw[short] = value.startsWith("{") || value.startsWith("[") ? JSON.parse(value) : value;
  }
  return raw;
}

const editDir = mkdtempSync(path.join(tmpdir(), "edited-"));
let edits = 0;

/**
 * Runs the plan CLI on a shipped stack whose file `edit` changed (comments and layout kept),
 * with `args` after `--config`.
 */
export function planEditedStack(
  stack: string,
  edit: (doc: YAML.Document) => void,
  args: readonly string[] = [],
): Promise<CliResult> {
  const doc = YAML.parseDocument(readFileSync(stackFile(stack), "utf8"));
  edit(doc);
  const file = path.join(editDir, `${stack}-${edits++}.yaml`);
  writeFileSync(file, doc.toString());
  return runPlanCli([stack, "--config", file, ...args]);
}
