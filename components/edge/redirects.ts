import { createHash } from "node:crypto";
import type { CloudflarePlan, RedirectSpec } from "../config";
import { PLAN_LIMITS } from "./limits";
import { keyPath, shortHash, throwIfProblems, type Path, type Problem } from "./problems";

/** The zone entry point that holds every single redirect of a zone. */
export const SINGLE_REDIRECT_PHASE = "http_request_dynamic_redirect";
/** The account entry point that enables bulk-redirect lists. */
export const BULK_REDIRECT_PHASE = "http_request_redirect";
/** The request field bulk-redirect lists are looked up with. */
export const BULK_REDIRECT_KEY = "http.request.full_uri";
/**
 * Items per bulk list the planner aims for. A list is rewritten whole when any of its items
 * changes, so smaller lists keep each update small; the plan's list quota caps the count.
 */
export const BULK_LIST_ITEMS = 1000;

/** Where a redirect goes: a rule of the zone's redirect ruleset, or an item of a bulk list. */
export const Placement = { single: "single", bulk: "bulk" } as const;
export type Placement = (typeof Placement)[keyof typeof Placement];

/**
 * A redirect whose source has a `*` needs an expression (`wildcard`, `wildcard_replace`), which
 * only single-redirect rules have; every other redirect is an exact URL, which bulk lists match
 * natively (with subpath and subdomain matching). The choice depends on the redirect alone, so
 * adding or removing one never moves another.
 */
export function placementOf(redirect: Pick<RedirectSpec, "source">): Placement {
  return redirect.source.includes("*") ? Placement.single : Placement.bulk;
}

export interface SingleRedirectRule {
  /** Position in `edge.redirects`. */
  readonly index: number;
  /** Stable rule identity in Cloudflare, derived from the source. */
  readonly ref: string;
  readonly description: string;
  readonly expression: string;
  readonly statusCode: number;
  readonly preserveQueryString: boolean;
  readonly targetUrl: { readonly value: string } | { readonly expression: string };
}

export interface BulkRedirectItem {
  /** Position in `edge.redirects`. */
  readonly index: number;
  readonly sourceUrl: string;
  readonly targetUrl: string;
  readonly statusCode: number;
  readonly preserveQueryString: boolean;
  readonly preservePathSuffix: boolean;
  readonly subpathMatching: boolean;
  readonly includeSubdomains: boolean;
}

export interface BulkRedirectList {
  /** Stable key of the list (its bucket, from 1). */
  readonly key: string;
  /** The list's name in the account, as rule expressions reference it. */
  readonly name: string;
  /** Sorted by source. */
  readonly items: readonly BulkRedirectItem[];
}

export interface BulkRedirectRule {
  readonly ref: string;
  readonly description: string;
  readonly expression: string;
  readonly listName: string;
  readonly key: typeof BULK_REDIRECT_KEY;
}

export interface RedirectPlan {
  /** Rules of the zone's one `http_request_dynamic_redirect` ruleset, in stack order. */
  readonly single: { readonly rules: readonly SingleRedirectRule[] };
  /** Lists of the account and the rules of its one `http_request_redirect` ruleset. */
  readonly bulk: {
    readonly lists: readonly BulkRedirectList[];
    readonly rules: readonly BulkRedirectRule[];
  };
}

export interface PlanRedirectsOptions {
  /**
   * The zone the single rules live in: wildcard sources must be inside it, and bulk lists are
   * named after it (list names are unique per account).
   * @default - sources are not checked against a zone; lists are named `redirects_<n>`
   */
  readonly zone?: string;
}

interface Url {
  readonly scheme: string;
  readonly host: string;
  readonly path: string;
  readonly query: string;
}

const STATUS_CODES: ReadonlySet<number> = new Set([301, 302, 307, 308]);
/** `${1}`, `${2}`, ...: what the source's wildcards matched, in a target. */
const CAPTURE = /\$\{(\d+)\}/g;
const HAS_CAPTURE = /\$\{\d+\}/;

function parseUrl(text: string): Url | undefined {
  try {
    const u = new URL(text);
    return {
      scheme: u.protocol.slice(0, -1),
      host: u.host,
      path: u.pathname,
      query: u.search.slice(1),
    };
  } catch {
    return undefined;
  }
}

const withQuery = (u: Url) => `${u.scheme}://${u.host}${u.path}${u.query ? `?${u.query}` : ""}`;
const withoutQuery = (u: Url) => `${u.scheme}://${u.host}${u.path}`;
/** `/a/b/` and `/a/b` are the same subpath source; the root is the empty prefix. */
const prefixOf = (path: string) => path.replace(/\/+$/, "");

