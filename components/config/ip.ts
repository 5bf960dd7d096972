/** IPv4 arithmetic for the address-plan rules. Inputs are already schema-validated strings. */

export interface Cidr {
  readonly network: number;
  readonly broadcast: number;
  readonly prefix: number;
}

export function ipToInt(ip: string): number {
  return ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

export function parseCidr(cidr: string): Cidr {
  const [ip = "", bits = "32"] = cidr.split("/");
  const prefix = Number(bits);
  const size = 2 ** (32 - prefix);
  const network = Math.floor(ipToInt(ip) / size) * size;
  return { network, broadcast: network + size - 1, prefix };
}

export function cidrContains(cidr: Cidr, ip: string): boolean {
  const n = ipToInt(ip);
  return n >= cidr.network && n <= cidr.broadcast;
}
