import { runPolicies } from "../../policies/harness";
import { PACK_NAME, packEnvironment, policiesFor } from "../../policies/pack";
import type { Plan, PolicyLevel, PolicyResult } from "./render";

/**
 * Runs the policy pack over a plan, with the enforcement levels of the stack's environment tier
 * (the `environment` output of the program).
 */
export async function checkPlan(
  plan: Plan,
): Promise<{ policies: PolicyResult[]; policyPack: Plan["policyPack"] }> {
  const env = packEnvironment(
    typeof plan.outputs["environment"] === "string" ? plan.outputs["environment"] : undefined,
  );
  const policies = policiesFor(env);
  const violations = await runPolicies(plan.resources, policies);
  return {
    policies: violations.map((v) => ({ ...v, level: v.level as PolicyLevel })),
    policyPack: {
      name: PACK_NAME,
      policies: policies
        .map((p) => ({
          name: p.name,
          enforcementLevel: (p.enforcementLevel ?? "advisory") as PolicyLevel,
        }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    },
  };
}
