import { describe, expect, it } from "vitest";
import type { ConfigError } from "../../components/config";
import { validateStack } from "../../components/stack/validate";
import { SHIPPED_STACKS, evaluationOf } from "../helpers/plans";
import { shippedStackRaw } from "../helpers/stacks";

/**
 * `validateStack` makes the stack's decisions once, as data (`StackPlan`), and the program wires
 * its resources from that plan: what the plan says is what the evaluation registers.
 */
describe.each(SHIPPED_STACKS)("the plan of stack %s", (stack) => {
  it("is deterministic", () => {
    expect(validateStack(shippedStackRaw(stack)).plan).toEqual(
      validateStack(shippedStackRaw(stack)).plan,
    );
  });

  it("is what the program registers: placement, namespaces, records", async () => {
    const { plan } = validateStack(shippedStackRaw(stack));
    const ev = await evaluationOf(stack);
    expect(ev.outputs["placement"]).toEqual(plan.cluster.placement);
    const namespaces = ev.registrations
      .filter((r) => r.type === "kubernetes:core/v1:Namespace")
      .map((r) => (r.inputs["metadata"] as { name: string }).name);
    for (const tier of plan.tiers) expect(namespaces).toContain(tier.name);
    const records = ev.registrations.filter(
      (r) => r.type === "cloudflare:index/dnsRecord:DnsRecord",
    );
    expect(records).toHaveLength(plan.edge?.records.records.length ?? 0);
    const vms = ev.registrations.filter((r) => r.type === "proxmoxve:index/vmLegacy:VmLegacy");
    expect(vms).toHaveLength(plan.cluster.nodes.length);
  });
});

describe("settings that cannot take effect are refused at their key", () => {
  const problemsOf = (raw: Record<string, unknown>, exists?: (p: string) => boolean) => {
    try {
      validateStack(raw, exists !== undefined ? { exists } : {});
      return [];
    } catch (err) {
      return (err as ConfigError).problems;
    }
  };
  const prod = () => structuredClone(shippedStackRaw("prod")) as Record<string, any>;

  it("an ingress target while the tunnel is on", () => {
    const raw = prod();
    raw["edge"].ingressTarget = "edge.homebrew.example";
    expect(problemsOf(raw)).toEqual([
      "homebrew-dev:edge.ingressTarget: has no effect while the tunnel is on (platform.ingress.enabled): exposed names point at the tunnel; remove it, or turn the ingress off to point them here",
    ]);
    raw["platform"].ingress = { enabled: false };
    expect(problemsOf(raw)).toEqual([]);
  });

  it("a Grafana hostname while observability is off", () => {
    const raw = prod();
    raw["platform"].observability.enabled = false;
    expect(problemsOf(raw)).toEqual([
      "homebrew-dev:platform.observability.grafanaHostname: has no effect while observability is off (platform.observability.enabled): there is no Grafana to expose",
    ]);
  });

  it("a build context or Dockerfile that is not in the project", () => {
    const raw = prod();
    expect(problemsOf(raw)).toEqual([]);
    raw["builds"].images[0].context = "apps/hello-apj";
    expect(problemsOf(raw)).toEqual([
      "homebrew-dev:builds.images[0].context: no directory apps/hello-apj in the project",
    ]);
    expect(problemsOf(prod(), (p) => !p.endsWith("Dockerfile"))).toEqual([
      "homebrew-dev:builds.images[0].dockerfile: no file apps/hello-api/Dockerfile",
    ]);
  });
});
