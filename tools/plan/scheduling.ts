import { WORKLOADS } from "../../policies/rules/util";
import { list, rec, type AnalysisPlan } from "./analysis";
import { selects } from "./network";

/**
 * Whether the plan's workloads can be scheduled on the plan's nodes, with the scheduler's rules:
 * taints against tolerations (NoSchedule and NoExecute block, PreferNoSchedule does not), node
 * selectors and required node affinity, the RuntimeClass's scheduling (its node selector and
 * tolerations join the pod's) and overhead, and requests against allocatable. A pod's request is
 * the larger of its containers' sum and its largest init container (Kubernetes' effective
 * request), plus the RuntimeClass overhead.
 *
 * Nodes are the plan's VMs: cores, memory and passed-through GPUs, with the labels and taints of
 * their machine configs (the redacted views). Allocatable is capacity less Talos's kubelet
 * reservations (internal/app/machined/pkg/controllers/k8s/kubelet_spec.go and
 * pkg/machinery/constants at v1.14.0-rc.1: 50m CPU; 512Mi on control planes, 384Mi on workers)
 * and the kubelet's default hard eviction threshold (memory.available 100Mi). The guest sees a
 * little less memory than the VM is given, so a finding is certain and a pass is necessary, not
 * sufficient. The charts' pods are not counted.
 */

type SchedulingPlan = AnalysisPlan;

export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: string;
}
export interface Toleration {
  readonly key?: string;
  readonly operator?: string;
  readonly value?: string;
  readonly effect?: string;
}

export interface SchedNode {
  readonly name: string;
  readonly controlPlane: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  /** Allocatable millicores, MiB and GPUs. */
  readonly cpu: number;
  readonly memory: number;
  readonly gpus: number;
}

export interface SchedPod {
  readonly workload: string;
  readonly cpu: number;
  readonly memory: number;
  readonly gpus: number;
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly affinity: readonly (readonly {
    key: string;
    operator: string;
    values?: readonly string[];
  }[])[];
  readonly tolerations: readonly Toleration[];
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly daemon: boolean;
}

/** Talos's kubelet reservations and the kubelet's hard eviction threshold (see the module comment). */
export const RESERVED = {
  cpuMillis: 50,
  memoryMiB: { controlPlane: 512, worker: 384 },
  evictionMiB: 100,
} as const;

/** Millicores of a Kubernetes CPU quantity (`250m`, `2`, `0.5`). */
export function cpuMillis(q: unknown): number {
  if (typeof q === "number") return q * 1000;
  if (typeof q !== "string" || q === "") return 0;
  return q.endsWith("m") ? Number(q.slice(0, -1)) : Number(q) * 1000;
}

/** MiB of a Kubernetes memory quantity (`512Mi`, `2Gi`, `1G`, bytes). */
export function memoryMiB(q: unknown): number {
  if (typeof q === "number") return q / 2 ** 20;
  if (typeof q !== "string" || q === "") return 0;
  const m = /^(\d+(?:\.\d+)?)([KMGT]i?|[kmgt]?)$/.exec(q);
  if (m === null) return Number(q) / 2 ** 20;
  const n = Number(m[1]);
  const unit: Record<string, number> = {
    "": 1 / 2 ** 20,
    Ki: 1 / 1024,
    Mi: 1,
    Gi: 1024,
    Ti: 1024 * 1024,
    k: 1000 / 2 ** 20,
    K: 1000 / 2 ** 20,
    M: 1e6 / 2 ** 20,
    G: 1e9 / 2 ** 20,
    T: 1e12 / 2 ** 20,
  };
  return n * (unit[m[2]!] ?? 1);
}

/** Whether a toleration tolerates a taint (the scheduler's TolerationsTolerateTaint). */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect !== undefined && t.effect !== "" && t.effect !== taint.effect) return false;
  if ((t.key ?? "") === "") return t.operator === "Exists";
  if (t.key !== taint.key) return false;
  return t.operator === "Exists" || (t.value ?? "") === (taint.value ?? "");
}

