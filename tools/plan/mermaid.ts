import type { Plan, PlanResource } from "./render";

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

export function renderMermaid(plan: Plan): string {
  const lines = ["flowchart LR"];
  const of = (type: string) => plan.resources.filter((r) => r.type === type);

  const vms = of("proxmoxve:index/vmLegacy:VmLegacy");
  const hosts = [...new Set(vms.map((v) => String(inputs(v)["nodeName"])))].sort();
  if (hosts.length > 0) {
    lines.push(`  subgraph proxmox[${label("Proxmox VE")}]`);
    for (const host of hosts) {
      lines.push(`    subgraph ${id("host", host)}[${label(host)}]`);
      const names = vms
        .filter((v) => inputs(v)["nodeName"] === host)
        .map((v) => String(inputs(v)["name"]))
        .sort();
      for (const n of names) lines.push(`      ${id("vm", n)}[${label(n)}]`);
      lines.push("    end");
    }
    lines.push("  end");
  }

  const endpoint =
    typeof plan.outputs["kubernetesApi"] === "string" ? plan.outputs["kubernetesApi"] : "";
  const workloads = plan.resources.filter((r) =>
    ["kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet"].includes(r.type),
  );
  if (vms.length > 0 || workloads.length > 0) {
    lines.push(`  k8s((${label(`Kubernetes${endpoint ? `<br/>${endpoint}` : ""}`)}))`);
    if (hosts.length > 0) lines.push("  proxmox --> k8s");
  }
  const namespaces = [
    ...new Set(workloads.map((w) => String(inputs(w)["metadata"]?.namespace))),
  ].sort();
  const workloadIds = new Set<string>();
  for (const ns of namespaces) {
    lines.push(`  subgraph ${id("ns", ns)}[${label(`namespace ${ns}`)}]`);
    for (const w of workloads.filter((x) => inputs(x)["metadata"]?.namespace === ns)) {
      const name = String(inputs(w)["metadata"]?.name);
      workloadIds.add(id("wl", `${ns}_${name}`));
      lines.push(`    ${id("wl", `${ns}_${name}`)}[${label(name)}]`);
    }
    lines.push("  end");
    lines.push(`  k8s --> ${id("ns", ns)}`);
  }

  // Public names: tunnel routes point at services; a service shares its workload's name.
  const routes = of(
    "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig",
  ).flatMap((r) => (inputs(r)["config"]?.ingresses ?? []) as Obj[]);
  const records = of("cloudflare:index/dnsRecord:DnsRecord").map((r) => String(inputs(r)["name"]));
  const names = [
    ...new Set([...routes.map((r) => r["hostname"]).filter(Boolean), ...records]),
  ].sort();
  if (names.length > 0) {
    const { shown, more } = limited(names);
    lines.push(`  subgraph dns[${label("Cloudflare DNS")}]`);
    for (const n of shown) lines.push(`    ${id("dns", n)}[${label(n)}]`);
    if (more > 0) lines.push(`    dns_more[${label(`+${more} more names`)}]`);
    lines.push("  end");
    for (const route of routes) {
      const m = /^https?:\/\/([^.]+)\.([^.]+)\.svc/.exec(String(route["service"] ?? ""));
      if (!m || !shown.includes(route["hostname"])) continue;
      const target = id("wl", `${m[2]}_${m[1]}`);
      if (workloadIds.has(target)) lines.push(`  ${id("dns", route["hostname"])} --> ${target}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
