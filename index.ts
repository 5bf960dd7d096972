/**
 * homebrew-dev: the whole platform of one environment as one program. The stack file
 * (stacks/Pulumi.<stack>.yaml) is read and validated once; components receive typed values.
 */
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as cloudflare from "@pulumi/cloudflare";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { loadStack } from "./components/stack/load";
import { ContainerImage } from "./components/build/image";
import { ServiceApp, appServiceUrl } from "./components/kubernetes/serviceApp";
import { DataServices } from "./components/data/data";
import { Observability, grafanaExposure } from "./components/observability/observability";
import { Edge, edgeArgs, exposedNames } from "./components/edge";
import { EdgeTunnel } from "./components/edge/tunnel";
import type { ExposedService } from "./components/kubernetes/ingress";
import { KubernetesPlatform, Tier, platformArgs } from "./components/kubernetes/platform";
import { ProxmoxCsiAccess, Storage, nodeStorage } from "./components/kubernetes/storage";
import { offeredRuntimes, tolerationsFor } from "./components/kubernetes/runtimes";
import { NVIDIA_GPU_PRESENT_LABEL } from "./components/catalog/labels";
import { RELEASES, prometheusUrl } from "./components/catalog/footprints";
import { ModelServer, modelServiceUrl, runtimeClassFor } from "./components/models/modelServer";
import { ModelGateway, gatewayUrl } from "./components/models/gateway";
import {
  ModelAutoscaler,
  interceptorHost,
  wakeScalerAddress,
} from "./components/models/autoscaler";
import { TalosCluster, talosClusterArgs } from "./components/talos/cluster";

// The stack, validated, and every decision made from it (placement, records, redirects, ...).
const { spec: config, plan } = loadStack();
const stack = pulumi.getStack();
const { cluster } = config;

// Explicit providers: nothing reads the ambient provider configuration of the machine running
// `pulumi up`. Credentials come from the providers' own variables (PROXMOX_VE_API_TOKEN, ...).
const proxmox = new proxmoxve.Provider("proxmox", {
  endpoint: config.proxmox.endpoint,
  insecure: config.proxmox.insecure,
  // Snippets (the machine configs) are uploaded over SSH; the agent holds the key.
  ssh: { agent: true, username: "root" },
});

const talos = new TalosCluster(
  cluster.name,
  {
    ...talosClusterArgs(cluster, config.proxmox, plan.cluster, nodeStorage(plan.storage)),
    // Losing the secrets bundle means rebuilding the cluster: protected in production.
    protectSecrets: config.environment === "prod",
    // metrics-server verifies the kubelets' serving certificates: they must come from the CA.
    kubeletServingCertificates: config.platform.metricsServer.enabled,
  },
  { providers: { proxmoxve: proxmox } },
);

// The cluster's own kubeconfig, never the ambient one of the machine running `pulumi up`.
// The provider is replaced (and every Kubernetes resource with it) only when the cluster is
// another one: without `clusterIdentifier` the provider guesses from the kubeconfig, and a
// renewed admin certificate could read as a new cluster.
const kubernetes = new k8s.Provider(
  "kubernetes",
  { kubeconfig: talos.kubeconfig, clusterIdentifier: `${cluster.name} ${talos.endpoint}` },
  { dependsOn: [talos.ready] },
);
const cloudflareProvider =
  config.edge !== undefined ? new cloudflare.Provider("cloudflare", {}) : undefined;

// Every exposed service declares a hostname: it becomes a tunnel route (and a DNS name).
const grafana = grafanaExposure(config.platform, Tier.observability);
const exposed: ExposedService[] = plan.hostnames.map((d): ExposedService => {
  switch (d.owner.kind) {
    case "grafana":
      return grafana!;
    case "gateway":
      return { hostname: d.hostname, service: gatewayUrl(Tier.models) };
    case "model":
      return {
        hostname: d.hostname,
        service: modelServiceUrl(config.models[d.owner.index]!, Tier.models),
      };
    case "image":
      return {
        hostname: d.hostname,
        service: appServiceUrl(config.builds.images[d.owner.index]!.name, Tier.apps),
      };
    default: {
      const never: never = d.owner;
      throw new Error(`unknown hostname owner ${JSON.stringify(never)}`);
    }
  }
});

