import { TALOS_VM_IGNORE_CHANGES } from "../../components/proxmox/talosVm";
import type { Plan, PlanResource } from "./render";

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
}

export interface PlanDiff {
  readonly stack: string;
  readonly changes: readonly ResourceChange[];
  readonly counts: Readonly<Record<ChangeKind, number>>;
}

/**
 * Properties whose change makes the provider replace the resource rather than update it, per
 * type (a prefix of the property path). Kubernetes: names and the API's immutable fields.
 * Random and TLS resources are replaced on any input change.
 */
const REPLACE_ON: Readonly<Record<string, readonly string[]>> = {
  // Moving a VM to another host without live migration recreates it.
  "proxmoxve:index/vmLegacy:VmLegacy": ["nodeName", "vmId"],
  "proxmoxve:index/fileLegacy:FileLegacy": [
    "nodeName",
    "datastoreId",
    "contentType",
    "sourceRaw",
    "sourceFile",
  ],
  "proxmoxve:download/file:File": [
    "nodeName",
    "datastoreId",
    "contentType",
    "url",
    "fileName",
    "decompressionAlgorithm",
  ],
  "cloudflare:index/zone:Zone": ["name", "account"],
  "cloudflare:index/dnsRecord:DnsRecord": ["zoneId", "type"],
  "cloudflare:index/ruleset:Ruleset": ["zoneId", "accountId", "kind", "phase"],
  "cloudflare:index/list:List": ["accountId", "kind", "name"],
  "command:local:Command": ["triggers"],
  "kubernetes:apps/v1:Deployment": ["spec.selector"],
  "kubernetes:apps/v1:StatefulSet": [
    "spec.selector",
    "spec.serviceName",
    "spec.volumeClaimTemplates",
    "spec.podManagementPolicy",
  ],
  "kubernetes:batch/v1:Job": ["spec.template", "spec.selector"],
  "kubernetes:core/v1:PersistentVolumeClaim": ["spec.storageClassName", "spec.accessModes"],
  "kubernetes:core/v1:Service": ["spec.clusterIP", "spec.type"],
};

const REPLACE_ON_ANY = ["random:", "tls:"];

/** Properties the program tells Pulumi to ignore after creation: never a change. */
const IGNORED: Readonly<Record<string, readonly string[]>> = {
  "proxmoxve:index/vmLegacy:VmLegacy": TALOS_VM_IGNORE_CHANGES,
};

const matches = (path: string, prefix: string) =>
  path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
const KUBERNETES_IDENTITY = ["metadata.name", "metadata.namespace"];

/** The changed properties of a resource that force its replacement. */
export function replaceReasons(type: string, changed: readonly string[]): string[] {
  if (REPLACE_ON_ANY.some((p) => type.startsWith(p))) return [...changed];
  const prefixes = [
    ...(REPLACE_ON[type] ?? []),
    ...(type.startsWith("kubernetes:") ? KUBERNETES_IDENTITY : []),
  ];
  return changed.filter((path) => prefixes.some((p) => matches(path, p)));
}

/** Leaf-level differences between two JSON values, as dotted paths (arrays by index). */
export function propertyChanges(before: unknown, after: unknown, path = ""): PropertyChange[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const isObj = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => propertyChanges(before[k], after[k], path ? `${path}.${k}` : k));
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((v, i) => propertyChanges(v, after[i], `${path}[${i}]`));
  }
  return [{ path: path || "(value)", before, after }];
}

/** A URN without `urn:pulumi:<stack>::`. */
export function identity(urn: string): string {
  return urn.replace(/^urn:pulumi:[^:]+::/, "");
}

const ORDER: Readonly<Record<ChangeKind, number>> = { delete: 0, replace: 1, update: 2, create: 3 };

/** Compares a base plan with a head plan, resource by URN. */
export function diffPlans(base: Plan, head: Plan): PlanDiff {
  // Resources are matched by URN without its stack part, so two stacks (staging against prod)
  // compare resource by resource as well as two versions of one stack do.
  const before = new Map(base.resources.map((r) => [identity(r.urn), r]));
  const after = new Map(head.resources.map((r) => [identity(r.urn), r]));
  const changes: ResourceChange[] = [];
  const change = (
    kind: ChangeKind,
    r: PlanResource,
    properties: PropertyChange[],
    reasons: string[],
    protect: boolean,
  ) =>
    changes.push({
      kind,
      urn: r.urn,
      type: r.type,
      name: r.name,
      protect,
      properties,
      replaceReasons: reasons,
    });
  for (const [urn, b] of before) {
    const a = after.get(urn);
    if (a === undefined) {
      change("delete", b, [], [], b.protect);
      continue;
    }
    const ignored = IGNORED[b.type] ?? [];
    const props = propertyChanges(b.inputs, a.inputs).filter(
      (p) => !ignored.some((i) => matches(p.path, i)),
    );
    if (props.length === 0) continue;
    const reasons = replaceReasons(
      b.type,
      props.map((p) => p.path),
    );
    change(reasons.length > 0 ? "replace" : "update", a, props, reasons, b.protect);
  }
  for (const [urn, a] of after) {
    if (!before.has(urn)) change("create", a, [], [], a.protect);
  }
  changes.sort((x, y) => ORDER[x.kind] - ORDER[y.kind] || x.urn.localeCompare(y.urn));
  const counts = { create: 0, update: 0, replace: 0, delete: 0 };
  for (const c of changes) counts[c.kind]++;
  return { stack: head.stack, changes, counts };
}
