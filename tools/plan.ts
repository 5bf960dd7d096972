/**
 * The offline plan: evaluates the real program (index.ts) for one stack on Pulumi's mock runtime.
 * No Pulumi CLI, no credentials, no network.
 *
 *   npm run plan -- <stack> [--config FILE] [--json] [--show-secrets]
 *   npm run plan -- <stack> --diff BASE.json [--markdown]
 *
 * Exit codes: 0 plan made; 1 invalid configuration, usage or program error; 2 a mandatory policy
 * failed.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { diffPlans } from "./plan/diff";
import { renderMarkdown } from "./plan/markdown";
import { checkPlan } from "./plan/policies";
import { buildPlan, renderJson, renderText, type Plan } from "./plan/render";
import { PlanInputError, evaluate, knownStacks } from "./plan/run";

const USAGE = `usage: npm run plan -- <stack> [--config FILE] [--json] [--show-secrets]
       npm run plan -- <stack> --diff BASE.json [--markdown]

  <stack>          a stack name; its config is stacks/Pulumi.<stack>.yaml (${knownStacks().join(", ")})
  --config FILE    use this stack config file instead
  --json           print the plan as JSON on stdout
  --show-secrets   print secret values instead of "[secret]"
  --diff BASE.json compare with an earlier plan (the --json output of the base branch)
  --markdown       print the comparison as a pull-request comment (with --diff)
`;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
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
    process.stderr.write(`error: ${(err as Error).message}\n\n${USAGE}`);
    return 1;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] === undefined) {
    process.stderr.write(`error: expected exactly one stack name\n\n${USAGE}`);
    return 1;
  }
  if (values.markdown && values.diff === undefined) {
    process.stderr.write(`error: --markdown needs --diff BASE.json\n\n${USAGE}`);
    return 1;
  }
  if (values.diff !== undefined && values["show-secrets"]) {
    // A comparison is for pull requests and logs: it never shows secret values.
    process.stderr.write("error: --diff cannot be combined with --show-secrets\n");
    return 1;
  }
  let base: Plan | undefined;
  if (values.diff !== undefined) {
    try {
      base = JSON.parse(readFileSync(values.diff, "utf8")) as Plan;
      if (!Array.isArray(base.resources)) throw new Error("it has no resources list");
    } catch (err) {
      process.stderr.write(
        `error: ${values.diff} is not a plan made with --json (${(err as Error).message})\n`,
      );
      return 1;
    }
  }
  const stack = positionals[0];
  if (!/^[A-Za-z0-9_.-]+$/.test(stack)) {
    process.stderr.write(`error: "${stack}" is not a valid stack name\n`);
    return 1;
  }
  try {
    const evaluation = await evaluate({
      stack,
      ...(values.config !== undefined ? { configFile: values.config } : {}),
    });
    // Policies judge what the engine would give them (secrets unwrapped); their messages are
    // masked before anything is printed.
    const checked = await checkPlan(evaluation);
    const plan = buildPlan(evaluation, { showSecrets: values["show-secrets"], ...checked });
    if (base !== undefined) {
      const diff = diffPlans(base, plan);
      process.stdout.write(
        values.markdown ? renderMarkdown(diff, plan) : `${JSON.stringify(diff, null, 2)}\n`,
      );
    } else {
      process.stdout.write(values.json ? renderJson(plan) : renderText(plan));
    }
    return plan.summary.policies.mandatory > 0 ? 2 : 0;
  } catch (err) {
    if (err instanceof PlanInputError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Anything else is a defect of the plan tool itself: say so, with the trace to report.
    process.stderr.write(
      `internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  },
);
