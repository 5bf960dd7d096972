import { ssaFindings } from "./ssa";
import { storageFindings } from "./storage";
import {
  specialArchiveSig,
  specialAssetSig,
  specialResourceSig,
  specialSecretSig,
  specialSigKey,
  unknownValue,
} from "@pulumi/pulumi/runtime/rpc";
import {
  UNKNOWN_PART,
  physicalNames,
  type LifecycleFacts,
} from "../../components/catalog/lifecycle";
import { exemptionsOf } from "../../policies/lib/exemptions";
import { alertFindings } from "./alerts";
import type { AnalysisPlan } from "./analysis";
import {
  endpointFindings,
  flowFindings,
  reachability,
  requiredFlows,
  type Reachability,
} from "./flows";
import { ownershipFindings, type Finding } from "./lifecycle";
import { resourceUrn, type Registration } from "./monitor";
import type { Evaluation } from "./run";
import { schedulingFindings } from "./scheduling";
import { secretDigests, secretViews } from "./views";
import { coldStartFindings } from "./coldStart";
import { autoscalerFindings } from "./autoscalers";

/** The placeholder every secret value is shown as unless secrets are asked for. */
export const SECRET = "[secret]";
/** The placeholder of a value that is not known before deployment. */
export const UNKNOWN = "[unknown]";

/**
 * The whole-cluster checks every plan runs, each a kind of plan error: the flows the platform
 * needs (./flows.ts), its endpoints, scheduling (./scheduling.ts), volume claims that bind
 * (./storage.ts), keyed lists without a duplicate key (./ssa.ts), alerts (./alerts.ts) and models
 * scaled to zero against what wakes them (./coldStart.ts; a cold start longer than the wake is a
 * warning) and workloads with two autoscalers (./autoscalers.ts).
 */
export const CLUSTER_CHECKS = [
  "network-flow",
  "endpoint",
  "scheduling",
  "storage",
  "server-side-apply",
  "alert-metric",
  "cold-start",
  "autoscaler",
] as const;
export type ClusterCheck = (typeof CLUSTER_CHECKS)[number];

const CLUSTER_CHECK_RUNS: Readonly<
  Record<
    ClusterCheck,
    (
      plan: AnalysisPlan,
    ) => readonly { readonly message: string; readonly level?: "error" | "warning" }[]
  >
> = {
  "network-flow": flowFindings,
  endpoint: endpointFindings,
  scheduling: schedulingFindings,
  storage: storageFindings,
  "server-side-apply": ssaFindings,
  "alert-metric": alertFindings,
  "cold-start": coldStartFindings,
  autoscaler: autoscalerFindings,
};

/** Whether a finding comes from a whole-cluster check (the head of a diff alone has it). */
export const isClusterCheck = (check: string): check is ClusterCheck =>
  (CLUSTER_CHECKS as readonly string[]).includes(check);

export interface PlanResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent: string;
  readonly provider: string;
  readonly dependsOn: readonly string[];
  /** Inputs that take other resources' outputs, and the URNs they come from. */
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
  readonly protect: boolean;
  /** Replaced by deleting the old one first (the resource option), not create-then-delete. */
  readonly deleteBeforeReplace: boolean;
  /** Input paths the program tells Pulumi to ignore after creation. */
  readonly ignoreChanges: readonly string[];
  /** Input paths whose change the program tells Pulumi to treat as a replacement. */
  readonly replaceOnChanges: readonly string[];
  /** The physical names this resource owns in a real system (see `physicalNames`). */
  readonly owns: readonly string[];
  /** Earlier URNs of the resource (its `aliases` option): the engine matches the state by them. */
  readonly aliases: readonly string[];
  readonly inputs: Record<string, unknown>;
  /** A keyed digest of each secret input, by path: secret changes show without their values. */
  readonly secretDigests?: Readonly<Record<string, string>>;
  /** Redacted views of secret machine configs, by input path (`views.ts`). */
  readonly views?: Readonly<Record<string, Record<string, unknown>>>;
}

export type PolicyLevel = "mandatory" | "advisory" | "remediate" | "disabled";

export interface PolicyResult {
  readonly policy: string;
  readonly level: PolicyLevel;
  readonly urn: string;
  readonly message: string;
}

/** A resource's declared exemption from an advisory rule (policies/lib/exemptions.ts). */
export interface PlanExemption {
  readonly policy: string;
  readonly urn: string;
  readonly reason: string;
}

