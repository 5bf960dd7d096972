import {
  CHART_FOOTPRINTS,
  CLUSTER_DNS,
  PROMETHEUS_POD_LABEL,
  postgresInstances,
  type PodFootprint,
} from "../../components/catalog/footprints";
import { WORKLOADS } from "../../policies/rules/util";
import {
  allows,
  fromManifest,
  type Endpoint,
  type NetworkPolicy,
  type Pod,
  type Protocol,
} from "./network";
import { list, rec, type AnalysisPlan as Plan, type Obj } from "./analysis";
import { resolve, upstreamProblems, upstreams } from "./upstreams";

/**
 * The flows the platform needs to come up, checked against its NetworkPolicies with Kubernetes'
 * semantics (./network.ts). The pods are the plan's workloads and the footprints of what the
 * charts and Talos run (components/catalog/footprints.ts); the flows are:
 * - every pod to the cluster DNS (UDP and TCP 53);
 * - Prometheus to every target of every PodMonitor, on the port it names;
 * - the log agent to the log store;
 * - the tunnel connector to the pods behind every exposed name;
 * - every pod that talks to the Kubernetes API to the API server, at the `kubernetes` Service
 *   address and at the control planes' own addresses (implementations match before or after the
 *   Service's address translation);
 * - the API server, from the control planes' addresses, to every webhook it calls.
 */

/** A pod of the universe: who it is (for messages) and how policies see it. */
export interface NamedPod {
  readonly id: string;
  readonly pod: Pod;
  /** It talks to the Kubernetes API. */
  readonly apiServer: boolean;
  /** Ports the API server calls (admission webhooks). */
  readonly webhookPorts: readonly number[];
}

export interface Flow {
  readonly why: string;
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly protocol: Protocol;
  readonly connection: { readonly from: Endpoint; readonly to: Endpoint };
}

export interface FlowFinding {
  readonly flow: Flow;
  readonly message: string;
}

const METADATA_NAME = "kubernetes.io/metadata.name";

function namespaceLabels(plan: Plan): (ns: string) => Record<string, string> {
  const labels = new Map<string, Record<string, string>>();
  for (const r of plan.resources.filter((x) => x.type === "kubernetes:core/v1:Namespace")) {
    const m = rec(r.inputs["metadata"]);
    if (typeof m["name"] === "string") {
      labels.set(m["name"], { ...(rec(m["labels"]) as Record<string, string>) });
    }
  }
  // The API server labels every namespace with its name (Kubernetes 1.22+).
  return (ns) => ({ ...(labels.get(ns) ?? {}), [METADATA_NAME]: ns });
}

const toPod = (
  namespace: string,
  labels: Record<string, string>,
  ports: Pod["ports"],
  nsLabels: (ns: string) => Record<string, string>,
): Pod => ({ namespace, namespaceLabels: nsLabels(namespace), labels, ports: ports ?? [] });

/** The plan's workloads as pods (one per template), with their container ports. */
function planPods(plan: Plan, nsLabels: (ns: string) => Record<string, string>): NamedPod[] {
  const pods: NamedPod[] = [];
  for (const r of plan.resources) {
    const spec = WORKLOADS[r.type]?.(r.inputs);
    if (spec === undefined) continue;
    const meta = rec(r.inputs["metadata"]);
    const template =
      r.type === "kubernetes:core/v1:Pod"
        ? meta
        : rec(rec(rec(r.inputs["spec"])["template"])["metadata"]);
    const jobTemplate =
      r.type === "kubernetes:batch/v1:CronJob"
        ? rec(rec(rec(rec(rec(r.inputs["spec"])["jobTemplate"])["spec"])["template"])["metadata"])
        : template;
    const labels = rec(jobTemplate["labels"]) as Record<string, string>;
    const ports = list(spec["containers"]).flatMap((c) =>
      list(rec(c)["ports"]).map((p) => {
        const port = rec(p);
        return {
          ...(typeof port["name"] === "string" ? { name: port["name"] } : {}),
          port: Number(port["containerPort"]),
          ...(typeof port["protocol"] === "string"
            ? { protocol: port["protocol"] as Protocol }
            : {}),
        };
      }),
    );
    const namespace = typeof meta["namespace"] === "string" ? meta["namespace"] : "default";
    pods.push({
      id: `${namespace}/${String(meta["name"] ?? r.name)}`,
      pod: toPod(namespace, labels, ports, nsLabels),
      apiServer: spec["automountServiceAccountToken"] === true,
      webhookPorts: [],
    });
  }
  return pods;
}

