import { beforeAll, describe, expect, it } from "vitest";
import { PLAN_LIMITS, exposedNames, planEdge } from "../../components/edge";
import { hasIngress } from "../../components/kubernetes/platform";
import { runPlanCli } from "../helpers/cli";
import { shippedStack as stack } from "../helpers/stacks";

const STACKS = ["dev", "staging", "prod"] as const;

interface PlannedResource {
  type: string;
  name: string;
  parent: string;
  provider: string;
  protect: boolean;
  inputs: Record<string, any>;
}

describe("the shipped stacks' edges", () => {
  it.each(STACKS)("%s: plans its records, redirects and cache rules", (name) => {
    const c = stack(name);
    expect(() => planEdge(c.edge!, exposedNames(c, { tunnel: hasIngress(c) }))).not.toThrow();
  });

  it("prod: dozens of records and redirects, both single rules and bulk lists within pro", () => {
    const c = stack("prod");
    const p = planEdge(c.edge!, exposedNames(c, { tunnel: hasIngress(c) }));
    const limits = PLAN_LIMITS[c.edge!.plan];
    expect(c.edge!.plan).toBe("pro");
    expect(p.records.records.length).toBeGreaterThanOrEqual(24);
    expect(c.edge!.redirects.length).toBeGreaterThanOrEqual(24);
    expect(p.redirects.single.rules.length).toBeGreaterThan(0);
    expect(p.redirects.single.rules.length).toBeLessThanOrEqual(limits.singleRedirectRules);
    expect(p.redirects.bulk.lists.length).toBeGreaterThan(0);
    expect(p.redirects.bulk.lists.length).toBeLessThanOrEqual(limits.bulkRedirectLists);
    const items = p.redirects.bulk.lists.reduce((n, l) => n + l.items.length, 0);
    expect(items + p.redirects.single.rules.length).toBe(c.edge!.redirects.length);
    expect(items).toBeLessThanOrEqual(limits.bulkRedirectItems);
    // Service discovery: Grafana and the exposed models have their names.
    expect(p.records.names).toEqual(
      expect.arrayContaining([
        "grafana.homebrew.example",
        "llm.homebrew.example",
        "embed.homebrew.example",
      ]),
    );
  });

  it("one stack per Cloudflare account owns the account's bulk redirects", () => {
    const owners = new Map<string, string[]>();
    for (const name of STACKS) {
      const c = stack(name);
      if (
        planEdge(c.edge!, exposedNames(c, { tunnel: hasIngress(c) })).redirects.bulk.lists
          .length === 0
      )
        continue;
      owners.set(c.edge!.accountId, [...(owners.get(c.edge!.accountId) ?? []), name]);
    }
    for (const names of owners.values()) expect(names).toHaveLength(1);
  });
});

describe("npm run plan -- prod --json: the edge", () => {
  let resources: PlannedResource[];
  let outputs: Record<string, unknown>;
  beforeAll(async () => {
    const res = await runPlanCli(["prod", "--json"]);
    expect(res.code).toBe(0);
    const plan = JSON.parse(res.stdout);
    resources = plan.resources;
    outputs = plan.outputs;
  });
  const ofType = (type: string) => resources.filter((r) => r.type === type);

  it("holds at most one single-redirect ruleset per zone", () => {
    const rulesets = ofType("cloudflare:index/ruleset:Ruleset");
    const perZone = new Map<string, number>();
    for (const r of rulesets.filter((x) => x.inputs["phase"] === "http_request_dynamic_redirect")) {
      expect(r.inputs["kind"]).toBe("zone");
      const zone = String(r.inputs["zoneId"]);
      perZone.set(zone, (perZone.get(zone) ?? 0) + 1);
    }
    expect([...perZone.values()]).toEqual([1]);
    const phases = rulesets.map((r) => `${r.inputs["kind"]} ${r.inputs["phase"]}`).sort();
    expect(phases).toEqual([
      "root http_request_redirect",
      "zone http_request_cache_settings",
      "zone http_request_dynamic_redirect",
    ]);
  });

  it("keeps the bulk lists within the pro plan's limits", () => {
    const limits = PLAN_LIMITS.pro;
    const lists = ofType("cloudflare:index/list:List");
    expect(lists.length).toBeGreaterThan(0);
    expect(lists.length).toBeLessThanOrEqual(limits.bulkRedirectLists);
    const items = lists.reduce((n, l) => n + (l.inputs["items"] as unknown[]).length, 0);
    expect(items).toBeLessThanOrEqual(limits.bulkRedirectItems);
    for (const l of lists) expect(l.inputs["kind"]).toBe("redirect");
    const root = ofType("cloudflare:index/ruleset:Ruleset").find(
      (r) => r.inputs["kind"] === "root",
    )!;
    expect(root.inputs["rules"].map((r: any) => r.actionParameters.fromList.name).sort()).toEqual(
      lists.map((l) => l.inputs["name"]).sort(),
    );
    const single = ofType("cloudflare:index/ruleset:Ruleset").find(
      (r) => r.inputs["phase"] === "http_request_dynamic_redirect",
    )!;
    expect(single.inputs["rules"].length).toBeLessThanOrEqual(limits.singleRedirectRules);
  });

  it("protects the zone, replaces records delete-first and uses the explicit provider", () => {
    const zones = ofType("cloudflare:index/zone:Zone");
    expect(zones.map((z) => [z.name, z.protect])).toEqual([["edge-zone", true]]);
    const edgeResources = resources.filter((r) =>
      r.parent.endsWith("homebrew-dev:edge:Edge::edge"),
    );
    expect(edgeResources.length).toBeGreaterThan(30);
    for (const r of edgeResources) {
      expect(r.provider).toBe(
        "urn:pulumi:prod::homebrew-dev::pulumi:providers:cloudflare::cloudflare",
      );
    }
  });

  it("exports every published name", () => {
    const records = ofType("cloudflare:index/dnsRecord:DnsRecord").filter((r) =>
      r.name.startsWith("edge-record-"),
    );
    const names = [...new Set(records.map((r) => r.inputs["name"] as string))].sort();
    expect(outputs["dnsNames"]).toEqual(names);
    // Names come from the record's name and type, never from its position in the stack.
    for (const r of records) {
      expect(r.name).toMatch(
        /^edge-record-[a-z0-9_.-]+-(address|aaaa|(txt|mx|caa|srv)-[0-9a-f]{8})$/,
      );
    }
  });
});
