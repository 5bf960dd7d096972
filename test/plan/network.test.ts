import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  allows,
  fromManifest,
  inCidr,
  policyTypes,
  selects,
  type Connection,
  type Endpoint,
  type LabelSelector,
  type NetworkPolicy,
  type Pod,
  type PolicyPeer,
  type PolicyPort,
  type Protocol,
} from "../../tools/plan/network";

/**
 * The NetworkPolicy evaluator against the semantics of the API reference, case by case, and
 * against a brute-force reference over random policies and pods: the reference materialises,
 * for every pod, the set of (peer, port, protocol) each direction admits by walking every
 * policy, rule, peer and port of a small universe, and the evaluator must answer every query of
 * that universe the same way.
 */

const NS = { kubernetes: "kubernetes.io/metadata.name" };
const pod = (namespace: string, labels: Record<string, string>, ports: Pod["ports"] = []): Pod => ({
  namespace,
  namespaceLabels: { [NS.kubernetes]: namespace },
  labels,
  ports,
});
const web = pod("apps", { app: "web" }, [{ name: "http", port: 8080 }]);
const db = pod("data", { app: "db" }, [{ name: "pg", port: 5432 }]);
const denyAll = (namespace: string): NetworkPolicy => ({
  name: "deny",
  namespace,
  podSelector: {},
  policyTypes: ["Ingress", "Egress"],
});
const conn = (from: Endpoint, to: Endpoint, port: number, protocol?: Protocol): Connection => ({
  from,
  to,
  port,
  ...(protocol !== undefined ? { protocol } : {}),
});

