import { identity, type Plan, type PlanResource } from "./render";

/**
 * A Mermaid diagram of the system a plan describes: Proxmox hosts and their VMs, the cluster,
 * the workloads per namespace, and the public names with the services they reach. Built only
 * from the plan, so the README and a pull-request comment show the same picture.
 */

const id = (prefix: string, text: string) => `${prefix}_${text.replace(/[^A-Za-z0-9]/g, "_")}`;
const label = (text: string) => `"${text.replace(/"/g, "'")}"`;

// Plan inputs are untyped JSON; the diagram reads a few well-known fields.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;
const inputs = (r: PlanResource) => r.inputs as Obj;

/** Names listed per group before the rest is summarised, to keep diagrams readable. */
export const MAX_ITEMS = 12;

function limited<T>(items: readonly T[], max = MAX_ITEMS): { shown: T[]; more: number } {
  return { shown: items.slice(0, max), more: Math.max(0, items.length - max) };
}

/** Workload kinds the diagram draws, with where their name and namespace are. */
const WORKLOADS: Readonly<Record<string, (i: Obj) => { name: string; ns: string }>> = {
  "kubernetes:apps/v1:Deployment": (i) => ({
    name: i["metadata"]?.name,
    ns: i["metadata"]?.namespace,
  }),
  "kubernetes:apps/v1:StatefulSet": (i) => ({
    name: i["metadata"]?.name,
    ns: i["metadata"]?.namespace,
  }),
  "kubernetes:postgresql.cnpg.io/v1:Cluster": (i) => ({
    name: i["metadata"]?.name,
    ns: i["metadata"]?.namespace,
  }),
  "kubernetes:helm.sh/v3:Release": (i) => ({ name: i["name"] ?? i["chart"], ns: i["namespace"] }),
};

/**
 * The diagram of a plan; given the plan it is compared with, what the change adds is marked
 * `added` and what it removes is drawn too, marked `removed`.
 */
