import { resolveStorage, type ResolvedStorage } from "../config/storage";
import type { StackConfig } from "../config";
import { declaredHostnames, type DeclaredHostname } from "../config/hostnames";
import { planEdgeWithProblems, type EdgePlan } from "../edge/edge";
import { exposedNames } from "../edge/services";
import { hasIngress, namespaceTiers } from "../kubernetes/platform";
import type { NamespaceTier } from "../kubernetes/baseline";
import { planClusterWithProblems, type ClusterPlan } from "../talos/cluster";
import { nodeLabelProblems, nodeTaintProblems } from "../talos/machineConfig";

/** One problem of a stack: the key path below the config namespace, and what is wrong. */
export interface StackProblem {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/**
 * Every decision the program makes for a stack, as plain data, before any resource exists: the
 * constructors wire resources from it. Deterministic: the same stack gives the same plan.
 */
export interface StackPlan {
  /** The nodes and where each runs. */
  readonly cluster: ClusterPlan;
  /** Every public hostname, with its key path and owner, in stack-file order. */
  readonly hostnames: readonly DeclaredHostname[];
  /** Whether public hostnames go through a Cloudflare Tunnel (an ingress and an edge). */
  readonly tunnel: boolean;
  /** The namespaces of the platform and what traffic each admits. */
  readonly tiers: readonly NamespaceTier[];
  /** Records, redirects and cache rules, when the stack has an edge. */
  readonly edge: EdgePlan | undefined;
  /** What provides the volumes, and the default StorageClass every claim names. */
  readonly storage: ResolvedStorage;
}

/**
 * The plan of a parsed stack and every problem found while making it (node labels and taints
 * the kubelet and Talos accept, placement on the Proxmox hosts, the edge's records, redirects and
 * cache rules), each at its key path. The plan is only meaningful when there are no problems.
 */
export function planStackWithProblems(spec: StackConfig): {
  plan: StackPlan | undefined;
  problems: StackProblem[];
} {
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
  const cluster = planClusterWithProblems(spec.cluster, spec.proxmox);
  problems.push(...cluster.problems);
  const tunnel = hasIngress(spec);
  // Settings that would be silently ignored are refused at their key.
  if (tunnel && spec.edge?.ingressTarget !== undefined) {
    problems.push({
      path: ["edge", "ingressTarget"],
      message:
        "has no effect while the tunnel is on (platform.ingress.enabled): exposed names point at the tunnel; remove it, or turn the ingress off to point them here",
    });
  }
  const o = spec.platform.observability;
  if (!o.enabled && o.grafanaHostname !== undefined) {
    problems.push({
      path: ["platform", "observability", "grafanaHostname"],
      message:
        "has no effect while observability is off (platform.observability.enabled): there is no Grafana to expose",
    });
  }
  let edge: EdgePlan | undefined;
  if (spec.edge !== undefined) {
    const planned = planEdgeWithProblems(spec.edge, exposedNames(spec, { tunnel }));
    problems.push(...planned.problems);
    edge = planned.plan;
  }
  if (problems.length > 0 || cluster.plan === undefined) return { plan: undefined, problems };
  return {
    plan: {
      cluster: cluster.plan,
      hostnames: declaredHostnames(spec),
      tunnel,
      tiers: namespaceTiers(spec),
      edge,
      // The storage section's rules are cross-field rules, checked when the stack was parsed.
      storage: resolveStorage(spec),
    },
    problems,
  };
}
