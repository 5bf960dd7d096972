import {
  LIFECYCLE,
  UNKNOWN_PART,
  isLogical,
  physicalNames,
  valueAt as at,
} from "../../components/catalog/lifecycle";
import { autoscalerHandoverFindings } from "./autoscalers";
import {
  cascade,
  deletesFirst,
  matches,
  ownershipFindings,
  replaceReasons,
  type Finding,
  type Replace,
} from "./lifecycle";
import { configContract, talosUpgradeProblem, versionParts } from "../../components/catalog/talos";
import {
  SECRET,
  UNKNOWN,
  identity,
  isClusterCheck,
  type Plan,
  type PlanResource,
  type PlanExemption,
  type PolicyResult,
} from "./render";

/** What a deployment would do to one resource. */
export const ChangeKind = {
  create: "create",
  update: "update",
  replace: "replace",
  delete: "delete",
} as const;
export type ChangeKind = (typeof ChangeKind)[keyof typeof ChangeKind];

/** One changed input property: its dotted path, and both values as shown in the plans. */
export interface PropertyChange {
  readonly path: string;
  readonly before: unknown;
  readonly after: unknown;
  /** A secret value changed (both sides are shown masked). */
  readonly secret?: boolean;
  /** A field of the redacted view of a secret input (`<input> ▸ <field>`). */
  readonly view?: boolean;
  /** The input takes outputs of this replaced resource: its new value is known only then. */
  readonly from?: string;
}

export interface ResourceChange {
  readonly kind: ChangeKind;
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** Protected in the base plan (deletes and replacements of it fail until unprotected). */
  readonly protect: boolean;
  readonly properties: readonly PropertyChange[];
  /** For replacements: the changed properties that force it. */
  readonly replaceReasons: readonly string[];
  /** For replacements: the old resource is deleted before the new one is created. */
  readonly deleteFirst: boolean;
  /** Replaced because it takes outputs of this replaced resource (URN). */
  readonly cascadeFrom?: string;
}

export interface PlanDiff {
  readonly stack: string;
  readonly changes: readonly ResourceChange[];
  readonly counts: Readonly<Record<ChangeKind, number>>;
  /** What would fail or lose data on the way; errors block the change. */
  readonly findings: readonly Finding[];
  /** The change per area, for a reader in a hurry. */
  readonly summary: ChangeSummary;
  /** Policy results of the change: new in the head, resolved since the base, standing in both. */
  readonly policies: {
    readonly added: readonly PolicyResult[];
    readonly resolved: readonly PolicyResult[];
    readonly standing: readonly PolicyResult[];
  };
  /** Exemptions the change declares, drops, and keeps (by rule, resource and reason). */
  readonly exemptions: {
    readonly added: readonly PlanExemption[];
    readonly removed: readonly PlanExemption[];
    readonly standing: readonly PlanExemption[];
  };
}

/** What a reviewer reads first: the change per area, in words. */
export interface ChangeSummary {
  /** Nodes added and removed (`name on host, address, size`), and VMs moved to another host. */
  readonly nodes: {
    readonly added: readonly string[];
    readonly removed: readonly string[];
    readonly moved: readonly string[];
  };
  /** Talos and Kubernetes versions, `from → to`, when they change. */
  readonly versions: readonly string[];
  /** Workloads (StatefulSets, Deployments, Helm releases, databases) by what happens to them. */
  readonly workloads: {
    readonly added: readonly string[];
    readonly removed: readonly string[];
    readonly replaced: readonly string[];
  };
  /** Public DNS names added and removed. */
  readonly publicNames: { readonly added: readonly string[]; readonly removed: readonly string[] };
  /** Redirects (bulk list items and single redirect rules) added, removed and changed. */
  readonly redirects: {
    readonly added: number;
    readonly removed: number;
    readonly changed: number;
  };
}

const WORKLOAD_TYPES: Readonly<Record<string, string>> = {
  "kubernetes:apps/v1:StatefulSet": "StatefulSet",
  "kubernetes:apps/v1:Deployment": "Deployment",
  "kubernetes:helm.sh/v3:Release": "Helm release",
  "kubernetes:postgresql.cnpg.io/v1:Cluster": "PostgreSQL cluster",
};