export function renderMermaid(plan: Plan, base?: Plan): string {
  const lines = ["flowchart LR"];
  const both = base !== undefined ? [...plan.resources, ...base.resources] : plan.resources;
  const inHead = new Set(plan.resources.map((r) => identity(r.urn)));
  const inBase = new Set((base?.resources ?? plan.resources).map((r) => identity(r.urn)));
  const added: string[] = [];
  const removed: string[] = [];
  const mark = (r: PlanResource, nodeId: string) => {
    if (base === undefined) return;
    const key = identity(r.urn);
    if (!inBase.has(key)) added.push(nodeId);
    else if (!inHead.has(key)) removed.push(nodeId);
  };
  const unique = (rs: PlanResource[]) => {
    const seen = new Set<string>();
    return rs.filter((r) => {
      const key = identity(r.urn);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  };
  const of = (type: string) => unique(both.filter((r) => r.type === type));

  const vms = of("proxmoxve:index/vmLegacy:VmLegacy");
  const hosts = [...new Set(vms.map((v) => String(inputs(v)["nodeName"])))].sort();
  if (hosts.length > 0) {
    lines.push(`  subgraph proxmox[${label("Proxmox VE")}]`);
    for (const host of hosts) {
      lines.push(`    subgraph ${id("host", host)}[${label(host)}]`);
      const here = vms
        .filter((v) => inputs(v)["nodeName"] === host)
        .sort((a, b) => String(inputs(a)["name"]).localeCompare(String(inputs(b)["name"])));
      for (const v of here) {
        const n = String(inputs(v)["name"]);
        lines.push(`      ${id("vm", n)}[${label(n)}]`);
        mark(v, id("vm", n));
      }
      lines.push("    end");
    }
    lines.push("  end");
  }

  const endpoint =
    typeof plan.outputs["kubernetesApi"] === "string" ? plan.outputs["kubernetesApi"] : "";
  const workloads = unique(both.filter((r) => WORKLOADS[r.type] !== undefined)).map((r) => ({
    r,
    ...WORKLOADS[r.type]!(inputs(r)),
  }));
  if (vms.length > 0 || workloads.length > 0) {
    lines.push(`  k8s((${label(`Kubernetes${endpoint ? `<br/>${endpoint}` : ""}`)}))`);
    if (hosts.length > 0) lines.push("  proxmox --> k8s");
  }
  // Every tier: the namespaces the program creates, with or without workloads of their own.
  const namespaces = [
    ...new Set([
      ...workloads.map((w) => String(w.ns)),
      ...of("kubernetes:core/v1:Namespace").map((n) => String(inputs(n)["metadata"]?.name)),
    ]),
  ].sort();
  const workloadIds = new Set<string>();
  for (const ns of namespaces) {
    lines.push(`  subgraph ${id("ns", ns)}[${label(`namespace ${ns}`)}]`);
    const here = workloads
      .filter((w) => String(w.ns) === ns)
      .sort((a, b) => String(a.name).localeCompare(String(b.name)));
    if (here.length === 0) lines.push(`    ${id("ns_empty", ns)}[${label("(no workload)")}]`);
    for (const w of here) {
      const wid = id("wl", `${ns}_${String(w.name)}`);
      if (workloadIds.has(wid)) continue;
      workloadIds.add(wid);
      lines.push(`    ${wid}[${label(String(w.name))}]`);
      mark(w.r, wid);
    }
    lines.push("  end");
    lines.push(`  k8s --> ${id("ns", ns)}`);
  }

  // Public names: every exposed one (a tunnel route); other records summarised past a limit.
  const routeResources = of(
    "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig",
  );
  const routesOf = (r: PlanResource | undefined) =>
    ((r !== undefined ? inputs(r)["config"]?.ingresses : undefined) ?? []) as Obj[];
  const headRoutes = plan.resources
    .filter((r) => r.type.endsWith(":ZeroTrustTunnelCloudflaredConfig"))
    .flatMap(routesOf);
  const baseRoutes = (base?.resources ?? [])
    .filter((r) => r.type.endsWith(":ZeroTrustTunnelCloudflaredConfig"))
    .flatMap(routesOf);
  const routes = routeResources.flatMap(routesOf);
  const exposed = [
    ...new Set(routes.map((r) => r["hostname"]).filter((h): h is string => typeof h === "string")),
  ].sort();
  const records = [
    ...new Set(of("cloudflare:index/dnsRecord:DnsRecord").map((r) => String(inputs(r)["name"]))),
  ]
    .filter((n) => !exposed.includes(n))
    .sort();
  if (exposed.length + records.length > 0) {
    const { shown, more } = limited(records);
    lines.push(`  subgraph dns[${label("Cloudflare DNS")}]`);
    const hostnames = (rs: Obj[]) => new Set(rs.map((r) => r["hostname"]));
    const [nowNames, wasNames] = [hostnames(headRoutes), hostnames(baseRoutes)];
    for (const n of exposed) {
      lines.push(`    ${id("dns", n)}[${label(n)}]`);
      if (base !== undefined && !wasNames.has(n)) added.push(id("dns", n));
      else if (base !== undefined && !nowNames.has(n)) removed.push(id("dns", n));
    }
    for (const n of shown) lines.push(`    ${id("dns", n)}[${label(n)}]`);
    if (more > 0) lines.push(`    dns_more[${label(`+${more} more records`)}]`);
    lines.push("  end");
    for (const route of routes) {
      const m = /^https?:\/\/([^.]+)\.([^.]+)\.svc/.exec(String(route["service"] ?? ""));
      if (!m) continue;
      const target = id("wl", `${m[2]}_${m[1]}`);
      if (workloadIds.has(target)) lines.push(`  ${id("dns", route["hostname"])} --> ${target}`);
    }
  }
  if (added.length + removed.length > 0) {
    lines.push("  classDef added fill:#e6ffec,stroke:#2da44e,stroke-width:2px");
    lines.push("  classDef removed fill:#ffebe9,stroke:#cf222e,stroke-dasharray:4 3");
    if (added.length > 0) lines.push(`  class ${[...new Set(added)].join(",")} added`);
    if (removed.length > 0) lines.push(`  class ${[...new Set(removed)].join(",")} removed`);
  }
  return `${lines.join("\n")}\n`;
}
