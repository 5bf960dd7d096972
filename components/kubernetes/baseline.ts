import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { NON_PUBLIC_IPV4 } from "../../policies/lib/addresses";
import { NAMESPACE_NAME_LABEL, PART_OF_LABELS, POD_SECURITY_LABEL } from "../catalog/labels";

/** Pod Security Standards levels a namespace may enforce (privileged is never ours to create). */
export const PodSecurityLevel = { baseline: "baseline", restricted: "restricted" } as const;
export type PodSecurityLevel = (typeof PodSecurityLevel)[keyof typeof PodSecurityLevel];

/** A namespace of one tier and what traffic it admits besides its own. */
export interface NamespaceTier {
  readonly name: string;
  /** The level enforced; audit and warn are always `restricted`. */
  readonly podSecurity: PodSecurityLevel;
  /**
   * Admit traffic from the ingress namespace.
   * @default false
   */
  readonly fromIngress?: boolean;
  /**
   * Allow egress to public addresses on 443 (model weights, package mirrors).
   * @default false
   */
  readonly internetEgress?: boolean;
  /**
   * Allow egress to every namespace (the ingress forwards to exposed services).
   * @default false
   */
  readonly clusterEgress?: boolean;
  /** Extra ports the tier's pods need from the internet, e.g. the tunnel's 7844. */
  readonly internetEgressPorts?: readonly {
    readonly port: number;
    readonly protocol: "TCP" | "UDP";
  }[];
  /**
   * Let every pod reach the Kubernetes API server (operators, agents, sidecars that watch
   * objects); needs `BaselineOptions.apiServer`.
   * @default false
   */
  readonly apiServerEgress?: boolean;
  /**
   * Pods whose ports the API server calls (admission webhooks, aggregated APIs), from the
   * control planes' own addresses.
   * @default []
   */
  readonly apiServerCalls?: readonly {
    readonly name: string;
    readonly podLabels: Readonly<Record<string, string>>;
    readonly port: number;
  }[];
  /**
   * Egress from every pod here to named pods of another namespace (clients to the data services
   * that admit them).
   * @default []
   */
  readonly egressTo?: readonly {
    readonly name: string;
    readonly namespace: string;
    readonly podLabels: Readonly<Record<string, string>>;
    readonly port: number;
  }[];
  /**
   * Ingress from named pods of another namespace to named pods here (the log agent to the log
   * store).
   * @default []
   */
  readonly ingressFrom?: readonly {
    readonly name: string;
    readonly podLabels: Readonly<Record<string, string>>;
    readonly fromNamespace: string;
    readonly fromPodLabels: Readonly<Record<string, string>>;
    readonly port: number;
  }[];
}

export interface BaselineOptions {
  /** The namespace the ingress runs in, allowed into tiers with `fromIngress`. */
  readonly ingressNamespace: string;
  /** The namespace Prometheus runs in, allowed to scrape every tier. */
  readonly monitoringNamespace: string;
  /** The labels of the Prometheus server pods. */
  readonly prometheusLabels?: Readonly<Record<string, string>>;
  /** Where pods reach the API server (for `apiServerEgress` and `apiServerCalls`). */
  readonly apiServer?: ApiServerEndpoints;
  /** The node network, where Prometheus scrapes the kubelets (10250). */
  readonly nodeSubnet?: string;
}

/** The kubelet's port, where Prometheus reads kubelet and cAdvisor metrics. */
export const KUBELET_PORT = 10250;

const PART_OF = PART_OF_LABELS;

/** Non-public ranges never reached through the internet-egress allowance (one definition). */
export const NON_PUBLIC_RANGES: readonly string[] = NON_PUBLIC_IPV4.map((r) => r.cidr);

const nsSelector = (name: string) => ({
  namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: name } },
});

/** The Namespace object of a tier, with its Pod Security labels. */
export function namespaceManifest(tier: NamespaceTier) {
  return {
    apiVersion: "v1" as const,
    kind: "Namespace" as const,
    metadata: {
      name: tier.name,
      labels: {
        ...PART_OF,
        [POD_SECURITY_LABEL.enforce]: tier.podSecurity,
        [POD_SECURITY_LABEL.enforceVersion]: "latest",
        [POD_SECURITY_LABEL.audit]: "restricted",
        [POD_SECURITY_LABEL.auditVersion]: "latest",
        [POD_SECURITY_LABEL.warn]: "restricted",
        [POD_SECURITY_LABEL.warnVersion]: "latest",
      },
    },
  };
}

