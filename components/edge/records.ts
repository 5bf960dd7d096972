import { isIPv4, isIPv6 } from "node:net";
import { nonPublicReason } from "../../policies/lib/addresses";
import type { StackConfig } from "../config";
import { keyPath, shortHash, throwIfProblems, type Path, type Problem } from "./problems";

type EdgeConfig = NonNullable<StackConfig["edge"]>;
type RecordSpec = EdgeConfig["records"][number];

export const DnsRecordType = {
  A: "A",
  AAAA: "AAAA",
  CNAME: "CNAME",
  TXT: "TXT",
  MX: "MX",
  CAA: "CAA",
  SRV: "SRV",
} as const satisfies Record<RecordSpec["type"], RecordSpec["type"]>;
export type DnsRecordType = (typeof DnsRecordType)[keyof typeof DnsRecordType];

/** How an exposed name points at the ingress: an address or an alias. */
export const ExposedKind = { A: "A", CNAME: "CNAME" } as const;
export type ExposedKind = (typeof ExposedKind)[keyof typeof ExposedKind];

/** One public hostname of a service the platform exposes (service discovery). */
export interface ExposedName {
  /** Fully qualified name, inside the zone. */
  readonly hostname: string;
  /** The ingress: an IPv4 address for `A`, a hostname for `CNAME`. */
  readonly target: string;
  readonly kind: ExposedKind;
  /**
   * Config key the hostname comes from, for messages (`["models", 0, "hostname"]`).
   * @default - problems are reported at `edge`
   */
  readonly path?: Path;
  /**
   * Config key the target comes from.
   * @default - the hostname's path
   */
  readonly targetPath?: Path;
}

/** CAA record components (Cloudflare takes CAA only as `data`). */
export interface CaaData {
  readonly flags: number;
  readonly tag: string;
  readonly value: string;
}

/** SRV record components (Cloudflare takes SRV only as `data`). */
export interface SrvData {
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  readonly target: string;
}

/** One record as it will be created. */
export interface PlannedRecord {
  /** Stable identity within the zone, derived from name and type (never a list position). */
  readonly key: string;
  /** Fully qualified name. */
  readonly name: string;
  readonly type: DnsRecordType;
  readonly content?: string;
  readonly data?: CaaData | SrvData;
  readonly priority?: number;
  readonly ttl: number;
  readonly proxied: boolean;
  /** Where it comes from: `edge.records[3]`, `edge.caaIssuers[0]`, `models[0].hostname`. */
  readonly from: string;
}

export interface DnsRecordPlan {
  readonly zone: string;
  /** Sorted by key. */
  readonly records: readonly PlannedRecord[];
  /** Every published name, sorted, each once. */
  readonly names: readonly string[];
}

/** "an A record", "a TXT record": the article as the type is spoken. */
const an = (type: string) => (/^(A|AAAA|MX|SRV)$/.test(type) ? `an ${type}` : `a ${type}`);

const PROXIABLE: ReadonlySet<DnsRecordType> = new Set(["A", "AAAA", "CNAME"]);
/** Types with one record per name; the others may hold several values at one name. */
const SINGLE_VALUED: ReadonlySet<DnsRecordType> = new Set(["A", "AAAA", "CNAME"]);

const HOSTNAME =
  /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The fully qualified name of a record and its zone-relative label (`@` for the apex). A name
 * that ends in the zone is taken as fully qualified, anything else as relative, as the
 * Cloudflare API does.
 */
export function resolveRecordName(name: string, zone: string): { fqdn: string; label: string } {
  const n = name.toLowerCase().replace(/\.$/, "");
  if (n === "@" || n === zone) return { fqdn: zone, label: "@" };
  if (n.endsWith(`.${zone}`)) return { fqdn: n, label: n.slice(0, -(zone.length + 1)) };
  return { fqdn: `${n}.${zone}`, label: n };
}

