/**
 * The in-cluster addresses the stack's own configuration makes pods dial, resolved the way the
 * cluster resolves them: a Service of the plan (an ExternalName one followed to its target), or a
 * Service a chart creates (its footprint), on a port that Service serves, to the pods behind it.
 * The addresses are read from the objects that carry them, not declared beside them:
 * - the model gateway's routes: `model_list[].litellm_params.api_base` of a LiteLLM config.yaml in
 *   a ConfigMap, dialled by the pods that mount it;
 * - KEDA's scalers: a ScaledObject's `prometheus` `serverAddress` and `external-push`
 *   `scalerAddress`, dialled by KEDA's operator (kedacore/keda v2.20.2 pkg/scalers);
 * - the HTTP add-on's routes: an InterceptorRoute's `target` Service and port in its namespace,
 *   dialled by the interceptor (http-add-on v0.15.0 interceptor/middleware/routing.go).
 * A request that reaches the interceptor is routed by its Host with the port stripped
 * (pkg/routing/table.go): one no InterceptorRoute names is answered 404.
 */
import { parse } from "yaml";
import { WORKLOADS } from "../../policies/rules/util";
import { list, rec, type AnalysisPlan as Plan, type Obj } from "./analysis";
import type { Pod } from "./network";

/** A pod of the flow analysis' universe (./flows.ts `NamedPod`), as far as addresses need it. */
interface NamedPod {
  readonly id: string;
  readonly pod: Pod;
}

export interface Upstream {
  /** Why the address is dialled, for messages. */
  readonly why: string;
  /** Where the address is written (resource and key). */
  readonly where: string;
  readonly clients: readonly NamedPod[];
  /** Who dials, when no pod of the plan does (for the finding). */
  readonly clientName: string;
  readonly host: string;
  readonly port: number;
}

export interface Resolved {
  readonly upstream: Upstream;
  /** The pods the connection ends at and the port they are reached on. */
  readonly targets: readonly { readonly pod: NamedPod; readonly port: number }[];
  /** The Services followed, in order (`namespace/name`). */
  readonly via: readonly string[];
  /** Why it does not resolve, or undefined. */
  readonly problem?: string;
}

const meta = (r: { inputs: Obj }) => rec(r.inputs["metadata"]);
const ns = (r: { inputs: Obj }) => String(meta(r)["namespace"] ?? "default");

/** `http://host:port/...` or `host:port` to its host and port (80 for http without one). */
function hostPort(address: string): { host: string; port: number } | undefined {
  const m = /^(?:(https?):\/\/)?([^/:]+)(?::(\d+))?(?:\/.*)?$/.exec(address);
  if (m === null) return undefined;
  const port = m[3] !== undefined ? Number(m[3]) : m[1] === "https" ? 443 : m[1] ? 80 : NaN;
  return Number.isNaN(port) ? undefined : { host: m[2]!, port };
}

/** The Service a cluster DNS name names (`name.ns`, `name.ns.svc`, `name.ns.svc.cluster.local`). */
export function serviceOf(host: string): { name: string; namespace: string } | undefined {
  const m = /^([a-z0-9-]+)\.([a-z0-9-]+)(?:\.svc(?:\.cluster\.local)?)?\.?$/.exec(host);
  return m === null ? undefined : { name: m[1]!, namespace: m[2]! };
}

const labelled = (pods: readonly NamedPod[], labels: Record<string, string>) =>
  pods.filter((p) => Object.entries(labels).every(([k, v]) => p.pod.labels[k] === v));

/** KEDA's operator pods (kedacore/charts v2.20.2 manager deployment labels). */
const kedaOperators = (pods: readonly NamedPod[]) =>
  labelled(pods, { "app.kubernetes.io/name": "keda-operator" });
/** The HTTP add-on's interceptor pods (http-add-on chart at v0.15.0). */
export const interceptors = (pods: readonly NamedPod[]): NamedPod[] =>
  labelled(pods, {
    "app.kubernetes.io/name": "http-add-on",
    "app.kubernetes.io/component": "interceptor",
  });

