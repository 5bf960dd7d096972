import { describe, expect, it } from "vitest";
import { runPolicies } from "../../policies/harness";
import { EXEMPTION_PREFIX } from "../../policies/lib/exemptions";
import { policiesFor } from "../../policies/pack";
import { SHIPPED_STACKS, planOf } from "../helpers/plans";

/**
 * The shipped stacks meet their own policies: no violation at any level, and every deviation is a
 * per-resource exemption with its reason, which exempts something real (the rule finds it with
 * the exemption taken away).
 */
describe.each(SHIPPED_STACKS)("stack %s meets its own policies", (stack) => {
  it("has no policy violation, mandatory or advisory", async () => {
    const plan = await planOf(stack);
    expect(plan.policies).toEqual([]);
    expect(plan.summary.policies).toMatchObject({ mandatory: 0, advisory: 0 });
  });

  it("declares each exemption with a reason, and each one is needed", async () => {
    const plan = await planOf(stack);
    expect(plan.summary.policies.exemptions).toBe(plan.exemptions.length);
    for (const e of plan.exemptions) {
      expect(e.reason.trim().length, `${e.policy} on ${e.urn}`).toBeGreaterThan(20);
      const r = plan.resources.find((x) => x.urn === e.urn)!;
      const metadata = r.inputs["metadata"] as { annotations: Record<string, string> };
      const { [`${EXEMPTION_PREFIX}${e.policy}`]: _gone, ...rest } = metadata.annotations;
      const without = {
        ...r,
        inputs: { ...r.inputs, metadata: { ...metadata, annotations: rest } },
      };
      const found = await runPolicies([without], policiesFor("prod"));
      expect(
        found.filter((f) => f.policy === e.policy).length,
        `${e.policy} on ${e.urn}`,
      ).toBeGreaterThan(0);
    }
  });
});

describe("the prod stack's exemptions", () => {
  it("are the images without a recorded digest and vLLM's writable root, nothing else", async () => {
    const plan = await planOf("prod");
    const byRule = (rule: string) =>
      plan.exemptions
        .filter((e) => e.policy === rule)
        .map((e) => e.urn.split("::").pop())
        .sort();
    expect(byRule("k8s-read-only-root-filesystem")).toEqual([
      "model-embed-server",
      "model-qwen-7b-server",
    ]);
    expect(byRule("image-digest-preferred")).toEqual([
      "data-valkey",
      "model-embed-server",
      "model-gateway-deployment",
      "model-qwen-7b-server",
      "model-qwen-coder-server",
      "model-tiny-cpu-server",
      "platform-ingress-cloudflared",
      "platform-kubelet-serving-cert-approver-deployment-kubelet-serving-cert-approver",
    ]);
    // RabbitMQ and the pre-pull image run by digest, read-only.
    const rabbitmq = plan.resources.find((r) => r.urn.endsWith("::data-rabbitmq"))!;
    expect(JSON.stringify(rabbitmq.inputs)).toContain(
      "rabbitmq:4.1.8@sha256:13b585c6d193b7539c72b69a3b284635011e187b952e43e92d771535baff5d87",
    );
    expect(JSON.stringify(rabbitmq.inputs)).not.toContain(EXEMPTION_PREFIX);
  });
});