/**
 * Why an address must not appear in public DNS, or `undefined` when it may. Private, loopback
 * and link-local addresses (the node network, the Kubernetes API VIP, the Talos API) mean
 * nothing outside the site and map its internals for anyone who asks. One definition for the
 * planner and the policy pack: policies/lib/addresses.ts.
 */
export const privateAddress = nonPublicReason;

/**
 * The stable key of a record. A and CNAME share one slot per name: moving a name between an
 * address and an alias (a new `edge.ingressTarget`, a host moving behind the ingress) is then a
 * replacement of one resource, deleted first, instead of a create that Cloudflare refuses while
 * the old record still holds the name. Types that hold several values at one name (TXT, MX,
 * CAA, SRV) add a digest of the value.
 */
export function recordKey(
  label: string,
  type: DnsRecordType,
  value: string,
  priority?: number,
): string {
  const base = label === "@" ? "apex" : label.replaceAll("*", "wildcard");
  switch (type) {
    case "A":
    case "CNAME":
      return `${base}-address`;
    case "AAAA":
      return `${base}-aaaa`;
    case "TXT":
    case "MX":
    case "CAA":
    case "SRV":
      return `${base}-${type.toLowerCase()}-${shortHash(`${type}\0${value}\0${priority ?? ""}`)}`;
    default: {
      const never: never = type;
      throw new Error(`unknown record type ${String(never)}`);
    }
  }
}

/** A candidate record before the conflict checks. */
interface Candidate {
  readonly path: Path;
  readonly label: string;
  readonly record: Omit<PlannedRecord, "key">;
  /** The value that identifies a record among several of its type at one name. */
  readonly value: string;
}

function parseCaa(content: string): CaaData | undefined {
  const m = /^(\d{1,3})\s+(issue|issuewild|iodef)\s+"?([^"\s]*)"?$/.exec(content.trim());
  if (m === null || Number(m[1]) > 255) return undefined;
  return { flags: Number(m[1]), tag: m[2] ?? "", value: m[3] ?? "" };
}

function parseSrv(content: string, priority: number): SrvData | undefined {
  const m = /^(\d{1,5})\s+(\d{1,5})\s+(\S+?)\.?$/.exec(content.trim());
  if (m === null) return undefined;
  const weight = Number(m[1]);
  const port = Number(m[2]);
  const target = (m[3] ?? "").toLowerCase();
  if (weight > 65535 || port > 65535 || !HOSTNAME.test(target)) return undefined;
  return { priority, weight, port, target };
}