/** The pods of the workloads that mount a ConfigMap. */
function mounting(plan: Plan, pods: readonly NamedPod[], namespace: string, name: string) {
  const ids = new Set<string>();
  for (const r of plan.resources) {
    const spec = WORKLOADS[r.type]?.(r.inputs);
    if (spec === undefined || ns(r) !== namespace) continue;
    const uses = list(spec["volumes"]).some((v) => rec(rec(v)["configMap"])["name"] === name);
    if (uses) ids.add(`${namespace}/${String(meta(r)["name"] ?? r.name)}`);
  }
  return pods.filter((p) => ids.has(p.id));
}

/** Every address of the plan's configuration (see the module comment). */
export function upstreams(plan: Plan, pods: readonly NamedPod[]): Upstream[] {
  const out: Upstream[] = [];
  const push = (u: Omit<Upstream, "host" | "port">, address: string) => {
    const hp = hostPort(address);
    if (hp !== undefined) out.push({ ...u, ...hp });
  };
  for (const r of plan.resources.filter((x) => x.type === "kubernetes:core/v1:ConfigMap")) {
    const text = rec(r.inputs["data"])["config.yaml"];
    if (typeof text !== "string") continue;
    let config: Obj;
    try {
      config = rec(parse(text));
    } catch {
      continue;
    }
    const routes = list(config["model_list"]).map(rec);
    if (routes.length === 0) continue;
    const name = String(meta(r)["name"]);
    const clients = mounting(plan, pods, ns(r), name);
    routes.forEach((route, i) => {
      const base = rec(route["litellm_params"])["api_base"];
      if (typeof base !== "string") return;
      push(
        {
          why: `model gateway route ${String(route["model_name"])}`,
          where: `ConfigMap ${ns(r)}/${name} config.yaml model_list[${i}].litellm_params.api_base`,
          clients,
          clientName: `the pods mounting ConfigMap ${ns(r)}/${name}`,
        },
        base,
      );
    });
  }
  for (const r of plan.resources.filter(
    (x) => x.type === "kubernetes:keda.sh/v1alpha1:ScaledObject",
  )) {
    const id = `${ns(r)}/${String(meta(r)["name"])}`;
    list(rec(r.inputs["spec"])["triggers"])
      .map(rec)
      .forEach((t, i) => {
        const md = rec(t["metadata"]);
        const address =
          t["type"] === "prometheus"
            ? md["serverAddress"]
            : t["type"] === "external-push" || t["type"] === "external"
              ? md["scalerAddress"]
              : undefined;
        if (typeof address !== "string") return;
        push(
          {
            why: `KEDA ${String(t["type"])} scaler of ScaledObject ${id}`,
            where: `ScaledObject ${id} spec.triggers[${i}].metadata`,
            clients: kedaOperators(pods),
            clientName: "KEDA's operator",
          },
          address,
        );
      });
  }
  for (const r of plan.resources.filter(
    (x) => x.type === "kubernetes:http.keda.sh/v1beta1:InterceptorRoute",
  )) {
    const id = `${ns(r)}/${String(meta(r)["name"])}`;
    const target = rec(rec(r.inputs["spec"])["target"]);
    if (typeof target["service"] !== "string" || typeof target["port"] !== "number") continue;
    out.push({
      why: `HTTP add-on route ${id}`,
      where: `InterceptorRoute ${id} spec.target`,
      clients: interceptors(pods),
      clientName: "the HTTP add-on's interceptor",
      host: `${target["service"]}.${ns(r)}.svc.cluster.local`,
      port: target["port"],
    });
  }
  return out;
}

