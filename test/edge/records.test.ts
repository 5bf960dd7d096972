import { describe, expect, it } from "vitest";
import { ConfigError } from "../../components/config";
import {
  exposedNames,
  planDnsRecords,
  privateAddress,
  recordKey,
  resolveRecordName,
  type ExposedName,
} from "../../components/edge";
import { edgeConfig } from "./fixtures";

/** The problems `planDnsRecords` reports for these records, or [] when it plans them. */
function problems(records: unknown[], services: ExposedName[] = [], extra = {}): string[] {
  try {
    planDnsRecords(edgeConfig({ records, caaIssuers: [], ...extra }), services);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
}

const llm: ExposedName = {
  hostname: "llm.example.com",
  target: "ingress.example.net",
  kind: "CNAME",
  path: ["models", 0, "hostname"],
  targetPath: ["edge", "ingressTarget"],
};

describe("record names", () => {
  it.each([
    ["@", "example.com", "@"],
    ["example.com", "example.com", "@"],
    ["www", "www.example.com", "www"],
    ["www.example.com", "www.example.com", "www"],
    ["www.example.com.", "www.example.com", "www"],
    ["WWW", "www.example.com", "www"],
    ["*.apps", "*.apps.example.com", "*.apps"],
    ["www.example.net", "www.example.net.example.com", "www.example.net"],
  ])("%s is %s", (name, fqdn, label) => {
    expect(resolveRecordName(name, "example.com")).toEqual({ fqdn, label });
  });

  it("keys come from name and type, never from a position", () => {
    expect(recordKey("www", "A", "203.0.113.1")).toBe("www-address");
    // A and CNAME share the slot: switching is one replacement.
    expect(recordKey("www", "CNAME", "x.example.net")).toBe("www-address");
    expect(recordKey("www", "AAAA", "2001:db8::1")).toBe("www-aaaa");
    expect(recordKey("@", "TXT", "v=spf1 -all")).toMatch(/^apex-txt-[0-9a-f]{8}$/);
    expect(recordKey("@", "TXT", "v=spf1 -all")).not.toBe(recordKey("@", "TXT", "other"));
    expect(recordKey("*.apps", "A", "203.0.113.1")).toBe("wildcard.apps-address");
  });
});

describe("private addresses", () => {
  it.each([
    ["10.0.0.1", "private (RFC 1918)"],
    ["172.16.0.1", "private (RFC 1918)"],
    ["172.31.255.255", "private (RFC 1918)"],
    ["192.168.1.1", "private (RFC 1918)"],
    ["127.0.0.1", "loopback"],
    ["169.254.1.1", "link-local"],
    ["::1", "loopback"],
    ["fe80::1", "link-local"],
    ["fd12:3456::1", "unique local (RFC 4193)"],
    ["::ffff:10.1.2.3", "private (RFC 1918)"],
  ])("%s is %s", (ip, why) => {
    expect(privateAddress(ip)).toBe(why);
  });

  it.each(["203.0.113.10", "172.32.0.1", "1.1.1.1", "2001:db8::1", "100::"])(
    "%s may be published",
    (ip) => {
      expect(privateAddress(ip)).toBeUndefined();
    },
  );
});

describe("planDnsRecords", () => {
  it("plans the stack's records, the CAA records and the exposed names, sorted by key", () => {
    const plan = planDnsRecords(
      edgeConfig({
        records: [
          { name: "www", type: "A", content: "203.0.113.10", proxied: true },
          { name: "@", type: "MX", content: "mail.example.com", priority: 10, ttl: 3600 },
          { name: "_sip._tcp", type: "SRV", content: "5 5060 sip.example.com", priority: 10 },
        ],
      }),
      [llm],
    );
    expect(plan.records.map((r) => [r.key, r.type, r.from])).toEqual([
      ["_sip._tcp-srv-32608a67", "SRV", "edge.records[2]"],
      ["apex-caa-a4c135c4", "CAA", "edge.caaIssuers[1]"],
      ["apex-caa-b2340bb4", "CAA", "edge.caaIssuers[0]"],
      ["apex-mx-134a4ede", "MX", "edge.records[1]"],
      ["llm-address", "CNAME", "models[0].hostname"],
      ["www-address", "A", "edge.records[0]"],
    ]);
    expect(plan.names).toEqual([
      "_sip._tcp.example.com",
      "example.com",
      "llm.example.com",
      "www.example.com",
    ]);
    const byKey = Object.fromEntries(plan.records.map((r) => [r.key, r]));
    expect(byKey["llm-address"]).toEqual({
      key: "llm-address",
      name: "llm.example.com",
      type: "CNAME",
      content: "ingress.example.net",
      ttl: 1,
      proxied: true,
      from: "models[0].hostname",
    });
    expect(byKey["apex-caa-b2340bb4"]?.data).toEqual({
      flags: 0,
      tag: "issue",
      value: "letsencrypt.org",
    });
    expect(byKey["_sip._tcp-srv-32608a67"]?.data).toEqual({
      priority: 10,
      weight: 5,
      port: 5060,
      target: "sip.example.com",
    });
    expect(byKey["apex-mx-134a4ede"]).toMatchObject({ content: "mail.example.com", priority: 10 });
  });

  it("defaults to CAA records for Let's Encrypt and Google Trust Services", () => {
    const plan = planDnsRecords(edgeConfig());
    expect(plan.records.map((r) => r.data)).toEqual([
      { flags: 0, tag: "issue", value: "pki.goog" },
      { flags: 0, tag: "issue", value: "letsencrypt.org" },
    ]);
  });

  it("is deterministic and does not depend on the order of the records", () => {
    const records = [
      { name: "b", type: "A", content: "203.0.113.2" },
      { name: "a", type: "TXT", content: "hello" },
      { name: "c", type: "CNAME", content: "x.example.net" },
    ];
    const keys = (rs: unknown[]) =>
      planDnsRecords(edgeConfig({ records: rs })).records.map((r) => r.key);
    expect(keys(records)).toEqual(keys([...records].reverse()));
    expect(planDnsRecords(edgeConfig({ records }))).toEqual(
      planDnsRecords(edgeConfig({ records })),
    );
  });

  it("allows several TXT, MX and CAA values at one name, and a CNAME beside the apex's TXT", () => {
    expect(
      problems([
        { name: "@", type: "TXT", content: "v=spf1 -all" },
        { name: "@", type: "TXT", content: "google-site-verification=x" },
        { name: "@", type: "MX", content: "mx1.example.net", priority: 10 },
        { name: "@", type: "MX", content: "mx2.example.net", priority: 20 },
        { name: "@", type: "CNAME", content: "site.example.net" },
        { name: "www", type: "A", content: "203.0.113.1" },
        { name: "www", type: "AAAA", content: "2001:db8::1" },
      ]),
    ).toEqual([]);
  });

  it("fails when a record publishes a private IPv4 address", () => {
    expect(
      problems([
        { name: "www", type: "A", content: "203.0.113.1" },
        { name: "api", type: "A", content: "10.50.0.10" },
      ]),
    ).toEqual([
      "homebrew-dev:edge.records[1].content: 10.50.0.10 is a private (RFC 1918) address; public DNS must not publish it",
    ]);
  });

  it("fails when a record publishes a loopback or link-local address", () => {
    expect(
      problems([
        { name: "a", type: "A", content: "127.0.0.1" },
        { name: "b", type: "A", content: "169.254.0.5" },
        { name: "c", type: "AAAA", content: "fe80::1" },
        { name: "d", type: "AAAA", content: "fd00::1" },
      ]),
    ).toEqual([
      "homebrew-dev:edge.records[0].content: 127.0.0.1 is a loopback address; public DNS must not publish it",
      "homebrew-dev:edge.records[1].content: 169.254.0.5 is a link-local address; public DNS must not publish it",
      "homebrew-dev:edge.records[2].content: fe80::1 is a link-local address; public DNS must not publish it",
      "homebrew-dev:edge.records[3].content: fd00::1 is a unique local (RFC 4193) address; public DNS must not publish it",
    ]);
  });

  it("fails when the ingress target is a private address", () => {
    expect(problems([], [{ ...llm, target: "192.168.1.20", kind: "A" }])).toEqual([
      "homebrew-dev:edge.ingressTarget: 192.168.1.20 is a private (RFC 1918) address; public DNS must not publish it",
    ]);
  });

  it("fails when a record of a type that cannot be proxied is proxied", () => {
    expect(problems([{ name: "@", type: "TXT", content: "x", proxied: true }])).toEqual([
      "homebrew-dev:edge.records[0].proxied: only A, AAAA and CNAME records can be proxied (got TXT)",
    ]);
  });

  it("fails when a proxied record has a TTL other than automatic", () => {
    expect(
      problems([{ name: "www", type: "A", content: "203.0.113.1", proxied: true, ttl: 3600 }]),
    ).toEqual([
      "homebrew-dev:edge.records[0].ttl: a proxied record's TTL is automatic: set ttl to 1 or leave it out (got 3600)",
    ]);
  });

  it("fails when a name has two records of a single-valued type", () => {
    expect(
      problems([
        { name: "www", type: "A", content: "203.0.113.1" },
        { name: "www.example.com", type: "A", content: "203.0.113.2" },
      ]),
    ).toEqual([
      "homebrew-dev:edge.records[1]: duplicate A record for www.example.com (also edge.records[0]): one A record per name",
    ]);
  });

  it("fails when the same value is given twice", () => {
    expect(
      problems([
        { name: "@", type: "TXT", content: "v=spf1 -all" },
        { name: "@", type: "TXT", content: "v=spf1 -all" },
      ]),
    ).toEqual([
      "homebrew-dev:edge.records[1]: duplicate TXT record for example.com (also edge.records[0])",
    ]);
  });

  it("fails when a CNAME shares its name with another record", () => {
    expect(
      problems([
        { name: "docs", type: "CNAME", content: "docs.example.net" },
        { name: "docs", type: "TXT", content: "hello" },
      ]),
    ).toEqual([
      "homebrew-dev:edge.records[1]: docs.example.com has a CNAME (edge.records[0]) and a TXT record (edge.records[1]); a CNAME cannot share its name with other records",
    ]);
  });

  it("fails when an exposed name collides with one of the stack's records", () => {
    expect(problems([{ name: "llm", type: "A", content: "203.0.113.9" }], [llm])).toEqual([
      "homebrew-dev:models[0].hostname: llm.example.com has a CNAME (models[0].hostname) and an A record (edge.records[0]); a CNAME cannot share its name with other records",
    ]);
  });

  it("fails when an exposed name is outside the zone", () => {
    expect(problems([], [{ ...llm, hostname: "llm.example.net" }])).toEqual([
      "homebrew-dev:models[0].hostname: llm.example.net is not in the zone example.com, so it cannot get a record there",
    ]);
  });

  it("fails when a CAA issuer is also a record", () => {
    expect(
      problems([{ name: "@", type: "CAA", content: '0 issue "pki.goog"' }], [], {
        caaIssuers: ["pki.goog"],
      }),
    ).toEqual([
      "homebrew-dev:edge.caaIssuers[0]: duplicate CAA record for example.com (also edge.records[0])",
    ]);
  });

  it("fails when an MX or SRV record has no priority, or another type has one", () => {
    expect(
      problems([
        { name: "@", type: "MX", content: "mail.example.com" },
        { name: "@", type: "TXT", content: "x", priority: 5 },
      ]),
    ).toEqual([
      "homebrew-dev:edge.records[0].priority: an MX record needs a priority",
      "homebrew-dev:edge.records[1].priority: priority applies only to MX and SRV records",
    ]);
  });

  it("fails when the content does not fit the type", () => {
    expect(
      problems([
        { name: "a", type: "A", content: "2001:db8::1" },
        { name: "b", type: "CNAME", content: "not a host" },
        { name: "@", type: "CAA", content: "issue anyone" },
        { name: "_sip._tcp", type: "SRV", content: "sip.example.com", priority: 1 },
        { name: "sip", type: "SRV", content: "5 5060 sip.example.com", priority: 1 },
      ]),
    ).toEqual([
      'homebrew-dev:edge.records[0].content: expected an IPv4 address for an A record (got "2001:db8::1")',
      'homebrew-dev:edge.records[1].content: expected a hostname for a CNAME record (got "not a host")',
      'homebrew-dev:edge.records[2].content: expected CAA content such as 0 issue "letsencrypt.org" (got "issue anyone")',
      'homebrew-dev:edge.records[3].content: expected SRV content "<weight> <port> <target>" such as "5 5060 sip.example.com" (got "sip.example.com")',
      'homebrew-dev:edge.records[4].name: an SRV record is named _service._proto, such as _sip._tcp (got "sip")',
    ]);
  });

  it("reports every problem at once", () => {
    expect(
      problems([
        { name: "a", type: "A", content: "10.0.0.1" },
        { name: "@", type: "TXT", content: "x", proxied: true },
        { name: "c", type: "CNAME", content: "x.example.net" },
        { name: "c", type: "A", content: "203.0.113.1" },
      ]),
    ).toHaveLength(3);
  });
});

describe("service discovery", () => {
  const config = (ingressTarget?: string) =>
    ({
      platform: {
        observability: { enabled: true, grafanaHostname: "grafana.example.com" },
      },
      models: [
        { name: "a", hostname: "llm.example.com" },
        { name: "b" },
        { name: "c", hostname: "embed.example.com" },
      ],
      edge: edgeConfig(ingressTarget !== undefined ? { ingressTarget } : {}),
    }) as any;

  it("exposes Grafana's and the models' hostnames as CNAMEs to a hostname target", () => {
    expect(exposedNames(config("ingress.example.net"))).toEqual([
      {
        hostname: "grafana.example.com",
        target: "ingress.example.net",
        kind: "CNAME",
        path: ["platform", "observability", "grafanaHostname"],
        targetPath: ["edge", "ingressTarget"],
      },
      {
        hostname: "llm.example.com",
        target: "ingress.example.net",
        kind: "CNAME",
        path: ["models", 0, "hostname"],
        targetPath: ["edge", "ingressTarget"],
      },
      {
        hostname: "embed.example.com",
        target: "ingress.example.net",
        kind: "CNAME",
        path: ["models", 2, "hostname"],
        targetPath: ["edge", "ingressTarget"],
      },
    ]);
  });

  it("points them with A records at an IPv4 target", () => {
    expect(exposedNames(config("203.0.113.7")).map((n) => n.kind)).toEqual(["A", "A", "A"]);
  });

  it("publishes nothing without an ingress target, or for a disabled Grafana", () => {
    expect(exposedNames(config())).toEqual([]);
    const c = config("203.0.113.7");
    c.platform.observability.enabled = false;
    expect(exposedNames(c).map((n) => n.hostname)).toEqual([
      "llm.example.com",
      "embed.example.com",
    ]);
  });
});