// The one way in: a Cloudflare Tunnel (edge area) and its connector in the cluster. The tunnel was
// registered under the platform's ingress before it moved here; the aliases keep it (and the
// tunnel id every exposed name points at).
const tunnel =
  plan.tunnel && config.edge !== undefined && cloudflareProvider !== undefined
    ? new EdgeTunnel(
        "edge-tunnel",
        {
          accountId: config.edge.accountId,
          tunnelName: `${cluster.name}-ingress`,
          routes: exposed,
          movedFrom: {
            parentUrn: `urn:pulumi:${stack}::${pulumi.getProject()}::homebrew-dev:kubernetes:Platform$homebrew-dev:kubernetes:TunnelIngress::platform-ingress`,
            name: "platform-ingress",
          },
        },
        { providers: { cloudflare: cloudflareProvider } },
      )
    : undefined;

const platform = new KubernetesPlatform(
  "platform",
  {
    ...platformArgs(config, plan.tiers),
    ...(tunnel !== undefined ? { tunnelToken: tunnel.token } : {}),
  },
  { providers: { kubernetes } },
);

// Volumes: the provisioner and the default StorageClass every claim of the platform names. The
// Proxmox CSI plugin gets a Proxmox user and token of its own, with only the privileges it needs.
const csiAccess =
  plan.storage.provisioner === "proxmox-csi"
    ? new ProxmoxCsiAccess("proxmox-csi", { providers: { proxmoxve: proxmox } })
    : undefined;
const storage = new Storage(
  "storage",
  {
    storage: plan.storage,
    namespace: "kube-system",
    ...(csiAccess !== undefined
      ? {
          proxmox: {
            endpoint: config.proxmox.endpoint,
            insecure: config.proxmox.insecure,
            tokenId: csiAccess.tokenId,
            tokenSecret: csiAccess.tokenSecret,
          },
        }
      : {}),
  },
  { providers: { kubernetes } },
);

// The edge: the zone, a record for every exposed hostname (service discovery: a proxied CNAME to
// the tunnel when there is one) and the stack's own records, redirects and cache rules.
const edge =
  config.edge !== undefined && cloudflareProvider !== undefined
    ? new Edge(
        "edge",
        {
          ...edgeArgs(
            config.edge,
            exposedNames(config, { tunnel: tunnel !== undefined }),
            plan.edge,
          ),
          ...(tunnel !== undefined ? { tunnelTarget: tunnel.cnameTarget } : {}),
        },
        { providers: { cloudflare: cloudflareProvider } },
      )
    : undefined;

// Model serving: every model behind one gateway, each scaled by KEDA on its engine's queue, the
// idle ones woken from zero by the HTTP add-on's interceptor. The key the gateway and the servers
// check is the stack's, or one generated for it (the `modelApiKey` output).
const modelsNamespace = platform.namespaces[Tier.models];
const hasModels = config.models.length > 0 && modelsNamespace !== undefined;
const waking = config.models.some((m) => m.minReplicas === 0);
const modelKey = !hasModels
  ? undefined
  : config.modelApiKey !== undefined
    ? pulumi.secret(config.modelApiKey)
    : pulumi.secret(
        pulumi.interpolate`sk-${new random.RandomPassword("model-api-key", { length: 40, special: false }).result}`,
      );
const autoscaler = hasModels
  ? new ModelAutoscaler(
      "model-autoscaler",
      { wake: waking, wakeReplicas: config.modelGateway.replicas },
      { providers: { kubernetes } },
    )
  : undefined;
const modelServers = config.models.map(
  (model) =>
    new ModelServer(
      `model-${model.name}`,
      {
        model,
        ...runtimeClassFor(model, cluster),
        namespace: modelsNamespace!,
        storageClass: storage.className,
        ...(config.huggingFaceToken !== undefined
          ? { huggingFaceToken: pulumi.secret(config.huggingFaceToken) }
          : {}),
        apiKey: modelKey!,
        scaling: {
          namespace: Tier.models,
          ...(config.platform.observability.enabled
            ? { prometheus: prometheusUrl(RELEASES.monitoring, Tier.observability) }
            : {}),
          ...(waking ? { wakeScaler: wakeScalerAddress(autoscaler!.namespace) } : {}),
        },
        ...(model.minReplicas === 0
          ? {
              wake: {
                interceptor: interceptorHost(autoscaler!.namespace),
                timeoutSeconds: config.modelGateway.wakeTimeoutSeconds,
                requestTimeoutSeconds: config.modelGateway.requestTimeoutSeconds,
              },
            }
          : {}),
      },
      { providers: { kubernetes }, dependsOn: autoscaler?.ready ?? [] },
    ),
);
const gateway = hasModels
  ? new ModelGateway(
      "model-gateway",
      {
        models: config.models,
        namespace: modelsNamespace,
        namespaceName: Tier.models,
        apiKey: modelKey!,
        replicas: config.modelGateway.replicas,
        requestTimeoutSeconds: config.modelGateway.requestTimeoutSeconds,
      },
      { providers: { kubernetes } },
    )
  : undefined;