/** The summary of a diff of two plans. */
export function summarize(
  base: Plan,
  head: Plan,
  changes: readonly ResourceChange[],
): ChangeSummary {
  const byUrn = new Map([...base.resources, ...head.resources].map((r) => [r.urn, r]));
  const addresses = (p: Plan) => {
    const out = new Map<string, string>();
    for (const key of ["controlPlaneNodes", "workerNodes"]) {
      const list = p.outputs[key];
      if (!Array.isArray(list)) continue;
      for (const line of list) {
        const [name, ip, pool] = String(line).split(" ");
        if (name !== undefined)
          out.set(name, `${ip ?? "?"}${pool !== undefined ? ` ${pool}` : ""}`);
      }
    }
    return out;
  };
  const ips = new Map([...addresses(base), ...addresses(head)]);
  const vmLine = (urn: string) => {
    const i = byUrn.get(urn)?.inputs ?? {};
    const name = String(i["name"] ?? urn.split("::").pop());
    const cores = (i["cpu"] as { cores?: number } | undefined)?.cores;
    const mem = (i["memory"] as { dedicated?: number } | undefined)?.dedicated;
    const disk = (i["disks"] as { size?: number }[] | undefined)?.[0]?.size;
    const size = [
      cores !== undefined ? `${cores} vCPU` : "",
      mem !== undefined ? `${mem / 1024} GiB` : "",
      disk !== undefined ? `${disk} GiB disk` : "",
    ].filter((x) => x !== "");
    return `${name} on ${String(i["nodeName"] ?? "?")}, ${ips.get(name) ?? "?"}${size.length > 0 ? `, ${size.join(", ")}` : ""}`;
  };
  const vms = changes.filter((c) => c.type === "proxmoxve:index/vmLegacy:VmLegacy");
  const workload = (c: ResourceChange) => `${c.name} (${WORKLOAD_TYPES[c.type]})`;
  const workloads = changes.filter((c) => WORKLOAD_TYPES[c.type] !== undefined);
  const versions: string[] = [];
  for (const [label, key] of [
    ["Talos", "talosVersion"],
    ["Kubernetes", "kubernetesVersion"],
  ] as const) {
    const [from, to] = [base.outputs[key], head.outputs[key]];
    if (typeof from === "string" && typeof to === "string" && from !== to) {
      const [a, b] = key === "talosVersion" ? [configContract(from), configContract(to)] : [];
      versions.push(
        a !== undefined && b !== undefined && a !== b
          ? `${label} ${from} → ${to} (machine configs move from the ${a} to the ${b} configuration contract: the same settings in other documents, applied after every node runs ${to})`
          : `${label} ${from} → ${to}`,
      );
    }
  }
  const names = (p: Plan) =>
    new Set(Array.isArray(p.outputs["dnsNames"]) ? p.outputs["dnsNames"].map(String) : []);
  const [oldNames, newNames] = [names(base), names(head)];
  const redirects = { added: 0, removed: 0, changed: 0 };
  for (const c of changes) {
    const isList = c.type === "cloudflare:index/list:List";
    const isRules =
      c.type === "cloudflare:index/ruleset:Ruleset" &&
      byUrn.get(c.urn)?.inputs["phase"] === "http_request_dynamic_redirect";
    if (!isList && !isRules) continue;
    const items = new Map<string, PropertyChange[]>();
    for (const p of c.properties) {
      const m = /^(items|rules)\[[^\]]+\]/.exec(p.path);
      if (m !== null) items.set(m[0], [...(items.get(m[0]) ?? []), p]);
    }
    for (const ps of items.values()) {
      const whole = ps.length === 1 ? ps[0]! : undefined;
      if (whole?.before === undefined && whole !== undefined) redirects.added++;
      else if (whole?.after === undefined && whole !== undefined) redirects.removed++;
      else redirects.changed++;
    }
  }
  return {
    nodes: {
      added: vms.filter((c) => c.kind === "create").map((c) => vmLine(c.urn)),
      removed: vms.filter((c) => c.kind === "delete").map((c) => vmLine(c.urn)),
      moved: vms
        .filter((c) => c.kind !== "create" && c.kind !== "delete")
        .flatMap((c) => {
          const p = c.properties.find((q) => q.path === "nodeName");
          return p === undefined
            ? []
            : [
                `${c.name.replace(/^.*-vm-/, "")} ${String(p.before)} → ${String(p.after)}${c.kind === "replace" ? " (a new VM)" : " (live migration)"}`,
              ];
        }),
    },
    versions,
    workloads: {
      added: workloads.filter((c) => c.kind === "create").map(workload),
      removed: workloads.filter((c) => c.kind === "delete").map(workload),
      replaced: workloads.filter((c) => c.kind === "replace").map(workload),
    },
    publicNames: {
      added: [...newNames].filter((n) => !oldNames.has(n)).sort(),
      removed: [...oldNames].filter((n) => !newNames.has(n)).sort(),
    },
    redirects,
  };
}

