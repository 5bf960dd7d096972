import type { CloudflarePlan } from "../config";

/** What one Cloudflare plan tier allows for the rules this component manages. */
export interface PlanLimits {
  /** Single-redirect rules in a zone's `http_request_dynamic_redirect` entry point. */
  readonly singleRedirectRules: number;
  /** Bulk-redirect lists in the account (shared by every zone of the account). */
  readonly bulkRedirectLists: number;
  /** URL redirects across all bulk-redirect lists of the account. */
  readonly bulkRedirectItems: number;
  /** Cache rules in a zone's `http_request_cache_settings` entry point. */
  readonly cacheRules: number;
}

/**
 * Cloudflare's published quotas per plan. They are checked before anything is deployed: the API
 * would otherwise reject the ruleset or list half-way through an update.
 */
export const PLAN_LIMITS: Readonly<Record<CloudflarePlan, PlanLimits>> = {
  free: {
    singleRedirectRules: 10,
    bulkRedirectLists: 5,
    bulkRedirectItems: 10_000,
    cacheRules: 10,
  },
  pro: { singleRedirectRules: 25, bulkRedirectLists: 5, bulkRedirectItems: 25_000, cacheRules: 25 },
  business: {
    singleRedirectRules: 50,
    bulkRedirectLists: 5,
    bulkRedirectItems: 50_000,
    cacheRules: 50,
  },
  enterprise: {
    singleRedirectRules: 300,
    bulkRedirectLists: 25,
    bulkRedirectItems: 1_000_000,
    cacheRules: 300,
  },
};