// Metrics, alerts, dashboards and logs; the data services the applications use.
if (config.platform.observability.enabled) {
  new Observability(
    "observability",
    {
      retentionDays: config.platform.observability.retentionDays,
      storageGiB: config.platform.observability.storageGiB,
      storageClass: storage.className,
      namespace: platform.namespaces[Tier.observability]!,
      ...(platform.namespaces[Tier.models] !== undefined
        ? { modelsNamespace: platform.namespaces[Tier.models] }
        : {}),
      ...(gateway !== undefined
        ? { modelMetricsKey: { name: gateway.secretName, key: "api-key" } }
        : {}),
      ...(offeredRuntimes(config.cluster).includes("nvidia")
        ? {
            gpuNodes: {
              tolerations: tolerationsFor("nvidia", config.cluster),
              nodeSelector: { [NVIDIA_GPU_PRESENT_LABEL]: "true" },
            },
          }
        : {}),
      vllm: config.models.some((m) => m.engine === "vllm"),
    },
    { providers: { kubernetes } },
  );
}
const dataNamespace = platform.namespaces[Tier.data];
if (dataNamespace !== undefined) {
  new DataServices(
    "data",
    {
      ...(config.platform.postgres.enabled ? { postgres: config.platform.postgres } : {}),
      ...(config.platform.redis.enabled ? { redis: config.platform.redis } : {}),
      ...(config.platform.rabbitmq.enabled ? { rabbitmq: config.platform.rabbitmq } : {}),
      // Losing a database volume loses its data: protected in production.
      protectVolumes: config.environment === "prod",
      storageClass: storage.className,
      namespace: Tier.data,
      namespaceOutput: dataNamespace,
    },
    { providers: { kubernetes } },
  );
}

// Our own services: built from source with a registry cache, deployed by digest.
// SOURCE_REVISION (the commit being deployed) tags the images; "dev" for local runs.
const revision = process.env["SOURCE_REVISION"] ?? "dev";
const images = config.builds.images.map((spec) => {
  const image = new ContainerImage(`image-${spec.name}`, {
    name: spec.name,
    registry: config.builds.registry!,
    context: spec.context,
    dockerfile: spec.dockerfile,
    ...(spec.target !== undefined ? { target: spec.target } : {}),
    buildArgs: spec.buildArgs,
    secrets: Object.fromEntries(
      spec.secrets.map((id) => [id, pulumi.secret(config.buildSecrets![id]!)]),
    ),
    platforms: spec.platforms,
    revision,
    buildOnPreview: config.builds.buildOnPreview,
    ...(config.builds.registryUsername !== undefined && config.registryPassword !== undefined
      ? {
          registryAuth: {
            username: config.builds.registryUsername,
            password: pulumi.secret(config.registryPassword),
          },
        }
      : {}),
  });
  new ServiceApp(
    `app-${spec.name}`,
    {
      name: spec.name,
      namespace: platform.namespaces[Tier.apps]!,
      image: image.ref,
      port: spec.port,
      replicas: spec.replicas,
      healthPath: spec.healthPath,
    },
    { providers: { kubernetes } },
  );
  return image;
});

export const environment = config.environment;
export const stackName = stack;
export const clusterName = cluster.name;
export const talosVersion = cluster.talosVersion;
export const kubernetesVersion = cluster.kubernetesVersion;
export const kubernetesApi = talos.endpoint;
export const placement = talos.placement;
export const schematics = talos.schematics;
export const kubeconfig = talos.kubeconfig;
export const talosconfig = talos.talosconfig;
export const controlPlaneNodes = cluster.controlPlane.nodes.map((n) => `${n.name} ${n.ip}`);
export const workerNodes = cluster.workerPools.flatMap((p) =>
  p.nodes.map((n) => `${n.name} ${n.ip} (${p.name})`),
);
export const proxmoxEndpoint = config.proxmox.endpoint;
export const zone = config.edge?.zone.name;
export const dnsNames = edge?.recordNames ?? [];
export const namespaces = platform.namespaces;
export const runtimeClasses = platform.runtimeClasses;
export const ingressTarget = tunnel?.cnameTarget;
export const imageRefs = Object.fromEntries(
  config.builds.images.map((spec, i) => [spec.name, images[i]!.ref]),
);
export const modelGateway = gateway?.url;
/** The key clients send to the gateway (a secret: `pulumi stack output --show-secrets modelApiKey`). */
export const modelApiKey = modelKey;
export const modelEndpoints = Object.fromEntries(
  config.models.map((m, i) => [m.name, modelServers[i]!.url]),
);
