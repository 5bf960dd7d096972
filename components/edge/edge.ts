import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import { CACHE_PHASE, cacheRulePlanAndProblems, type CacheRule } from "./cache";
import { throwIfProblems, type Problem } from "./problems";
import { dnsRecordPlanAndProblems, type DnsRecordPlan, type ExposedName } from "./records";
import {
  BULK_REDIRECT_PHASE,
  SINGLE_REDIRECT_PHASE,
  redirectPlanAndProblems,
  type RedirectPlan,
} from "./redirects";

/** The stack's `edge` section, validated and defaulted. */
export type EdgeConfig = NonNullable<StackConfig["edge"]>;

export interface EdgeArgs {
  /** The Cloudflare account of the zone and the bulk-redirect lists. */
  readonly accountId: string;
  /** The zone apex, and its id when the zone exists already (else it is created, protected). */
  readonly zone: { readonly name: string; readonly id?: string | undefined };
  /** The records, redirects and cache rules (`planEdge`: validated before anything exists). */
  readonly plan: EdgePlan;
  /**
   * The Cloudflare Tunnel every exposed service is reached through (`<id>.cfargotunnel.com`):
   * the records of exposed services become proxied CNAMEs to it.
   * @default - they point where the plan says (`edge.ingressTarget`)
   */
  readonly tunnelTarget?: pulumi.Input<string>;
}

/**
 * The Edge component's arguments for a stack's edge section and exposed services: plans and
 * validates the records, redirects and cache rules, throwing one `ConfigError` naming every
 * problem before any resource exists.
 */
export function edgeArgs(
  edge: EdgeConfig,
  services: readonly ExposedName[] = [],
  plan: EdgePlan = planEdge(edge, services),
): EdgeArgs {
  return { accountId: edge.accountId, zone: edge.zone, plan };
}

/** Everything the edge of one stack creates, decided before any resource exists. */
export interface EdgePlan {
  readonly records: DnsRecordPlan;
  readonly redirects: RedirectPlan;
  readonly cacheRules: readonly CacheRule[];
}

/**
 * Plans records, redirects and cache rules together and throws one `ConfigError` naming every
 * problem of the three. Pure and deterministic.
 */
/**
 * Plans records, redirects and cache rules together and returns every problem of the three with
 * its key path (the plan is meaningful only when there are none). Pure and deterministic.
 */
export function planEdgeWithProblems(
  edge: EdgeConfig,
  services: readonly ExposedName[] = [],
): { plan: EdgePlan; problems: Problem[] } {
  const records = dnsRecordPlanAndProblems(edge, services);
  const redirects = redirectPlanAndProblems(edge.redirects, edge.plan, { zone: edge.zone.name });
  const proxied = records.plan.records.filter((r) => r.proxied).map((r) => r.name);
  const cache = cacheRulePlanAndProblems(edge.cachePaths, proxied, edge.plan);
  return {
    plan: { records: records.plan, redirects: redirects.plan, cacheRules: cache.rules },
    problems: [...records.problems, ...redirects.problems, ...cache.problems],
  };
}

/** The edge plan; throws one `ConfigError` naming every problem. */
export function planEdge(edge: EdgeConfig, services: readonly ExposedName[] = []): EdgePlan {
  const { plan, problems } = planEdgeWithProblems(edge, services);
  throwIfProblems(problems);
  return plan;
}

/** Records say where they come from, for whoever finds them in the dashboard. */
const COMMENT = "managed by homebrew-dev";

/**
 * The Cloudflare edge of one environment: the zone (existing, or created and protected), its DNS
 * records, the zone's single-redirect and cache-rule rulesets, and the account's bulk-redirect
 * lists with the ruleset that enables them.
 */
export class Edge extends pulumi.ComponentResource {
  public readonly zoneId: pulumi.Output<string>;
  /** Every published name, sorted. */
  public readonly recordNames: readonly string[];

  constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homebrew-dev:edge:Edge", name, {}, opts);
    const { plan } = args;
    const parent = { parent: this };
    const zoneName = args.zone.name;

