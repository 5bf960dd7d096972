import { describe, expect, it } from "vitest";
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
