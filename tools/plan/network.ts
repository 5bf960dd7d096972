/**
 * NetworkPolicy evaluated with Kubernetes' semantics (networking.k8s.io/v1, the API reference
 * and the conformance tests in kubernetes/kubernetes test/e2e/network/netpol): a connection is
 * allowed when the source pod may send it (egress) and the destination pod may receive it
 * (ingress). A pod is isolated in a direction once any policy of its namespace selects it for that
 * direction; an isolated pod allows what the union of those policies' rules allows. A rule with
 * no peers admits every peer, one with no ports every port; peers combine a namespace selector and
 * a pod selector with AND, and an `ipBlock` matches addresses (not pods, whose addresses the plan
 * does not know). Ports are numbers, ranges (`endPort`) or names of the destination container's
 * ports; the protocol defaults to TCP. Pure: no cluster, no SDK.
 */

export type Protocol = "TCP" | "UDP" | "SCTP";

/** A label selector (metav1.LabelSelector). */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly {
    readonly key: string;
    readonly operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
    readonly values?: readonly string[];
  }[];
}

export interface PolicyPeer {
  readonly podSelector?: LabelSelector;
  readonly namespaceSelector?: LabelSelector;
  readonly ipBlock?: { readonly cidr: string; readonly except?: readonly string[] };
}

export interface PolicyPort {
  readonly protocol?: Protocol;
  readonly port?: number | string;
  readonly endPort?: number;
}

export interface PolicyRule {
  readonly peers?: readonly PolicyPeer[];
  readonly ports?: readonly PolicyPort[];
}

/** A NetworkPolicy: its namespace and spec (`from`/`to` both read as `peers`). */
export interface NetworkPolicy {
  readonly name: string;
  readonly namespace: string;
  readonly podSelector: LabelSelector;
  readonly policyTypes?: readonly ("Ingress" | "Egress")[];
  readonly ingress?: readonly PolicyRule[];
  readonly egress?: readonly PolicyRule[];
}

/** A pod as policies see it: its namespace (with the namespace's labels), labels and ports. */
export interface Pod {
  readonly namespace: string;
  readonly namespaceLabels: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  /** The container ports, by name where they have one. */
  readonly ports?: readonly {
    readonly name?: string;
    readonly port: number;
    readonly protocol?: Protocol;
  }[];
}

/** An address outside the pod network (the API server on the nodes, the internet). */
export interface Address {
  readonly ip: string;
}

export type Endpoint = { readonly pod: Pod } | { readonly address: Address };

export interface Connection {
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly port: number;
  /** @default "TCP" */
  readonly protocol?: Protocol;
}

export function selects(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>>,
): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[k] !== v) return false;
  }
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const value = labels[e.key];
    switch (e.operator) {
      case "In":
        if (!has || !(e.values ?? []).includes(value!)) return false;
        break;
      case "NotIn":
        if (has && (e.values ?? []).includes(value!)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
    }
  }
  return true;
}

/** The directions a policy applies to: its policyTypes, else Ingress plus Egress if it has egress rules. */
export function policyTypes(p: NetworkPolicy): ("Ingress" | "Egress")[] {
  if (p.policyTypes !== undefined && p.policyTypes.length > 0) return [...p.policyTypes];
  return p.egress !== undefined ? ["Ingress", "Egress"] : ["Ingress"];
}

const ipToInt = (ip: string): number | undefined => {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) {
    return undefined;
  }
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
};

export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split("/");
  const [a, b] = [ipToInt(ip), ipToInt(base ?? "")];
  const n = Number(bits);
  if (a === undefined || b === undefined || !Number.isInteger(n) || n < 0 || n > 32) return false;
  const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  return (a & mask) >>> 0 === (b & mask) >>> 0;
}