    let zoneId: pulumi.Output<string>;
    if (args.zone.id !== undefined) {
      zoneId = pulumi.output(args.zone.id);
    } else {
      // Deleting a zone deletes every record, rule and certificate in it: protected.
      const zone = new cloudflare.Zone(
        `${name}-zone`,
        { account: { id: args.accountId }, name: zoneName, type: "full" },
        { parent: this, protect: true },
      );
      zoneId = zone.id;
    }

    for (const r of plan.records.records) {
      new cloudflare.DnsRecord(
        `${name}-record-${r.key}`,
        {
          zoneId,
          name: r.name,
          type: r.type,
          ttl: r.ttl,
          proxied: r.proxied,
          comment: COMMENT,
          ...(r.content !== undefined
            ? {
                content:
                  args.tunnelTarget !== undefined && !r.from.startsWith("edge.")
                    ? args.tunnelTarget
                    : r.content,
              }
            : {}),
          ...(r.data !== undefined ? { data: r.data } : {}),
          ...(r.priority !== undefined ? { priority: r.priority } : {}),
        },
        {
          parent: this,
          // A name keeps its resource when its type changes between A and CNAME (see
          // recordKey). Two records of different types cannot share a name while one is a
          // CNAME, so the old record must go before the new one is created.
          replaceOnChanges: ["type"],
          deleteBeforeReplace: true,
        },
      );
    }

    // One entry-point ruleset per phase and zone: every single redirect is a rule of this one.
    const single = plan.redirects.single.rules;
    if (single.length > 0) {
      new cloudflare.Ruleset(
        `${name}-single-redirects`,
        {
          zoneId,
          kind: "zone",
          phase: SINGLE_REDIRECT_PHASE,
          name: `${zoneName} single redirects`,
          description: `Wildcard redirects of ${zoneName}`,
          rules: single.map((r) => ({
            ref: r.ref,
            description: r.description,
            expression: r.expression,
            action: "redirect",
            enabled: true,
            actionParameters: {
              fromValue: {
                statusCode: r.statusCode,
                preserveQueryString: r.preserveQueryString,
                targetUrl: r.targetUrl,
              },
            },
          })),
        },
        parent,
      );
    }

    const lists = plan.redirects.bulk.lists.map(
      (l) =>
        new cloudflare.List(
          `${name}-redirect-list-${l.key}`,
          {
            accountId: args.accountId,
            kind: "redirect",
            name: l.name,
            description: `Exact-URL redirects of ${zoneName} (list ${l.key})`,
            items: l.items.map((i) => ({
              redirect: {
                sourceUrl: i.sourceUrl,
                targetUrl: i.targetUrl,
                statusCode: i.statusCode,
                preserveQueryString: i.preserveQueryString,
                preservePathSuffix: i.preservePathSuffix,
                subpathMatching: i.subpathMatching,
                includeSubdomains: i.includeSubdomains,
              },
            })),
          },
          parent,
        ),
    );
    // The account's one bulk-redirect entry point: a rule per list. The list's name comes from
    // the resource, so the rules are written after the lists exist.
    if (lists.length > 0) {
      new cloudflare.Ruleset(
        `${name}-bulk-redirects`,
        {
          accountId: args.accountId,
          kind: "root",
          phase: BULK_REDIRECT_PHASE,
          name: `${zoneName} bulk redirects`,
          description: `Enables the bulk-redirect lists of ${zoneName}`,
          rules: plan.redirects.bulk.rules.map((r, i) => ({
            ref: r.ref,
            description: r.description,
            expression: r.expression,
            action: "redirect",
            enabled: true,
            actionParameters: { fromList: { name: lists[i]!.name, key: r.key } },
          })),
        },
        parent,
      );
    }

    if (plan.cacheRules.length > 0) {
      new cloudflare.Ruleset(
        `${name}-cache-rules`,
        {
          zoneId,
          kind: "zone",
          phase: CACHE_PHASE,
          name: `${zoneName} cache rules`,
          description: `Static asset paths of ${zoneName} cached at the edge`,
          rules: plan.cacheRules.map((r) => ({
            ref: r.ref,
            description: r.description,
            expression: r.expression,
            action: "set_cache_settings",
            enabled: true,
            actionParameters: { cache: true },
          })),
        },
        parent,
      );
    }

    this.zoneId = zoneId;
    this.recordNames = plan.records.names;
    this.registerOutputs({ zoneId: this.zoneId, recordNames: this.recordNames });
  }
}