/** A NetworkPolicy object; `name` is also the stable key of its Pulumi resource. */
export interface NetworkPolicyManifest {
  readonly apiVersion: "networking.k8s.io/v1";
  readonly kind: "NetworkPolicy";
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Record<string, string>;
  };
  readonly spec: k8s.types.input.networking.v1.NetworkPolicySpec;
}

/**
 * The network policies of a tier: deny everything, then allow DNS, traffic within the namespace,
 * Prometheus scraping, and what the tier declares (from the ingress, to the internet, to the
 * cluster).
 */
export function networkPolicies(
  tier: NamespaceTier,
  opts: BaselineOptions,
): NetworkPolicyManifest[] {
  const policy = (
    name: string,
    spec: k8s.types.input.networking.v1.NetworkPolicySpec,
  ): NetworkPolicyManifest => ({
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name, namespace: tier.name, labels: { ...PART_OF } },
    spec,
  });
  const all = { podSelector: {} };
  const policies = [
    policy("default-deny", { ...all, policyTypes: ["Ingress", "Egress"] }),
    policy("allow-dns", dnsEgressPolicy(tier.name).spec),
    policy("allow-same-namespace", {
      ...all,
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: [{ podSelector: {} }] }],
      egress: [{ to: [{ podSelector: {} }] }],
    }),
  ];
  if (tier.name !== opts.monitoringNamespace) {
    policies.push(
      policy("allow-prometheus-scrape", {
        ...all,
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [
              {
                ...nsSelector(opts.monitoringNamespace),
                podSelector: {
                  matchLabels: {
                    ...(opts.prometheusLabels ?? { "app.kubernetes.io/name": "prometheus" }),
                  },
                },
              },
            ],
          },
        ],
      }),
    );
  }
  if ((tier.fromIngress ?? false) && tier.name !== opts.ingressNamespace) {
    policies.push(
      policy("allow-from-ingress", {
        ...all,
        policyTypes: ["Ingress"],
        ingress: [{ from: [nsSelector(opts.ingressNamespace)] }],
      }),
    );
  }
  if (tier.internetEgress ?? false) {
    const ports = [{ protocol: "TCP", port: 443 }, ...(tier.internetEgressPorts ?? [])];
    policies.push(
      policy("allow-internet-egress", {
        ...all,
        policyTypes: ["Egress"],
        egress: [
          {
            to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [...NON_PUBLIC_RANGES] } }],
            ports,
          },
        ],
      }),
    );
  }
  if (tier.clusterEgress ?? false) {
    policies.push(
      policy("allow-cluster-egress", {
        ...all,
        policyTypes: ["Egress"],
        egress: [{ to: [{ namespaceSelector: {} }] }],
      }),
    );
  }
  const prometheus = opts.prometheusLabels ?? { "app.kubernetes.io/name": "prometheus" };
  if (tier.name === opts.monitoringNamespace) {
    // Prometheus scrapes pods of every namespace on the ports their monitors name, and the
    // kubelets on the nodes.
    policies.push(
      policy("allow-prometheus-egress", {
        podSelector: { matchLabels: { ...prometheus } },
        policyTypes: ["Egress"],
        egress: [
          { to: [{ namespaceSelector: {} }] },
          ...(opts.nodeSubnet !== undefined
            ? [
                {
                  to: [{ ipBlock: { cidr: opts.nodeSubnet } }],
                  ports: [{ protocol: "TCP", port: KUBELET_PORT }],
                },
              ]
            : []),
        ],
      }),
    );
  }
  if ((tier.apiServerEgress ?? false) && opts.apiServer !== undefined) {
    const api = apiServerEgressPolicy(tier.name, opts.apiServer);
    policies.push(policy(api.metadata.name, api.spec));
  }
  for (const call of tier.apiServerCalls ?? []) {
    if (opts.apiServer === undefined) break;
    policies.push(
      policy(`allow-apiserver-to-${call.name}`, {
        podSelector: { matchLabels: { ...call.podLabels } },
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [...opts.apiServer.controlPlaneIps]
              .sort()
              .map((ip) => ({ ipBlock: { cidr: `${ip}/32` } })),
            ports: [{ protocol: "TCP", port: call.port }],
          },
        ],
      }),
    );
  }
  for (const rule of tier.egressTo ?? []) {
    policies.push(
      policy(`allow-to-${rule.name}`, {
        ...all,
        policyTypes: ["Egress"],
        egress: [
          {
            to: [
              {
                ...nsSelector(rule.namespace),
                podSelector: { matchLabels: { ...rule.podLabels } },
              },
            ],
            ports: [{ protocol: "TCP", port: rule.port }],
          },
        ],
      }),
    );
  }
  for (const rule of tier.ingressFrom ?? []) {
    policies.push(
      policy(`allow-${rule.name}`, {
        podSelector: { matchLabels: { ...rule.podLabels } },
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [
              {
                ...nsSelector(rule.fromNamespace),
                podSelector: { matchLabels: { ...rule.fromPodLabels } },
              },
            ],
            ports: [{ protocol: "TCP", port: rule.port }],
          },
        ],
      }),
    );
  }
  return policies;
}