/** Policy results by what they say about what: the policy, the resource and the message. */
export function policyChanges(base: Plan, head: Plan): PlanDiff["policies"] {
  const key = (p: PolicyResult) => `${p.policy}\0${identity(p.urn)}\0${p.message}`;
  const before = new Set((base.policies ?? []).map(key));
  const after = new Set(head.policies.map(key));
  return {
    added: head.policies.filter((p) => !before.has(key(p))),
    resolved: (base.policies ?? []).filter((p) => !after.has(key(p))),
    standing: head.policies.filter((p) => before.has(key(p))),
  };
}

/** Exemptions by rule, resource and reason: a changed reason is a new exemption. */
export function exemptionChanges(base: Plan, head: Plan): PlanDiff["exemptions"] {
  const key = (e: PlanExemption) => `${e.policy}\0${identity(e.urn)}\0${e.reason}`;
  const before = new Set(base.exemptions.map(key));
  const after = new Set(head.exemptions.map(key));
  return {
    added: head.exemptions.filter((e) => !before.has(key(e))),
    removed: base.exemptions.filter((e) => !after.has(key(e))),
    standing: head.exemptions.filter((e) => before.has(key(e))),
  };
}

export { replaceReasons };

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Leaf-level differences between two JSON values, as dotted paths (arrays by index). */
export function propertyChanges(before: unknown, after: unknown, path = ""): PropertyChange[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  if (isRecord(before) && isRecord(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => propertyChanges(before[k], after[k], path ? `${path}.${k}` : k));
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    // Lists of things with an identity (a rule's ref, a redirect's source, a container's name)
    // compare item by item: an inserted item is one added item, not every later one changed.
    const key = identityKey(before, after);
    if (key !== undefined) {
      const id = (v: unknown) => String(at(v, key));
      const olds = new Map(before.map((v) => [id(v), v]));
      const news = new Map(after.map((v) => [id(v), v]));
      const ids = [...new Set([...olds.keys(), ...news.keys()])];
      const items = ids.flatMap((i) =>
        propertyChanges(olds.get(i), news.get(i), `${path}[${key}=${i}]`),
      );
      // The order of the items both lists keep is a change of its own (rules run in order).
      const kept = (list: readonly unknown[], other: Map<string, unknown>) =>
        list.map(id).filter((i) => other.has(i));
      const [was, is] = [kept(before, news), kept(after, olds)];
      if (JSON.stringify(was) !== JSON.stringify(is)) {
        items.push({ path: `${path} (order by ${key})`, before: was, after: is });
      }
      return items;
    }
    if (before.length === after.length) {
      return before.flatMap((v, i) => propertyChanges(v, after[i], `${path}[${i}]`));
    }
  }
  return [{ path: path || "(value)", before, after }];
}

/** Keys that name an item of a list, most specific first. */
const IDENTITY_KEYS = [
  "ref",
  "redirect.sourceUrl",
  "hostname",
  "metadata.name",
  "name",
  "id",
  "expression",
];