/** Whether a peer of a policy in `policyNamespace` matches an endpoint. */
function peerMatches(peer: PolicyPeer, policyNamespace: string, e: Endpoint): boolean {
  if (peer.ipBlock !== undefined) {
    if (!("address" in e)) return false;
    const { cidr, except = [] } = peer.ipBlock;
    return inCidr(e.address.ip, cidr) && !except.some((x) => inCidr(e.address.ip, x));
  }
  if (!("pod" in e)) return false;
  const { pod } = e;
  if (peer.namespaceSelector !== undefined) {
    if (!selects(peer.namespaceSelector, pod.namespaceLabels)) return false;
  } else if (pod.namespace !== policyNamespace) {
    return false;
  }
  return peer.podSelector === undefined || selects(peer.podSelector, pod.labels);
}

/** Whether a rule's ports admit a port (named ports resolve on the destination pod). */
function portMatches(
  ports: readonly PolicyPort[] | undefined,
  port: number,
  protocol: Protocol,
  destination: Endpoint,
): boolean {
  if (ports === undefined || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? "TCP") !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === "number") {
      return p.endPort !== undefined ? port >= p.port && port <= p.endPort : port === p.port;
    }
    if (!("pod" in destination)) return false;
    return (destination.pod.ports ?? []).some(
      (c) => c.name === p.port && c.port === port && (c.protocol ?? "TCP") === protocol,
    );
  });
}

/** One direction: may `self` (a pod) send to / receive from `peer`? */
function directionAllows(
  policies: readonly NetworkPolicy[],
  direction: "Ingress" | "Egress",
  self: Pod,
  peer: Endpoint,
  port: number,
  protocol: Protocol,
  destination: Endpoint,
): boolean {
  const applying = policies.filter(
    (p) =>
      p.namespace === self.namespace &&
      policyTypes(p).includes(direction) &&
      selects(p.podSelector, self.labels),
  );
  if (applying.length === 0) return true;
  return applying.some((p) =>
    (direction === "Ingress" ? (p.ingress ?? []) : (p.egress ?? [])).some(
      (rule) =>
        (rule.peers === undefined ||
          rule.peers.length === 0 ||
          rule.peers.some((peerRule) => peerMatches(peerRule, p.namespace, peer))) &&
        portMatches(rule.ports, port, protocol, destination),
    ),
  );
}

/** Whether the policies let the connection through, in both directions. */
export function allows(policies: readonly NetworkPolicy[], c: Connection): boolean {
  const protocol = c.protocol ?? "TCP";
  const egress =
    !("pod" in c.from) ||
    directionAllows(policies, "Egress", c.from.pod, c.to, c.port, protocol, c.to);
  const ingress =
    !("pod" in c.to) ||
    directionAllows(policies, "Ingress", c.to.pod, c.from, c.port, protocol, c.to);
  return egress && ingress;
}

/**
 * A NetworkPolicy object (networking.k8s.io/v1, as the program declares it) in the evaluator's
 * terms.
 */
export function fromManifest(obj: Record<string, unknown>): NetworkPolicy {
  const metadata = (obj["metadata"] ?? {}) as { name?: string; namespace?: string };
  const spec = (obj["spec"] ?? {}) as {
    podSelector?: LabelSelector;
    policyTypes?: ("Ingress" | "Egress")[];
    ingress?: { from?: PolicyPeer[]; ports?: PolicyPort[] }[];
    egress?: { to?: PolicyPeer[]; ports?: PolicyPort[] }[];
  };
  return {
    name: metadata.name ?? "",
    namespace: metadata.namespace ?? "default",
    podSelector: spec.podSelector ?? {},
    ...(spec.policyTypes !== undefined ? { policyTypes: spec.policyTypes } : {}),
    ...(spec.ingress !== undefined
      ? {
          ingress: spec.ingress.map((r) => ({
            ...(r.from !== undefined ? { peers: r.from } : {}),
            ...(r.ports !== undefined ? { ports: r.ports } : {}),
          })),
        }
      : {}),
    ...(spec.egress !== undefined
      ? {
          egress: spec.egress.map((r) => ({
            ...(r.to !== undefined ? { peers: r.to } : {}),
            ...(r.ports !== undefined ? { ports: r.ports } : {}),
          })),
        }
      : {}),
  };
}