function footprintPod(f: PodFootprint, nsLabels: (ns: string) => Record<string, string>): NamedPod {
  return {
    id: `${f.namespace}/${f.name}`,
    pod: toPod(f.namespace, { ...f.labels }, f.ports, nsLabels),
    apiServer: f.apiServer ?? false,
    webhookPorts: f.webhookPorts ?? [],
  };
}

/** The pods of the charts the plan installs, and of the objects operators turn into pods. */
function chartPods(plan: Plan, nsLabels: (ns: string) => Record<string, string>): NamedPod[] {
  const pods: NamedPod[] = [footprintPod(CLUSTER_DNS, nsLabels)];
  for (const r of plan.resources) {
    if (r.type === "kubernetes:postgresql.cnpg.io/v1:Cluster") {
      const m = rec(r.inputs["metadata"]);
      pods.push(
        footprintPod(
          postgresInstances(String(m["name"]), String(m["namespace"] ?? "default")),
          nsLabels,
        ),
      );
    }
    if (r.type === "kubernetes:helm.sh/v3:Release") {
      const chart = String(r.inputs["chart"] ?? "");
      const namespace =
        typeof r.inputs["namespace"] === "string" ? r.inputs["namespace"] : "default";
      const release = typeof r.inputs["name"] === "string" ? r.inputs["name"] : r.name;
      for (const f of CHART_FOOTPRINTS[chart]?.({
        release,
        namespace,
        values: rec(r.inputs["values"]),
      }) ?? []) {
        pods.push(footprintPod(f, nsLabels));
      }
    }
  }
  return pods;
}

const nodeAddresses = (plan: Plan, output: string): string[] =>
  list(plan.outputs?.[output]).map((s) => String(s).split(" ")[1] ?? "");

/** The address of the `kubernetes` Service: the first address of the service subnet. */
export const KUBERNETES_SERVICE_IP = "10.96.0.1";

/** Every pod the stack runs, and its NetworkPolicies. */
export function universe(plan: Plan): { pods: NamedPod[]; policies: NetworkPolicy[] } {
  const nsLabels = namespaceLabels(plan);
  return {
    pods: [...planPods(plan, nsLabels), ...chartPods(plan, nsLabels)],
    policies: plan.resources
      .filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy")
      .map((r) => fromManifest(r.inputs)),
  };
}

/** The port a pod serves under a name or number, or undefined. */
function resolvePort(pod: Pod, port: unknown): number | undefined {
  if (typeof port === "number") return port;
  if (typeof port === "string" && /^\d+$/.test(port)) return Number(port);
  return pod.ports?.find((p) => p.name === port)?.port;
}

function selected(
  pods: readonly NamedPod[],
  namespace: string | undefined,
  selector: Obj,
): NamedPod[] {
  const match = rec(selector["matchLabels"]) as Record<string, string>;
  return pods.filter(
    (p) =>
      (namespace === undefined || p.pod.namespace === namespace) &&
      Object.entries(match).every(([k, v]) => p.pod.labels[k] === v),
  );
}