/** The key every item of both lists has, with a value unique within each list. */
function identityKey(a: readonly unknown[], b: readonly unknown[]): string | undefined {
  if (a.length + b.length === 0) return undefined;
  return IDENTITY_KEYS.find((key) =>
    [a, b].every((list) => {
      const ids = list.map((v) => at(v, key));
      return (
        ids.every((x) => typeof x === "string" && x !== "") && new Set(ids).size === ids.length
      );
    }),
  );
}

/**
 * A plan read from a file, with what plans made before the lifecycle fields lack filled in
 * (nothing owned, no options): a base branch's plan compares however old its tool was.
 */
export function normalizePlan(plan: Plan): Plan {
  if (typeof plan !== "object" || plan === null || !Array.isArray(plan.resources)) {
    throw new Error("it has no resources list");
  }
  return {
    ...plan,
    facts:
      isRecord(plan.facts) && Array.isArray(plan.facts["sharedDatastores"])
        ? plan.facts
        : { sharedDatastores: [] },
    findings: Array.isArray(plan.findings) ? plan.findings : [],
    policies: Array.isArray(plan.policies) ? plan.policies : [],
    exemptions: Array.isArray(plan.exemptions) ? plan.exemptions : [],
    comesUp: isRecord(plan.comesUp)
      ? plan.comesUp
      : { flows: 0, flowsBlocked: 0, reachability: { namespaces: [], allowed: [] } },
    outputs: isRecord(plan.outputs) ? plan.outputs : {},
    resources: plan.resources.map((resource, i): PlanResource => {
      const r = resource as unknown as Record<string, unknown>;
      if (!isRecord(r) || typeof r["urn"] !== "string") {
        throw new Error(`resources[${i}] has no urn`);
      }
      for (const key of ["type", "name"] as const) {
        if (typeof r[key] !== "string") throw new Error(`resources[${i}].${key} is not a string`);
      }
      for (const key of ["inputs", "propertyDependencies", "secretDigests", "views"] as const) {
        if (r[key] !== undefined && !isRecord(r[key])) {
          throw new Error(`resources[${i}].${key} is not an object`);
        }
      }
      for (const key of [
        "dependsOn",
        "ignoreChanges",
        "replaceOnChanges",
        "owns",
        "aliases",
      ] as const) {
        if (
          r[key] !== undefined &&
          !(Array.isArray(r[key]) && r[key].every((x) => typeof x === "string"))
        ) {
          throw new Error(`resources[${i}].${key} is not a list of strings`);
        }
      }
      const list = (k: string) => (r[k] as string[] | undefined) ?? [];
      return {
        ...(resource as PlanResource),
        parent: typeof r["parent"] === "string" ? r["parent"] : "",
        provider: typeof r["provider"] === "string" ? r["provider"] : "",
        dependsOn: list("dependsOn"),
        propertyDependencies:
          (r["propertyDependencies"] as Record<string, string[]> | undefined) ?? {},
        protect: r["protect"] === true,
        deleteBeforeReplace: r["deleteBeforeReplace"] === true,
        ignoreChanges: list("ignoreChanges"),
        replaceOnChanges: list("replaceOnChanges"),
        owns: list("owns"),
        aliases: list("aliases"),
        inputs: (r["inputs"] as Record<string, unknown> | undefined) ?? {},
      };
    }),
  };
}

export { identity };

const ORDER: Readonly<Record<ChangeKind, number>> = { delete: 0, replace: 1, update: 2, create: 3 };

/** Components and the stack: nothing of their own changes. Providers do take new inputs. */
const isLogicalType = (type: string) => isLogical(type) && !type.startsWith("pulumi:providers:");

