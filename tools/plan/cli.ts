/**
 * The plan command as a function: arguments in, exit code and output out. `tools/plan.ts` runs
 * it as the `npm run plan` process; tests call it in-process (a process per plan would measure
 * Node's start-up, not the plan).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { diffPlans, normalizePlan } from "./diff";
import { renderMarkdown } from "./markdown";
import { checkPlan } from "./policies";
import { buildPlan, isClusterCheck, renderJson, renderText, type Plan } from "./render";
import { PlanInputError, evaluate, knownStacks } from "./run";

export const USAGE = `usage: npm run plan -- <stack> [--config FILE] [--json] [--show-secrets]
       npm run plan -- <stack> --diff BASE.json [--markdown]

  <stack>          a stack name; its config is stacks/Pulumi.<stack>.yaml (${knownStacks().join(", ")})
  --config FILE    use this stack config file instead
  --json           print the plan as JSON on stdout
  --show-secrets   print secret values instead of "[secret]"
  --diff BASE.json compare with an earlier plan (the --json output of the base branch)
  --markdown       print the comparison as a pull-request comment (with --diff)

exit codes: 0 the plan is made; 1 invalid input, or the stack would not come up (every finding
on stderr); 2 blocked: a mandatory policy, or a change \`pulumi up\` would refuse or lose data by
`;

/** The flags the command knows, for suggestions. */
const FLAGS = ["config", "json", "show-secrets", "diff", "markdown", "help"];

/**
 * A path the user typed, from the directory they typed it in: `npm run` starts the command in the
 * project root and keeps the caller's directory in `INIT_CWD`.
 */
export function fromCwd(file: string): string {
  return path.resolve(process.env["INIT_CWD"] ?? process.cwd(), file);
}

/** Edit distance of two short strings (flag names). */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** What was wrong with the arguments, in one line, with the nearest flag for a mistyped one. */
function argumentError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const unknown = /Unknown option '(-{1,2})([^']+)'/.exec(e.message ?? "");
  if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && unknown !== null) {
    const given = unknown[2]!;
    const best = FLAGS.map((f) => ({ f, d: distance(given, f) })).sort((x, y) => x.d - y.d)[0]!;
    const near = best.d <= 2 || best.f.startsWith(given) ? ` (did you mean --${best.f}?)` : "";
    return `unknown option ${unknown[1]}${given}${near}`;
  }
  if (e.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    return (e.message ?? "").replace(/^Option '([^']+)'/, "option $1").split(". ")[0]!;
  }
  return e.message ?? String(err);
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** Loads the program; @default - requires the repository's index.ts */
  readonly program?: () => unknown;
}

/**
 * Runs `npm run plan -- <argv>`. Exit codes: 0 plan made; 1 invalid configuration, usage or
 * program error, or a platform that would not come up (a whole-cluster check's finding); 2 blocked:
 * a mandatory policy failed or the change is one `pulumi up` would refuse or lose data by. A
 * defect of the tool itself rejects.
 */
export async function planCli(argv: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  const fail = (stderr: string): CliResult => ({ code: 1, stdout: "", stderr });
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        config: { type: "string" },
        json: { type: "boolean", default: false },
        "show-secrets": { type: "boolean", default: false },
        diff: { type: "string" },
        markdown: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (err) {
    return fail(`error: ${argumentError(err)}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return { code: 0, stdout: USAGE, stderr: "" };
  if (positionals.length !== 1 || positionals[0] === undefined) {
    return fail(`error: expected exactly one stack name\n\n${USAGE}`);
  }
  if (values.markdown && values.diff === undefined) {
    return fail(`error: --markdown needs --diff BASE.json\n\n${USAGE}`);
  }
  if (values.diff !== undefined && values["show-secrets"]) {
    // A comparison is for pull requests and logs: it never shows secret values.
    return fail("error: --diff cannot be combined with --show-secrets\n");
  }
  let base: Plan | undefined;
  if (values.diff !== undefined) {
    try {
      base = normalizePlan(JSON.parse(readFileSync(fromCwd(values.diff), "utf8")) as Plan);
    } catch (err) {
      return fail(
        `error: ${values.diff} is not a plan made with --json (${(err as Error).message})\n`,
      );
    }
  }
  const stack = positionals[0];
  if (!/^[A-Za-z0-9_.-]+$/.test(stack))
    return fail(`error: "${stack}" is not a valid stack name\n`);
  try {
    const evaluation = await evaluate({
      stack,
      ...(values.config !== undefined ? { configFile: fromCwd(values.config) } : {}),
      ...(opts.program !== undefined ? { program: opts.program } : {}),
    });
    // Policies judge what the engine would give them (secrets unwrapped); their messages are
    // masked before anything is printed.
    const checked = await checkPlan(evaluation);
    const plan = buildPlan(evaluation, { showSecrets: values["show-secrets"], ...checked });
    let stdout: string;
    let findings = plan.findings;
    if (base !== undefined) {
      let diff;
      try {
        diff = diffPlans(base, plan);
      } catch (err) {
        return fail(
          `error: ${values.diff} is not a plan made with --json (${(err as Error).message})\n`,
        );
      }
      findings = diff.findings;
      stdout = values.markdown
        ? renderMarkdown(diff, plan, { base })
        : `${JSON.stringify(diff, null, 2)}\n`;
    } else {
      stdout = values.json ? renderJson(plan) : renderText(plan);
    }
    // Does not come up: the platform as planned would not run (a whole-cluster check found it),
    // which is a defect of the stack like an invalid configuration: exit 1, every finding.
    const errors = findings.filter((f) => f.level === "error");
    const down = errors.filter((f) => isClusterCheck(f.check));
    if (down.length > 0) {
      const lines = [
        `error: the stack does not come up: ${down.length} finding${down.length === 1 ? "" : "s"}`,
        ...down.map((f) => `  ${f.check}: ${f.message}`),
      ];
      return { code: 1, stdout, stderr: `${lines.join("\n")}\n` };
    }
    // Blocked: what `pulumi up` would refuse, fail at or lose data by, on stderr in full.
    const mandatory = plan.policies.filter((p) => p.level === "mandatory");
    if (mandatory.length + errors.length === 0) return { code: 0, stdout, stderr: "" };
    const lines = [
      `blocked: ${mandatory.length} mandatory policy violation${mandatory.length === 1 ? "" : "s"}, ${errors.length} lifecycle error${errors.length === 1 ? "" : "s"}`,
      ...mandatory.map((p) => `  policy ${p.policy} on ${p.urn}: ${p.message}`),
      ...errors.map((f) => `  ${f.check} on ${f.urn}: ${f.message}`),
    ];
    return { code: 2, stdout, stderr: `${lines.join("\n")}\n` };
  } catch (err) {
    if (err instanceof PlanInputError) return fail(`error: ${err.message}\n`);
    throw err;
  }
}
