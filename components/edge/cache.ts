import type { CloudflarePlan } from "../config";
import { PLAN_LIMITS } from "./limits";
import { shortHash, throwIfProblems, type Problem } from "./problems";

/** The zone entry point of cache rules. */
export const CACHE_PHASE = "http_request_cache_settings";

export interface CacheRule {
  /** Stable rule identity in Cloudflare, derived from the path. */
  readonly ref: string;
  readonly description: string;
  readonly expression: string;
  readonly path: string;
}

function quote(text: string): string {
  return `"${text.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/** Cache rules and the problems found; `planCacheRules` throws on problems. */
export function cacheRulePlanAndProblems(
  paths: readonly string[],
  hostnames: readonly string[],
  plan: CloudflarePlan,
): { rules: CacheRule[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  paths.forEach((p, i) => {
    const first = seen.get(p);
    if (first !== undefined) {
      problems.push({
        path: ["edge", "cachePaths", i],
        message: `duplicate path ${p} (also edge.cachePaths[${first}])`,
      });
    } else seen.set(p, i);
  });
  const limit = PLAN_LIMITS[plan].cacheRules;
  if (seen.size > limit) {
    problems.push({
      path: ["edge", "cachePaths"],
      message: `${seen.size} paths need ${seen.size} cache rules; the ${plan} plan allows ${limit} per zone`,
    });
  }
  // Only proxied names reach the cache, and wildcard names are not values http.host can equal.
  const hosts = [...new Set(hostnames)].filter((h) => !h.includes("*")).sort();
  if (hosts.length === 0) return { rules: [], problems };
  const hostSet = `{${hosts.map(quote).join(" ")}}`;
  const rules = [...seen.keys()].map((path) => ({
    ref: `cache_${shortHash(path, 16)}`,
    description: `cache ${path} at the edge`,
    expression: `http.host in ${hostSet} and starts_with(http.request.uri.path, ${quote(path)})`,
    path,
  }));
  return { rules, problems };
}

/**
 * One cache rule per asset path prefix, each limited to the zone's proxied names, in stack
 * order. Pure; throws one `ConfigError` for duplicates or more rules than the plan allows.
 */
export function planCacheRules(
  paths: readonly string[],
  hostnames: readonly string[],
  plan: CloudflarePlan,
): CacheRule[] {
  const { rules, problems } = cacheRulePlanAndProblems(paths, hostnames, plan);
  throwIfProblems(problems);
  return rules;
}
