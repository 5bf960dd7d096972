import type { Runtime, StackConfig } from "../config";
import { PART_OF_LABELS } from "../catalog/labels";
import { RUNTIMES } from "../catalog/runtimes";

/**
 * Container runtimes, from the one declaration in the stack (`workerPools[].runtimes`). The Talos
 * side (extensions, kernel modules, node labels) and the Kubernetes side (RuntimeClasses that
 * schedule onto the labelled nodes) are both derived from it, so they cannot drift apart.
 */

/** The containerd handler Talos' extension registers for each runtime (the catalog's table). */
export const RUNTIME_HANDLERS: Readonly<Record<Runtime, string>> = {
  gvisor: RUNTIMES.gvisor.handler,
  kata: RUNTIMES.kata.handler,
  nvidia: RUNTIMES.nvidia.handler,
};

/** Kata runs every pod in a micro-VM; the scheduler must account for the VM's own footprint. */
export const KATA_POD_OVERHEAD = RUNTIMES.kata.podOverhead!;

/** The runtime a workload may ask for: runc is the default and needs no RuntimeClass. */
export type WorkloadRuntime = "runc" | Runtime;

export interface Toleration {
  readonly key: string;
  readonly operator: "Equal" | "Exists";
  readonly value?: string;
  readonly effect?: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

/** A RuntimeClass (node.k8s.io/v1) as plain data. */
export interface RuntimeClassSpec {
  readonly apiVersion: "node.k8s.io/v1";
  readonly kind: "RuntimeClass";
  readonly metadata: { readonly name: string; readonly labels: Record<string, string> };
  readonly handler: string;
  readonly overhead?: { readonly podFixed: Record<string, string> };
  readonly scheduling: {
    readonly nodeSelector: Record<string, string>;
    readonly tolerations?: Toleration[];
  };
}

/** Runtimes offered by at least one pool, in a fixed order. */
export function offeredRuntimes(cluster: StackConfig["cluster"]): Runtime[] {
  const offered = new Set(cluster.workerPools.flatMap((p) => p.runtimes));
  return (["gvisor", "kata", "nvidia"] as const).filter((r) => offered.has(r));
}

/** Tolerations for the taints of every pool that offers the runtime (each taint once). */
export function tolerationsFor(runtime: Runtime, cluster: StackConfig["cluster"]): Toleration[] {
  const seen = new Map<string, Toleration>();
  for (const pool of cluster.workerPools.filter((p) => p.runtimes.includes(runtime))) {
    for (const t of pool.taints) {
      const tol: Toleration = {
        key: t.key,
        operator: t.value !== undefined ? "Equal" : "Exists",
        ...(t.value !== undefined ? { value: t.value } : {}),
        effect: t.effect,
      };
      seen.set(JSON.stringify(tol), tol);
    }
  }
  return [...seen.values()];
}

/** The RuntimeClasses of a cluster: one per offered runtime, scheduling onto its nodes. */
export function runtimeClasses(cluster: StackConfig["cluster"]): RuntimeClassSpec[] {
  return offeredRuntimes(cluster).map((runtime) => {
    const tolerations = tolerationsFor(runtime, cluster);
    const facts = RUNTIMES[runtime];
    const nodeSelector: Record<string, string> = {
      [facts.nodeLabel]: "true",
      ...facts.extraNodeLabels,
    };
    return {
      apiVersion: "node.k8s.io/v1",
      kind: "RuntimeClass",
      metadata: {
        name: runtime,
        labels: {
          "app.kubernetes.io/name": runtime,
          "app.kubernetes.io/component": "runtime",
          ...PART_OF_LABELS,
        },
      },
      handler: RUNTIME_HANDLERS[runtime],
      ...(facts.podOverhead !== undefined
        ? { overhead: { podFixed: { ...facts.podOverhead } } }
        : {}),
      scheduling: { nodeSelector, ...(tolerations.length > 0 ? { tolerations } : {}) },
    };
  });
}

/**
 * The RuntimeClass name a workload runs with (undefined for runc). Asking for a runtime no pool
 * offers is a configuration error; the message names the workload.
 */
export function runtimeClassName(
  workload: string,
  runtime: WorkloadRuntime,
  cluster: StackConfig["cluster"],
): string | undefined {
  if (runtime === "runc") return undefined;
  if (!offeredRuntimes(cluster).includes(runtime)) {
    throw new Error(`${workload} asks for the ${runtime} runtime, but no worker pool offers it`);
  }
  return runtime;
}