/** The flows the stack needs (see the module comment). */
export function requiredFlows(plan: Plan): Flow[] {
  const { pods } = universe(plan);
  const flows: Flow[] = [];
  const add = (
    why: string,
    from: NamedPod | string,
    to: NamedPod | string,
    port: number,
    protocol: Protocol = "TCP",
  ) => {
    const endpoint = (x: NamedPod | string): Endpoint =>
      typeof x === "string" ? { address: { ip: x } } : { pod: x.pod };
    flows.push({
      why,
      from: typeof from === "string" ? from : from.id,
      to: typeof to === "string" ? to : to.id,
      port,
      protocol,
      connection: { from: endpoint(from), to: endpoint(to) },
    });
  };
  const dns = pods.find((p) => p.id === `${CLUSTER_DNS.namespace}/${CLUSTER_DNS.name}`)!;
  for (const p of pods) {
    if (p === dns) continue;
    add("cluster DNS", p, dns, 53, "UDP");
    add("cluster DNS", p, dns, 53, "TCP");
  }

  const prometheus = pods.filter(
    (p) =>
      p.pod.labels["app.kubernetes.io/name"] === PROMETHEUS_POD_LABEL["app.kubernetes.io/name"],
  );
  // The chart's kubelet ServiceMonitor (kubelet and cAdvisor metrics) scrapes every node.
  for (const ip of [
    ...nodeAddresses(plan, "controlPlaneNodes"),
    ...nodeAddresses(plan, "workerNodes"),
  ]) {
    for (const prom of prometheus) add("scrape (kubelet and cAdvisor)", prom, ip, 10250);
  }
  // The DCGM exporter's ServiceMonitor (dcgm-exporter chart default).
  for (const exporter of pods.filter(
    (p) => p.pod.labels["app.kubernetes.io/name"] === "dcgm-exporter",
  )) {
    for (const prom of prometheus)
      add("scrape (DCGM exporter ServiceMonitor)", prom, exporter, 9400);
  }
  // CloudNativePG: its PodMonitor (monitoring.enablePodMonitor) scrapes the instances on
  // `metrics`, and the operator reaches each instance's status port.
  for (const r of plan.resources.filter(
    (x) => x.type === "kubernetes:postgresql.cnpg.io/v1:Cluster",
  )) {
    const m = rec(r.inputs["metadata"]);
    const instances = pods.filter(
      (p) =>
        p.pod.namespace === m["namespace"] &&
        p.pod.labels["cnpg.io/cluster"] === m["name"] &&
        p.pod.labels["cnpg.io/podRole"] === "instance",
    );
    const operators = pods.filter(
      (p) => p.pod.labels["app.kubernetes.io/name"] === "cloudnative-pg",
    );
    for (const i of instances) {
      if (rec(rec(r.inputs["spec"])["monitoring"])["enablePodMonitor"] === true) {
        for (const prom of prometheus) add("scrape (CloudNativePG PodMonitor)", prom, i, 9187);
      }
      for (const o of operators) add("CloudNativePG instance status", o, i, 8000);
    }
  }
  for (const r of plan.resources.filter(
    (x) => x.type === "kubernetes:monitoring.coreos.com/v1:PodMonitor",
  )) {
    const namespace = String(rec(r.inputs["metadata"])["namespace"] ?? "default");
    const spec = rec(r.inputs["spec"]);
    for (const target of selected(pods, namespace, rec(spec["selector"]))) {
      for (const endpoint of list(spec["podMetricsEndpoints"])) {
        const port = resolvePort(target.pod, rec(endpoint)["port"]);
        for (const prom of prometheus) {
          if (port === undefined) continue;
          add(
            `scrape (PodMonitor ${namespace}/${String(rec(r.inputs["metadata"])["name"])})`,
            prom,
            target,
            port,
          );
        }
      }
    }
  }

  const agents = pods.filter((p) => p.pod.labels["app.kubernetes.io/name"] === "alloy");
  const stores = pods.filter((p) => p.pod.labels["app.kubernetes.io/name"] === "loki");
  for (const agent of agents) {
    for (const store of stores) {
      const port = resolvePort(store.pod, "http-metrics");
      if (port !== undefined) add("log shipping", agent, store, port);
    }
  }

  const connectors = pods.filter((p) => p.pod.labels["app.kubernetes.io/name"] === "cloudflared");
  const services = plan.resources.filter((r) => r.type === "kubernetes:core/v1:Service");
  for (const route of tunnelRoutes(plan)) {
    const { name, namespace, port } = route;
    const svc = services.find(
      (s) =>
        rec(s.inputs["metadata"])["name"] === name &&
        rec(s.inputs["metadata"])["namespace"] === namespace,
    );
    const targets =
      svc !== undefined
        ? selected(pods, namespace, { matchLabels: rec(rec(svc.inputs["spec"])["selector"]) })
        : pods.filter((p) => p.pod.namespace === namespace && serviceOfFootprint(p, name));
    const svcPort = list(rec(svc?.inputs["spec"])["ports"])
      .map(rec)
      .find((p) => Number(p["port"]) === port);
    for (const target of targets) {
      const targetPort = resolvePort(
        target.pod,
        svcPort?.["targetPort"] ?? svcPort?.["port"] ?? footprintPort(target, name),
      );
      for (const c of connectors) {
        if (targetPort !== undefined) add(`exposed name ${route.hostname}`, c, target, targetPort);
      }
    }
  }

  // Declared clients: an ingress rule that admits whole namespaces on named ports says their pods
  // connect there; their own egress must let them out (a half-open allowance is a dead one).
  for (const r of plan.resources.filter(
    (x) => x.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  )) {
    const np = fromManifest(r.inputs);
    for (const rule of np.ingress ?? []) {
      const ports = (rule.ports ?? []).filter((p) => typeof p.port === "number");
      if (ports.length === 0) continue;
      for (const peer of rule.peers ?? []) {
        const ns = peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"];
        if (ns === undefined || peer.podSelector !== undefined || peer.ipBlock !== undefined)
          continue;
        const targets = selected(pods, np.namespace, np.podSelector as Obj);
        for (const client of pods.filter((p) => p.pod.namespace === ns)) {
          for (const t of targets) {
            for (const port of ports) {
              add(
                `declared client (${np.namespace}/${np.name})`,
                client,
                t,
                Number(port.port),
                port.protocol ?? "TCP",
              );
            }
          }
        }
      }
    }
  }

  // The addresses the stack's configuration dials (./upstreams.ts): the gateway's routes, KEDA's
  // scalers, the interceptor's targets.
  const byId = new Map(pods.map((p) => [p.id, p]));
  for (const u of upstreams(plan, pods)) {
    for (const t of resolve(plan, pods, u).targets) {
      for (const c of u.clients) add(u.why, byId.get(c.id)!, byId.get(t.pod.id)!, t.port);
    }
  }

  const controlPlanes = nodeAddresses(plan, "controlPlaneNodes");
  for (const p of pods.filter((x) => x.apiServer)) {
    add("Kubernetes API (Service)", p, KUBERNETES_SERVICE_IP, 443);
    for (const ip of controlPlanes) add("Kubernetes API (control plane)", p, ip, 6443);
  }
  for (const p of pods) {
    for (const port of p.webhookPorts) {
      for (const ip of controlPlanes)
        add("admission webhook, called by the API server", ip, p, port);
    }
  }
  return flows;
}