function fromSpec(
  spec: RecordSpec,
  path: Path,
  zone: string,
  problems: Problem[],
): Candidate | undefined {
  const { fqdn, label } = resolveRecordName(spec.name, zone);
  // Each problem names the field it is about: `edge.records[3].content`, not the record.
  const at = (field: string): Path => [...path, field];
  const bad = (message: string, field = "content") => {
    problems.push({ path: at(field), message });
    return undefined;
  };
  if (fqdn.length > 253) return bad(`${fqdn} is longer than 253 characters`, "name");
  const before = problems.length;
  if (spec.proxied && !PROXIABLE.has(spec.type)) {
    problems.push({
      path: at("proxied"),
      message: `only A, AAAA and CNAME records can be proxied (got ${spec.type})`,
    });
  }
  if (spec.proxied && spec.ttl !== 1) {
    problems.push({
      path: at("ttl"),
      message: `a proxied record's TTL is automatic: set ttl to 1 or leave it out (got ${spec.ttl})`,
    });
  }
  const needsPriority = spec.type === "MX" || spec.type === "SRV";
  if (needsPriority && spec.priority === undefined) {
    problems.push({ path: at("priority"), message: `${an(spec.type)} record needs a priority` });
  }
  if (!needsPriority && spec.priority !== undefined) {
    problems.push({ path: at("priority"), message: `priority applies only to MX and SRV records` });
  }

  const content = spec.content.trim();
  let record: Omit<PlannedRecord, "key"> | undefined;
  let value = content;
  const common = {
    name: fqdn,
    type: spec.type,
    ttl: spec.ttl,
    proxied: spec.proxied,
    from: keyPath(path),
  };
  switch (spec.type) {
    case "A":
    case "AAAA": {
      const family = spec.type === "A" ? isIPv4(content) : isIPv6(content);
      if (!family) {
        return bad(
          `expected an ${spec.type === "A" ? "IPv4" : "IPv6"} address for ${an(spec.type)} record (got "${content}")`,
        );
      }
      const why = privateAddress(content);
      if (why !== undefined) {
        return bad(`${content} is a ${why} address; public DNS must not publish it`);
      }
      record = { ...common, content };
      break;
    }
    case "CNAME":
    case "MX": {
      const host = content.toLowerCase().replace(/\.$/, "");
      if (!HOSTNAME.test(host)) {
        return bad(`expected a hostname for ${an(spec.type)} record (got "${content}")`);
      }
      if (spec.type === "CNAME" && host === fqdn) return bad(`${fqdn} is a CNAME to itself`);
      value = host;
      record = {
        ...common,
        content: host,
        ...(spec.priority !== undefined ? { priority: spec.priority } : {}),
      };
      break;
    }
    case "TXT":
      record = { ...common, content };
      break;
    case "CAA": {
      const data = parseCaa(content);
      if (data === undefined) {
        return bad(`expected CAA content such as 0 issue "letsencrypt.org" (got "${content}")`);
      }
      value = `${data.flags} ${data.tag} "${data.value}"`;
      record = { ...common, data };
      break;
    }
    case "SRV": {
      if (!/^_[a-z0-9-]+\._(tcp|udp|tls)(\.|$)/.test(label)) {
        return bad(
          `an SRV record is named _service._proto, such as _sip._tcp (got "${label}")`,
          "name",
        );
      }
      const data = parseSrv(content, spec.priority ?? 0);
      if (data === undefined) {
        return bad(
          `expected SRV content "<weight> <port> <target>" such as "5 5060 sip.example.com" (got "${content}")`,
        );
      }
      value = `${data.priority} ${data.weight} ${data.port} ${data.target}`;
      record = { ...common, data, priority: data.priority };
      break;
    }
    default: {
      const never: never = spec.type;
      throw new Error(`unknown record type ${String(never)}`);
    }
  }
  if (problems.length > before) return undefined;
  return { path, label, record, value };
}

function inZone(hostname: string, zone: string): boolean {
  return hostname === zone || hostname.endsWith(`.${zone}`);
}

function fromService(s: ExposedName, zone: string, problems: Problem[]): Candidate | undefined {
  const path = s.path ?? ["edge"];
  const targetPath = s.targetPath ?? path;
  const hostname = s.hostname.toLowerCase().replace(/\.$/, "");
  if (!inZone(hostname, zone)) {
    problems.push({
      path,
      message: `${hostname} is not in the zone ${zone}, so it cannot get a record there`,
    });
    return undefined;
  }
  const target = s.target.toLowerCase().replace(/\.$/, "");
  switch (s.kind) {
    case "A": {
      if (!isIPv4(target)) {
        problems.push({
          path: targetPath,
          message: `expected an IPv4 address for an A record (got "${s.target}")`,
        });
        return undefined;
      }
      const why = privateAddress(target);
      if (why !== undefined) {
        problems.push({
          path: targetPath,
          message: `${target} is a ${why} address; public DNS must not publish it`,
        });
        return undefined;
      }
      break;
    }
    case "CNAME":
      if (!HOSTNAME.test(target) || target === hostname) {
        problems.push({
          path: targetPath,
          message: `expected a hostname for a CNAME record (got "${s.target}")`,
        });
        return undefined;
      }
      break;
    default: {
      const never: never = s.kind;
      throw new Error(`unknown kind ${String(never)}`);
    }
  }
  const { label } = resolveRecordName(hostname, zone);
  return {
    path,
    label,
    value: target,
    // Exposed services are web endpoints behind the ingress: proxied, so the edge terminates
    // TLS and the ingress address stays out of public answers.
    record: {
      name: hostname,
      type: s.kind,
      content: target,
      ttl: 1,
      proxied: true,
      from: keyPath(path),
    },
  };
}

