import * as cloudflare from "@pulumi/cloudflare";
import type * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../components/config";
import { Edge, edgeArgs, type EdgeConfig, type ExposedName } from "../../components/edge";
import { recordResources, resolve } from "../helpers/mocks";
import { edgeConfig } from "./fixtures";

const rec = recordResources({ stack: "edge" });
const provider = new cloudflare.Provider("cf", {});
const PROVIDER_URN = "urn:pulumi:edge::homebrew-dev::pulumi:providers:cloudflare::cf";

const grafana: ExposedName = {
  hostname: "grafana.example.com",
  target: "ingress.example.net",
  kind: "CNAME",
  path: ["platform", "observability", "grafanaHostname"],
};

const managed = edgeConfig({
  plan: "pro",
  records: [
    { name: "www", type: "A", content: "203.0.113.10", proxied: true },
    { name: "@", type: "MX", content: "mail.example.net", priority: 10, ttl: 3600 },
  ],
  redirects: [
    { source: "https://example.com/*", target: "https://www.example.com/${1}" },
    { source: "https://www.example.com/old", target: "https://www.example.com/new" },
    { source: "https://www.example.com/a", target: "https://www.example.com/b", status: 308 },
  ],
  cachePaths: ["/assets/", "/static/"],
});

/** The Edge of an edge section: planned and validated (`edgeArgs`), then wired. */
async function build(
  name: string,
  args: {
    edge: EdgeConfig;
    services?: readonly ExposedName[];
    tunnelTarget?: pulumi.Input<string>;
  },
): Promise<Edge> {
  const edge = new Edge(
    name,
    {
      ...edgeArgs(args.edge, args.services ?? []),
      ...(args.tunnelTarget !== undefined ? { tunnelTarget: args.tunnelTarget } : {}),
    },
    { providers: { cloudflare: provider } },
  );
  await resolve(edge.zoneId);
  await new Promise((r) => setTimeout(r, 50));
  return edge;
}

/** The Cloudflare resources registered since the last reset (not the component itself). */
const cf = () => rec.resources.filter((r) => r.type.startsWith("cloudflare:index/"));
const byType = () => {
  const counts: Record<string, number> = {};
  for (const r of cf()) counts[r.type] = (counts[r.type] ?? 0) + 1;
  return counts;
};
const named = (name: string) => cf().find((r) => r.name === name)!;

