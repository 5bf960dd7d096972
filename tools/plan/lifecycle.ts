/**
 * The lifecycle analysis: what `pulumi up` does to each resource between two plans (update in
 * place, replace, and in which order) and what would fail or lose data on the way: a protected
 * resource to replace or delete, two resources owning one physical name, a replacement that
 * deletes what its own successor just wrote, dependents a delete-first replacement takes along.
 * Pure: plans in, findings out. The facts per type are in `components/catalog/lifecycle.ts`.
 */
import {
  EXCLUSIVE,
  Replacement,
  UNKNOWN_PART,
  isLogical,
  lifecycleOf,
} from "../../components/catalog/lifecycle";
/** What the analysis reads of a plan resource (`PlanResource` in render.ts has these). */
export interface LifecycleResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** The URN of the provider resource that manages it (empty: the default provider). */
  readonly provider: string;
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
  readonly deleteBeforeReplace: boolean;
  readonly ignoreChanges: readonly string[];
  readonly replaceOnChanges: readonly string[];
  readonly owns: readonly string[];
  readonly inputs: Readonly<Record<string, unknown>>;
}
type PlanResource = LifecycleResource;

/** One thing the analysis found; errors make the plan fail. */
export interface Finding {
  /** The check that found it. */
  readonly check: string;
  readonly level: "error" | "warning";
  readonly urn: string;
  readonly message: string;
}

/**
 * Whether an input path is a pattern or lies below it: `spec.selector` covers
 * `spec.selector.matchLabels.app`, `disks[*].fileId` covers `disks[0].fileId` (and an item named
 * by its identity, `containers[name=server]`).
 */
export function matches(path: string, pattern: string): boolean {
  if (!pattern.includes("[*]")) {
    return path === pattern || path.startsWith(`${pattern}.`) || path.startsWith(`${pattern}[`);
  }
  const re = pattern.replace(/[.+?^${}()|\\]/g, "\\$&").replace(/\[\*\]/g, "\\[[^\\]]+\\]");
  return new RegExp(`^${re}($|[.[])`).test(path);
}

/** The changed input paths of a resource that force its replacement. */
export function replaceReasons(
  type: string,
  changed: readonly string[],
  replaceOnChanges: readonly string[] = [],
  inputs: Readonly<Record<string, unknown>> = {},
): string[] {
  const entry = lifecycleOf(type);
  if (entry?.replaceOn === "any") return [...changed];
  const own = typeof entry?.replaceOn === "function" ? entry.replaceOn(inputs) : entry?.replaceOn;
  const prefixes = [...(own ?? []), ...replaceOnChanges];
  // `*` in replaceOnChanges: any change replaces.
  if (replaceOnChanges.includes("*")) return [...changed];
  return changed.filter((path) => prefixes.some((p) => matches(path, p)));
}

/** The force-new input patterns of a resource at or below one top-level input. */
function forceNewWithin(r: PlanResource, prop: string): string[] {
  const entry = lifecycleOf(r.type);
  if (entry?.replaceOn === "any") return [prop];
  const own = typeof entry?.replaceOn === "function" ? entry.replaceOn(r.inputs) : entry?.replaceOn;
  return [...(own ?? []), ...r.replaceOnChanges].filter(
    (p) => p === "*" || matches(p, prop) || matches(prop, p),
  );
}

/**
 * Whether the engine deletes the old resource before it creates the new one. For explicitly
 * named Kubernetes objects the provider does so only when the name and namespace stay the same
 * (`before`: the resource in the state).
 */
export function deletesFirst(r: PlanResource, before?: PlanResource): boolean {
  if (r.deleteBeforeReplace) return true;
  const entry = lifecycleOf(r.type);
  if (entry === undefined) return false;
  if (entry.replacement === Replacement.deleteBeforeReplace) return true;
  if (entry.replacement !== Replacement.deleteFirstWhenNamed) return false;
  if (entry.named !== undefined) return entry.named(r.inputs);
  if (r.owns.length === 0) return false;
  return before === undefined || before.owns.every((n) => r.owns.includes(n));
}

