import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { privateAddress } from "../../components/edge/records";
import { NON_PUBLIC_RANGES } from "../../components/kubernetes/baseline";
import { nonPublicReason } from "../../policies/lib/addresses";
import { formatIpv4, ipv4CidrContains, parseIpv4, parseIpv4Cidr } from "../../policies/lib/ipv4";
import { isPrivateAddress } from "../../policies/rules/cloudflare";

describe("non-public addresses: one definition", () => {
  it.each([
    ["0.1.2.3", '"this network" (RFC 791)'],
    ["10.0.0.1", "private (RFC 1918)"],
    ["100.64.1.1", "shared address space (RFC 6598)"],
    ["100.127.255.255", "shared address space (RFC 6598)"],
    ["127.0.0.1", "loopback"],
    ["169.254.1.1", "link-local"],
    ["172.16.0.1", "private (RFC 1918)"],
    ["172.31.255.255", "private (RFC 1918)"],
    ["192.0.0.8", "IETF protocol assignments (RFC 6890)"],
    ["192.168.1.1", "private (RFC 1918)"],
    ["198.19.0.1", "benchmarking (RFC 2544)"],
    ["224.0.0.251", "multicast"],
    ["255.255.255.255", "reserved (RFC 1112)"],
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["fe80::1", "link-local"],
    ["fd12:3456::1", "unique local (RFC 4193)"],
    ["ff02::1", "multicast"],
    ["::ffff:10.1.2.3", "private (RFC 1918)"],
    ["::ffff:a01:203", "private (RFC 1918)"],
    ["::ffff:100.64.0.1", "shared address space (RFC 6598)"],
  ])("%s is %s", (ip, why) => {
    expect(nonPublicReason(ip)).toBe(why);
  });

  it.each([
    "203.0.113.10",
    "198.51.100.7",
    "172.32.0.1",
    "100.128.0.1",
    "1.1.1.1",
    "2001:db8::1",
    "2606:4700::1111",
    "::ffff:1.1.1.1",
  ])("%s may be published", (ip) => {
    expect(nonPublicReason(ip)).toBeUndefined();
  });

  it("the record planner, the policy pack and the egress ranges agree on every IPv4 address", () => {
    const ranges = NON_PUBLIC_RANGES.map((c) => parseIpv4Cidr(c)!);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (n) => {
        const ip = formatIpv4(n);
        const inRanges = ranges.some((r) => ipv4CidrContains(r, n));
        expect(privateAddress(ip) !== undefined).toBe(inRanges);
        expect(isPrivateAddress(ip)).toBe(inRanges);
        // And an IPv4-mapped IPv6 address is judged by the address it carries.
        expect(isPrivateAddress(`::ffff:${ip}`)).toBe(inRanges);
      }),
      { numRuns: 2000 },
    );
  });

  it("parses and formats IPv4 both ways", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (n) => {
        expect(parseIpv4(formatIpv4(n))).toBe(n);
      }),
    );
    expect(parseIpv4("10.0.0.256")).toBeUndefined();
    expect(parseIpv4("010.0.0.1")).toBeUndefined();
    expect(parseIpv4Cidr("10.1.2.3/8")).toEqual({
      network: 167772160,
      broadcast: 184549375,
      prefix: 8,
    });
    expect(parseIpv4Cidr("10.0.0.0/33")).toBeUndefined();
  });
});