/** Rules-language string literal. */
function quote(text: string): string {
  return `"${text.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

function wildcardRegex(pattern: string): RegExp {
  const escaped = pattern.toLowerCase().replace(/[.+?^${}()|[\]\\*]/g, (c) => `\\${c}`);
  return new RegExp(`^${escaped.replaceAll("\\*", ".*")}$`);
}

/** Bulk lists are spread over `buckets` lists with a jump consistent hash: growing the count by
 * one moves only the items that must move (Lamping and Veach, 2014). */
export function jumpHash(key: bigint, buckets: number): number {
  let b = -1;
  let j = 0;
  let k = key;
  while (j < buckets) {
    b = j;
    k = (k * 2862933555777941757n + 1n) & 0xffffffffffffffffn;
    j = Math.floor((b + 1) * (2 ** 31 / Number((k >> 33n) + 1n)));
  }
  return b;
}

function hashKey(text: string): bigint {
  return createHash("sha256").update(text).digest().readBigUInt64BE(0);
}

/** Name of a bulk list in the account: `[a-z0-9_]`, at most 50 characters. */
export function bulkListName(zone: string | undefined, key: string): string {
  const suffix = `_redirects_${key}`;
  if (zone === undefined) return `redirects_${key}`;
  let base = zone.toLowerCase().replace(/[^a-z0-9]+/g, "_");
  if (base.length + suffix.length > 50) {
    base = `${base.slice(0, 50 - suffix.length - 9)}_${shortHash(zone)}`;
  }
  return `${base}${suffix}`;
}

/** Strongly connected components (iterative Tarjan: chains can be as long as the input). */
function components(adj: readonly (readonly number[])[]): Int32Array {
  const n = adj.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const comp = new Int32Array(n).fill(-1);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  let counter = 0;
  let compId = 0;
  const visit = (v: number) => {
    index[v] = counter;
    low[v] = counter;
    counter++;
    stack.push(v);
    onStack[v] = 1;
  };
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1 || adj[root]!.length === 0) continue;
    visit(root);
    const calls: [number, number][] = [[root, 0]];
    while (calls.length > 0) {
      const frame = calls[calls.length - 1]!;
      const v = frame[0];
      const edges = adj[v]!;
      if (frame[1] < edges.length) {
        const w = edges[frame[1]]!;
        frame[1]++;
        if (index[w] === -1) {
          visit(w);
          calls.push([w, 0]);
        } else if (onStack[w] === 1) {
          low[v] = Math.min(low[v]!, index[w]!);
        }
        continue;
      }
      calls.pop();
      const parent = calls[calls.length - 1];
      if (parent !== undefined) low[parent[0]] = Math.min(low[parent[0]]!, low[v]!);
      if (low[v] === index[v]) {
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          comp[w] = compId;
        } while (w !== v);
        compId++;
      }
    }
  }
  return comp;
}

/** One cycle inside a strongly connected component, from its smallest member. */
function cycleIn(start: number, adj: readonly (readonly number[])[], comp: Int32Array): number[] {
  const c = comp[start];
  const path: number[] = [];
  const seen = new Map<number, number>();
  let cur = start;
  while (!seen.has(cur)) {
    seen.set(cur, path.length);
    path.push(cur);
    cur = Math.min(...adj[cur]!.filter((w) => comp[w] === c));
  }
  const cycle = path.slice(seen.get(cur));
  const min = cycle.indexOf(Math.min(...cycle));
  const rotated = [...cycle.slice(min), ...cycle.slice(0, min)];
  return [...rotated, rotated[0]!];
}

interface Checked {
  readonly index: number;
  readonly spec: RedirectSpec;
  readonly placement: Placement;
  /** Identity of the source: duplicates share it. */
  readonly sourceKey: string;
  readonly source?: Url;
  /** A wildcard source as a regular expression. */
  readonly pattern?: RegExp;
  /** The target with every capture replaced by a sample segment, as a request would be. */
  readonly sample?: Url;
  /** Whether the entry passed its own checks (relations are checked between those only). */
  readonly valid: boolean;
}

function check(
  spec: RedirectSpec,
  index: number,
  zone: string | undefined,
  bad: (message: string) => void,
): Checked | undefined {
  let valid = true;
  const fail = (message: string) => {
    valid = false;
    bad(message);
  };
  const placement = placementOf(spec);
  if (!/^https?:\/\//i.test(spec.source)) {
    fail(`source must be an http:// or https:// URL (got "${spec.source}")`);
  }
  if (!/^https:\/\//i.test(spec.target)) {
    fail(`target must be an https:// URL (got "${spec.target}")`);
  }
  if (!STATUS_CODES.has(spec.status)) {
    fail(`status must be one of 301, 302, 307, 308 (got ${String(spec.status)})`);
  }
  const dynamic = HAS_CAPTURE.test(spec.target);
  const wildcards = placement === Placement.single ? spec.source.split("*").length - 1 : 0;
  if (dynamic) {
    const highest = Math.max(...[...spec.target.matchAll(CAPTURE)].map((m) => Number(m[1])));
    if (highest > wildcards) {
      fail(
        wildcards === 0
          ? `target uses \${${highest}} but the source has no wildcard`
          : `target uses \${${highest}} but the source has only ${wildcards} wildcard${wildcards === 1 ? "" : "s"}`,
      );
    }
  }
  const sample = parseUrl(dynamic ? spec.target.replace(CAPTURE, "x") : spec.target);
  const withSample = sample !== undefined ? { sample } : {};

  if (placement === Placement.single) {
    const flags = (["subpathMatching", "preservePathSuffix", "includeSubdomains"] as const).filter(
      (f) => spec[f],
    );
    if (flags.length > 0) {
      fail(
        `${flags.join(", ")} appl${flags.length === 1 ? "ies" : "y"} only to exact-URL (bulk) redirects; a wildcard source matches with * instead`,
      );
    }
    const host = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(spec.source)?.[1]?.toLowerCase() ?? "";
    const tail = host.slice(host.lastIndexOf("*") + 1).replace(/^\./, "");
    if (zone !== undefined && tail !== zone && !tail.endsWith(`.${zone}`)) {
      fail(
        `a wildcard redirect is a rule of the zone ${zone}, so its source must be in that zone (got ${host})`,
      );
    }
    const text = spec.source.replace(/#.*$/, "").toLowerCase();
    if (text === spec.target.replace(/#.*$/, "").toLowerCase()) {
      fail(`source and target are the same URL (${spec.source})`);
    }
    return {
      index,
      spec,
      placement,
      sourceKey: text,
      pattern: wildcardRegex(text),
      ...withSample,
      valid,
    };
  }

  if (spec.preservePathSuffix && !spec.subpathMatching) {
    fail(`preservePathSuffix needs subpathMatching (only a subpath match leaves a suffix to keep)`);
  }
  const source = parseUrl(spec.source);
  if (source === undefined) {
    fail(`source is not a valid URL (got "${spec.source}")`);
    return undefined;
  }
  // Bulk lists match scheme, host and path; a query string, port or fragment in a source
  // would never match (Cloudflare rejects them).
  if (source.query !== "" || /#|:\d+\//.test(spec.source)) {
    fail(`an exact-URL source matches scheme, host and path only (got "${spec.source}")`);
  }
  // With the request's query string kept, a target's own query string would be dropped.
  if (spec.preserveQueryString && sample !== undefined && sample.query !== "") {
    fail(`a target with a query string needs preserveQueryString: false (got "${spec.target}")`);
  }
  if (sample !== undefined && withQuery(source) === withQuery(sample)) {
    fail(`source and target are the same URL (${spec.source})`);
  }
  return { index, spec, placement, sourceKey: withQuery(source), source, ...withSample, valid };
}

/** Every source that catches a request for `t`, by the matching rules of each kind. */
class SourceIndex {
  private readonly exact = new Map<string, number>();
  private readonly exactSub = new Map<string, number[]>();
  private readonly subpath = new Map<string, number[]>();
  private readonly subpathSub = new Map<string, number[]>();
  /** Wildcard sources by their text before the first `*`: only those can match a target
   * that starts with it, so a target is tested against a few patterns, not all of them. */
  private readonly patterns = new Map<string, { node: number; regex: RegExp }[]>();
  private readonly prefixLengths: readonly number[];

  constructor(entries: readonly Checked[]) {
    const push = (m: Map<string, number[]>, k: string, v: number) => {
      const list = m.get(k);
      if (list === undefined) m.set(k, [v]);
      else list.push(v);
    };
    entries.forEach((c, node) => {
      if (c.pattern !== undefined) {
        const prefix = c.sourceKey.slice(0, c.sourceKey.indexOf("*"));
        const list = this.patterns.get(prefix);
        if (list === undefined) this.patterns.set(prefix, [{ node, regex: c.pattern }]);
        else list.push({ node, regex: c.pattern });
        return;
      }
      const s = c.source!;
      const { subpathMatching, includeSubdomains } = c.spec;
      if (subpathMatching) {
        const key = `${s.scheme}://${s.host}${prefixOf(s.path)}`;
        push(includeSubdomains ? this.subpathSub : this.subpath, key, node);
      } else if (includeSubdomains) push(this.exactSub, withoutQuery(s), node);
      else this.exact.set(withoutQuery(s), node);
    });
    this.prefixLengths = [...new Set([...this.patterns.keys()].map((k) => k.length))];
  }

  /** Nodes whose source catches `t`, ascending, each once. */
  match(t: Url): number[] {
    const out: number[] = [];
    const exact = this.exact.get(withoutQuery(t));
    if (exact !== undefined) out.push(exact);
    // Path prefixes at segment boundaries: "", "/a", "/a/b", ...
    const prefixes = [""];
    if (this.subpath.size > 0 || this.subpathSub.size > 0) {
      for (let i = t.path.indexOf("/", 1); i !== -1; i = t.path.indexOf("/", i + 1)) {
        prefixes.push(t.path.slice(0, i));
      }
      prefixes.push(prefixOf(t.path));
      for (const p of prefixes)
        out.push(...(this.subpath.get(`${t.scheme}://${t.host}${p}`) ?? []));
    }
    if (this.exactSub.size > 0 || this.subpathSub.size > 0) {
      for (let h = t.host; h !== ""; h = h.includes(".") ? h.slice(h.indexOf(".") + 1) : "") {
        out.push(...(this.exactSub.get(`${t.scheme}://${h}${t.path}`) ?? []));
        if (this.subpathSub.size === 0) continue;
        for (const p of prefixes)
          out.push(...(this.subpathSub.get(`${t.scheme}://${h}${p}`) ?? []));
      }
    }
    if (this.patterns.size > 0) {
      const text = withQuery(t).toLowerCase();
      for (const length of this.prefixLengths) {
        for (const p of this.patterns.get(text.slice(0, length)) ?? []) {
          if (p.regex.test(text)) out.push(p.node);
        }
      }
    }
    if (out.length < 2) return out;
    return [...new Set(out)].sort((a, b) => a - b);
  }
}

/** The redirect plan and the problems found; `planRedirects` throws on problems. */
export function redirectPlanAndProblems(
  redirects: readonly RedirectSpec[],
  plan: CloudflarePlan,
  options: PlanRedirectsOptions = {},
): { plan: RedirectPlan; problems: Problem[] } {
  const limits = PLAN_LIMITS[plan];
  const zone = options.zone?.toLowerCase();
  const problems: Problem[] = [];
  const at = (i: number): Path => ["edge", "redirects", i];
  const checked: Checked[] = [];
  redirects.forEach((spec, index) => {
    const c = check(spec, index, zone, (message) => problems.push({ path: at(index), message }));
    if (c !== undefined) checked.push(c);
  });

  // Duplicates: a list cannot hold one source twice, and a second rule for a source never runs.
  const firstBySource = new Map<string, number>();
  const unique: Checked[] = [];
  for (const c of checked) {
    const first = firstBySource.get(c.sourceKey);
    if (first !== undefined) {
      problems.push({
        path: at(c.index),
        message: `duplicate source ${c.spec.source} (also ${keyPath(at(first))})`,
      });
      continue;
    }
    firstBySource.set(c.sourceKey, c.index);
    if (c.valid) unique.push(c);
  }

  // Which redirects catch another one's target: chains (one more round trip for every visitor,
  // and a trap when the middle one moves) and loops (a browser error).
  const index = new SourceIndex(unique);
  const adj = unique.map((c) => (c.sample !== undefined ? index.match(c.sample) : []));
  const comp = components(adj);
  const size = new Map<number, number>();
  for (const c of comp) if (c >= 0) size.set(c, (size.get(c) ?? 0) + 1);
  const reportedLoops = new Set<number>();
  unique.forEach((c, node) => {
    const path = at(c.index);
    const inLoop = (size.get(comp[node]!) ?? 0) > 1;
    if (inLoop && !reportedLoops.has(comp[node]!)) {
      reportedLoops.add(comp[node]!);
      const cycle = cycleIn(node, adj, comp);
      problems.push({
        path: at(unique[cycle[0]!]!.index),
        message: `redirect loop: ${cycle.map((n) => keyPath(at(unique[n]!.index))).join(" → ")}`,
      });
    }
    for (const next of adj[node]!) {
      if (next === node) {
        problems.push({
          path,
          message: `its target ${c.spec.target} is matched by its own source ${c.spec.source}: a redirect loop`,
        });
      } else if (!(inLoop && comp[next] === comp[node])) {
        const other = unique[next]!;
        problems.push({
          path,
          message: `its target ${c.spec.target} is redirected again by ${keyPath(at(other.index))} (${other.spec.source}): redirect straight to the final URL instead of chaining`,
        });
      }
    }
  });

  const singles = unique.filter((c) => c.placement === Placement.single);
  const bulk = unique.filter((c) => c.placement === Placement.bulk);
  if (singles.length > limits.singleRedirectRules) {
    problems.push({
      path: ["edge", "redirects"],
      message: `${singles.length} wildcard redirects need ${singles.length} single-redirect rules; the ${plan} plan allows ${limits.singleRedirectRules} per zone`,
    });
  }
  if (bulk.length > limits.bulkRedirectItems) {
    problems.push({
      path: ["edge", "redirects"],
      message: `${bulk.length} exact-URL redirects need ${bulk.length} bulk-redirect list items; the ${plan} plan allows ${limits.bulkRedirectItems} per account`,
    });
  }

  const rules: SingleRedirectRule[] = singles.map((c) => {
    const pattern = c.spec.source.replace(/#.*$/, "");
    const dynamic = HAS_CAPTURE.test(c.spec.target);
    return {
      index: c.index,
      ref: `redirect_${shortHash(c.sourceKey, 16)}`,
      description: `${c.spec.source} → ${c.spec.target}`.slice(0, 500),
      expression: `http.request.full_uri wildcard ${quote(pattern)}`,
      statusCode: c.spec.status,
      preserveQueryString: c.spec.preserveQueryString,
      targetUrl: dynamic
        ? {
            expression: `wildcard_replace(http.request.full_uri, ${quote(pattern)}, ${quote(c.spec.target)})`,
          }
        : { value: c.spec.target },
    };
  });

  const listCount = Math.min(
    limits.bulkRedirectLists,
    Math.max(1, Math.ceil(bulk.length / BULK_LIST_ITEMS)),
  );
  const buckets = new Map<number, Checked[]>();
  for (const c of bulk) {
    const b = jumpHash(hashKey(c.sourceKey), listCount);
    const list = buckets.get(b);
    if (list === undefined) buckets.set(b, [c]);
    else list.push(c);
  }
  const lists: BulkRedirectList[] = [...buckets.keys()]
    .sort((a, b) => a - b)
    .map((b) => {
      const key = String(b + 1);
      const items = buckets
        .get(b)!
        .sort((x, y) => (x.sourceKey < y.sourceKey ? -1 : x.sourceKey > y.sourceKey ? 1 : 0))
        .map((c) => ({
          index: c.index,
          sourceUrl: c.spec.source,
          targetUrl: c.spec.target,
          statusCode: c.spec.status,
          preserveQueryString: c.spec.preserveQueryString,
          preservePathSuffix: c.spec.preservePathSuffix,
          subpathMatching: c.spec.subpathMatching,
          includeSubdomains: c.spec.includeSubdomains,
        }));
      return { key, name: bulkListName(zone, key), items };
    });
  const bulkRules: BulkRedirectRule[] = lists.map((l) => ({
    ref: l.name,
    description: `bulk redirects of the list ${l.name}`,
    expression: `${BULK_REDIRECT_KEY} in $${l.name}`,
    listName: l.name,
    key: BULK_REDIRECT_KEY,
  }));

  return { plan: { single: { rules }, bulk: { lists, rules: bulkRules } }, problems };
}

/**
 * Splits redirects into single-redirect rules (wildcards) and bulk-redirect lists (exact URLs),
 * checks them against each other and against the plan tier's quotas. Pure and deterministic;
 * throws one `ConfigError` naming every bad entry.
 */
export function planRedirects(
  redirects: readonly RedirectSpec[],
  plan: CloudflarePlan,
  options: PlanRedirectsOptions = {},
): RedirectPlan {
  const result = redirectPlanAndProblems(redirects, plan, options);
  throwIfProblems(result.problems);
  return result.plan;
}
