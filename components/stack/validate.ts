import { ConfigError, formatPath, parseStackConfig, type StackConfig } from "../config";
import { planStackWithProblems, type StackPlan } from "./plan";

export type { StackProblem } from "./plan";

/**
 * The one validation phase: the schema, the cross-field rules and every area's own problems
 * (found while planning the stack), reported together. Returns the typed stack and its plan, or
 * throws one `ConfigError` naming every problem with its key path: nothing the stack file could
 * show fails later, while resources register.
 */
export function validateStack(raw: unknown): { spec: StackConfig; plan: StackPlan } {
  // The schema and cross-field rules first: planning needs a parsed stack.
  const spec = parseStackConfig(raw);
  const { plan, problems } = planStackWithProblems(spec);
  if (plan === undefined || problems.length > 0) {
    throw new ConfigError([...new Set(problems.map((p) => `${formatPath(p.path)}: ${p.message}`))]);
  }
  return { spec, plan };
}
