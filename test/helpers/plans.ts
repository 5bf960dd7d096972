import { register } from "tsx/cjs/api";
import { checkPlan } from "../../tools/plan/policies";
import { buildPlan, type Plan, type PlanResource } from "../../tools/plan/render";
import { evaluate, knownStacks, type Evaluation } from "../../tools/plan/run";

/**
 * Whole-program plans in this process, made the way `npm run plan` makes them (the same
 * evaluation, the same policy run), and cached: a test file asks for a stack's plan as often as
 * it likes and pays for one evaluation.
 */

export const SHIPPED_STACKS: readonly string[] = knownStacks();

// The program is CommonJS TypeScript loaded with require(), as under `npm run plan` and
// `pulumi up`: tsx's require hook compiles it (the test runner's own transform covers imports only).
register();

const evaluations = new Map<string, Promise<Evaluation>>();

// Evaluations share the SDK's process-wide runtime state: one at a time.
let queue: Promise<unknown> = Promise.resolve();

/** Runs `fn` after every evaluation queued before it (the SDK's runtime state is global). */
export function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const result = queue.then(fn);
  queue = result.catch(() => undefined);
  return result;
}

/** The evaluation of a shipped stack, or of a stack file under a stack name. */
export function evaluationOf(stack: string, configFile?: string): Promise<Evaluation> {
  const key = `${stack}\0${configFile ?? ""}`;
  let ev = evaluations.get(key);
  if (ev === undefined) {
    ev = serialized(() =>
      evaluate({
        stack,
        ...(configFile !== undefined ? { configFile } : {}),
      }),
    );
    evaluations.set(key, ev);
  }
  return ev;
}

/** The plan of a stack as the CLI prints it with `--json` (and `--show-secrets` if asked). */
export async function planOf(
  stack: string,
  opts: { showSecrets?: boolean; configFile?: string } = {},
): Promise<Plan> {
  const ev = await evaluationOf(stack, opts.configFile);
  return buildPlan(ev, { showSecrets: opts.showSecrets ?? false, ...(await checkPlan(ev)) });
}

/** A plan resource for diffs built by hand: what is not given takes the plan's defaults. */
export function planResource(
  r: Partial<PlanResource> & Pick<PlanResource, "urn" | "type" | "name">,
): PlanResource {
  return {
    parent: "",
    provider: "",
    dependsOn: [],
    propertyDependencies: {},
    protect: false,
    deleteBeforeReplace: false,
    ignoreChanges: [],
    replaceOnChanges: [],
    owns: [],
    aliases: [],
    inputs: {},
    ...r,
  };
}

/** A plan of just these resources, for diffs built by hand. */
export function planOfResources(
  resources: PlanResource[],
  outputs: Record<string, unknown> = {},
  facts: Plan["facts"] = { sharedDatastores: [] },
): Plan {
  return {
    project: "homebrew-dev",
    stack: "prod",
    facts,
    resources,
    outputs,
    policies: [],
    exemptions: [],
    comesUp: { flows: 0, flowsBlocked: 0, reachability: { namespaces: [], allowed: [] } },
    findings: [],
    policyPack: { name: "homebrew-dev", policies: [] },
    summary: {
      resources: resources.length,
      components: 0,
      protected: 0,
      byType: {},
      policies: { mandatory: 0, advisory: 0, exemptions: 0 },
      findings: { errors: 0, warnings: 0 },
    },
  };
}
