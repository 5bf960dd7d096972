/**
 * Kubernetes checks for tests: schema validation through `kubernetes-models` (the upstream
 * OpenAPI schemas) and the Pod Security "baseline" rules for pod specs.
 */
import { BASELINE_CAPABILITIES as BASELINE_CAPABILITY_LIST } from "../../policies/rules/kubernetes";

/** A Pulumi Kubernetes resource type (`kubernetes:apps/v1:Deployment`) to its module and kind. */
export function modelPath(type: string): { module: string; kind: string } | undefined {
  const m = /^kubernetes:([^:]+):([A-Za-z]+)$/.exec(type);
  if (!m) return undefined;
  const [group, version] = m[1]!.split("/") as [string, string];
  if (group === "helm.sh") return undefined;
  const module =
    group === "core" ? `kubernetes-models/${version}` : `kubernetes-models/${group}/${version}`;
  return { module, kind: m[2]! };
}

/** API groups of Kubernetes itself (custom resources are checked by their operators' CRDs). */
const BUILT_IN_GROUPS = new Set([
  "core",
  "apps",
  "batch",
  "autoscaling",
  "policy",
  "networking.k8s.io",
  "node.k8s.io",
  "rbac.authorization.k8s.io",
  "storage.k8s.io",
  "scheduling.k8s.io",
]);

export function isBuiltIn(type: string): boolean {
  const m = /^kubernetes:([^/]+)\//.exec(type);
  return m !== null && BUILT_IN_GROUPS.has(m[1]!);
}

/** Validates an object against the Kubernetes schema; resolves to the validation error, if any. */
export async function validateK8s(
  type: string,
  object: Record<string, unknown>,
): Promise<string | undefined> {
  const path = modelPath(type);
  if (!path) return `no Kubernetes model for ${type}`;
  const mod = (await import(path.module)) as Record<
    string,
    new (data: unknown) => { validate(): void }
  >;
  const Model = mod[path.kind];
  if (!Model) return `no model ${path.kind} in ${path.module}`;
  try {
    new Model(object).validate();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

type Obj = Record<string, any>;

/** The pod spec inside a workload object, if it has one. */
export function podSpecOf(kind: string, object: Obj): Obj | undefined {
  switch (kind) {
    case "Pod":
      return object["spec"];
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
    case "Job":
      return object["spec"]?.template?.spec;
    case "CronJob":
      return object["spec"]?.jobTemplate?.spec?.template?.spec;
    default:
      return undefined;
  }
}

/** The capabilities Pod Security baseline allows (the list the policy pack enforces). */
const BASELINE_CAPABILITIES = new Set(BASELINE_CAPABILITY_LIST);

/** Violations of the Pod Security Standards "baseline" level; [] when the spec passes. */
export function baselineViolations(spec: Obj): string[] {
  const v: string[] = [];
  if (spec["hostNetwork"]) v.push("hostNetwork");
  if (spec["hostPID"]) v.push("hostPID");
  if (spec["hostIPC"]) v.push("hostIPC");
  for (const vol of spec["volumes"] ?? []) if (vol.hostPath) v.push(`hostPath volume ${vol.name}`);
  const containers: Obj[] = [
    ...(spec["containers"] ?? []),
    ...(spec["initContainers"] ?? []),
    ...(spec["ephemeralContainers"] ?? []),
  ];
  const seccomp = (sc: Obj | undefined) => sc?.seccompProfile?.type;
  if (seccomp(spec["securityContext"]) === "Unconfined") v.push("pod seccomp Unconfined");
  for (const c of containers) {
    const sc: Obj = c["securityContext"] ?? {};
    if (sc["privileged"]) v.push(`${c["name"]}: privileged`);
    for (const cap of sc["capabilities"]?.add ?? []) {
      if (!BASELINE_CAPABILITIES.has(cap)) v.push(`${c["name"]}: capability ${cap}`);
    }
    for (const p of c["ports"] ?? [])
      if (p.hostPort) v.push(`${c["name"]}: hostPort ${p.hostPort}`);
    if (sc["procMount"] && sc["procMount"] !== "Default") v.push(`${c["name"]}: procMount`);
    if (seccomp(sc) === "Unconfined") v.push(`${c["name"]}: seccomp Unconfined`);
    const selinux = sc["seLinuxOptions"]?.type;
    if (selinux && !["container_t", "container_init_t", "container_kvm_t"].includes(selinux)) {
      v.push(`${c["name"]}: seLinux type ${selinux}`);
    }
  }
  return v;
}

/**
 * The rules of the InterceptorRoute CRD (kedacore/http-add-on v0.15.0
 * config/crd/bases/http.keda.sh_interceptorroutes.yaml, http.keda.sh/v1beta1), which no published
 * model package carries: `target` and `scalingMetric` are required; the target names a Service
 * and exactly one of `port` (1-65535) and `portName`; the metric is `concurrency` or `requestRate`
 * with `targetValue >= 1`; rules list hosts and paths; timeouts are durations (metav1.Duration).
 */
export function interceptorRouteProblems(spec: Obj): string[] {
  const problems: string[] = [];
  const target = spec["target"];
  if (target === undefined) problems.push("spec.target is required");
  else {
    if (typeof target.service !== "string" || target.service.length === 0)
      problems.push("spec.target.service must be a non-empty string");
    if ((target.port === undefined) === (target.portName === undefined))
      problems.push("spec.target: exactly one of 'port' or 'portName' must be set");
    if (
      target.port !== undefined &&
      !(Number.isInteger(target.port) && target.port >= 1 && target.port <= 65535)
    )
      problems.push("spec.target.port must be an integer from 1 to 65535");
  }
  const metric = spec["scalingMetric"];
  if (metric === undefined) problems.push("spec.scalingMetric is required");
  else {
    if (metric.concurrency === undefined && metric.requestRate === undefined)
      problems.push(
        "spec.scalingMetric: at least one of 'concurrency' or 'requestRate' must be set",
      );
    for (const k of ["concurrency", "requestRate"]) {
      const v = metric[k];
      if (v !== undefined && !(Number.isInteger(v.targetValue) && v.targetValue >= 1))
        problems.push(`spec.scalingMetric.${k}.targetValue must be an integer >= 1`);
    }
  }
  for (const [i, rule] of ((spec["rules"] ?? []) as Obj[]).entries()) {
    for (const h of rule["hosts"] ?? [])
      if (typeof h !== "string") problems.push(`spec.rules[${i}].hosts must be strings`);
  }
  for (const [k, v] of Object.entries((spec["timeouts"] ?? {}) as Obj)) {
    if (typeof v !== "string" || !/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v))
      problems.push(`spec.timeouts.${k} must be a duration such as 90s`);
  }
  for (const k of Object.keys(spec)) {
    if (!["target", "rules", "scalingMetric", "timeouts", "coldStart"].includes(k))
      problems.push(`spec.${k} is not a field of InterceptorRoute`);
  }
  return problems;
}