describe("NetworkPolicy semantics", () => {
  it("no policy: everything flows; default-deny in either namespace stops it", () => {
    expect(allows([], conn({ pod: web }, { pod: db }, 5432))).toBe(true);
    expect(allows([denyAll("apps")], conn({ pod: web }, { pod: db }, 5432))).toBe(false);
    expect(allows([denyAll("data")], conn({ pod: web }, { pod: db }, 5432))).toBe(false);
  });

  it("both directions must allow: egress from the source, ingress to the destination", () => {
    const egress: NetworkPolicy = {
      name: "to-db",
      namespace: "apps",
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [{ peers: [{ namespaceSelector: { matchLabels: { [NS.kubernetes]: "data" } } }] }],
    };
    const ingress: NetworkPolicy = {
      name: "from-apps",
      namespace: "data",
      podSelector: { matchLabels: { app: "db" } },
      ingress: [
        {
          peers: [
            {
              namespaceSelector: { matchLabels: { [NS.kubernetes]: "apps" } },
              podSelector: { matchLabels: { app: "web" } },
            },
          ],
          ports: [{ port: "pg" }],
        },
      ],
    };
    const policies = [denyAll("apps"), denyAll("data"), egress, ingress];
    expect(allows(policies, conn({ pod: web }, { pod: db }, 5432))).toBe(true);
    expect(
      allows([denyAll("apps"), denyAll("data"), egress], conn({ pod: web }, { pod: db }, 5432)),
    ).toBe(false);
    // The named port resolves on the destination: 5433 is not "pg".
    expect(allows(policies, conn({ pod: web }, { pod: db }, 5433))).toBe(false);
    // UDP is not the default TCP.
    expect(allows(policies, conn({ pod: web }, { pod: db }, 5432, "UDP"))).toBe(false);
    // A pod selector alone means the policy's own namespace.
    const sameNs: NetworkPolicy = { ...ingress, ingress: [{ peers: [{ podSelector: {} }] }] };
    expect(
      allows(
        [denyAll("apps"), denyAll("data"), egress, sameNs],
        conn({ pod: web }, { pod: db }, 5432),
      ),
    ).toBe(false);
  });

  it("ipBlocks match addresses, with their exceptions; endPort makes a range", () => {
    const out: NetworkPolicy = {
      name: "internet",
      namespace: "apps",
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          peers: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8"] } }],
          ports: [{ port: 7000, endPort: 7999 }],
        },
      ],
    };
    const policies = [denyAll("apps"), out];
    expect(allows(policies, conn({ pod: web }, { address: { ip: "1.1.1.1" } }, 7844))).toBe(true);
    expect(allows(policies, conn({ pod: web }, { address: { ip: "10.1.2.3" } }, 7844))).toBe(false);
    expect(allows(policies, conn({ pod: web }, { address: { ip: "1.1.1.1" } }, 8000))).toBe(false);
    // An ipBlock does not match pods (their addresses are not known to the plan).
    expect(allows(policies, conn({ pod: web }, { pod: db }, 7500))).toBe(false);
  });

  it("policyTypes default to Ingress, plus Egress when there are egress rules", () => {
    expect(policyTypes({ name: "a", namespace: "x", podSelector: {} })).toEqual(["Ingress"]);
    expect(policyTypes({ name: "a", namespace: "x", podSelector: {}, egress: [] })).toEqual([
      "Ingress",
      "Egress",
    ]);
  });

  it("selectors: matchLabels and every expression operator", () => {
    const labels = { app: "web", tier: "front" };
    expect(selects({}, labels)).toBe(true);
    expect(
      selects({ matchExpressions: [{ key: "app", operator: "In", values: ["web"] }] }, labels),
    ).toBe(true);
    expect(
      selects({ matchExpressions: [{ key: "app", operator: "NotIn", values: ["web"] }] }, labels),
    ).toBe(false);
    expect(
      selects({ matchExpressions: [{ key: "x", operator: "NotIn", values: ["y"] }] }, labels),
    ).toBe(true);
    expect(selects({ matchExpressions: [{ key: "tier", operator: "Exists" }] }, labels)).toBe(true);
    expect(selects({ matchExpressions: [{ key: "tier", operator: "DoesNotExist" }] }, labels)).toBe(
      false,
    );
    expect(inCidr("10.50.0.11", "10.50.0.0/24")).toBe(true);
    expect(inCidr("10.50.1.11", "10.50.0.0/24")).toBe(false);
    expect(inCidr("8.8.8.8", "0.0.0.0/0")).toBe(true);
  });

  it("reads a manifest: from and to become peers", () => {
    expect(
      fromManifest({
        metadata: { name: "n", namespace: "ns" },
        spec: { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }], egress: [{}] },
      }),
    ).toEqual({
      name: "n",
      namespace: "ns",
      podSelector: {},
      ingress: [{ peers: [{ podSelector: {} }] }],
      egress: [{}],
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The brute-force reference
// ---------------------------------------------------------------------------------------------

const NAMESPACES = ["a", "b"];
const KEYS = ["app", "tier"];
const VALUES = ["x", "y"];
const PORTS = [53, 80, 443];
const ADDRESSES = ["10.0.0.1", "192.168.1.1", "8.8.8.8"];
const CIDRS = ["0.0.0.0/0", "10.0.0.0/8", "8.8.8.0/24", "192.168.0.0/16"];

const labelsArb = fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), {
  maxKeys: 2,
});
const selectorArb: fc.Arbitrary<LabelSelector> = fc.record(
  {
    matchLabels: labelsArb,
    matchExpressions: fc.array(
      fc.record({
        key: fc.constantFrom(...KEYS),
        operator: fc.constantFrom(
          "In" as const,
          "NotIn" as const,
          "Exists" as const,
          "DoesNotExist" as const,
        ),
        values: fc.subarray(VALUES, { minLength: 1 }),
      }),
      { maxLength: 1 },
    ),
  },
  { requiredKeys: [] },
);
const nsSelectorArb: fc.Arbitrary<LabelSelector> = fc.oneof(
  fc.constant({}),
  fc.constantFrom(...NAMESPACES).map((n) => ({ matchLabels: { [NS.kubernetes]: n } })),
);
const peerArb: fc.Arbitrary<PolicyPeer> = fc.oneof(
  fc.record({ podSelector: selectorArb }),
  fc.record({ namespaceSelector: nsSelectorArb }),
  fc.record({ namespaceSelector: nsSelectorArb, podSelector: selectorArb }),
  fc.record({
    ipBlock: fc.record({
      cidr: fc.constantFrom(...CIDRS),
      except: fc.subarray(["10.0.0.0/24", "8.8.8.8/32"]),
    }),
  }),
);
const portArb: fc.Arbitrary<PolicyPort> = fc.record(
  {
    protocol: fc.constantFrom("TCP" as const, "UDP" as const),
    port: fc.oneof(fc.constantFrom(...PORTS), fc.constantFrom("dns", "web")),
  },
  { requiredKeys: [] },
);
const ruleArb = fc.record(
  { peers: fc.array(peerArb, { maxLength: 2 }), ports: fc.array(portArb, { maxLength: 2 }) },
  { requiredKeys: [] },
);
const policyArb: fc.Arbitrary<NetworkPolicy> = fc.record(
  {
    name: fc.constant("p"),
    namespace: fc.constantFrom(...NAMESPACES),
    podSelector: selectorArb,
    policyTypes: fc.subarray(["Ingress" as const, "Egress" as const]),
    ingress: fc.array(ruleArb, { maxLength: 2 }),
    egress: fc.array(ruleArb, { maxLength: 2 }),
  },
  { requiredKeys: ["name", "namespace", "podSelector"] },
);
const podArb: fc.Arbitrary<Pod> = fc
  .record({
    namespace: fc.constantFrom(...NAMESPACES),
    labels: labelsArb,
    ports: fc.subarray([
      { name: "dns", port: 53, protocol: "UDP" as const },
      { name: "web", port: 80 },
      { name: "web", port: 443 },
    ]),
  })
  .map((p) => ({ ...p, namespaceLabels: { [NS.kubernetes]: p.namespace } }));

