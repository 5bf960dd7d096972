import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import { intToIp, parseCidr } from "../config/ip";
import { CHARTS } from "../catalog/charts";
import { DATA_SELECTORS, PORTS } from "../data/data";
import {
  LOKI_HTTP_PORT,
  POD_SELECTORS,
  PROMETHEUS_POD_LABEL,
  RELEASES,
  WEBHOOK_PORTS,
  KEDA_HTTP_SERVICES,
} from "../catalog/footprints";
import { ENGINES } from "../catalog/engines";
import { NVIDIA_GPU_PRESENT_LABEL } from "../catalog/labels";
import { API_SERVER_PORT, DEFAULT_SERVICE_SUBNET } from "../talos/machineConfig";
import { KubeletServingCertApprover } from "./approver";
import {
  Baseline,
  PodSecurityLevel,
  type ApiServerEndpoints,
  type NamespaceTier,
} from "./baseline";
import { TunnelIngress } from "./ingress";
import {
  offeredRuntimes,
  runtimeClasses,
  tolerationsFor,
  type RuntimeClassSpec,
  type Toleration,
} from "./runtimes";

/** The pinned NVIDIA device plugin chart. */
export const NVIDIA_DEVICE_PLUGIN_CHART = CHARTS.nvidiaDevicePlugin;

/** The pinned metrics-server chart (the `metrics.k8s.io` API that autoscalers read). */
export const METRICS_SERVER_CHART = CHARTS.metricsServer;

/** Namespace names of the tiers. */
export const Tier = {
  ingress: "ingress",
  apps: "apps",
  models: "models",
  observability: "observability",
  data: "data",
} as const;

/**
 * The namespaces of a stack, each with the Pod Security level its workloads allow. Model servers
 * and operators run images that are not all non-root: baseline is enforced there (restricted is
 * still audited and warned about); everything else enforces restricted.
 */
export function namespaceTiers(
  config: Pick<StackConfig, "platform" | "models" | "edge">,
): NamespaceTier[] {
  const tiers: NamespaceTier[] = [];
  const ingress = hasIngress(config);
  if (ingress) {
    tiers.push({
      name: Tier.ingress,
      podSecurity: PodSecurityLevel.restricted,
      internetEgress: true,
      // cloudflared reaches the edge on 7844 (QUIC and HTTP/2).
      internetEgressPorts: [
        { port: 7844, protocol: "TCP" },
        { port: 7844, protocol: "UDP" },
      ],
      clusterEgress: true,
    });
  }
  tiers.push({ name: Tier.apps, podSecurity: PodSecurityLevel.restricted, fromIngress: ingress });
  if (config.models.length > 0) {
    // A model scaled to zero is reached through KEDA's interceptor (kube-system): the gateway's
    // way out to it, and its way in to the servers, on each engine's port.
    const waking = config.models.filter((m) => m.minReplicas === 0);
    const interceptor = POD_SELECTORS.interceptor(RELEASES.kedaHttp);
    const ports = [...new Set(waking.map((m) => ENGINES[m.engine].port))].sort((a, b) => a - b);
    tiers.push({
      name: Tier.models,
      podSecurity: PodSecurityLevel.baseline,
      fromIngress: ingress,
      internetEgress: true,
      ...(waking.length > 0
        ? {
            egressTo: [
              {
                name: "keda-interceptor",
                namespace: "kube-system",
                podLabels: interceptor,
                port: KEDA_HTTP_SERVICES.interceptorProxy.port,
              },
            ],
            ingressFrom: ports.map((port) => ({
              name: `keda-interceptor-${port}`,
              podLabels: { "app.kubernetes.io/component": "model-server" },
              fromNamespace: "kube-system",
              fromPodLabels: interceptor,
              port,
            })),
          }
        : {}),
    });
  }
  if (config.platform.observability.enabled) {
    tiers.push({
      name: Tier.observability,
      podSecurity: PodSecurityLevel.baseline,
      fromIngress: ingress,
      // Prometheus, its operator and install Jobs, kube-state-metrics, Grafana's and Loki's
      // sidecars all watch the API (catalog/footprints.ts).
      apiServerEgress: true,
      apiServerCalls: [
        {
          name: "prometheus-operator",
          podLabels: POD_SELECTORS.prometheusOperator(RELEASES.monitoring),
          port: WEBHOOK_PORTS.prometheusOperator,
        },
      ],
      ingressFrom: [
        {
          name: "log-agent",
          podLabels: POD_SELECTORS.loki(RELEASES.loki),
          fromNamespace: "kube-system",
          fromPodLabels: POD_SELECTORS.alloy(RELEASES.logAgent),
          port: LOKI_HTTP_PORT,
        },
        // KEDA's operator runs the model servers' Prometheus scalers.
        ...(config.models.some((m) => ENGINES[m.engine].saturation !== undefined)
          ? [
              {
                name: "keda-operator",
                podLabels: PROMETHEUS_POD_LABEL,
                fromNamespace: "kube-system",
                fromPodLabels: POD_SELECTORS.kedaOperator(RELEASES.keda),
                port: 9090,
              },
            ]
          : []),
      ],
    });
  }
  const p = config.platform;
  if (p.postgres.enabled || p.redis.enabled || p.rabbitmq.enabled) {
    tiers.push({
      name: Tier.data,
      podSecurity: PodSecurityLevel.baseline,
      // CloudNativePG's operator and instances watch the API; the API server calls its webhooks.
      ...(p.postgres.enabled
        ? {
            apiServerEgress: true,
            apiServerCalls: [
              {
                name: "cloudnative-pg",
                podLabels: POD_SELECTORS.cnpgOperator(RELEASES.cnpg),
                port: WEBHOOK_PORTS.cnpg,
              },
            ],
          }
        : {}),
    });
  }
  // Clients reach the data services that admit them: the data tier's policies admit them by
  // namespace, and each client tier's egress lets them out to exactly those pods and ports.
  const services = [
    ["postgres", p.postgres, DATA_SELECTORS.postgres, PORTS.postgres],
    ["valkey", p.redis, DATA_SELECTORS.valkey, PORTS.valkey],
    ["rabbitmq", p.rabbitmq, DATA_SELECTORS.rabbitmq, PORTS.rabbitmq],
  ] as const;
  return tiers.map((tier) => {
    const egressTo = services
      .filter(([, s]) => s.enabled && s.clients.includes(tier.name))
      .map(([name, , podLabels, port]) => ({ name, namespace: Tier.data, podLabels, port }));
    return egressTo.length > 0
      ? { ...tier, egressTo: [...(tier.egressTo ?? []), ...egressTo] }
      : tier;
  });
}