export interface Plan {
  readonly project: string;
  readonly stack: string;
  /** What the lifecycle analysis needs to know of the stack beyond its resources. */
  readonly facts: LifecycleFacts;
  readonly resources: readonly PlanResource[];
  readonly outputs: Record<string, unknown>;
  readonly policies: readonly PolicyResult[];
  /** Every exemption a resource declares, with its reason, sorted by resource and rule. */
  readonly exemptions: readonly PlanExemption[];
  /**
   * Whether the stack comes up: how many of the flows it needs its NetworkPolicies allow, and
   * which namespace reaches which (the whole-cluster findings are in `findings`).
   */
  readonly comesUp: {
    readonly flows: number;
    readonly flowsBlocked: number;
    readonly reachability: Reachability;
  };
  /** What the lifecycle analysis found in this plan alone (two owners of one name, ...). */
  readonly findings: readonly Finding[];
  /** The pack the plan ran, with every policy's level for this environment. */
  readonly policyPack: {
    readonly name: string;
    readonly policies: readonly { readonly name: string; readonly enforcementLevel: PolicyLevel }[];
  };
  readonly summary: {
    readonly resources: number;
    readonly components: number;
    readonly protected: number;
    readonly byType: Record<string, number>;
    readonly policies: {
      readonly mandatory: number;
      readonly advisory: number;
      readonly exemptions: number;
    };
    readonly findings: { readonly errors: number; readonly warnings: number };
  };
}

/**
 * Turns a serialized property value into plan JSON: secrets masked (or revealed), unknowns and
 * resource references made readable, object keys sorted so output is byte-stable.
 */
export function displayValue(value: unknown, showSecrets: boolean): unknown {
  if (value === unknownValue) return UNKNOWN;
  if (Array.isArray(value)) return value.map((v) => displayValue(v, showSecrets));
  if (value === null || typeof value !== "object") return value;
  const obj = value as Record<string, unknown>;
  switch (obj[specialSigKey]) {
    case specialSecretSig:
      return showSecrets ? displayValue(obj["value"], showSecrets) : SECRET;
    case specialResourceSig:
      return obj["urn"];
    case specialAssetSig:
    case specialArchiveSig: {
      const { [specialSigKey]: _sig, ...rest } = obj;
      return { asset: displayValue(rest, showSecrets) };
    }
    default:
      break;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj).sort()) {
    out[key] = displayValue(obj[key], showSecrets);
  }
  return out;
}

/** The URNs a registration's aliases stand for, as the engine computes them. */
function aliasUrns(r: Registration, stack: string, project: string): string[] {
  const urns = r.aliases.map((a) => {
    if (typeof a["urn"] === "string") return a["urn"];
    const parent =
      a["noParent"] === true ? "" : typeof a["parentUrn"] === "string" ? a["parentUrn"] : r.parent;
    const str = (k: string, d: string) => (typeof a[k] === "string" ? (a[k] as string) : d);
    return resourceUrn(
      str("stack", stack),
      str("project", project),
      parent,
      str("type", r.type),
      str("name", r.name),
    );
  });
  return [...new Set(urns)].sort();
}

const nonEmpty = <K extends string, V extends object>(key: K, value: V): Partial<Record<K, V>> =>
  Object.keys(value).length > 0 ? ({ [key]: value } as Record<K, V>) : {};

/** A URN without `urn:pulumi:<stack>::`: what names a resource across stacks and versions. */
export function identity(urn: string): string {
  return urn.replace(/^urn:pulumi:[^:]+::/, "");
}

/** `urn::id` provider references become the provider's URN. */
function providerUrn(ref: string): string {
  const at = ref.lastIndexOf("::");
  return at > 0 ? ref.slice(0, at) : ref;
}