/** The tunnel's routes to in-cluster Services: hostname, Service name, namespace and port. */
function tunnelRoutes(plan: Plan): {
  hostname: string;
  service: string;
  name: string;
  namespace: string;
  port: number;
  resource: string;
}[] {
  return plan.resources
    .filter(
      (x) =>
        x.type ===
        "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig",
    )
    .flatMap((r) =>
      list(rec(r.inputs["config"])["ingresses"]).flatMap((i) => {
        const ingress = rec(i);
        const m = /^https?:\/\/([a-z0-9-]+)\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?:(\d+)$/.exec(
          String(ingress["service"]),
        );
        return m === null
          ? []
          : [
              {
                hostname: String(ingress["hostname"]),
                service: String(ingress["service"]),
                name: m[1]!,
                namespace: m[2]!,
                port: Number(m[3]),
                resource: r.name,
              },
            ];
      }),
    );
}

/** Footprint pods stand for the chart Services the tunnel names (`<release>-grafana`). */
function serviceOfFootprint(p: NamedPod, service: string): boolean {
  return p.id.endsWith(`/${service}`);
}
function footprintPort(p: NamedPod, _service: string): string | number | undefined {
  return p.pod.ports?.[0]?.port;
}

/** Every required flow the NetworkPolicies block, with which flow and why it is needed. */
export function flowFindings(plan: Plan): FlowFinding[] {
  const { policies } = universe(plan);
  return requiredFlows(plan)
    .filter((f) => !allows(policies, { ...f.connection, port: f.port, protocol: f.protocol }))
    .map((flow) => ({
      flow,
      message: `${flow.from} → ${flow.to} ${flow.port}/${flow.protocol} (${flow.why}) is blocked by the NetworkPolicies`,
    }));
}

/** A problem of an endpoint: a probe, Service or monitor naming a port or pods that are not there. */
export interface EndpointFinding {
  readonly where: string;
  readonly message: string;
}

/**
 * Every probe port, Service target port, PodMonitor port and tunnel route names something that is
 * there: a named port the container declares, pods the selector selects, a Service that exists.
 */
