import { nonPublicReason } from "../lib/addresses";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { resourcePolicy, stackPolicy, type Props } from "./util";

const RECORD = ["cloudflare:index/dnsRecord:DnsRecord"];
const PROXIABLE = ["A", "AAAA", "CNAME"];

export const proxiedTypes = resourcePolicy({
  name: "cloudflare-proxied-only-address-records",
  description: "Only A, AAAA and CNAME records are proxied.",
  enforcementLevel: "mandatory",
  types: RECORD,
  check: (p, report) => {
    if (p["proxied"] === true && !PROXIABLE.includes(p["type"]))
      report(`a ${p["type"]} record cannot be proxied`);
  },
});

export const recordTtl = resourcePolicy({
  name: "cloudflare-record-ttl",
  description: "TTL is 1 (automatic) for proxied records, else 1 or 60 to 86400 seconds.",
  enforcementLevel: "mandatory",
  types: RECORD,
  check: (p, report) => {
    const ttl = p["ttl"];
    if (typeof ttl !== "number") return;
    if (p["proxied"] === true && ttl !== 1)
      report(`a proxied record has TTL ${ttl}; it must be 1 (automatic)`);
    else if (ttl !== 1 && (ttl < 60 || ttl > 86400)) report(`TTL ${ttl} is outside 60-86400`);
  },
});

/** Private, loopback, link-local and other non-public addresses (lib/addresses.ts). */
export function isPrivateAddress(ip: string): boolean {
  return nonPublicReason(ip) !== undefined;
}

export const noPrivateAddresses = resourcePolicy({
  name: "cloudflare-no-private-addresses",
  description: "Public records never publish private or internal addresses.",
  enforcementLevel: "mandatory",
  types: RECORD,
  check: (p, report) => {
    if (
      (p["type"] === "A" || p["type"] === "AAAA") &&
      typeof p["content"] === "string" &&
      isPrivateAddress(p["content"])
    ) {
      report(`${p["name"]} publishes the private address ${p["content"]}`);
    }
  },
});

const REDIRECT_CODES = [301, 302, 307, 308];

/** Redirect targets of a ruleset's rules and a list's items. */
function redirects(
  type: string,
  p: Props,
): { source?: string; target?: string; status?: number }[] {
  if (type === "cloudflare:index/ruleset:Ruleset") {
    return (Array.isArray(p["rules"]) ? p["rules"] : [])
      .filter((r: Props) => r?.action === "redirect" && r.actionParameters?.fromValue)
      .map((r: Props) => ({
        target:
          r.actionParameters.fromValue.targetUrl?.value ??
          r.actionParameters.fromValue.targetUrl?.expression,
        status: r.actionParameters.fromValue.statusCode,
      }));
  }
  return (Array.isArray(p["items"]) ? p["items"] : [])
    .filter((i: Props) => i?.redirect)
    .map((i: Props) => ({
      source: i.redirect.sourceUrl,
      target: i.redirect.targetUrl,
      status: i.redirect.statusCode,
    }));
}
const REDIRECT_TYPES = ["cloudflare:index/ruleset:Ruleset", "cloudflare:index/list:List"];

export const redirectStatus = resourcePolicy({
  name: "cloudflare-redirect-status-codes",
  description: "Redirects use 301, 302, 307 or 308.",
  enforcementLevel: "mandatory",
  types: REDIRECT_TYPES,
  check: (p, report, args) => {
    for (const r of redirects(args.type, p)) {
      if (r.status !== undefined && !REDIRECT_CODES.includes(r.status))
        report(`redirect to ${r.target} uses status ${r.status}`);
    }
  },
});

export const redirectHttps = resourcePolicy({
  name: "cloudflare-redirect-https-targets",
  description: "Redirect targets are https URLs.",
  enforcementLevel: "mandatory",
  types: REDIRECT_TYPES,
  check: (p, report, args) => {
    for (const r of redirects(args.type, p)) {
      if (typeof r.target === "string" && r.target.startsWith("http://"))
        report(`redirect target ${r.target} is not https`);
    }
  },
});

const bare = (u: string) => u.replace(/^https?:\/\//, "").replace(/\/$/, "");

export const redirectLoops = resourcePolicy({
  name: "cloudflare-redirect-loops",
  description:
    "Bulk redirects have no loops: no source redirects to itself, directly or in a cycle.",
  enforcementLevel: "mandatory",
  types: ["cloudflare:index/list:List"],
  check: (p, report, args) => {
    const next = new Map<string, string>();
    for (const r of redirects(args.type, p)) {
      if (typeof r.source === "string" && typeof r.target === "string")
        next.set(bare(r.source), bare(r.target));
    }
    const reported = new Set<string>();
    for (const start of next.keys()) {
      const seen = [start];
      let at = next.get(start);
      while (at !== undefined && !seen.includes(at) && seen.length <= next.size) {
        seen.push(at);
        at = next.get(at);
      }
      if (at !== undefined && at === start && !reported.has(start)) {
        seen.forEach((s) => reported.add(s));
        report(`redirect loop: ${[...seen, start].join(" -> ")}`);
      }
    }
  },
});

export const danglingCnames = stackPolicy({
  name: "cloudflare-no-dangling-cnames",
  description: "A CNAME into a zone of the stack points at a name that has a record there.",
  enforcementLevel: "advisory",
  check: (args, report) => {
    const records = args.resources.filter((r) => r.type === RECORD[0]);
    const names = new Set(records.map((r) => String(r.props?.["name"] ?? "").toLowerCase()));
    const zones = [...names].map((n) => n.split(".").slice(-2).join("."));
    for (const r of records) {
      if (r.props?.["type"] !== "CNAME" || typeof r.props?.["content"] !== "string") continue;
      const target = r.props["content"].toLowerCase().replace(/\.$/, "");
      const inZone = zones.some((z) => target === z || target.endsWith(`.${z}`));
      if (inZone && !names.has(target))
        report(`${r.props["name"]} is a CNAME to ${target}, which has no record`, r.urn);
    }
  },
});

export const cloudflareResourcePolicies: ResourceValidationPolicy[] = [
  proxiedTypes,
  recordTtl,
  noPrivateAddresses,
  redirectStatus,
  redirectHttps,
  redirectLoops,
];
export const cloudflareStackPolicies: StackValidationPolicy[] = [danglingCnames];