/** Where an address ends: the pods and ports behind the Services it names, or why it does not. */
export function resolve(plan: Plan, pods: readonly NamedPod[], u: Upstream): Resolved {
  const services = plan.resources.filter((r) => r.type === "kubernetes:core/v1:Service");
  const via: string[] = [];
  let host = u.host;
  for (let hop = 0; hop < 5; hop++) {
    const svc = serviceOf(host);
    if (svc === undefined) {
      return { upstream: u, targets: [], via, problem: `${host} is not a cluster Service name` };
    }
    const id = `${svc.namespace}/${svc.name}`;
    via.push(id);
    const planned = services.find((s) => meta(s)["name"] === svc.name && ns(s) === svc.namespace);
    if (planned !== undefined) {
      const spec = rec(planned.inputs["spec"]);
      if (spec["type"] === "ExternalName") {
        host = String(spec["externalName"]);
        continue;
      }
      const servicePort = list(spec["ports"])
        .map(rec)
        .find((p) => Number(p["port"]) === u.port);
      if (servicePort === undefined) {
        return {
          upstream: u,
          targets: [],
          via,
          problem: `Service ${id} serves no port ${u.port}`,
        };
      }
      const selector = rec(spec["selector"]) as Record<string, string>;
      const behind = labelled(
        pods.filter((p) => p.pod.namespace === svc.namespace),
        selector,
      );
      const target = servicePort["targetPort"] ?? servicePort["port"];
      const targets = behind.flatMap((pod) => {
        const port =
          typeof target === "number" ? target : pod.pod.ports?.find((p) => p.name === target)?.port;
        return port !== undefined ? [{ pod, port }] : [];
      });
      return targets.length > 0
        ? { upstream: u, targets, via }
        : { upstream: u, targets, via, problem: `Service ${id} sends port ${u.port} to no pod` };
    }
    const footprint = pods.filter(
      (p) => p.pod.namespace === svc.namespace && p.id.endsWith(`/${svc.name}`),
    );
    if (footprint.length > 0) {
      const served = footprint.filter((p) => (p.pod.ports ?? []).some((x) => x.port === u.port));
      return served.length > 0
        ? { upstream: u, targets: served.map((pod) => ({ pod, port: u.port })), via }
        : {
            upstream: u,
            targets: [],
            via,
            problem: `${id} (a chart's Service) serves no port ${u.port}`,
          };
    }
    return {
      upstream: u,
      targets: [],
      via,
      problem: `${host} names Service ${id}, which the stack does not have`,
    };
  }
  return { upstream: u, targets: [], via, problem: `${u.host}: ExternalName Services loop` };
}

/**
 * The problems of every address: it does not resolve, no pod of the plan dials it (its client is
 * not installed), or it reaches the interceptor under a Host no InterceptorRoute names.
 */
export function upstreamProblems(plan: Plan, pods: readonly NamedPod[]): string[] {
  const routeHosts = new Set(
    plan.resources
      .filter((r) => r.type === "kubernetes:http.keda.sh/v1beta1:InterceptorRoute")
      .flatMap((r) =>
        list(rec(r.inputs["spec"])["rules"]).flatMap((rule) =>
          list(rec(rule)["hosts"]).map((h) => String(h).replace(/:\d+$/, "")),
        ),
      ),
  );
  const atInterceptor = new Set(interceptors(pods).map((p) => p.id));
  const out: string[] = [];
  for (const u of upstreams(plan, pods)) {
    if (u.clients.length === 0) {
      out.push(
        `${u.where}: ${u.clientName} would dial ${u.host}:${u.port}, but the stack does not run it`,
      );
    }
    const r = resolve(plan, pods, u);
    if (r.problem !== undefined) {
      out.push(`${u.where}: ${u.why} dials ${u.host}:${u.port}, but ${r.problem}`);
      continue;
    }
    if (r.targets.some((t) => atInterceptor.has(t.pod.id)) && !routeHosts.has(u.host)) {
      out.push(
        `${u.where}: ${u.why} reaches the HTTP add-on's interceptor with Host ${u.host}, which no InterceptorRoute names: it answers 404`,
      );
    }
  }
  return out;
}