/** Taints as Talos writes them: `key: effect` or `key: value:effect`. */
function taintsOf(map: unknown): Taint[] {
  return Object.entries(rec(map)).map(([key, v]): Taint => {
    const [value, effect] = String(v).includes(":") ? String(v).split(":") : ["", String(v)];
    return { key, ...(value ? { value } : {}), effect: effect! };
  });
}

/** A node's labels and taints as its machine config's redacted view sets them (either contract). */
export function nodeLabelsAndTaints(view: Record<string, unknown>, controlPlane: boolean) {
  const node = rec(view["KubeNodeConfig"]);
  if (Object.keys(node).length > 0) {
    return {
      labels: rec(node["labels"]) as Record<string, string>,
      taints: taintsOf(node["taints"]),
    };
  }
  // Contract 1.13: the v1alpha1 fields, with the role label and taint Talos adds to control planes.
  const machine = rec(rec(view["v1alpha1"])["machine"]);
  const taints = taintsOf(machine["nodeTaints"]);
  return {
    labels: {
      ...(rec(machine["nodeLabels"]) as Record<string, string>),
      ...(controlPlane ? { "node-role.kubernetes.io/control-plane": "" } : {}),
    },
    taints: controlPlane
      ? [...taints, { key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }]
      : taints,
  };
}

/** The plan's nodes with what the scheduler sees of them. */
export function nodes(plan: SchedulingPlan): SchedNode[] {
  const out: SchedNode[] = [];
  for (const vm of plan.resources.filter((r) => r.type === "proxmoxve:index/vmLegacy:VmLegacy")) {
    const name = String(vm.inputs["name"]);
    const controlPlane = list(vm.inputs["tags"]).includes("controlplane");
    const file = plan.resources.find((r) => r.name === `${vm.name}-user-data`);
    const view = rec(rec(file?.views)["sourceRaw.data"]);
    const { labels, taints } = nodeLabelsAndTaints(view, controlPlane);
    const memory = Number(rec(vm.inputs["memory"])["dedicated"] ?? 0);
    out.push({
      name,
      controlPlane,
      labels: { ...labels, "kubernetes.io/hostname": name },
      taints,
      cpu: Number(rec(vm.inputs["cpu"])["cores"] ?? 0) * 1000 - RESERVED.cpuMillis,
      memory:
        memory -
        (controlPlane ? RESERVED.memoryMiB.controlPlane : RESERVED.memoryMiB.worker) -
        RESERVED.evictionMiB,
      gpus: list(vm.inputs["hostpcis"]).length,
    });
  }
  return out;
}

const sumRequests = (containers: unknown[], key: "cpu" | "memory" | "gpu") =>
  containers.map(rec).reduce((acc, c) => {
    const requests = rec(rec(c["resources"])["requests"]);
    const limits = rec(rec(c["resources"])["limits"]);
    if (key === "cpu") return acc + cpuMillis(requests["cpu"]);
    if (key === "memory") return acc + memoryMiB(requests["memory"] ?? limits["memory"]);
    return acc + Number(requests["nvidia.com/gpu"] ?? limits["nvidia.com/gpu"] ?? 0);
  }, 0);