/** Secret inputs of a resource, compared by digest: the paths whose value differs. */
function secretChanges(b: PlanResource, a: PlanResource): PropertyChange[] {
  const before = b.secretDigests ?? {};
  const after = a.secretDigests ?? {};
  return [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((path) => before[path] !== undefined && after[path] !== undefined)
    .filter((path) => before[path] !== after[path])
    .sort()
    .map((path) => ({ path, before: SECRET, after: SECRET, secret: true }));
}

/** Field changes of the redacted views of secret inputs (machine configs). */
function viewChanges(b: PlanResource, a: PlanResource): PropertyChange[] {
  const before = b.views ?? {};
  const after = a.views ?? {};
  return [...new Set([...Object.keys(before), ...Object.keys(after)])].sort().flatMap((path) =>
    propertyChanges(before[path], after[path]).map((p) => ({
      ...p,
      path: `${path} ▸ ${p.path}`,
      view: true,
    })),
  );
}

/**
 * A base resource as the head's analysis sees it: its names recomputed with the head's facts (a
 * datastore declared shared since makes per-host files one file) and, for Kubernetes objects, the
 * cluster of its provider (a base plan made before providers had an identifier counts as the
 * head's cluster).
 */
function rebase(r: PlanResource, head: Plan, clusters: ReadonlyMap<string, string>): PlanResource {
  if (isLogical(r.type)) return r;
  const cluster = r.type.startsWith("kubernetes:")
    ? (clusters.get(identity(r.provider)) ?? "default")
    : undefined;
  return { ...r, owns: physicalNames(r.type, r.inputs, head.facts, cluster) };
}

/** The cluster of each Kubernetes provider of the base, by identity. */
function baseClusters(base: Plan, head: Plan): Map<string, string> {
  const headIds = new Map(
    head.resources
      .filter((r) => r.type === "pulumi:providers:kubernetes")
      .map((r) => [identity(r.urn), r.inputs["clusterIdentifier"]]),
  );
  const out = new Map<string, string>();
  for (const r of base.resources) {
    if (r.type !== "pulumi:providers:kubernetes") continue;
    const own = r.inputs["clusterIdentifier"];
    const id = typeof own === "string" ? own : headIds.get(identity(r.urn));
    out.set(identity(r.urn), typeof id === "string" ? id : UNKNOWN_PART);
  }
  return out;
}

/** Compares a base plan with a head plan, resource by URN (or by alias, as the engine does). */
export function diffPlans(base: Plan, head: Plan): PlanDiff {
  // Resources are matched by URN without its stack part, so two stacks (staging against prod)
  // compare resource by resource as well as two versions of one stack do.
  const clusters = baseClusters(base, head);
  const before = new Map(base.resources.map((r) => [identity(r.urn), rebase(r, head, clusters)]));
  const after = new Map(head.resources.map((r) => [identity(r.urn), r]));
  // Old identities the head takes over by alias, to their new identity.
  const renamed = new Map<string, string>();
  for (const [id, a] of after) {
    if (before.has(id)) continue;
    const alias = (a.aliases ?? []).map(identity).find((x) => before.has(x) && !after.has(x));
    if (alias === undefined) continue;
    before.set(id, before.get(alias)!);
    before.delete(alias);
    renamed.set(alias, id);
  }
  /** A URN of the base as the head names that resource. */
  const asHead = (urn: string) => {
    if (urn === "") return "";
    const id = identity(urn);
    return headUrn(`urn:pulumi:${base.stack}::${renamed.get(id) ?? id}`, head);
  };
  const changes: ResourceChange[] = [];
  const findings: Finding[] = [];
  const change = (
    kind: ChangeKind,
    r: PlanResource,
    properties: PropertyChange[],
    reasons: readonly string[],
    protect: boolean,
    deleteFirst = false,
    cascadeFrom?: string,
  ) =>
    changes.push({
      kind,
      urn: r.urn,
      type: r.type,
      name: r.name,
      protect,
      properties,
      replaceReasons: reasons,
      deleteFirst,
      ...(cascadeFrom !== undefined ? { cascadeFrom } : {}),
    });
  const replaced = new Map<string, Replace>();
  const updates = new Map<string, { b: PlanResource; a: PlanResource; props: PropertyChange[] }>();
  for (const [id, b] of before) {
    const a = after.get(id);
    if (a === undefined) {
      change("delete", b, [], [], b.protect);
      continue;
    }
    // What the program ignores after creation is never a change (the head's option counts: it
    // is the one `pulumi up` runs with).
    const props = [
      ...propertyChanges(b.inputs, a.inputs).filter(
        (p) => p.before !== SECRET || p.after !== SECRET,
      ),
      ...secretChanges(b, a),
    ].filter((p) => !a.ignoreChanges.some((i) => matches(p.path, i)));
    if (props.length === 0) continue;
    const replaceIf = LIFECYCLE[a.type]?.replaceIf;
    const reasons = replaceReasons(
      a.type,
      props.map((p) => p.path),
      a.replaceOnChanges,
      a.inputs,
    ).filter((path) => {
      if (replaceIf === undefined) return true;
      const p = props.find((q) => q.path === path)!;
      return replaceIf(path, { before: p.before, after: p.after }, b.inputs, a.inputs);
    });
    const all = [...props, ...viewChanges(b, a)];
    if (reasons.length > 0) {
      replaced.set(a.urn, { urn: a.urn, reasons, deleteFirst: deletesFirst(a, b) });
      updates.set(a.urn, { b, a, props: all });
    } else {
      change("update", a, all, [], b.protect);
    }
  }
  // Dependents that a replacement takes along, as the engine finds them: from the state's (the
  // base's) dependencies and options, under the head's URNs (aliased ones too), together with the
  // program's own (a base plan may not record them).
  const state = [...before.entries()]
    .filter(([id]) => after.has(id))
    .map(([id, b]) => {
      const a = after.get(id)!;
      const deps: Record<string, string[]> = {};
      for (const source of [b.propertyDependencies, a.propertyDependencies]) {
        for (const [prop, urns] of Object.entries(source)) {
          deps[prop] = [...new Set([...(deps[prop] ?? []), ...urns.map(asHead)])];
        }
      }
      return { ...b, urn: a.urn, provider: asHead(b.provider), propertyDependencies: deps };
    });
  for (const rep of cascade(replaced, state)) replaced.set(rep.urn, rep);
  // Dependents that take new outputs of a replaced resource in place (a provider given a new
  // kubeconfig): an update the inputs of the plan cannot show, since outputs are unknown there.
  const nameOf = new Map(head.resources.map((r) => [r.urn, r.name]));
  for (const r of state) {
    if (replaced.has(r.urn) || isLogicalType(r.type)) continue;
    const props: PropertyChange[] = Object.entries(r.propertyDependencies)
      .filter(([prop]) => !r.ignoreChanges.some((i) => matches(prop, i)))
      .flatMap(([prop, urns]) => {
        const from = urns.find((u) => replaced.has(u));
        return from === undefined
          ? []
          : [{ path: prop, before: UNKNOWN, after: UNKNOWN, from: nameOf.get(from) ?? from }];
      });
    if (props.length === 0) continue;
    const existing = changes.find((c) => c.urn === r.urn);
    if (existing !== undefined) {
      (existing.properties as PropertyChange[]).push(
        ...props.filter((p) => !existing.properties.some((q) => q.path === p.path)),
      );
    } else {
      change("update", after.get(identity(r.urn))!, props, [], r.protect);
    }
  }
  const headByUrn = new Map(head.resources.map((r) => [r.urn, r]));
  for (const rep of replaced.values()) {
    const upd = updates.get(rep.urn);
    const a = headByUrn.get(rep.urn)!;
    const b = upd?.b ?? before.get(identity(rep.urn));
    // A cascaded replacement was listed as an update (or not at all): it is a replacement now.
    const at = changes.findIndex((c) => c.urn === rep.urn);
    const props = upd?.props ?? (at >= 0 ? [...changes[at]!.properties] : []);
    if (at >= 0) changes.splice(at, 1);
    // The engine refuses a replacement only when the resource stays protected: unprotecting it in
    // the same change lets it go.
    const protect = (b?.protect ?? false) && a.protect;
    change("replace", a, props, rep.reasons, protect, rep.deleteFirst, rep.cascadeFrom);
  }
  for (const [id, a] of after) {
    if (!before.has(id)) change("create", a, [], [], a.protect);
  }
  changes.sort((x, y) => ORDER[x.kind] - ORDER[y.kind] || x.urn.localeCompare(y.urn));
  const counts = { create: 0, update: 0, replace: 0, delete: 0 };
  for (const c of changes) counts[c.kind]++;

  // What `pulumi up` would refuse, fail at, or lose data by.
  findings.push(...ownershipFindings(head.resources));
  // What the head alone is found to lack (a flow its NetworkPolicies block).
  findings.push(...head.findings.filter((f) => isClusterCheck(f.check)));
  const known = (n: string) => !n.includes(UNKNOWN_PART);
  const baseOf = (c: ResourceChange) => before.get(identity(c.urn))!;
  for (const c of changes) {
    const immutable = LIFECYCLE[c.type]?.immutable ?? [];
    for (const p of c.kind === "update" ? c.properties : []) {
      if (!immutable.some((i) => matches(p.path, i))) continue;
      findings.push({
        check: "immutable-field",
        level: "error",
        urn: c.urn,
        message: `${p.path} cannot change on a live object (the API refuses the update): delete ${c.name} in one change and add it back in the next, or give it a new name`,
      });
    }
    if (c.protect && (c.kind === "delete" || c.kind === "replace")) {
      findings.push({
        check: "protected",
        level: "error",
        urn: c.urn,
        message: `${c.name} is protected and would be ${c.kind === "delete" ? "deleted" : `replaced (${c.replaceReasons.join(", ")})`}: \`pulumi up\` stops there`,
      });
    }
    if (
      c.kind === "replace" &&
      c.type === "kubernetes:apps/v1:StatefulSet" &&
      c.replaceReasons.some((r) => r.startsWith("spec.volumeClaimTemplates"))
    ) {
      // The StatefulSet controller keeps claims when their set goes (retention Retain, the
      // default) and the new set adopts them by name: no claim is resized or recreated.
      findings.push({
        check: "claims-kept",
        level: "warning",
        urn: c.urn,
        message: `${c.name} is replaced for ${c.replaceReasons.join(", ")}, but its existing volume claims are kept and adopted by the new StatefulSet: they keep their size and class (resize each claim, or delete it to start empty); its pods are down between the delete and the create`,
      });
    }
    if (c.kind === "replace" && !c.deleteFirst) {
      const old = baseOf(c);
      const next = headByUrn.get(c.urn)!;
      for (const name of next.owns.filter((n) => known(n) && old.owns.includes(n))) {
        findings.push({
          check: "replacement-keeps-name",
          level: "error",
          urn: c.urn,
          message: `replaced create-first, but the new ${c.name} owns the same ${name}: it is written, then the old resource's delete removes it (delete it first: \`deleteBeforeReplace\`, or give the new one another name)`,
        });
      }
    }
  }
  // Creates and create-first replacements run before every delete (the old halves of those
  // replacements included): a name a deleted resource still owns is taken by the new one.
  const deletedNames = new Map<string, string>();
  for (const c of changes) {
    if (c.kind === "delete" || (c.kind === "replace" && !c.deleteFirst)) {
      for (const n of baseOf(c).owns.filter(known)) deletedNames.set(n, c.name);
    }
  }
  for (const c of changes) {
    const own =
      c.kind === "create"
        ? headByUrn.get(c.urn)!.owns
        : c.kind === "replace" && !c.deleteFirst
          ? headByUrn.get(c.urn)!.owns.filter((n) => !baseOf(c).owns.includes(n))
          : [];
    for (const n of own) {
      const owner = deletedNames.get(n);
      if (owner === undefined || owner === c.name) continue;
      findings.push({
        check: "create-before-delete",
        level: "error",
        urn: c.urn,
        message: n.startsWith("talos-node:")
          ? `${c.name} is created for a node on ${n.slice("talos-node:".length)} while ${owner} still runs there, and that node's removal would reset whichever answers: remove the old node in one change, add the new one in the next`
          : `${c.name} is created while ${owner} still owns ${n}; the delete comes after the create and removes it (alias the new resource to the old one, or delete first in a separate update)`,
      });
    }
  }
  // A delete removes the file or record by its name, under whoever else owns it now.
  const headOwners = new Map<string, string>();
  for (const r of head.resources) for (const n of r.owns) headOwners.set(n, r.name);
  for (const c of changes.filter((c) => c.kind === "delete")) {
    for (const n of baseOf(c).owns.filter(known)) {
      const owner = headOwners.get(n);
      if (owner === undefined) continue;
      findings.push({
        check: "delete-removes-shared",
        level: "error",
        urn: c.urn,
        message: n.startsWith("talos-node:")
          ? `${c.name} resets the node on ${n.slice("talos-node:".length)}, which ${owner} is for: remove the old node in one change, add the new one in the next`
          : `deleting ${c.name} removes ${n}, which ${owner} owns (remove it from the state instead: \`pulumi state delete\`)`,
      });
    }
  }
  findings.push(
    ...versionFindings(base, head),
    ...quorumFindings(base, head),
    ...autoscalerHandoverFindings(base, head).map((f) => ({ ...f, urn: stackUrn(head) })),
  );
  return {
    stack: head.stack,
    changes,
    counts,
    findings,
    summary: summarize(base, head, changes),
    policies: policyChanges(base, head),
    exemptions: exemptionChanges(base, head),
  };
}

/** A base URN under the head's stack (identities match across stacks). */
function headUrn(urn: string, head: Plan): string {
  return urn === "" ? "" : `urn:pulumi:${head.stack}::${identity(urn)}`;
}

const minorOf = (v: unknown) => (typeof v === "string" ? versionParts(v) : undefined);
const stackUrn = (p: Plan) =>
  p.resources.find((r) => r.type === "pulumi:pulumi:Stack")?.urn ?? `urn:pulumi:${p.stack}`;

/**
 * Version moves a running cluster cannot make in one step: a Talos downgrade, a Kubernetes minor
 * skipped (`talosctl upgrade-k8s` moves one minor at a time: cmd/talosctl/cmd/talos/upgrade-k8s.go
 * and pkg/cluster/kubernetes in siderolabs/talos v1.13.9) or a Kubernetes downgrade. A Talos
 * minor skipped is checked against the version table (`components/catalog/talos.ts`).
 */
export function versionFindings(base: Plan, head: Plan): Finding[] {
  const out: Finding[] = [];
  const urn = stackUrn(head);
  const k8s = [
    minorOf(base.outputs["kubernetesVersion"]),
    minorOf(head.outputs["kubernetesVersion"]),
  ];
  if (k8s[0] !== undefined && k8s[1] !== undefined && k8s[0][0] === k8s[1][0]) {
    const step = k8s[1][1] - k8s[0][1];
    if (step > 1 || step < 0) {
      out.push({
        check: "kubernetes-upgrade-path",
        level: "error",
        urn,
        message: `kubernetesVersion ${String(base.outputs["kubernetesVersion"])} → ${String(head.outputs["kubernetesVersion"])}: ${step < 0 ? "Kubernetes cannot be downgraded" : "upgrade one minor at a time (one change per minor)"}`,
      });
    }
  }
  const from = base.outputs["talosVersion"];
  const to = head.outputs["talosVersion"];
  if (typeof from === "string" && typeof to === "string" && from !== to) {
    const problem = talosUpgradeProblem(from, to);
    if (problem !== undefined) {
      out.push({ check: "talos-upgrade-path", level: "error", urn, message: problem });
    }
  }
  return out;
}

/**
 * Control planes removed below the quorum of the etcd cluster they leave: with n members, etcd
 * needs floor(n/2)+1 to agree, and each member leaves one after the other.
 */
export function quorumFindings(base: Plan, head: Plan): Finding[] {
  const count = (p: Plan) =>
    Array.isArray(p.outputs["controlPlaneNodes"]) ? p.outputs["controlPlaneNodes"].length : 0;
  const before = count(base);
  const after = count(head);
  if (before === 0 || after >= before) return [];
  const quorum = Math.floor(before / 2) + 1;
  if (after >= quorum) return [];
  return [
    {
      check: "etcd-quorum",
      level: "error",
      urn: stackUrn(head),
      message: `${before - after} of ${before} control planes removed: etcd keeps quorum only with ${quorum} of ${before}; remove one per change`,
    },
  ];
}