/** Whether an input path is one the program ignores after creation. */
export function ignored(r: PlanResource, path: string): boolean {
  return r.ignoreChanges.some((i) => matches(path, i));
}

/** Every physical name owned by more than one resource of a plan. */
export function ownershipFindings(resources: readonly PlanResource[]): Finding[] {
  const owners = new Map<string, PlanResource[]>();
  for (const r of resources) {
    for (const name of r.owns) {
      // A name with an unknown part could be anything: it proves no collision.
      if (name.includes(UNKNOWN_PART)) continue;
      owners.set(name, [...(owners.get(name) ?? []), r]);
    }
  }
  const findings: Finding[] = [];
  // A name owned outright (a CNAME's) collides with every name below it.
  for (const [name, rs] of owners) {
    if (!name.endsWith(EXCLUSIVE)) continue;
    const prefix = name.slice(0, -EXCLUSIVE.length + 1);
    for (const [other, os] of owners) {
      if (other === name || !other.startsWith(prefix)) continue;
      for (const o of os) {
        findings.push({
          check: "one-owner-per-name",
          level: "error",
          urn: o.urn,
          message: `${other} lies under ${name.slice(0, -EXCLUSIVE.length)}, which ${rs[0]!.name} owns outright (a CNAME has no other record beside it)`,
        });
      }
    }
  }
  for (const [name, rs] of [...owners].sort(([a], [b]) => a.localeCompare(b))) {
    if (rs.length < 2) continue;
    for (const r of rs.slice(1)) {
      findings.push({
        check: "one-owner-per-name",
        level: "error",
        urn: r.urn,
        message: `${name} is also owned by ${rs[0]!.name}: the second create fails ("already exists"), and deleting either removes it under the other`,
      });
    }
  }
  return findings;
}

/** A resource to replace, with why. */
export interface Replace {
  readonly urn: string;
  readonly reasons: readonly string[];
  /** The old resource goes first (delete-before-replace). */
  readonly deleteFirst: boolean;
  /** Replaced because a resource it takes outputs from is replaced first: that URN. */
  readonly cascadeFrom?: string;
}

/**
 * Resources a set of replacements takes along: a dependent whose force-new input takes outputs of
 * a replaced resource gets new values there and is replaced as well. For a delete-first
 * replacement the engine asks the provider with those inputs unknown (pulumi/pulumi
 * pkg/resource/deploy/step_generator.go, `calculateDependentReplacements`), for create-first
 * ones the new values arrive in the normal diff; both honour the dependent's `ignoreChanges`.
 * An upper bound: an output that keeps its value does not replace anything in the real run.
 */
export function cascade(
  replaced: ReadonlyMap<string, Replace>,
  head: readonly PlanResource[],
): Replace[] {
  const all = new Map(replaced);
  const out: Replace[] = [];
  let grew = true;
  const take = (r: PlanResource, reason: string, from: Replace) => {
    const rep: Replace = {
      urn: r.urn,
      reasons: [reason],
      deleteFirst: deletesFirst(r),
      cascadeFrom: from.urn,
    };
    all.set(r.urn, rep);
    out.push(rep);
    grew = true;
  };
  while (grew) {
    grew = false;
    for (const r of head) {
      if (all.has(r.urn) || isLogical(r.type)) continue;
      // A replaced provider replaces every resource it manages.
      const byProvider = r.provider !== "" ? all.get(r.provider) : undefined;
      if (byProvider !== undefined) {
        take(r, "provider", byProvider);
        continue;
      }
      for (const [prop, urns] of Object.entries(r.propertyDependencies)) {
        const from = urns.map((u) => all.get(u)).find((x) => x !== undefined);
        if (from === undefined) continue;
        // Force-new paths within the property (the engine tracks dependencies per top-level
        // input, so any of them may take the new value); the normal diff skips ignored ones.
        const forced = forceNewWithin(r, prop).filter(
          (p) => !r.ignoreChanges.some((i) => matches(p, i) || matches(i, p)),
        );
        if (forced.length === 0) continue;
        take(r, prop, from);
        break;
      }
    }
  }
  return out;
}
