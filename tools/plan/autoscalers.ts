/**
 * One autoscaler per workload. KEDA turns each ScaledObject into an HPA of its own, and its
 * admission webhook refuses a ScaledObject whose target another HPA already scales, unless the
 * ScaledObject asks to take that HPA over (the `scaledobject.keda.sh/transfer-hpa-ownership`
 * annotation, with the HPA's name as `advanced.horizontalPodAutoscalerConfig.name`): kedacore/keda
 * v2.20.2 apis/keda/v1alpha1/scaledobject_webhook.go `verifyHpas`. A plan with both on one
 * workload never applies; a change that replaces an HPA with a ScaledObject fails unless the new
 * one takes the old one over, since `pulumi up` creates the ScaledObject before it deletes the HPA.
 */
import { list, rec, type AnalysisPlan as Plan } from "./analysis";
import type { Finding } from "./lifecycle";

import { TRANSFER_HPA_ANNOTATION } from "../../components/models/autoscaling";
export { TRANSFER_HPA_ANNOTATION };

interface Target {
  readonly key: string;
  readonly name: string;
}

const targetOf = (r: { inputs: Record<string, unknown> }): Target => {
  const meta = rec(r.inputs["metadata"]);
  const ref = rec(rec(r.inputs["spec"])["scaleTargetRef"]);
  const namespace = String(meta["namespace"] ?? "default");
  return {
    key: `${namespace}/${String(ref["kind"] ?? "Deployment")}/${String(ref["name"])}`,
    name: String(meta["name"]),
  };
};

const hpas = (p: Plan) =>
  p.resources.filter((r) => r.type === "kubernetes:autoscaling/v2:HorizontalPodAutoscaler");
const scaledObjects = (p: Plan) =>
  p.resources.filter((r) => r.type === "kubernetes:keda.sh/v1alpha1:ScaledObject");

/** Whether a ScaledObject takes over the HPA of the given name. */
function takesOver(so: { inputs: Record<string, unknown> }, hpa: string): boolean {
  const meta = rec(so.inputs["metadata"]);
  const advanced = rec(rec(rec(so.inputs["spec"])["advanced"])["horizontalPodAutoscalerConfig"]);
  return rec(meta["annotations"])[TRANSFER_HPA_ANNOTATION] === "true" && advanced["name"] === hpa;
}

/**
 * The metadata each KEDA scaler reads (kedacore/keda v2.20.2 pkg/scalers: the `keda:"name=..."`
 * tags of prometheus_scaler.go, cpu_memory_scaler.go and external_scaler.go): the keys it
 * requires, and the others it knows. An external scaler is passed the rest of its metadata (the
 * HTTP add-on reads `interceptorRoute` or `httpScaledObject`).
 */
export const TRIGGER_METADATA: Readonly<
  Record<string, { readonly required: readonly string[]; readonly optional?: readonly string[] }>
> = {
  prometheus: {
    required: ["serverAddress", "query", "threshold"],
    optional: [
      "queryParameters",
      "activationThreshold",
      "namespace",
      "customHeaders",
      "ignoreNullValues",
      "unsafeSsl",
      "awsRegion",
      "timeout",
      "identityOwner",
    ],
  },
  // `type` is the deprecated spelling of the trigger's metricType, still read.
  cpu: { required: ["value"], optional: ["containerName", "type"] },
  memory: { required: ["value"], optional: ["containerName", "type"] },
  "external-push": { required: ["scalerAddress"] },
  external: { required: ["scalerAddress"] },
};

/** A plan alone: an HPA and a ScaledObject on one workload; a trigger its scaler cannot read. */
export function autoscalerFindings(plan: Plan): { message: string }[] {
  const out: { message: string }[] = [];
  for (const so of scaledObjects(plan)) {
    const id = `${String(rec(so.inputs["metadata"])["namespace"])}/${targetOf(so).name}`;
    list(rec(so.inputs["spec"])["triggers"])
      .map(rec)
      .forEach((t, i) => {
        const known = TRIGGER_METADATA[String(t["type"])];
        if (known === undefined) return;
        const md = rec(t["metadata"]);
        for (const k of known.required.filter((k) => typeof md[k] !== "string")) {
          out.push({
            message: `ScaledObject ${id} trigger ${i} (${String(t["type"])}): metadata.${k} is required, as a string`,
          });
        }
        if (known.optional === undefined) return;
        for (const k of Object.keys(md).filter(
          (k) => !known.required.includes(k) && !known.optional!.includes(k),
        )) {
          out.push({
            message: `ScaledObject ${id} trigger ${i} (${String(t["type"])}): metadata.${k} is not read by KEDA's ${String(t["type"])} scaler`,
          });
        }
      });
  }
  for (const so of scaledObjects(plan)) {
    const t = targetOf(so);
    for (const h of hpas(plan).filter((x) => targetOf(x).key === t.key)) {
      out.push({
        message: `${t.key.replace(/^([^/]+)\/[^/]+\//, "$1/")} has two autoscalers, HPA ${targetOf(h).name} and ScaledObject ${t.name}: KEDA's webhook refuses the ScaledObject, and the two would fight over its replicas`,
      });
    }
  }
  return out;
}

/** A change: a new ScaledObject whose workload an HPA of the base still scales when it is created. */
export function autoscalerHandoverFindings(base: Plan, head: Plan): Finding[] {
  const out: Finding[] = [];
  const before = new Set(scaledObjects(base).map((r) => targetOf(r).key));
  for (const so of scaledObjects(head)) {
    const t = targetOf(so);
    if (before.has(t.key)) continue;
    for (const h of hpas(base).filter((x) => targetOf(x).key === t.key)) {
      const old = targetOf(h).name;
      if (takesOver(so, old)) {
        // KEDA adopts the HPA; the delete of the old resource, which comes last, then removes it
        // by name, and KEDA makes it again without its scale-down history.
        if (!hpas(head).some((x) => x.name === h.name)) {
          out.push({
            check: "autoscaler-handover",
            level: "warning",
            urn: "",
            message: `ScaledObject ${t.name} takes HPA ${old} over, and deleting ${h.name} afterwards removes the HPA KEDA then owns: KEDA makes it again at its next reconcile, without its scale-down history (replicas may drop at once). To keep it, run \`pulumi state delete ${"urn" in h ? String((h as { urn?: string }).urn) : h.name}\` before \`pulumi up\``,
          });
        }
        continue;
      }
      out.push({
        check: "autoscaler-handover",
        level: "error",
        urn: "",
        message: `ScaledObject ${t.name} is created while HPA ${old} still scales ${t.key}: KEDA's webhook refuses it, as \`pulumi up\` deletes the HPA only afterwards (annotate it ${TRANSFER_HPA_ANNOTATION}: "true" with advanced.horizontalPodAutoscalerConfig.name ${old})`,
      });
    }
  }
  return out;
}
