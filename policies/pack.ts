import type { EnforcementLevel, Policies } from "@pulumi/policy";
import { addonPolicies } from "./rules/addons";
import { cloudflareResourcePolicies, cloudflareStackPolicies } from "./rules/cloudflare";
import { imagePolicies } from "./rules/images";
import { kubernetesPolicies } from "./rules/kubernetes";
import { proxmoxPolicies } from "./rules/proxmox";
import { stackPolicies } from "./rules/stack";

/** The pack's name, as `pulumi preview --policy-pack policies` reports it. */
export const PACK_NAME = "homebrew-dev";

export const Environment = { dev: "dev", staging: "staging", prod: "prod" } as const;
export type Environment = (typeof Environment)[keyof typeof Environment];

/** Every policy with its default enforcement level. */
export const allPolicies: Policies = [
  ...kubernetesPolicies,
  ...imagePolicies,
  ...addonPolicies,
  ...proxmoxPolicies,
  ...cloudflareResourcePolicies,
  ...stackPolicies,
  ...cloudflareStackPolicies,
];

/**
 * Stricter in production: what is advice in dev and staging is mandatory in prod where a
 * mistake costs data or availability. Everything else keeps its default.
 */
export const PROD_MANDATORY = [
  "protect-stateful-resources",
  "proxmox-protect-control-planes",
  "k8s-no-privilege-escalation",
  "k8s-drop-all-capabilities",
  "k8s-seccomp-runtime-default",
  "k8s-run-as-non-root",
  "pdb-for-replicated-workloads",
];

export function enforcementFor(
  policy: string,
  fallback: EnforcementLevel | undefined,
  env: Environment,
): EnforcementLevel {
  if (env === "prod" && PROD_MANDATORY.includes(policy)) return "mandatory";
  return fallback ?? "advisory";
}

/** The policies of an environment with their levels set. */
export function policiesFor(env: Environment): Policies {
  return allPolicies.map((p) => ({
    ...p,
    enforcementLevel: enforcementFor(p.name, p.enforcementLevel, env),
  }));
}

/** The environment a pack run enforces: HOMEBREW_ENVIRONMENT, else the strictest. */
export function packEnvironment(value = process.env["HOMEBREW_ENVIRONMENT"]): Environment {
  return value === "dev" || value === "staging" || value === "prod" ? value : "prod";
}