/**
 * Where the cluster's pods reach the API server: the `kubernetes` Service (the first address of
 * the service subnet, which Talos gives the API server) and the control planes' own addresses.
 */
export function apiServerEndpoints(
  cluster: Pick<StackConfig["cluster"], "controlPlane">,
): ApiServerEndpoints {
  const services = parseCidr(DEFAULT_SERVICE_SUBNET);
  return {
    serviceIp: intToIp(services.network + 1),
    controlPlaneIps: cluster.controlPlane.nodes.map((n) => n.ip),
    port: API_SERVER_PORT,
  };
}

export interface KubernetesPlatformArgs {
  /** The RuntimeClasses of the pools' runtimes (`runtimeClasses(cluster)`). */
  readonly runtimeClasses: readonly RuntimeClassSpec[];
  /**
   * Tolerations of the GPU pools' taints: when given, the NVIDIA device plugin runs on the GPU
   * nodes with them.
   * @default - no GPU pool, no device plugin
   */
  readonly gpuTolerations?: readonly Toleration[];
  /**
   * Where pods reach the API server: when given, metrics-server runs with the kubelet
   * serving-certificate approver (whose only egress is the API server).
   * @default - no metrics-server
   */
  readonly metricsServerApi?: ApiServerEndpoints;
  /** The namespaces and what traffic each admits (`namespaceTiers`, in the stack's plan). */
  readonly tiers: readonly NamespaceTier[];
  /** Where pods reach the API server, for the tiers that need it. */
  readonly apiServer: ApiServerEndpoints;
  /** The node network (Prometheus scrapes the kubelets there). */
  readonly nodeSubnet: string;
  /**
   * The token of the edge's Cloudflare Tunnel (`EdgeTunnel.token`): the ingress namespace runs
   * its connector.
   * @default - no connector
   */
  readonly tunnelToken?: pulumi.Input<string>;
  /**
   * Replicas of the tunnel connector.
   * @default 2
   */
  readonly ingressReplicas?: number;
}