/** Why a later candidate cannot sit beside an earlier one at the same name, if it cannot. */
function conflict(later: Candidate, earlier: Candidate, zone: string): string | undefined {
  const a = later.record;
  const b = earlier.record;
  if (a.type === b.type && SINGLE_VALUED.has(a.type)) {
    return `duplicate ${a.type} record for ${a.name} (also ${b.from}): one ${a.type} record per name`;
  }
  if (a.type === b.type && later.value === earlier.value) {
    return `duplicate ${a.type} record for ${a.name} (also ${b.from})`;
  }
  if (a.type === "CNAME" || b.type === "CNAME") {
    const other = a.type === "CNAME" ? b : a;
    // Cloudflare flattens a CNAME at the apex, so it may sit beside the apex's other records,
    // but never beside an address.
    if (a.name === zone && other.type !== "A" && other.type !== "AAAA") return undefined;
    const cname = a.type === "CNAME" ? a : b;
    return `${a.name} has a CNAME (${cname.from}) and ${an(other.type)} record (${other.from}); a CNAME cannot share its name with other records`;
  }
  return undefined;
}

/** The records of a zone and the problems found; `planDnsRecords` throws on problems. */
export function dnsRecordPlanAndProblems(
  edge: Pick<EdgeConfig, "zone" | "records" | "caaIssuers">,
  services: readonly ExposedName[] = [],
): { plan: DnsRecordPlan; problems: Problem[] } {
  const zone = edge.zone.name.toLowerCase();
  const problems: Problem[] = [];
  const candidates: Candidate[] = [];
  const add = (c: Candidate | undefined) => {
    if (c !== undefined) candidates.push(c);
  };

  edge.records.forEach((r, i) => add(fromSpec(r, ["edge", "records", i], zone, problems)));
  // CAA names the CAs that may issue certificates for the zone; Cloudflare adds the CAs of its
  // own edge certificates on top when a zone has CAA records.
  edge.caaIssuers.forEach((issuer, i) =>
    add(
      fromSpec(
        { name: "@", type: "CAA", content: `0 issue "${issuer}"`, ttl: 1, proxied: false },
        ["edge", "caaIssuers", i],
        zone,
        problems,
      ),
    ),
  );
  for (const s of services) add(fromService(s, zone, problems));

  const byName = new Map<string, Candidate[]>();
  const kept: Candidate[] = [];
  for (const c of candidates) {
    const earlier = byName.get(c.record.name) ?? [];
    const why = earlier.map((e) => conflict(c, e, zone)).find((m) => m !== undefined);
    if (why !== undefined) {
      problems.push({ path: c.path, message: why });
      continue;
    }
    earlier.push(c);
    byName.set(c.record.name, earlier);
    kept.push(c);
  }

  const records = kept
    .map((c) => ({
      key: recordKey(c.label, c.record.type, c.value, c.record.priority),
      ...c.record,
    }))
    .sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  const names = [...new Set(records.map((r) => r.name))].sort();
  return { plan: { zone, records, names }, problems };
}

/**
 * Every record of the zone: the stack's own records, the CAA records of `edge.caaIssuers`, and
 * one proxied record per exposed service (service discovery). Pure and deterministic; throws
 * one `ConfigError` naming every bad record.
 */
export function planDnsRecords(
  edge: Pick<EdgeConfig, "zone" | "records" | "caaIssuers">,
  services: readonly ExposedName[] = [],
): DnsRecordPlan {
  const { plan, problems } = dnsRecordPlanAndProblems(edge, services);
  throwIfProblems(problems);
  return plan;
}