/** Egress from every pod of a namespace to the cluster DNS (Talos's CoreDNS, UDP and TCP 53). */
export function dnsEgressPolicy(namespace: string): NetworkPolicyManifest {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "allow-dns", namespace, labels: { ...PART_OF } },
    spec: {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [
            {
              ...nsSelector("kube-system"),
              podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            },
          ],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
      ],
    },
  };
}

/** Where pods reach the Kubernetes API server. */
export interface ApiServerEndpoints {
  /** The `kubernetes.default` Service address: the first address of the service subnet. */
  readonly serviceIp: string;
  /** The control-plane nodes' own addresses, where the API server listens (host network). */
  readonly controlPlaneIps: readonly string[];
  /** The API server's port on the nodes (6443 on Talos). */
  readonly port: number;
}

/**
 * Egress to the Kubernetes API server from every pod of a namespace. Pods dial the
 * `kubernetes.default` Service (443), which kube-proxy rewrites to a control-plane node's own
 * address on 6443; NetworkPolicy implementations differ in whether they match the packet before
 * or after that rewrite (the NetworkPolicy API leaves it open), so both are allowed, and nothing
 * else.
 */
export function apiServerEgressPolicy(
  namespace: string,
  api: ApiServerEndpoints,
): NetworkPolicyManifest {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "allow-apiserver-egress", namespace, labels: { ...PART_OF } },
    spec: {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [{ ipBlock: { cidr: `${api.serviceIp}/32` } }],
          ports: [{ protocol: "TCP", port: 443 }],
        },
        {
          to: [...api.controlPlaneIps].sort().map((ip) => ({ ipBlock: { cidr: `${ip}/32` } })),
          ports: [{ protocol: "TCP", port: api.port }],
        },
      ],
    },
  };
}

export interface BaselineArgs {
  readonly tiers: readonly NamespaceTier[];
  readonly options: BaselineOptions;
}

/**
 * The zero-trust baseline: a namespace per tier with Pod Security labels, and a default-deny
 * NetworkPolicy plus explicit allows in each.
 */
export class Baseline extends pulumi.ComponentResource {
  /** Namespace name per tier name, resolving once the namespace exists. */
  public readonly namespaces: Readonly<Record<string, pulumi.Output<string>>>;

  constructor(name: string, args: BaselineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homebrew-dev:kubernetes:Baseline", name, {}, opts);
    const namespaces: Record<string, pulumi.Output<string>> = {};
    for (const tier of args.tiers) {
      const ns = new k8s.core.v1.Namespace(`${name}-ns-${tier.name}`, namespaceManifest(tier), {
        parent: this,
      });
      namespaces[tier.name] = ns.metadata.name;
      for (const np of networkPolicies(tier, args.options)) {
        new k8s.networking.v1.NetworkPolicy(`${name}-netpol-${tier.name}-${np.metadata.name}`, np, {
          parent: this,
          dependsOn: [ns],
        });
      }
    }
    this.namespaces = namespaces;
    this.registerOutputs({ namespaces });
  }
}