/** The platform's arguments for a stack: its runtimes, GPU pools, metrics-server and tiers. */
export function platformArgs(
  config: Pick<StackConfig, "cluster" | "platform">,
  tiers: readonly NamespaceTier[],
): KubernetesPlatformArgs {
  const { cluster } = config;
  return {
    runtimeClasses: runtimeClasses(cluster),
    ...(offeredRuntimes(cluster).includes("nvidia")
      ? { gpuTolerations: tolerationsFor("nvidia", cluster) }
      : {}),
    ...(config.platform.metricsServer.enabled
      ? { metricsServerApi: apiServerEndpoints(cluster) }
      : {}),
    tiers,
    apiServer: apiServerEndpoints(cluster),
    nodeSubnet: cluster.network.subnet,
    ingressReplicas: config.platform.ingress.replicas,
  };
}

/** Whether the stack routes public hostnames through a tunnel: an ingress and an edge. */
export function hasIngress(config: Pick<StackConfig, "platform" | "edge">): boolean {
  return config.platform.ingress.enabled && config.edge !== undefined;
}

/**
 * The cluster as a platform: RuntimeClasses from the pools' runtimes, the NVIDIA device plugin
 * where a pool offers GPUs, metrics-server with the kubelet serving-certificate approver, the
 * zero-trust baseline, and the ingress.
 */
export class KubernetesPlatform extends pulumi.ComponentResource {
  public readonly namespaces: Readonly<Record<string, pulumi.Output<string>>>;
  public readonly runtimeClasses: readonly string[];

  constructor(name: string, args: KubernetesPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homebrew-dev:kubernetes:Platform", name, {}, opts);
    const parent = { parent: this };

    const classes = args.runtimeClasses;
    for (const rc of classes) {
      new k8s.node.v1.RuntimeClass(`${name}-runtime-${rc.metadata.name}`, rc, parent);
    }
    this.runtimeClasses = classes.map((c) => c.metadata.name);

    if (args.gpuTolerations !== undefined) {
      // kube-system: the plugin mounts the kubelet's device-plugin socket (a hostPath), which no
      // namespace of ours admits; Talos exempts kube-system from Pod Security.
      new k8s.helm.v3.Release(
        `${name}-nvidia-device-plugin`,
        {
          chart: NVIDIA_DEVICE_PLUGIN_CHART.chart,
          version: NVIDIA_DEVICE_PLUGIN_CHART.version,
          repositoryOpts: { repo: NVIDIA_DEVICE_PLUGIN_CHART.repo },
          namespace: "kube-system",
          values: {
            runtimeClassName: "nvidia",
            nodeSelector: { [NVIDIA_GPU_PRESENT_LABEL]: "true" },
            // The GPU pools' taints, as the nvidia RuntimeClass tolerates them.
            tolerations: [...args.gpuTolerations],
          },
        },
        parent,
      );
    }

    if (args.metricsServerApi !== undefined) {
      const approver = new KubeletServingCertApprover(
        `${name}-kubelet-serving-cert-approver`,
        { apiServer: args.metricsServerApi },
        parent,
      );
      // kube-system, like every cluster add-on the API server aggregates. The chart's defaults
      // verify the kubelets' certificates (no --kubelet-insecure-tls), hence the approver.
      new k8s.helm.v3.Release(
        `${name}-metrics-server`,
        {
          chart: METRICS_SERVER_CHART.chart,
          version: METRICS_SERVER_CHART.version,
          repositoryOpts: { repo: METRICS_SERVER_CHART.repo },
          namespace: "kube-system",
          values: {
            replicas: 1,
            resources: { requests: { cpu: "100m", memory: "200Mi" } },
          },
        },
        { parent: this, dependsOn: [approver.deployment] },
      );
    }

    const tiers = args.tiers;
    const baseline = new Baseline(
      `${name}-baseline`,
      {
        tiers,
        options: {
          ingressNamespace: Tier.ingress,
          monitoringNamespace: Tier.observability,
          prometheusLabels: PROMETHEUS_POD_LABEL,
          apiServer: args.apiServer,
          nodeSubnet: args.nodeSubnet,
        },
      },
      parent,
    );
    this.namespaces = baseline.namespaces;

    const ingressNs = baseline.namespaces[Tier.ingress];
    if (ingressNs !== undefined && args.tunnelToken !== undefined) {
      new TunnelIngress(
        `${name}-ingress`,
        {
          namespace: ingressNs,
          token: args.tunnelToken,
          replicas: args.ingressReplicas ?? 2,
        },
        parent,
      );
    }
    this.registerOutputs({ runtimeClasses: this.runtimeClasses });
  }
}
