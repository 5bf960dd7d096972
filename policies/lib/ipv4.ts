/**
 * IPv4 arithmetic: the one implementation the program (address plan, machine configs, record
 * planning) and the policy pack share. Addresses are 32-bit numbers; ranges are inclusive.
 */

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** An IPv4 address as a 32-bit number, or undefined when the text is not one. */
export function parseIpv4(text: string): number | undefined {
  if (!IPV4.test(text)) return undefined;
  return text.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

/** The dotted form of a 32-bit number. */
export function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

export interface Ipv4Cidr {
  /** The first address of the range. */
  readonly network: number;
  /** The last address of the range. */
  readonly broadcast: number;
  readonly prefix: number;
}

/** `a.b.c.d/n` as a range (the address part is masked), or undefined when it is not one. */
export function parseIpv4Cidr(text: string): Ipv4Cidr | undefined {
  const match = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  if (!match) return undefined;
  const ip = parseIpv4(match[1] ?? "");
  const prefix = Number(match[2]);
  if (ip === undefined || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  const network = Math.floor(ip / size) * size;
  return { network, broadcast: network + size - 1, prefix };
}

export function ipv4CidrContains(cidr: Ipv4Cidr, ip: number): boolean {
  return ip >= cidr.network && ip <= cidr.broadcast;
}