export function buildPlan(
  ev: Evaluation,
  opts: {
    showSecrets: boolean;
    policies?: readonly PolicyResult[];
    policyPack?: Plan["policyPack"];
  },
): Plan {
  const facts = ev.facts;
  // The cluster each Kubernetes provider talks to, by provider URN: its `clusterIdentifier`.
  const clusters = new Map<string, string>();
  for (const r of ev.registrations) {
    if (r.type !== "pulumi:providers:kubernetes") continue;
    const id = (displayValue(r.inputs, false) as Record<string, unknown>)["clusterIdentifier"];
    clusters.set(r.urn, typeof id === "string" ? id : UNKNOWN_PART);
  }
  const resources: PlanResource[] = ev.registrations
    .map((r) => {
      const inputs = displayValue(r.inputs, opts.showSecrets) as Record<string, unknown>;
      // Names are taken from what the plan shows: a secret or unknown part stays unknown.
      const shown = opts.showSecrets
        ? (displayValue(r.inputs, false) as Record<string, unknown>)
        : inputs;
      return {
        urn: r.urn,
        type: r.type,
        name: r.name,
        parent: r.parent,
        provider: providerUrn(r.provider),
        dependsOn: [...new Set(r.dependsOn)].sort(),
        propertyDependencies: r.propertyDependencies,
        protect: r.protect,
        deleteBeforeReplace: r.deleteBeforeReplace,
        ignoreChanges: [...r.ignoreChanges].sort(),
        replaceOnChanges: [...r.replaceOnChanges].sort(),
        owns: physicalNames(
          r.type,
          shown,
          facts,
          r.type.startsWith("kubernetes:")
            ? (clusters.get(providerUrn(r.provider)) ?? "default")
            : undefined,
        ),
        aliases: aliasUrns(r, ev.stack, ev.project),
        inputs,
        ...nonEmpty("secretDigests", secretDigests(identity(r.urn), r.inputs)),
        ...nonEmpty("views", secretViews(r.inputs)),
      };
    })
    .sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
  const findings = ownershipFindings(resources);
  const byType: Record<string, number> = {};
  for (const r of resources) byType[r.type] = (byType[r.type] ?? 0) + 1;
  const policies = [...(opts.policies ?? [])].sort(
    (a, b) => a.urn.localeCompare(b.urn) || a.policy.localeCompare(b.policy),
  );
  // Taken from what the plan shows (a secret annotation stays a secret).
  const exemptions = resources.flatMap((r) =>
    r.type.startsWith("kubernetes:")
      ? exemptionsOf(r.inputs).map((e) => ({ policy: e.policy, urn: r.urn, reason: e.reason }))
      : [],
  );
  // Whether the stack comes up: each whole-cluster check's findings are plan errors.
  const stackUrn = resources.find((r) => r.type === "pulumi:pulumi:Stack")?.urn ?? "";
  const outputs = displayValue(ev.outputs, opts.showSecrets) as Record<string, unknown>;
  const analysed = { resources, outputs };
  for (const check of CLUSTER_CHECKS) {
    for (const f of CLUSTER_CHECK_RUNS[check](analysed)) {
      findings.push({ check, level: f.level ?? "error", urn: stackUrn, message: f.message });
    }
  }
  const comesUp = {
    flows: requiredFlows(analysed).length,
    flowsBlocked: findings.filter((f) => f.check === "network-flow").length,
    reachability: reachability(analysed),
  };
  return {
    project: ev.project,
    stack: ev.stack,
    facts,
    resources,
    outputs,
    policies,
    exemptions,
    comesUp,
    findings,
    policyPack: opts.policyPack ?? { name: "", policies: [] },
    summary: {
      resources: resources.length,
      components: resources.filter((r) => !isCustom(r)).length,
      protected: resources.filter((r) => r.protect).length,
      byType: Object.fromEntries(Object.entries(byType).sort(([a], [b]) => a.localeCompare(b))),
      policies: {
        mandatory: policies.filter((p) => p.level === "mandatory").length,
        advisory: policies.filter((p) => p.level === "advisory").length,
        exemptions: exemptions.length,
      },
      findings: {
        errors: findings.filter((f) => f.level === "error").length,
        warnings: findings.filter((f) => f.level === "warning").length,
      },
    },
  };
}

/** Component resources (and the stack) have a three-part type with a package of our own. */
function isCustom(r: PlanResource): boolean {
  return !(r.type === "pulumi:pulumi:Stack" || r.type.startsWith("homebrew-dev:"));
}

export function renderJson(plan: Plan): string {
  return `${JSON.stringify(plan, null, 2)}\n`;
}