export function endpointFindings(plan: Plan): EndpointFinding[] {
  const { pods } = universe(plan);
  const out: EndpointFinding[] = [];
  for (const r of plan.resources) {
    const spec = WORKLOADS[r.type]?.(r.inputs);
    if (spec === undefined) continue;
    const name = String(rec(r.inputs["metadata"])["name"] ?? r.name);
    for (const c of [...list(spec["containers"]), ...list(spec["initContainers"])].map(rec)) {
      const names = new Set(list(c["ports"]).map((p) => rec(p)["name"]));
      for (const kind of ["startupProbe", "readinessProbe", "livenessProbe"]) {
        const probe = rec(c[kind]);
        for (const handler of ["httpGet", "tcpSocket", "grpc"]) {
          const port = rec(probe[handler])["port"];
          if (typeof port === "string" && !/^\d+$/.test(port) && !names.has(port)) {
            out.push({
              where: `${name}.${String(c["name"])}.${kind}.${handler}.port`,
              message: `${name}: the ${kind} of container ${String(c["name"])} names port "${port}", which the container does not declare`,
            });
          }
        }
      }
    }
  }
  for (const r of plan.resources.filter((x) => x.type === "kubernetes:core/v1:Service")) {
    const meta = rec(r.inputs["metadata"]);
    const spec = rec(r.inputs["spec"]);
    const selector = rec(spec["selector"]);
    if (Object.keys(selector).length === 0) continue;
    const id = `${String(meta["namespace"] ?? "default")}/${String(meta["name"])}`;
    const targets = selected(pods, String(meta["namespace"] ?? "default"), {
      matchLabels: selector,
    });
    if (targets.length === 0) {
      out.push({ where: `${id}.spec.selector`, message: `Service ${id} selects no pod` });
      continue;
    }
    for (const port of list(spec["ports"]).map(rec)) {
      const target = port["targetPort"] ?? port["port"];
      for (const t of targets) {
        if (
          resolvePort(t.pod, target) === undefined ||
          (typeof target === "number" && !(t.pod.ports ?? []).some((p) => p.port === target))
        ) {
          out.push({
            where: `${id}.spec.ports.targetPort`,
            message: `Service ${id} sends port ${String(port["port"])} to ${JSON.stringify(target)}, which ${t.id} does not serve`,
          });
        }
      }
    }
  }
  for (const r of plan.resources.filter(
    (x) => x.type === "kubernetes:monitoring.coreos.com/v1:PodMonitor",
  )) {
    const meta = rec(r.inputs["metadata"]);
    const spec = rec(r.inputs["spec"]);
    const id = `${String(meta["namespace"])}/${String(meta["name"])}`;
    const targets = selected(pods, String(meta["namespace"]), rec(spec["selector"]));
    if (targets.length === 0)
      out.push({ where: `${id}.spec.selector`, message: `PodMonitor ${id} selects no pod` });
    for (const endpoint of list(spec["podMetricsEndpoints"]).map(rec)) {
      for (const t of targets) {
        if (resolvePort(t.pod, endpoint["port"]) === undefined) {
          out.push({
            where: `${id}.spec.podMetricsEndpoints.port`,
            message: `PodMonitor ${id} scrapes port ${JSON.stringify(endpoint["port"])}, which ${t.id} does not serve`,
          });
        }
      }
    }
  }
  for (const message of upstreamProblems(plan, pods)) {
    out.push({ where: message.split(": ")[0]!, message });
  }
  const services = plan.resources.filter((r) => r.type === "kubernetes:core/v1:Service");
  for (const route of tunnelRoutes(plan)) {
    const known =
      services.some(
        (s) =>
          rec(s.inputs["metadata"])["name"] === route.name &&
          rec(s.inputs["metadata"])["namespace"] === route.namespace,
      ) ||
      pods.some((p) => p.pod.namespace === route.namespace && serviceOfFootprint(p, route.name));
    if (!known) {
      out.push({
        where: `${route.resource}.config.ingresses[${route.hostname}]`,
        message: `the tunnel sends ${route.hostname} to ${route.service}, a Service the stack does not have`,
      });
    }
  }
  return out;
}

/** Which namespace's pods reach which namespace's pods on some port they serve. */
export interface Reachability {
  readonly namespaces: readonly string[];
  /** `allowed[i][j]`: some pod of namespaces[i] reaches some port of a pod in namespaces[j]. */
  readonly allowed: readonly (readonly boolean[])[];
}

/** The reachability matrix of the namespaces the stack creates (and kube-system). */
export function reachability(plan: Plan): Reachability {
  const { pods, policies } = universe(plan);
  const created = plan.resources
    .filter((r) => r.type === "kubernetes:core/v1:Namespace")
    .map((r) => String(rec(r.inputs["metadata"])["name"]));
  const namespaces = [...new Set([...created, "kube-system"])].filter((ns) =>
    pods.some((p) => p.pod.namespace === ns),
  );
  const allowed = namespaces.map((from) =>
    namespaces.map((to) =>
      pods
        .filter((p) => p.pod.namespace === from)
        .some((src) =>
          pods
            .filter((p) => p.pod.namespace === to && p !== src)
            .some((dst) =>
              (dst.pod.ports ?? []).some((port) =>
                allows(policies, {
                  from: { pod: src.pod },
                  to: { pod: dst.pod },
                  port: port.port,
                  protocol: port.protocol ?? "TCP",
                }),
              ),
            ),
        ),
    ),
  );
  return { namespaces, allowed };
}