/** The plan's workloads as the scheduler sees one of their pods, with their replica range. */
export function pods(plan: SchedulingPlan): SchedPod[] {
  const runtimeClasses = new Map(
    plan.resources
      .filter((r) => r.type === "kubernetes:node.k8s.io/v1:RuntimeClass")
      .map((r) => [String(rec(r.inputs["metadata"])["name"]), r.inputs]),
  );
  const hpas = plan.resources.filter(
    (r) => r.type === "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
  );
  // KEDA makes an HPA of each ScaledObject (keda-hpa-<name>); its bounds default to 0 and 100
  // (kedacore/keda v2.20.2 apis/keda/v1alpha1/scaledobject_types.go).
  const scaledObjects = plan.resources.filter(
    (r) => r.type === "kubernetes:keda.sh/v1alpha1:ScaledObject",
  );
  const out: SchedPod[] = [];
  for (const r of plan.resources) {
    const spec = WORKLOADS[r.type]?.(r.inputs);
    if (spec === undefined || r.type === "kubernetes:batch/v1:CronJob") continue;
    const meta = rec(r.inputs["metadata"]);
    const name = `${String(meta["namespace"] ?? "default")}/${String(meta["name"] ?? r.name)}`;
    const rc = runtimeClasses.get(String(spec["runtimeClassName"] ?? ""));
    const overhead = rec(rec(rc?.["overhead"])["podFixed"]);
    const scheduling = rec(rc?.["scheduling"]);
    const containers = list(spec["containers"]);
    const inits = list(spec["initContainers"]);
    const initMax = (key: "cpu" | "memory" | "gpu") =>
      Math.max(0, ...inits.map((c) => sumRequests([c], key)));
    const request = (key: "cpu" | "memory" | "gpu") =>
      Math.max(sumRequests(containers, key), initMax(key));
    const replicas = Number(rec(r.inputs["spec"])["replicas"] ?? 1);
    const hpa = hpas.find(
      (h) =>
        rec(rec(h.inputs["spec"])["scaleTargetRef"])["name"] === meta["name"] &&
        rec(h.inputs["metadata"])["namespace"] === meta["namespace"],
    );
    const hpaSpec = rec(hpa?.inputs["spec"]);
    const kinds: Record<string, string> = {
      "kubernetes:apps/v1:Deployment": "Deployment",
      "kubernetes:apps/v1:StatefulSet": "StatefulSet",
    };
    const scaled = scaledObjects.find((so) => {
      const ref = rec(rec(so.inputs["spec"])["scaleTargetRef"]);
      return (
        ref["name"] === meta["name"] &&
        (ref["kind"] ?? "Deployment") === kinds[r.type] &&
        rec(so.inputs["metadata"])["namespace"] === meta["namespace"]
      );
    });
    const soSpec = rec(scaled?.inputs["spec"]);
    const required = rec(
      rec(rec(spec["affinity"])["nodeAffinity"])["requiredDuringSchedulingIgnoredDuringExecution"],
    );
    out.push({
      workload: name,
      cpu: request("cpu") + cpuMillis(overhead["cpu"]),
      memory: request("memory") + memoryMiB(overhead["memory"]),
      gpus: request("gpu"),
      nodeSelector: {
        ...(rec(spec["nodeSelector"]) as Record<string, string>),
        ...(rec(scheduling["nodeSelector"]) as Record<string, string>),
      },
      affinity: list(required["nodeSelectorTerms"]).map((t) =>
        list(rec(t)["matchExpressions"]).map(
          (e) => rec(e) as { key: string; operator: string; values?: string[] },
        ),
      ),
      tolerations: [...list(spec["tolerations"]), ...list(scheduling["tolerations"])].map(
        (t) => rec(t) as Toleration,
      ),
      minReplicas:
        scaled !== undefined
          ? Number(soSpec["minReplicaCount"] ?? 0)
          : hpa !== undefined
            ? Number(hpaSpec["minReplicas"] ?? 1)
            : replicas,
      maxReplicas:
        scaled !== undefined
          ? Number(soSpec["maxReplicaCount"] ?? 100)
          : hpa !== undefined
            ? Number(hpaSpec["maxReplicas"] ?? replicas)
            : replicas,
      daemon: r.type === "kubernetes:apps/v1:DaemonSet",
    });
  }
  return out;
}

/** Why a pod cannot go on a node, ignoring what else runs there, or undefined when it can. */
export function misfit(pod: SchedPod, node: SchedNode): string | undefined {
  const untolerated = node.taints.filter(
    (t) => t.effect !== "PreferNoSchedule" && !pod.tolerations.some((x) => tolerates(x, t)),
  );
  if (untolerated.length > 0) return `taint ${untolerated[0]!.key}`;
  if (!selects({ matchLabels: pod.nodeSelector }, node.labels)) return "node selector";
  if (
    pod.affinity.length > 0 &&
    !pod.affinity.some((term) =>
      selects(
        { matchExpressions: term.map((e) => ({ ...e, operator: e.operator as "In" })) },
        node.labels,
      ),
    )
  ) {
    return "node affinity";
  }
  if (pod.cpu > node.cpu) return `CPU (${pod.cpu}m of ${node.cpu}m)`;
  if (pod.memory > node.memory) return `memory (${Math.ceil(pod.memory)} of ${node.memory} MiB)`;
  if (pod.gpus > node.gpus) return `GPUs (${pod.gpus} of ${node.gpus})`;
  return undefined;
}

