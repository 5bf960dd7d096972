import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { runPolicies } from "../../policies/harness";
import { PACK_NAME, packEnvironment, policiesFor } from "../../policies/pack";
import {
  SECRET,
  buildPlan,
  displayValue,
  type Plan,
  type PolicyLevel,
  type PolicyResult,
} from "./render";
import type { Evaluation } from "./run";

/**
 * Runs the policy pack over an evaluation, with the enforcement levels of the stack's environment
 * tier (the `environment` output of the program).
 *
 * Policies see what the engine hands a pack: secret values unwrapped (the engine sends them
 * marked, and `@pulumi/policy` unwraps them before a policy runs), so a secret that reaches a
 * place where only a reference belongs is found offline as it is under `pulumi preview`. What
 * leaves this function is masked again: a violation message never carries a secret value.
 */
export async function checkPlan(
  ev: Evaluation,
): Promise<{ policies: PolicyResult[]; policyPack: Plan["policyPack"] }> {
  const revealed = buildPlan(ev, { showSecrets: true });
  const env = packEnvironment(
    typeof revealed.outputs["environment"] === "string"
      ? revealed.outputs["environment"]
      : undefined,
  );
  const policies = policiesFor(env);
  const violations = await runPolicies(revealed.resources, policies);
  const mask = secretMasker(ev);
  return {
    policies: violations.map((v) => ({
      ...v,
      message: mask(v.message),
      level: v.level as PolicyLevel,
    })),
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

/** Every text a secret of the evaluation reveals: its string leaves, and its JSON form. */
export function secretTexts(ev: Evaluation): string[] {
  const found = new Set<string>();
  const leaves = (v: unknown): void => {
    if (typeof v === "string") found.add(v);
    else if (typeof v === "number" || typeof v === "boolean") found.add(String(v));
    else if (Array.isArray(v)) v.forEach(leaves);
    else if (v !== null && typeof v === "object") Object.values(v).forEach(leaves);
  };
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (v === null || typeof v !== "object") return;
    const obj = v as Record<string, unknown>;
    if (obj[specialSigKey] === specialSecretSig) {
      const plain = displayValue(obj["value"], true);
      leaves(plain);
      if (typeof plain !== "string") found.add(JSON.stringify(plain));
      return;
    }
    Object.values(obj).forEach(walk);
  };
  for (const r of ev.registrations) walk(r.inputs);
  walk(ev.outputs);
  found.delete("");
  found.delete(SECRET);
  return [...found].sort((a, b) => b.length - a.length || a.localeCompare(b));
}

/**
 * A function that replaces every secret text of the evaluation in a message by `[secret]`. A text
 * is replaced where it stands on its own (not inside a longer word or number): secrets include
 * short values such as a database user name, which would otherwise cut up every word that
 * contains them; a secret joined to other text is still caught, as the whole joined value is a
 * secret text of its own.
 */
export function secretMasker(ev: Evaluation): (message: string) => string {
  const patterns = secretTexts(ev).map(
    (t) =>
      new RegExp(`(?<![A-Za-z0-9])${t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![A-Za-z0-9])`, "g"),
  );
  return (message) => patterns.reduce((m, p) => m.replace(p, SECRET), message);
}
