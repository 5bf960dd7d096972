/**
 * The one definition of a non-public address, shared by the program (DNS record planning,
 * network-policy egress) and the policy pack. It lives in the pack because the pack is published
 * on its own and may import nothing outside policies/.
 *
 * Non-public means an address that reaches nothing, or something else, from the internet:
 * the IANA special-purpose ranges that are not globally reachable (RFC 6890 and its updates),
 * less the documentation ranges, which are for examples and appear in ours.
 */
import { isIP } from "node:net";
import { formatIpv4, ipv4CidrContains, parseIpv4, parseIpv4Cidr } from "./ipv4";

/** IPv4 ranges no public name may point at and no internet egress may reach, with why. */
export const NON_PUBLIC_IPV4: readonly { readonly cidr: string; readonly why: string }[] = [
  { cidr: "0.0.0.0/8", why: '"this network" (RFC 791)' },
  { cidr: "10.0.0.0/8", why: "private (RFC 1918)" },
  { cidr: "100.64.0.0/10", why: "shared address space (RFC 6598)" },
  { cidr: "127.0.0.0/8", why: "loopback" },
  { cidr: "169.254.0.0/16", why: "link-local" },
  { cidr: "172.16.0.0/12", why: "private (RFC 1918)" },
  { cidr: "192.0.0.0/24", why: "IETF protocol assignments (RFC 6890)" },
  { cidr: "192.168.0.0/16", why: "private (RFC 1918)" },
  { cidr: "198.18.0.0/15", why: "benchmarking (RFC 2544)" },
  { cidr: "224.0.0.0/4", why: "multicast" },
  { cidr: "240.0.0.0/4", why: "reserved (RFC 1112)" },
];

const NON_PUBLIC_V4_RANGES = NON_PUBLIC_IPV4.map((r) => ({ ...r, range: parseIpv4Cidr(r.cidr)! }));

/** The eight 16-bit groups of an IPv6 address (which `isIP` has accepted). */
function ipv6Groups(text: string): number[] {
  let s = text.toLowerCase().replace(/%.*$/, "");
  // A trailing dotted IPv4 part (::ffff:10.0.0.1) becomes two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const n = parseIpv4(dotted[1]!) ?? 0;
    s = `${s.slice(0, -dotted[1]!.length)}${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
  }
  const [head = "", tail] = s.split("::");
  const part = (p: string) => (p === "" ? [] : p.split(":").map((h) => parseInt(h, 16)));
  const left = part(head);
  const right = tail === undefined ? [] : part(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/**
 * Why an address must not be published or reached as a public one, or undefined when it may.
 * An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is judged by the IPv4 address it carries.
 */
export function nonPublicReason(ip: string): string | undefined {
  if (isIP(ip) === 4) {
    const n = parseIpv4(ip)!;
    return NON_PUBLIC_V4_RANGES.find((r) => ipv4CidrContains(r.range, n))?.why;
  }
  if (isIP(ip) !== 6) return undefined;
  const g = ipv6Groups(ip);
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && g[5] === 0xffff) {
    return nonPublicReason(formatIpv4((g[6] ?? 0) * 65536 + (g[7] ?? 0)));
  }
  if (zeros(0, 8)) return "unspecified";
  if (zeros(0, 7) && g[7] === 1) return "loopback";
  const first = g[0] ?? 0;
  if ((first & 0xffc0) === 0xfe80) return "link-local";
  if ((first & 0xfe00) === 0xfc00) return "unique local (RFC 4193)";
  if ((first & 0xff00) === 0xff00) return "multicast";
  return undefined;
}
