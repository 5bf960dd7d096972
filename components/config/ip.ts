/**
 * IPv4 arithmetic for the address-plan rules, on the one implementation the program and the
 * policy pack share (policies/lib/ipv4.ts). Inputs are already schema-validated strings.
 */
import {
  formatIpv4,
  ipv4CidrContains,
  parseIpv4,
  parseIpv4Cidr,
  type Ipv4Cidr,
} from "../../policies/lib/ipv4";

export type Cidr = Ipv4Cidr;

export function ipToInt(ip: string): number {
  return parseIpv4(ip) ?? Number.NaN;
}

export const intToIp = formatIpv4;

export function parseCidr(cidr: string): Cidr {
  return parseIpv4Cidr(cidr) ?? { network: Number.NaN, broadcast: Number.NaN, prefix: Number.NaN };
}

export function cidrContains(cidr: Cidr, ip: string): boolean {
  return ipv4CidrContains(cidr, ipToInt(ip));
}
