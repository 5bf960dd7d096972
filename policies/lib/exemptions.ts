/**
 * Per-resource policy exemptions: an annotation on the Kubernetes object names one advisory rule
 * and says why the object does not meet it. The reason travels with the object, so it shows in
 * the plan, in the pull-request comment and on the cluster (`kubectl get -o yaml`).
 *
 *   metadata.annotations["exempt.policy.homebrew.dev/<rule>"] = "<reason>"
 *
 * Only advisory rules can be exempted; an exemption of a mandatory rule is itself a violation.
 * An exemption that exempts nothing (the rule would pass without it) is a violation of the rule,
 * so a fixed resource loses its exemption in the same change.
 */
export const EXEMPTION_PREFIX = "exempt.policy.homebrew.dev/";

/**
 * The rules an exemption may name: advisory in every environment, and about hardening that an
 * upstream image can make impossible. Everything that guards data, access or the cluster is not
 * exemptable.
 */
export const EXEMPTABLE = ["image-digest-preferred", "k8s-read-only-root-filesystem"] as const;

/* eslint-disable @typescript-eslint/no-explicit-any -- resource properties are untyped JSON. */
export interface Exemption {
  readonly policy: string;
  readonly reason: string;
}

/** The exemptions an object's annotations declare, by rule name, sorted. */
export function exemptionsOf(props: Record<string, any> | undefined): Exemption[] {
  const annotations = props?.["metadata"]?.annotations;
  if (annotations === null || typeof annotations !== "object") return [];
  return Object.entries(annotations as Record<string, unknown>)
    .filter(([k]) => k.startsWith(EXEMPTION_PREFIX))
    .map(([k, v]) => ({ policy: k.slice(EXEMPTION_PREFIX.length), reason: String(v ?? "") }))
    .sort((a, b) => a.policy.localeCompare(b.policy));
}

/** The annotations that declare these exemptions (a reason may not be empty). */
export function exemptionAnnotations(
  reasons: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [policy, reason] of Object.entries(reasons).sort(([a], [b]) => a.localeCompare(b))) {
    if (reason === undefined) continue;
    if (reason.trim() === "") throw new Error(`the exemption from ${policy} needs a reason`);
    out[`${EXEMPTION_PREFIX}${policy}`] = reason;
  }
  return out;
}