describe("Edge with a managed zone, records, redirects and cache rules", () => {
  let edge: Edge;
  beforeAll(async () => {
    rec.reset();
    edge = await build("edge", { edge: managed, services: [grafana] });
  });

  it("creates exactly the zone, the records, one list and three rulesets", () => {
    expect(byType()).toEqual({
      "cloudflare:index/zone:Zone": 1,
      "cloudflare:index/dnsRecord:DnsRecord": 5,
      "cloudflare:index/list:List": 1,
      "cloudflare:index/ruleset:Ruleset": 3,
    });
    expect(
      cf()
        .map((r) => r.name)
        .sort(),
    ).toEqual([
      "edge-bulk-redirects",
      "edge-cache-rules",
      "edge-record-apex-caa-a4c135c4",
      "edge-record-apex-caa-b2340bb4",
      "edge-record-apex-mx-6d2f955a",
      "edge-record-grafana-address",
      "edge-record-www-address",
      "edge-redirect-list-1",
      "edge-single-redirects",
      "edge-zone",
    ]);
  });

  it("registers the component with its type token and every child under it", () => {
    const component = rec.registrations.find((r) => r.type === "homebrew-dev:edge:Edge");
    expect(component?.name).toBe("edge");
    for (const r of rec.registrations.filter((x) => x.custom)) {
      expect(r.parent).toBe(component?.urn);
    }
  });

  it("uses the explicit provider for every resource", () => {
    for (const r of cf()) expect(r.provider).toMatch(new RegExp(`^${PROVIDER_URN}::`));
  });

  it("protects the zone it creates", () => {
    expect(rec.registration("edge-zone")?.protect).toBe(true);
    expect(named("edge-zone").inputs).toEqual({
      account: { id: "0123456789abcdef0123456789abcdef" },
      name: "example.com",
      type: "full",
    });
  });

  it("replaces a record delete-first when its type changes", () => {
    for (const r of rec.registrations.filter((x) => x.type.endsWith("DnsRecord"))) {
      expect(r.deleteBeforeReplace).toBe(true);
      expect(r.replaceOnChanges).toEqual(["type"]);
      expect(r.protect).toBe(false);
    }
  });

  it("writes the records into the zone", () => {
    expect(named("edge-record-www-address").inputs).toEqual({
      zoneId: "edge-zone-id",
      name: "www.example.com",
      type: "A",
      content: "203.0.113.10",
      ttl: 1,
      proxied: true,
      comment: "managed by homebrew-dev",
    });
    expect(named("edge-record-grafana-address").inputs).toMatchObject({
      type: "CNAME",
      content: "ingress.example.net",
      proxied: true,
    });
    expect(named("edge-record-apex-mx-6d2f955a").inputs).toMatchObject({
      type: "MX",
      content: "mail.example.net",
      priority: 10,
      ttl: 3600,
      proxied: false,
    });
    expect(named("edge-record-apex-caa-b2340bb4").inputs).toMatchObject({
      type: "CAA",
      data: { flags: 0, tag: "issue", value: "letsencrypt.org" },
    });
  });

  it("puts every wildcard redirect in the zone's one dynamic-redirect ruleset", () => {
    const r = named("edge-single-redirects").inputs;
    expect(r).toMatchObject({
      zoneId: "edge-zone-id",
      kind: "zone",
      phase: "http_request_dynamic_redirect",
    });
    expect(r["rules"]).toEqual([
      {
        ref: expect.stringMatching(/^redirect_[0-9a-f]{16}$/),
        description: "https://example.com/* → https://www.example.com/${1}",
        expression: 'http.request.full_uri wildcard "https://example.com/*"',
        action: "redirect",
        enabled: true,
        actionParameters: {
          fromValue: {
            statusCode: 301,
            preserveQueryString: true,
            targetUrl: {
              expression:
                'wildcard_replace(http.request.full_uri, "https://example.com/*", "https://www.example.com/${1}")',
            },
          },
        },
      },
    ]);
  });

  it("puts exact-URL redirects in a list and enables it in the account's root ruleset", () => {
    const list = named("edge-redirect-list-1").inputs;
    expect(list).toMatchObject({
      accountId: "0123456789abcdef0123456789abcdef",
      kind: "redirect",
      name: "example_com_redirects_1",
    });
    expect((list["items"] as { redirect: { sourceUrl: string } }[]).map((i) => i.redirect)).toEqual(
      [
        {
          sourceUrl: "https://www.example.com/a",
          targetUrl: "https://www.example.com/b",
          statusCode: 308,
          preserveQueryString: true,
          preservePathSuffix: false,
          subpathMatching: false,
          includeSubdomains: false,
        },
        {
          sourceUrl: "https://www.example.com/old",
          targetUrl: "https://www.example.com/new",
          statusCode: 301,
          preserveQueryString: true,
          preservePathSuffix: false,
          subpathMatching: false,
          includeSubdomains: false,
        },
      ],
    );
    const root = named("edge-bulk-redirects").inputs;
    expect(root).toMatchObject({
      accountId: "0123456789abcdef0123456789abcdef",
      kind: "root",
      phase: "http_request_redirect",
      rules: [
        {
          action: "redirect",
          expression: "http.request.full_uri in $example_com_redirects_1",
          actionParameters: {
            fromList: { name: "example_com_redirects_1", key: "http.request.full_uri" },
          },
        },
      ],
    });
    expect(root["zoneId"]).toBeUndefined();
    // The rules name the list through its resource: the list exists first.
    expect(rec.registration("edge-bulk-redirects")?.dependsOn).toContain(
      rec.registration("edge-redirect-list-1")?.urn,
    );
  });

  it("caches the asset paths on the proxied names in the cache-settings phase", () => {
    const r = named("edge-cache-rules").inputs;
    expect(r).toMatchObject({ kind: "zone", phase: "http_request_cache_settings" });
    expect((r["rules"] as { expression: string }[]).map((x) => x.expression)).toEqual([
      'http.host in {"grafana.example.com" "www.example.com"} and starts_with(http.request.uri.path, "/assets/")',
      'http.host in {"grafana.example.com" "www.example.com"} and starts_with(http.request.uri.path, "/static/")',
    ]);
  });

  it("outputs the zone id and the published names", async () => {
    expect((await resolve(edge.zoneId)).value).toBe("edge-zone-id");
    expect(edge.recordNames).toEqual(["example.com", "grafana.example.com", "www.example.com"]);
  });
});

