import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { stackPolicy, type Props } from "./util";

/**
 * Stack policies: rules across resources (a budget for every replicated workload, a network
 * policy in every namespace, an odd control-plane count, protected state in production).
 */

const props = (r: PolicyResource): Props => r.props ?? {};
const meta = (r: PolicyResource): Props => props(r)["metadata"] ?? {};

/** Does a label selector (matchLabels only) select these labels? */
function selects(selector: Props | undefined, labels: Props | undefined): boolean {
  const match = selector?.matchLabels;
  if (!match || typeof match !== "object") return false;
  return Object.entries(match).every(([k, v]) => labels?.[k] === v);
}

export const pdbForReplicated = stackPolicy({
  name: "pdb-for-replicated-workloads",
  description: "Every workload that can run more than one replica has a PodDisruptionBudget.",
  enforcementLevel: "advisory",
  check: (args, report) => {
    const pdbs = args.resources.filter(
      (r) => r.type === "kubernetes:policy/v1:PodDisruptionBudget",
    );
    const hpaMax = new Map<string, number>();
    for (const h of args.resources.filter(
      (r) => r.type === "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    )) {
      const ref = props(h)["spec"]?.scaleTargetRef;
      if (ref?.name)
        hpaMax.set(`${meta(h).namespace}/${ref.name}`, props(h)["spec"]?.maxReplicas ?? 1);
    }
    for (const w of args.resources.filter((r) =>
      ["kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet"].includes(r.type),
    )) {
      const ns = meta(w).namespace;
      const replicas = Math.max(
        props(w)["spec"]?.replicas ?? 1,
        hpaMax.get(`${ns}/${meta(w).name}`) ?? 0,
      );
      if (replicas <= 1) continue;
      const labels = props(w)["spec"]?.template?.metadata?.labels;
      const covered = pdbs.some(
        (p) => meta(p).namespace === ns && selects(props(p)["spec"]?.selector, labels),
      );
      if (!covered)
        report(
          `${meta(w).name} in ${ns} can run ${replicas} replicas but has no PodDisruptionBudget`,
          w.urn,
        );
    }
  },
});

export const networkPolicyPerNamespace = stackPolicy({
  name: "networkpolicy-in-every-namespace",
  description: "Every namespace the program creates has a default-deny NetworkPolicy.",
  enforcementLevel: "mandatory",
  check: (args, report) => {
    const denies = new Set(
      args.resources
        .filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy")
        .filter((r) => {
          const spec = props(r)["spec"] ?? {};
          const types: unknown = spec.policyTypes;
          return (
            Object.keys(spec.podSelector ?? { x: 1 }).length === 0 &&
            Array.isArray(types) &&
            types.includes("Ingress") &&
            types.includes("Egress") &&
            spec.ingress === undefined &&
            spec.egress === undefined
          );
        })
        .map((r) => meta(r).namespace),
    );
    for (const ns of args.resources.filter((r) => r.type === "kubernetes:core/v1:Namespace")) {
      if (!denies.has(meta(ns).name))
        report(`namespace ${meta(ns).name} has no default-deny NetworkPolicy`, ns.urn);
    }
  },
});

/**
 * Namespaces Kubernetes itself keeps (Talos exempts kube-system from Pod Security); a chart may
 * install there without the program creating the namespace.
 */
export const SYSTEM_NAMESPACES = ["kube-system"] as const;

export const helmReleaseNamespaceKnown = stackPolicy({
  name: "helm-release-namespace-known",
  description:
    "Helm releases install into kube-system or a namespace the program creates, and never create one: a namespace only a chart knows has no default-deny NetworkPolicy and is invisible to every policy.",
  enforcementLevel: "mandatory",
  check: (args, report) => {
    const created = new Set(
      args.resources
        .filter((r) => r.type === "kubernetes:core/v1:Namespace")
        .map((r) => meta(r).name),
    );
    for (const r of args.resources.filter((x) => x.type === "kubernetes:helm.sh/v3:Release")) {
      const chart = typeof props(r)["chart"] === "string" ? props(r)["chart"] : r.name;
      const ns: unknown = props(r)["namespace"];
      if (props(r)["createNamespace"] === true) {
        report(
          `release of chart "${chart}" creates its namespace: create it in the program`,
          r.urn,
        );
      }
      if (ns === undefined || ns === "") {
        report(
          `release of chart "${chart}" names no namespace (it would install into the provider's default)`,
          r.urn,
        );
      } else if (
        typeof ns === "string" &&
        !created.has(ns) &&
        !(SYSTEM_NAMESPACES as readonly string[]).includes(ns)
      ) {
        report(
          `release of chart "${chart}" installs into namespace ${ns}, which the program does not create`,
          r.urn,
        );
      }
    }
  },
});

/** The VMs of control planes: tagged with the `controlplane` pool. */
export const controlPlaneVms = (resources: readonly PolicyResource[]) =>
  resources.filter(
    (r) =>
      r.type === "proxmoxve:index/vmLegacy:VmLegacy" &&
      Array.isArray(props(r)["tags"]) &&
      props(r)["tags"].includes("controlplane"),
  );

export const oddControlPlanes = stackPolicy({
  name: "odd-control-plane-count",
  description: "The control plane has an odd number of VMs (etcd needs a majority).",
  enforcementLevel: "mandatory",
  check: (args, report) => {
    const byCluster = new Map<string, number>();
    for (const vm of controlPlaneVms(args.resources)) {
      const cluster =
        (props(vm)["tags"] as string[]).find(
          (t) => t !== "talos" && t !== "controlplane" && t !== "retiring",
        ) ?? "";
      byCluster.set(cluster, (byCluster.get(cluster) ?? 0) + 1);
    }
    for (const [cluster, count] of byCluster) {
      if (count % 2 === 0)
        report(`cluster ${cluster} has ${count} control-plane VMs; use an odd number`);
    }
  },
});

/** Types whose deletion loses data or a zone. */
export const STATEFUL_TYPES = [
  "cloudflare:index/zone:Zone",
  "kubernetes:core/v1:PersistentVolumeClaim",
];

export const protectStateful = stackPolicy({
  name: "protect-stateful-resources",
  description:
    "Zones and volumes are protected from deletion (mandatory in prod). Control-plane VMs are proxmox-protect-control-planes' (one fact, one finding).",
  enforcementLevel: "advisory",
  check: (args, report) => {
    for (const r of args.resources) {
      if (!STATEFUL_TYPES.includes(r.type)) continue;
      if (r.opts?.protect !== true) report(`${r.name} (${r.type}) is not protected`, r.urn);
    }
  },
});

export const stackPolicies: StackValidationPolicy[] = [
  pdbForReplicated,
  networkPolicyPerNamespace,
  helmReleaseNamespaceKnown,
  oddControlPlanes,
  protectStateful,
];