/** The human view: the resource tree, counts by type, outputs and policy results. */
export function renderText(plan: Plan): string {
  const children = new Map<string, PlanResource[]>();
  for (const r of plan.resources) {
    const list = children.get(r.parent) ?? [];
    list.push(r);
    children.set(r.parent, list);
  }
  const order = (a: PlanResource, b: PlanResource) => {
    const ca = children.has(a.urn) ? 1 : 0;
    const cb = children.has(b.urn) ? 1 : 0;
    // Leaves first, then components, each by type and name: stable and easy to scan.
    return ca - cb || a.type.localeCompare(b.type) || a.name.localeCompare(b.name);
  };
  const descendants = (urn: string): number =>
    (children.get(urn) ?? []).reduce((n, c) => n + 1 + descendants(c.urn), 0);
  const violations = new Map<string, PolicyResult[]>();
  for (const p of plan.policies) {
    violations.set(p.urn, [...(violations.get(p.urn) ?? []), p]);
  }

  const lines: string[] = [];
  lines.push(
    `${plan.project} · stack ${plan.stack} · ${plan.summary.resources} resources (offline plan: nothing is deployed)`,
    "",
  );
  const walk = (r: PlanResource, prefix: string, last: boolean, root: boolean) => {
    const kids = [...(children.get(r.urn) ?? [])].sort(order);
    const flags = [
      kids.length > 0 ? `${descendants(r.urn)} below` : "",
      r.protect ? "protected" : "",
    ].filter((f) => f !== "");
    const branch = root ? "" : last ? "└─ " : "├─ ";
    lines.push(
      `${prefix}${branch}${r.type}  ${r.name}${flags.length > 0 ? `  (${flags.join(", ")})` : ""}`,
    );
    const childPrefix = root ? "" : prefix + (last ? "   " : "│  ");
    for (const p of violations.get(r.urn) ?? []) {
      lines.push(
        `${childPrefix}${kids.length > 0 ? "│" : " "}  ! ${p.level} ${p.policy}: ${p.message}`,
      );
    }
    kids.forEach((k, i) => walk(k, childPrefix, i === kids.length - 1, false));
  };
  const roots = plan.resources.filter((r) => r.parent === "").sort(order);
  for (const r of roots) walk(r, "", true, true);

  lines.push("", "Resources by type:");
  const width = String(plan.summary.resources).length;
  const byType = Object.entries(plan.summary.byType).sort(
    ([ta, a], [tb, b]) => b - a || ta.localeCompare(tb),
  );
  for (const [type, count] of byType) lines.push(`  ${String(count).padStart(width)}  ${type}`);
  lines.push(`  ${String(plan.summary.resources).padStart(width)}  total`);

  const outputs = Object.keys(plan.outputs).sort();
  if (outputs.length > 0) {
    lines.push("", "Outputs:");
    for (const key of outputs) lines.push(`  ${key}: ${JSON.stringify(plan.outputs[key])}`);
  }
  const { mandatory, advisory } = plan.summary.policies;
  lines.push(
    "",
    ...comesUpLines(plan)
      .map((l) => `  ${l}`)
      .map((l, i) => (i === 0 ? l.trimStart() : l)),
  );
  if (plan.exemptions.length > 0) {
    lines.push("", "Exemptions:");
    for (const e of plan.exemptions) {
      lines.push(`  ${e.policy} ${e.urn.split("::").pop() ?? e.urn}: ${e.reason}`);
    }
  }
  lines.push(
    "",
    `Policies: ${mandatory} mandatory and ${advisory} advisory violation${mandatory + advisory === 1 ? "" : "s"}`,
  );
  if (plan.findings.length > 0) {
    lines.push("", "Lifecycle:");
    for (const f of plan.findings) lines.push(`  ${f.level} ${f.check} ${f.urn}: ${f.message}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The "comes up" lines: the flows allowed, then the reachability of the namespaces. */
export function comesUpLines(plan: Plan): string[] {
  const { flows, flowsBlocked, reachability: r } = plan.comesUp;
  const blocking = plan.findings.filter((f) => isClusterCheck(f.check)).length;
  const head =
    blocking === 0
      ? `Comes up: ${flows} required flows allowed; every endpoint, workload, volume claim and alert checks out`
      : `Comes up: no, ${blocking} finding${blocking === 1 ? "" : "s"} (${flowsBlocked} of ${flows} required flows blocked)`;
  const width = Math.max(...r.namespaces.map((n) => n.length), 4);
  return [
    head,
    `${"from \\ to".padEnd(width)}  ${r.namespaces.map((n) => n.slice(0, 5).padEnd(5)).join(" ")}`,
    ...r.namespaces.map(
      (from, i) =>
        `${from.padEnd(width)}  ${r.namespaces.map((_, j) => (i === j ? "  =  " : r.allowed[i]![j] ? "  ✓  " : "  ·  ")).join(" ")}`,
    ),
  ];
}