export interface SchedulingFinding {
  readonly workload: string;
  readonly message: string;
}

export interface GpuAccount {
  /** Each GPU workload with its maximum replicas and GPUs per replica. */
  readonly workloads: readonly { workload: string; maxReplicas: number; gpus: number }[];
  /** GPUs the workloads need at their maxima: the sum of max replicas × GPUs per replica. */
  readonly needed: number;
  /** GPUs of the nodes some GPU workload can run on. */
  readonly offered: number;
}

/** The GPUs the GPU workloads can ask for at once, against the GPUs of the nodes they can use. */
export function gpuAccount(plan: SchedulingPlan): GpuAccount {
  const ns = nodes(plan);
  const gpuPods = pods(plan).filter((p) => p.gpus > 0 && !p.daemon);
  const workloads = gpuPods.map((p) => ({
    workload: p.workload,
    maxReplicas: p.maxReplicas,
    gpus: p.gpus,
  }));
  return {
    workloads,
    needed: workloads.reduce((acc, w) => acc + w.maxReplicas * w.gpus, 0),
    offered: ns
      .filter((n) => gpuPods.some((p) => misfit(p, n) === undefined))
      .reduce((acc, n) => acc + n.gpus, 0),
  };
}

/** Every workload that fits no node, or whose replicas find no room at its minimum or maximum. */
export function schedulingFindings(plan: SchedulingPlan): SchedulingFinding[] {
  const ns = nodes(plan);
  const ps = pods(plan);
  const findings: SchedulingFinding[] = [];
  if (ns.length === 0) return findings;
  for (const p of ps) {
    const why = ns.map((n) => [n.name, misfit(p, n)] as const);
    if (why.every(([, w]) => w !== undefined)) {
      findings.push({
        workload: p.workload,
        message: `${p.workload} fits no node (${why.map(([n, w]) => `${n}: ${w}`).join("; ")})`,
      });
    }
  }
  // Every replica at once, largest first, each on the first node with room (daemons on every
  // node they fit).
  for (const bound of ["minReplicas", "maxReplicas"] as const) {
    const free = new Map(ns.map((n) => [n.name, { cpu: n.cpu, memory: n.memory, gpus: n.gpus }]));
    const take = (n: SchedNode, p: SchedPod) => {
      const f = free.get(n.name)!;
      if (misfit(p, n) !== undefined || p.cpu > f.cpu || p.memory > f.memory || p.gpus > f.gpus)
        return false;
      f.cpu -= p.cpu;
      f.memory -= p.memory;
      f.gpus -= p.gpus;
      return true;
    };
    for (const p of ps.filter((x) => x.daemon)) for (const n of ns) take(n, p);
    const replicas = ps
      .filter((x) => !x.daemon && ns.some((n) => misfit(x, n) === undefined))
      .flatMap((p) => Array.from({ length: p[bound] }, () => p))
      .sort((a, b) => b.gpus - a.gpus || b.memory - a.memory || b.cpu - a.cpu);
    const unplaced = new Map<string, number>();
    for (const p of replicas) {
      if (!ns.some((n) => take(n, p)))
        unplaced.set(p.workload, (unplaced.get(p.workload) ?? 0) + 1);
    }
    for (const [workload, count] of unplaced) {
      const p = ps.find((x) => x.workload === workload)!;
      findings.push({
        workload,
        message: `at its ${bound === "minReplicas" ? "minimum" : "maximum"} of ${p[bound]} replicas, ${count} of ${workload}'s find no room beside the rest of the stack`,
      });
    }
  }
  const gpus = gpuAccount(plan);
  if (gpus.needed > gpus.offered) {
    findings.push({
      workload: "GPU accounting",
      message: `GPU accounting: at their maximum replicas the GPU workloads need ${gpus.needed} GPUs (${gpus.workloads.map((w) => `${w.workload} ${w.maxReplicas} × ${w.gpus}`).join(", ")}), and the nodes they can run on have ${gpus.offered}`,
    });
  }
  return findings;
}