describe("Edge with an existing zone", () => {
  it("uses the zone id and creates no zone, no ruleset and no list without redirects", async () => {
    rec.reset();
    const edge = await build("dev", {
      edge: edgeConfig({
        zone: { name: "example.com", id: "9a8b7c6d5e4f30211203f4e5d6c7b8a9" },
        records: [{ name: "@", type: "TXT", content: "hello" }],
        caaIssuers: [],
      }),
    });
    expect(byType()).toEqual({ "cloudflare:index/dnsRecord:DnsRecord": 1 });
    expect(cf()[0]!.inputs["zoneId"]).toBe("9a8b7c6d5e4f30211203f4e5d6c7b8a9");
    expect((await resolve(edge.zoneId)).value).toBe("9a8b7c6d5e4f30211203f4e5d6c7b8a9");
  });

  it("keeps a record's resource when the ingress moves from an address to a hostname", async () => {
    const names = async (target: string, kind: "A" | "CNAME") => {
      rec.reset();
      await build("swap", {
        edge: edgeConfig({ caaIssuers: [] }),
        services: [{ ...grafana, target, kind }],
      });
      return cf()
        .filter((r) => r.type === "cloudflare:index/dnsRecord:DnsRecord")
        .map((r) => [r.name, r.inputs["type"]]);
    };
    expect(await names("203.0.113.5", "A")).toEqual([["swap-record-grafana-address", "A"]]);
    expect(await names("ingress.example.net", "CNAME")).toEqual([
      ["swap-record-grafana-address", "CNAME"],
    ]);
  });
});

describe("Edge validation", () => {
  it("throws one ConfigError for records, redirects and cache paths before registering anything", () => {
    rec.reset();
    const bad = edgeConfig({
      plan: "free",
      records: [{ name: "api", type: "A", content: "10.0.0.10" }],
      redirects: [{ source: "https://example.com/a", target: "http://example.com/b" }],
      cachePaths: ["/a/", "/a/"],
    });
    let error: unknown;
    try {
      new Edge("bad", edgeArgs(bad), { providers: { cloudflare: provider } });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      "homebrew-dev:edge.records[0].content: 10.0.0.10 is a private (RFC 1918) address; public DNS must not publish it",
      'homebrew-dev:edge.redirects[0]: target must be an https:// URL (got "http://example.com/b")',
      "homebrew-dev:edge.cachePaths[1]: duplicate path /a/ (also edge.cachePaths[0])",
    ]);
    expect(rec.registrations.filter((r) => r.name === "bad")).toEqual([]);
  });

  it("fails when the cache paths need more rules than the plan has", () => {
    const paths = Array.from({ length: 11 }, (_, i) => `/p${i}/`);
    expect(() => new Edge("many", edgeArgs(edgeConfig({ cachePaths: paths })))).toThrow(
      "homebrew-dev:edge.cachePaths: 11 paths need 11 cache rules; the free plan allows 10 per zone",
    );
  });
});

describe("Edge behind a Cloudflare Tunnel", () => {
  it("points every exposed service at the tunnel, and the stack's own records where they say", async () => {
    rec.reset();
    await build("tunnel", {
      edge: managed,
      services: [{ ...grafana, target: "tunnel.cfargotunnel.com" }],
      tunnelTarget: "1f2e3d4c.cfargotunnel.com",
    });
    const records = cf().filter((r) => r.type === "cloudflare:index/dnsRecord:DnsRecord");
    const grafanaRecord = records.find((r) => r.inputs["name"] === "grafana.example.com");
    expect(grafanaRecord?.inputs).toMatchObject({
      type: "CNAME",
      content: "1f2e3d4c.cfargotunnel.com",
      proxied: true,
      ttl: 1,
    });
    const www = records.find((r) => r.inputs["name"] === "www.example.com");
    expect(www?.inputs["content"]).toBe("203.0.113.10");
  });
});
