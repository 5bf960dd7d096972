import { existsSync } from "node:fs";
import * as path from "node:path";
import { ConfigError, formatPath, parseStackConfig, type StackConfig } from "../config";
import { planStackWithProblems, type StackPlan, type StackProblem } from "./plan";

export type { StackProblem } from "./plan";

/**
 * The one validation phase: the schema, the cross-field rules and every area's own problems
 * (found while planning the stack), reported together. Returns the typed stack and its plan, or
 * throws one `ConfigError` naming every problem with its key path: nothing the stack file could
 * show fails later, while resources register.
 */
export function validateStack(
  raw: unknown,
  opts: {
    /** Whether a path relative to the project exists. @default - the file system, from the working directory */
    readonly exists?: (relative: string) => boolean;
  } = {},
): { spec: StackConfig; plan: StackPlan } {
  // The schema and cross-field rules first: planning needs a parsed stack.
  const spec = parseStackConfig(raw);
  const { plan, problems: planned } = planStackWithProblems(spec);
  const exists = opts.exists ?? ((p: string) => existsSync(path.resolve(p)));
  const problems = [...planned, ...buildContextProblems(spec, exists)];
  if (plan === undefined || problems.length > 0) {
    throw new ConfigError([...new Set(problems.map((p) => `${formatPath(p.path)}: ${p.message}`))]);
  }
  return { spec, plan };
}

/**
 * Build contexts and Dockerfiles that are not there: BuildKit would fail at `pulumi up`, after
 * everything before the build was deployed. Paths are relative to the project (the working
 * directory of `pulumi up` and of the plan).
 */
export function buildContextProblems(
  spec: StackConfig,
  exists: (relative: string) => boolean,
): StackProblem[] {
  return spec.builds.images.flatMap((image, i): StackProblem[] => {
    if (!exists(image.context)) {
      return [
        {
          path: ["builds", "images", i, "context"],
          message: `no directory ${image.context} in the project`,
        },
      ];
    }
    const dockerfile = path.posix.join(image.context, image.dockerfile);
    return exists(dockerfile)
      ? []
      : [{ path: ["builds", "images", i, "dockerfile"], message: `no file ${dockerfile}` }];
  });
}