/** Everything each direction admits, by walking every policy, rule, peer and port. */
function reference(policies: NetworkPolicy[], pods: Pod[]) {
  const endpoints: Endpoint[] = [
    ...pods.map((p) => ({ pod: p })),
    ...ADDRESSES.map((ip) => ({ address: { ip } })),
  ];
  const key = (peer: number, port: number, proto: string) => `${peer}/${port}/${proto}`;
  const labelMatch = (s: LabelSelector, l: Record<string, string>) => {
    let ok = true;
    for (const k of Object.keys(s.matchLabels ?? {})) if (l[k] !== s.matchLabels![k]) ok = false;
    for (const e of s.matchExpressions ?? []) {
      const present = k(l, e.key);
      if (e.operator === "Exists" && !present) ok = false;
      if (e.operator === "DoesNotExist" && present) ok = false;
      if (e.operator === "In" && !(present && e.values!.includes(l[e.key]!))) ok = false;
      if (e.operator === "NotIn" && present && e.values!.includes(l[e.key]!)) ok = false;
    }
    return ok;
  };
  function k(l: Record<string, string>, key: string) {
    return Object.keys(l).includes(key);
  }
  const cidr = (ip: string, c: string) => {
    const toBits = (x: string) =>
      x
        .split(".")
        .map((o) => Number(o).toString(2).padStart(8, "0"))
        .join("");
    const [base, n] = c.split("/");
    return toBits(ip).slice(0, Number(n)) === toBits(base!).slice(0, Number(n));
  };
  const types = (p: NetworkPolicy) =>
    p.policyTypes && p.policyTypes.length > 0
      ? p.policyTypes
      : p.egress
        ? ["Ingress", "Egress"]
        : ["Ingress"];
  const admitted = (self: Pod, dir: "Ingress" | "Egress") => {
    const selecting = policies.filter(
      (p) =>
        p.namespace === self.namespace &&
        types(p).includes(dir) &&
        labelMatch(p.podSelector, self.labels),
    );
    if (selecting.length === 0) return undefined; // not isolated
    const set = new Set<string>();
    for (const p of selecting) {
      for (const rule of dir === "Ingress" ? (p.ingress ?? []) : (p.egress ?? [])) {
        endpoints.forEach((e, i) => {
          const peerOk =
            !rule.peers || rule.peers.length === 0
              ? true
              : rule.peers.some((peer) => {
                  if (peer.ipBlock) {
                    return (
                      "address" in e &&
                      cidr(e.address.ip, peer.ipBlock.cidr) &&
                      !(peer.ipBlock.except ?? []).some((x) => cidr(e.address.ip, x))
                    );
                  }
                  if (!("pod" in e)) return false;
                  const nsOk = peer.namespaceSelector
                    ? labelMatch(peer.namespaceSelector, e.pod.namespaceLabels)
                    : e.pod.namespace === p.namespace;
                  return nsOk && (!peer.podSelector || labelMatch(peer.podSelector, e.pod.labels));
                });
          if (!peerOk) return;
          for (const port of PORTS) {
            for (const proto of ["TCP", "UDP"]) {
              // Named ports resolve on the destination: the peer for egress, self for ingress.
              const destination = dir === "Egress" ? e : { pod: self };
              const portOk =
                !rule.ports || rule.ports.length === 0
                  ? true
                  : rule.ports.some((pp) => {
                      if ((pp.protocol ?? "TCP") !== proto) return false;
                      if (pp.port === undefined) return true;
                      if (typeof pp.port === "number") return pp.port === port;
                      return (
                        "pod" in destination &&
                        (destination.pod.ports ?? []).some(
                          (c) =>
                            c.name === pp.port &&
                            c.port === port &&
                            (c.protocol ?? "TCP") === proto,
                        )
                      );
                    });
              if (portOk) set.add(key(i, port, proto));
            }
          }
        });
      }
    }
    return set;
  };
  return {
    endpoints,
    key,
    egress: pods.map((p) => admitted(p, "Egress")),
    ingress: pods.map((p) => admitted(p, "Ingress")),
  };
}

describe("the evaluator against the brute-force reference", () => {
  it("answers every connection of random universes the same way", () => {
    fc.assert(
      fc.property(
        fc.array(policyArb, { maxLength: 4 }),
        fc.array(podArb, { minLength: 1, maxLength: 4 }),
        (policies, pods) => {
          const ref = reference(policies, pods);
          ref.endpoints.forEach((from, i) => {
            ref.endpoints.forEach((to, j) => {
              if (!("pod" in from) && !("pod" in to)) return;
              for (const port of PORTS) {
                for (const protocol of ["TCP", "UDP"] as const) {
                  const out = "pod" in from ? ref.egress[i] : undefined;
                  const inn = "pod" in to ? ref.ingress[j] : undefined;
                  const egressOk =
                    !("pod" in from) || out === undefined || out.has(ref.key(j, port, protocol));
                  const ingressOk =
                    !("pod" in to) || inn === undefined || inn.has(ref.key(i, port, protocol));
                  expect(allows(policies, { from, to, port, protocol })).toBe(
                    egressOk && ingressOk,
                  );
                }
              }
            });
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
