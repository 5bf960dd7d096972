import { ConfigError, formatPath, parseStackConfig, type StackConfig } from "../config";
import { edgeProblems } from "../edge/edge";
import { exposedNames } from "../edge/services";
import { placementProblems } from "../talos/cluster";
import { nodeLabelProblems, nodeTaintProblems } from "../talos/machineConfig";

/** One problem of a stack: the key path below the config namespace, and what is wrong. */
export interface StackProblem {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/**
 * The problems of each area that the schema and the cross-field rules cannot see: the edge's
 * records, redirects and cache rules, the placement of every node on the Proxmox hosts, and the
 * node labels and taints Talos and the kubelet will accept. Pure; runs on a parsed stack.
 */
export function areaProblems(spec: StackConfig): StackProblem[] {
  const problems: StackProblem[] = [];
  spec.cluster.workerPools.forEach((pool, pi) => {
    for (const p of nodeLabelProblems(pool.labels, true)) {
      problems.push({
        path: ["cluster", "workerPools", pi, "labels", p.key],
        message: `got ${JSON.stringify(p.value)}; expected ${p.expected}`,
      });
    }
    for (const p of nodeTaintProblems(pool.taints)) {
      problems.push({
        path: ["cluster", "workerPools", pi, "taints", p.index, p.field],
        message: `got ${JSON.stringify(p.value)}; expected ${p.expected}`,
      });
    }
  });
  problems.push(...placementProblems(spec.cluster, spec.proxmox));
  if (spec.edge !== undefined) {
    // The ingress exists when it is enabled and the stack has an edge (see namespaceTiers).
    const tunnel = spec.platform.ingress.enabled;
    problems.push(...edgeProblems(spec.edge, exposedNames(spec, { tunnel })));
  }
  return problems;
}

/**
 * The one validation phase: the schema, the cross-field rules and every area's own problems,
 * reported together. Returns the typed stack, or throws one `ConfigError` naming every problem
 * with its key path; nothing the stack file could show fails later, while resources register.
 */
export function validateStack(raw: unknown): StackConfig {
  // The schema and cross-field rules first: the areas' rules need a parsed stack.
  const spec = parseStackConfig(raw);
  const problems = areaProblems(spec);
  if (problems.length > 0) {
    throw new ConfigError([...new Set(problems.map((p) => `${formatPath(p.path)}: ${p.message}`))]);
  }
  return spec;
}
