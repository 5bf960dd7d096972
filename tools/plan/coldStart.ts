/**
 * Models scaled to zero, against the path that wakes them. KEDA scales a ScaledObject from zero
 * only on a trigger that is active while no replica runs (kedacore/keda v2.20.2: activation is any
 * trigger's value above its activationThreshold); a Prometheus query of the workload's own series
 * returns nothing at zero, so such a workload needs the HTTP add-on's `external-push` trigger, fed
 * by the interceptor that holds its requests. The interceptor holds a request for the route's
 * readiness timeout, then answers 504 (http-add-on v0.15.0 interceptor/middleware/
 * endpoint_resolver.go): a cold start longer than that fails the request that caused it.
 *
 * The cold start is the one measured (`models[].coldStartSeconds`, carried on the route as
 * `COLD_START_ANNOTATION`) or, unmeasured, the budget of the server's startup probe.
 */
import { WORKLOADS } from "../../policies/rules/util";
import { COLD_START_ANNOTATION } from "../../components/catalog/labels";
import { list, rec, type AnalysisPlan as Plan } from "./analysis";

export interface ColdStartFinding {
  readonly level: "error" | "warning";
  readonly message: string;
}

/** `90s`, `2m`, `1m30s` (Go durations of whole units) to seconds, or undefined. */
export function durationSeconds(d: unknown): number | undefined {
  if (typeof d !== "string") return undefined;
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(d);
  if (m === null || d === "") return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

export function coldStartFindings(plan: Plan): ColdStartFinding[] {
  const out: ColdStartFinding[] = [];
  const routes = plan.resources.filter(
    (r) => r.type === "kubernetes:http.keda.sh/v1beta1:InterceptorRoute",
  );
  for (const so of plan.resources.filter(
    (r) => r.type === "kubernetes:keda.sh/v1alpha1:ScaledObject",
  )) {
    const meta = rec(so.inputs["metadata"]);
    const spec = rec(so.inputs["spec"]);
    if (Number(spec["minReplicaCount"] ?? 0) !== 0) continue;
    const namespace = String(meta["namespace"] ?? "default");
    const id = `${namespace}/${String(meta["name"])}`;
    const ref = rec(spec["scaleTargetRef"]);
    const target = plan.resources.find(
      (r) =>
        WORKLOADS[r.type] !== undefined &&
        r.type.endsWith(`:${String(ref["kind"] ?? "Deployment")}`) &&
        rec(r.inputs["metadata"])["name"] === ref["name"] &&
        rec(r.inputs["metadata"])["namespace"] === namespace,
    );
    const triggers = list(spec["triggers"]).map(rec);
    const wake = triggers.find((t) => t["type"] === "external-push" || t["type"] === "external");
    if (wake === undefined) {
      out.push({
        level: "error",
        message: `ScaledObject ${id} scales ${String(ref["name"])} to zero, but none of its triggers (${triggers.map((t) => String(t["type"])).join(", ") || "none"}) is active while no replica runs: nothing wakes it`,
      });
      continue;
    }
    const routeName = rec(wake["metadata"])["interceptorRoute"];
    const route = routes.find(
      (r) =>
        rec(r.inputs["metadata"])["name"] === routeName &&
        rec(r.inputs["metadata"])["namespace"] === namespace,
    );
    if (route === undefined) {
      if (typeof routeName === "string") {
        out.push({
          level: "error",
          message: `ScaledObject ${id} is woken by InterceptorRoute ${namespace}/${routeName}, which the stack does not have`,
        });
      }
      continue;
    }
    const hold = durationSeconds(rec(rec(route.inputs["spec"])["timeouts"])["readiness"]);
    if (hold === undefined || hold === 0) continue;
    const measured = Number(
      rec(rec(route.inputs["metadata"])["annotations"])[COLD_START_ANNOTATION] ?? NaN,
    );
    const podSpec = target !== undefined ? WORKLOADS[target.type]!(target.inputs) : undefined;
    const budget = Math.max(
      0,
      ...list(podSpec?.["containers"]).map((c) => {
        const p = rec(rec(c)["startupProbe"]);
        return Number(p["failureThreshold"] ?? 0) * Number(p["periodSeconds"] ?? 10);
      }),
    );
    const coldStart = Number.isFinite(measured) ? measured : budget;
    if (coldStart > hold) {
      const what = Number.isFinite(measured)
        ? `its measured cold start (${measured} s)`
        : `its cold start, unmeasured, may take its startup probe's ${budget} s (measure it with \`npm run cold-start\` and set models[].coldStartSeconds)`;
      out.push({
        level: "warning",
        message: `${String(ref["name"])} scales to zero, and ${what} exceeds the ${hold} s the gateway holds a request for it (modelGateway.wakeTimeoutSeconds): the request that wakes it gets 504, and clients must retry`,
      });
    }
  }
  return out;
}
