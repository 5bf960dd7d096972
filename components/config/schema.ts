import { ENGINE_NAMES, type ModelEngineName } from "../catalog/engines";
import { RUNTIME_NAMES, type RuntimeName } from "../catalog/runtimes";
import { z } from "zod";

/**
 * The stack configuration of one environment, as one zod schema.
 *
 * Every top-level property is one Pulumi config key in the project's namespace
 * (`homebrew-dev:proxmox`, `homebrew-dev:cluster`, ...). Field descriptions are the config
 * reference (`docs/config-reference.md` is generated from them), so they say the unit, the
 * default and what is allowed.
 */

const dnsLabel = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, {
  error: "expected a DNS label: lowercase letters, digits and '-', 1-63 characters",
});

const positiveInt = z.int().min(1);

/**
 * What a secret value reads as where it cannot be decrypted (the offline plan, tools/plan/run.ts):
 * rules about a secret's content hold only where the value is read.
 */
export const UNREADABLE_SECRET = "[secret]";

const hostnameSchema = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/, {
    error: "expected a lowercase fully qualified DNS name such as api.example.com",
  });

export const Environment = { dev: "dev", staging: "staging", prod: "prod" } as const;
export type Environment = (typeof Environment)[keyof typeof Environment];

/** Sandboxed and GPU runtimes a worker pool can offer (the catalog's runtime table). */
export const Runtime = Object.fromEntries(RUNTIME_NAMES.map((r) => [r, r])) as {
  readonly [R in RuntimeName]: R;
};
export type Runtime = RuntimeName;

/** Model-serving engines (the catalog's engine table). */
export const ModelEngine = Object.fromEntries(ENGINE_NAMES.map((e) => [e, e])) as {
  readonly [E in ModelEngineName]: E;
};
export type ModelEngine = ModelEngineName;

export const CloudflarePlan = {
  free: "free",
  pro: "pro",
  business: "business",
  enterprise: "enterprise",
} as const;
export type CloudflarePlan = (typeof CloudflarePlan)[keyof typeof CloudflarePlan];

// ---------------------------------------------------------------------------------------------
// Proxmox
// ---------------------------------------------------------------------------------------------

export const ProxmoxHostSchema = z
  .strictObject({
    name: dnsLabel.describe("Proxmox node name exactly as the cluster knows it (e.g. pve1)."),
    cpuCores: positiveInt.describe("Physical cores offered to VMs on this host."),
    memoryMiB: z.int().min(1024).describe("Memory offered to VMs on this host, in MiB."),
    gpus: z
      .int()
      .min(0)
      .default(0)
      .describe("GPUs on this host that can be passed through to VMs. @default 0"),
    gpuMapping: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Name of the Proxmox PCI resource mapping (Datacenter > Resource Mappings) of this host's GPUs; required when gpus > 0.",
      ),
    diskDatastore: z
      .string()
      .min(1)
      .default("local-lvm")
      .describe("Datastore for VM disks. @default local-lvm"),
    imageDatastore: z
      .string()
      .min(1)
      .default("local")
      .describe("Datastore (content type iso/import) for downloaded Talos images. @default local"),
    snippetDatastore: z
      .string()
      .min(1)
      .default("local")
      .describe(
        "Datastore with the snippets content type, for cloud-init user-data. @default local",
      ),
  })
  .describe("One Proxmox VE host and the capacity it offers to the cluster.");

export const ProxmoxSchema = z
  .strictObject({
    endpoint: z
      .url({ protocol: /^https$/, error: "expected an https:// URL such as https://pve1:8006/" })
      .describe("Proxmox VE API endpoint. Credentials come from PROXMOX_VE_API_TOKEN."),
    insecure: z
      .boolean()
      .default(false)
      .describe("Accept a self-signed API certificate. @default false"),
    hosts: z.array(ProxmoxHostSchema).min(1).describe("The Proxmox hosts VMs may run on."),
    sharedDatastores: z
      .array(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_.-]*$/, { error: "expected a datastore id" }))
      .default([])
      .describe(
        "Datastores every host sees as one (`shared 1` in storage.cfg: CephFS, NFS): a file on them exists once, so images are downloaded once. @default []",
      ),
    bridge: z
      .string()
      .regex(/^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$/, { error: "expected a Linux bridge name" })
      .default("vmbr0")
      .describe("Linux bridge the VM NICs attach to. @default vmbr0"),
    vlanId: z
      .int()
      .min(1)
      .max(4094)
      .optional()
      .describe("VLAN tag of the cluster network. @default - untagged"),
  })
  .describe("Proxmox VE: API endpoint, hosts and the VM network.");

// ---------------------------------------------------------------------------------------------
// Cluster
// ---------------------------------------------------------------------------------------------

export const NodeSchema = z.strictObject({
  name: dnsLabel.describe("Node hostname; stable identity of the VM."),
  ip: z.ipv4({ error: "expected an IPv4 address such as 10.0.0.11" }).describe("Static IPv4."),
  host: dnsLabel
    .optional()
    .describe("Pin this node to a Proxmox host. @default - chosen by the placement planner"),
});

export const TaintSchema = z.strictObject({
  key: z.string().min(1),
  value: z.string().optional(),
  effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]),
});

const poolSizing = {
  cpuCores: positiveInt.default(4).describe("vCPUs per node. @default 4"),
  memoryMiB: z.int().min(2048).default(8192).describe("Memory per node in MiB. @default 8192"),
  diskGiB: z.int().min(10).default(40).describe("Boot disk per node in GiB. @default 40"),
};

export const ControlPlaneNodeSchema = NodeSchema.extend({
  retire: z
    .boolean()
    .default(false)
    .describe(
      "Unprotect this control plane so that a later change can remove it: Pulumi deletes only what its state records as unprotected, so retiring and removing are two changes. @default false",
    ),
});

export const ControlPlaneSchema = z.strictObject({
  nodes: z
    .array(ControlPlaneNodeSchema)
    .min(1)
    .describe("Control-plane nodes; an odd number (etcd quorum)."),
  ...poolSizing,
  protect: z
    .boolean()
    .default(true)
    .describe("Protect control-plane VMs from deletion (Pulumi `protect`). @default true"),
});

export const WorkerPoolSchema = z.strictObject({
  name: dnsLabel.describe("Pool name; becomes the node label homebrew-dev.io/pool."),
  nodes: z.array(NodeSchema).min(1).describe("Nodes of this pool."),
  ...poolSizing,
  gpusPerNode: z
    .int()
    .min(0)
    .default(0)
    .describe("GPUs passed through to each node of this pool. @default 0"),
  gpuMemoryGiB: z
    .int()
    .min(1)
    .max(1024)
    .optional()
    .describe(
      "Memory of each GPU of this pool in GiB (24 for an RTX 4090); required when gpusPerNode > 0: model servers are checked against it.",
    ),
  hosts: z
    .array(dnsLabel)
    .min(1)
    .optional()
    .describe("Proxmox hosts this pool may use. @default - every host"),
  runtimes: z
    .array(z.enum(Runtime))
    .default([])
    .describe(
      "Sandboxed or GPU runtimes this pool offers besides runc (gvisor, kata, nvidia). @default []",
    ),
  labels: z
    .record(z.string().min(1), z.string())
    .default({})
    .describe("Extra Kubernetes node labels. @default {}"),
  taints: z.array(TaintSchema).default([]).describe("Kubernetes node taints. @default []"),
});

export const ClusterSchema = z
  .strictObject({
    name: dnsLabel.describe("Cluster name (Talos clusterName, kubeconfig context)."),
    talosVersion: z
      .string()
      .regex(/^v1\.1[34]\.\d+$/, {
        error:
          "expected a Talos v1.13 or v1.14 release such as v1.14.7 (the configuration contracts rendered)",
      })
      .describe("Talos Linux release of the node image and installer."),
    kubernetesVersion: z
      .string()
      .regex(/^v1\.\d+\.\d+$/, { error: "expected a Kubernetes version such as v1.35.0" })
      .describe("Kubernetes version the control plane runs."),
    network: z
      .strictObject({
        subnet: z
          .cidrv4({ error: "expected an IPv4 CIDR such as 10.0.0.0/24" })
          .describe("Node subnet (CIDR)."),
        gateway: z.ipv4({ error: "expected an IPv4 address" }).describe("Default gateway."),
        nameservers: z
          .array(z.ipv4({ error: "expected an IPv4 address" }))
          .min(1)
          .default(["1.1.1.1", "9.9.9.9"])
          .describe("DNS resolvers of the nodes. @default [1.1.1.1, 9.9.9.9]"),
        vip: z
          .ipv4({ error: "expected an IPv4 address" })
          .describe("Shared virtual IP of the Kubernetes API (control planes announce it)."),
      })
      .describe("The node network: addresses are static, from the stack."),
    installDisk: z
      .string()
      .regex(/^\/dev\/[a-z0-9]+$/, { error: "expected a device path such as /dev/sda" })
      .default("/dev/sda")
      .describe("Disk Talos installs to inside the VM. @default /dev/sda"),
    adminCertValidityHours: z
      .int()
      .min(1)
      .max(87600)
      .default(8760)
      .describe(
        "Validity of the admin client certificates of the kubeconfig and talosconfig outputs, in hours; a change issues new ones. @default 8760 (one year)",
      ),
    controlPlane: ControlPlaneSchema,
    workerPools: z.array(WorkerPoolSchema).default([]).describe("Worker pools. @default []"),
  })
  .describe("The Talos Kubernetes cluster: versions, network, control plane and worker pools.");

// ---------------------------------------------------------------------------------------------
// Platform services
// ---------------------------------------------------------------------------------------------

const toggle = (what: string, enabled: boolean) =>
  z
    .boolean()
    .default(enabled)
    .describe(`Deploy ${what}. @default ${String(enabled)}`);

/** The namespaces a data service admits (a new schema per use, so each is documented inline). */
const clientNamespaces = () =>
  z.array(dnsLabel).default(["apps"]).describe("Namespaces allowed to connect. @default [apps]");

export const PlatformSchema = z
  .strictObject({
    ingress: z
      .strictObject({
        enabled: toggle("the ingress controller", true),
        replicas: z
          .int()
          .min(1)
          .max(10)
          .default(2)
          .describe(
            "Replicas of the tunnel connector (cloudflared); each keeps four connections to the edge. @default 2",
          ),
      })
      .default({ enabled: true, replicas: 2 }),
    observability: z
      .strictObject({
        enabled: toggle("Prometheus, Alertmanager, Grafana and Loki", true),
        retentionDays: z
          .int()
          .min(1)
          .max(3650)
          .default(7)
          .describe("Metrics and log retention in days. @default 7"),
        storageGiB: z.int().min(1).default(20).describe("Prometheus volume in GiB. @default 20"),
        grafanaHostname: hostnameSchema
          .optional()
          .describe("Public name of Grafana. @default - not exposed"),
      })
      .default({ enabled: true, retentionDays: 7, storageGiB: 20 }),
    storage: z
      .strictObject({
        provisioner: z
          .enum(["proxmox-csi", "local-path"])
          .optional()
          .describe(
            "What provides the volumes: proxmox-csi (a disk of the Proxmox host that runs the VM, attached to the VM; the claim's pod follows it to that host) or local-path (a directory of the node). @default - proxmox-csi with more than one Proxmox host, local-path with one",
          ),
        datastore: z
          .string()
          .regex(/^[a-zA-Z][a-zA-Z0-9_.-]*$/, { error: "expected a datastore id" })
          .optional()
          .describe(
            "Proxmox datastore the volumes are created on (proxmox-csi). @default - the hosts' diskDatastore, when they share one",
          ),
        region: dnsLabel
          .default("proxmox")
          .describe(
            "Name of the Proxmox cluster in the CSI plugin's configuration and each node's topology.kubernetes.io/region label (proxmox-csi). @default proxmox",
          ),
        reclaimPolicy: z
          .enum(["Delete", "Retain"])
          .default("Delete")
          .describe("What happens to a volume when its claim is deleted. @default Delete"),
      })
      .default({ region: "proxmox", reclaimPolicy: "Delete" })
      .describe("The default StorageClass and what provisions it."),
    metricsServer: z
      .strictObject({
        enabled: toggle(
          "metrics-server (the resource metrics API that autoscalers read) and the approver of kubelet serving certificates it verifies kubelets with",
          true,
        ),
      })
      .default({ enabled: true }),
    postgres: z
      .strictObject({
        enabled: toggle("PostgreSQL", false),
        instances: positiveInt.default(1).describe("PostgreSQL instances. @default 1"),
        storageGiB: z.int().min(1).default(10).describe("Volume per instance in GiB. @default 10"),
        backupVolumeSnapshotClass: z
          .string()
          .min(1)
          .optional()
          .describe(
            "VolumeSnapshotClass for daily volume-snapshot backups. @default - no scheduled backups",
          ),
        clients: clientNamespaces(),
      })
      .default({ enabled: false, instances: 1, storageGiB: 10, clients: ["apps"] }),
    redis: z
      .strictObject({
        enabled: toggle("Valkey (Redis-compatible)", false),
        storageGiB: z.int().min(1).default(5).describe("Volume in GiB. @default 5"),
        clients: clientNamespaces(),
      })
      .default({ enabled: false, storageGiB: 5, clients: ["apps"] }),
    rabbitmq: z
      .strictObject({
        enabled: toggle("RabbitMQ", false),
        storageGiB: z.int().min(1).default(5).describe("Volume in GiB. @default 5"),
        clients: clientNamespaces(),
      })
      .default({ enabled: false, storageGiB: 5, clients: ["apps"] }),
  })
  .describe("Platform services: ingress, observability, metrics-server and data services.");

// ---------------------------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------------------------

export const ModelSchema = z
  .strictObject({
    name: dnsLabel.describe("Deployment name of the model server."),
    engine: z.enum(ModelEngine).describe("Serving engine."),
    source: z
      .strictObject({
        huggingFace: z.string().min(1).optional().describe("Hugging Face repository id."),
        oci: z.string().min(1).optional().describe("OCI artifact reference."),
        ollama: z.string().min(1).optional().describe("Ollama model name."),
        file: z
          .string()
          .min(1)
          .optional()
          .describe("File inside the Hugging Face repository (the GGUF llama.cpp serves)."),
      })
      .refine((s) => [s.huggingFace, s.oci, s.ollama].filter((v) => v !== undefined).length === 1, {
        error: "expected exactly one of huggingFace, oci or ollama",
      }),
    gpus: z.int().min(0).max(16).default(0).describe("GPUs per replica. @default 0 (CPU)"),
    runtime: z
      .enum(["runc", ...Object.values(Runtime)])
      .optional()
      .describe(
        "Container runtime (a RuntimeClass some worker pool offers). @default - nvidia for GPU models, runc otherwise",
      ),
    minReplicas: z
      .int()
      .min(0)
      .default(1)
      .describe(
        "Autoscaler minimum; 0 scales the model to zero when idle, and the gateway wakes it on the first request. @default 1",
      ),
    maxReplicas: positiveInt.default(1).describe("Autoscaler maximum. @default 1"),
    startupTimeoutSeconds: z
      .int()
      .min(60)
      .max(7200)
      .optional()
      .describe(
        "How long the server may take to load its model before the startup probe gives up. @default - 1800 with GPUs, 600 without",
      ),
    targetWaitingRequests: z
      .int()
      .min(1)
      .max(1000)
      .default(2)
      .describe(
        "Requests waiting for a slot per replica the autoscaler keeps replicas at, for engines that report their queue (vLLM, llama.cpp, Docker Model Runner). @default 2",
      ),
    targetKvCacheUsage: z
      .int()
      .min(10)
      .max(100)
      .default(85)
      .describe(
        "KV-cache use the autoscaler keeps replicas below, in percent, for engines that report it (vLLM). @default 85",
      ),
    targetCpuUtilization: z
      .int()
      .min(10)
      .max(100)
      .default(75)
      .describe(
        "CPU utilisation the autoscaler keeps replicas at, in percent, for engines that report no queue (Ollama). @default 75",
      ),
    coldStartSeconds: z
      .int()
      .min(1)
      .max(7200)
      .optional()
      .describe(
        "Measured seconds from a request at zero replicas to its first token, with weights in the cache volume (`npm run cold-start`). @default - unmeasured: the startup probe's budget",
      ),
    cacheGiB: z.int().min(1).default(20).describe("Model cache volume in GiB. @default 20"),
    cpu: z
      .number()
      .positive()
      .optional()
      .describe("CPU request per replica in cores. @default - the engine's default"),
    memoryMiB: z
      .int()
      .min(256)
      .optional()
      .describe("Memory request and limit per replica in MiB. @default - the engine's default"),
    contextLength: z
      .int()
      .min(256)
      .optional()
      .describe("Maximum context length in tokens. @default - the model's own"),
    hostname: hostnameSchema
      .optional()
      .describe(
        "Public name straight to this server, besides the gateway's (engines that check the key: vllm, llamacpp). @default - not exposed",
      ),
  })
  .describe("One model-serving deployment with an OpenAI-compatible API.");

export const ModelGatewaySchema = z
  .strictObject({
    hostname: hostnameSchema
      .optional()
      .describe("Public name of the gateway. @default - reached inside the cluster only"),
    replicas: positiveInt.default(2).describe("Gateway replicas. @default 2"),
    requestTimeoutSeconds: z
      .int()
      .min(30)
      .max(3600)
      .default(600)
      .describe(
        "How long the gateway waits for a model server's whole answer, wake included. @default 600",
      ),
    wakeTimeoutSeconds: z
      .int()
      .min(10)
      .max(3600)
      .default(90)
      .describe(
        "How long a request for a model scaled to zero is held while a replica starts; then it gets 504. @default 90",
      ),
  })
  .describe(
    "The one OpenAI-compatible endpoint of the stack's models (LiteLLM's proxy), routing by the request's model.",
  );

// ---------------------------------------------------------------------------------------------
// Builds
// ---------------------------------------------------------------------------------------------

export const BuildsSchema = z
  .strictObject({
    buildOnPreview: z
      .boolean()
      .default(false)
      .describe("Build images during `pulumi preview` too. @default false"),
    registry: z
      .string()
      .regex(/^[a-z0-9.-]+(:[0-9]+)?(\/[a-z0-9._-]+)*$/, {
        error: "expected a registry and path such as ghcr.io/acme",
      })
      .optional()
      .describe("Registry and namespace images are pushed to and cached in."),
    registryUsername: z
      .string()
      .min(1)
      .optional()
      .describe(
        "User for pushing to the registry; the password is the secret homebrew-dev:registryPassword. @default - the Docker credentials of the machine running pulumi",
      ),
    images: z
      .array(
        z.strictObject({
          name: dnsLabel.describe("Image repository name."),
          context: z.string().min(1).describe("Build context directory."),
          dockerfile: z.string().min(1).default("Dockerfile").describe("@default Dockerfile"),
          target: z.string().min(1).optional().describe("Stage to build. @default - last"),
          secrets: z
            .array(z.string().min(1))
            .default([])
            .describe("Ids of the stack's `buildSecrets` this image's build mounts. @default []"),
          buildArgs: z
            .record(
              z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
                error: "expected a build argument name such as NODE_VERSION",
              }),
              z.string(),
            )
            .default({})
            .describe(
              "Build arguments (`ARG` in the Dockerfile); plain values, never secrets (they are kept in the image's history). SOURCE_REVISION is set by the program. @default {}",
            ),
          platforms: z
            .array(z.enum(["linux/amd64", "linux/arm64"]))
            .min(1)
            .default(["linux/amd64"])
            .describe("@default [linux/amd64]"),
          port: z
            .int()
            .min(1024)
            .max(65535)
            .default(8080)
            .describe("Port the service listens on (unprivileged). @default 8080"),
          replicas: positiveInt.default(2).describe("Replicas of the service. @default 2"),
          healthPath: z
            .string()
            .regex(/^\/[A-Za-z0-9._~/-]*$/, { error: "expected an HTTP path such as /healthz" })
            .default("/healthz")
            .describe("Path of the readiness and liveness probes. @default /healthz"),
          hostname: hostnameSchema
            .optional()
            .describe("Public name of the service. @default - not exposed"),
        }),
      )
      .default([]),
  })
  .describe("Container image builds with a registry cache.");

// ---------------------------------------------------------------------------------------------
// Edge (Cloudflare)
// ---------------------------------------------------------------------------------------------

const recordLabel = "[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?";

export const DnsRecordSchema = z.strictObject({
  name: z
    .string()
    .regex(new RegExp(`^(@|\\*|(\\*\\.)?${recordLabel}(\\.${recordLabel})*\\.?)$`), {
      error: "expected a record name such as www, @, _dmarc, *.apps or www.example.com",
    })
    .describe("Record name, relative to the zone (@ for the apex) or fully qualified."),
  type: z
    .enum(["A", "AAAA", "CNAME", "TXT", "MX", "CAA", "SRV"])
    .describe("Record type. Only A, AAAA and CNAME records can be proxied."),
  content: z
    .string()
    .min(1)
    .describe(
      'Value: an address (A, AAAA; never a private one), a hostname (CNAME, MX), text (TXT), `0 issue "ca.example"` (CAA) or `<weight> <port> <target>` (SRV).',
    ),
  ttl: z
    .int()
    .min(1)
    .max(86400)
    .refine((t) => t === 1 || t >= 60, {
      error: "expected 1 (automatic) or 60-86400 seconds",
    })
    .default(1)
    .describe("TTL in seconds: 1 means automatic, and proxied records must use it. @default 1"),
  proxied: z
    .boolean()
    .default(false)
    .describe("Proxy through Cloudflare (A, AAAA and CNAME; HTTP and HTTPS only). @default false"),
  priority: z
    .int()
    .min(0)
    .max(65535)
    .optional()
    .describe("Priority; required for MX and SRV records, not allowed on others."),
});

export const RedirectSchema = z.strictObject({
  source: z
    .url({ error: "expected a URL such as https://example.com/old" })
    .describe(
      "Source URL. With a `*` it is a wildcard redirect: a single-redirect rule of the zone, so its host must be in the zone. Without one it is an exact-URL redirect: an item of a bulk-redirect list.",
    ),
  target: z
    .url({ error: "expected a URL" })
    // `${1}` is not allowed in an RFC 3986 URI, which is what JSON Schema's `uri` format means
    // (editors would mark valid targets): it is an RFC 6570 URI template.
    .meta({ format: "uri-template" })
    .describe(
      "Target URL, https:// only. `${1}`, `${2}`, ... insert what the source's wildcards matched.",
    ),
  status: z
    .union([z.literal(301), z.literal(302), z.literal(307), z.literal(308)], {
      error: "expected one of 301, 302, 307, 308",
    })
    .default(301)
    .describe("HTTP status: 301 or 308 permanent, 302 or 307 temporary. @default 301"),
  preserveQueryString: z
    .boolean()
    .default(true)
    .describe("Keep the request's query string. @default true"),
  preservePathSuffix: z
    .boolean()
    .default(false)
    .describe(
      "Exact-URL redirects with subpathMatching: append the rest of the request path to the target. @default false",
    ),
  subpathMatching: z
    .boolean()
    .default(false)
    .describe("Exact-URL redirects: also match every path below the source path. @default false"),
  includeSubdomains: z
    .boolean()
    .default(false)
    .describe("Exact-URL redirects: also match subdomains of the source host. @default false"),
});

export const EdgeSchema = z
  .strictObject({
    accountId: z
      .string()
      .regex(/^[0-9a-f]{32}$/, { error: "expected a 32-character hex Cloudflare account id" })
      .describe("Cloudflare account id (not a secret)."),
    plan: z
      .enum(CloudflarePlan)
      .default("free")
      .describe(
        "Cloudflare plan tier of the zone and account; sets the redirect and cache rule limits. @default free",
      ),
    zone: z.strictObject({
      name: hostnameSchema.describe("Zone apex, e.g. example.com."),
      id: z
        .string()
        .regex(/^[0-9a-f]{32}$/, { error: "expected a 32-character hex zone id" })
        .optional()
        .describe("Use this existing zone. @default - the stack creates and protects the zone"),
    }),
    ingressTarget: z
      .union([z.ipv4(), hostnameSchema], {
        error: "expected an IPv4 address or a hostname such as ingress.example.net",
      })
      .optional()
      .describe(
        "Where exposed hostnames (Grafana, models) point: a hostname gives each a proxied CNAME, a public IPv4 address a proxied A record. @default - exposed hostnames get no record",
      ),
    caaIssuers: z
      .array(hostnameSchema)
      .default(["letsencrypt.org", "pki.goog"])
      .describe(
        "Certificate authorities that may issue for the zone: one CAA issue record each at the apex; [] publishes none. @default [letsencrypt.org, pki.goog]",
      ),
    records: z
      .array(DnsRecordSchema)
      .default([])
      .describe(
        "DNS records besides the exposed hostnames and the CAA records. One A, AAAA or CNAME per name; a CNAME stands alone. @default []",
      ),
    redirects: z
      .array(RedirectSchema)
      .default([])
      .describe(
        "Redirects at the edge: wildcard ones become single-redirect rules, exact-URL ones bulk-redirect list items. @default []",
      ),
    cachePaths: z
      .array(z.string().regex(/^\/[^\s]*$/, { error: "expected a path starting with /" }))
      .default([])
      .describe(
        "Static asset path prefixes cached at the edge on every proxied name of the zone: one cache rule each. @default []",
      ),
  })
  .describe("Cloudflare: zone, records, redirects, cache rules.");

// ---------------------------------------------------------------------------------------------
// The whole stack
// ---------------------------------------------------------------------------------------------

export const StackConfigSchema = z.strictObject({
  environment: z
    .enum(Environment)
    .describe("Environment tier; decides protection and policy strictness."),
  proxmox: ProxmoxSchema,
  cluster: ClusterSchema,
  platform: PlatformSchema.default({
    ingress: { enabled: true, replicas: 2 },
    observability: { enabled: true, retentionDays: 7, storageGiB: 20 },
    storage: { region: "proxmox", reclaimPolicy: "Delete" },
    metricsServer: { enabled: true },
    postgres: { enabled: false, instances: 1, storageGiB: 10, clients: ["apps"] },
    redis: { enabled: false, storageGiB: 5, clients: ["apps"] },
    rabbitmq: { enabled: false, storageGiB: 5, clients: ["apps"] },
  }),
  models: z.array(ModelSchema).default([]).describe("Model-serving deployments. @default []"),
  modelGateway: ModelGatewaySchema.default({
    replicas: 2,
    requestTimeoutSeconds: 600,
    wakeTimeoutSeconds: 90,
  }),
  builds: BuildsSchema.default({ buildOnPreview: false, images: [] }),
  edge: EdgeSchema.optional().describe("Cloudflare edge. @default - no edge resources"),
  huggingFaceToken: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Hugging Face token for gated models. Secret: `pulumi config set --secret homebrew-dev:huggingFaceToken`. @default - anonymous downloads",
    ),
  registryPassword: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Password or token for pushing images. Secret: `pulumi config set --secret homebrew-dev:registryPassword`. @default - the Docker credentials of the machine running pulumi",
    ),
  // LiteLLM's proxy takes it as its master key, which must start with "sk-" (BerriAI/litellm
  // docs/my-website/docs/proxy/virtual_keys.md) and is refused at boot when it is the publicly
  // known "sk-1234" (litellm/proxy/auth/master_key_boot_check.py).
  // The offline plan cannot decrypt it: the rule holds where the value is read (`pulumi up`).
  modelApiKey: z
    .string()
    .refine((k) => k === UNREADABLE_SECRET || /^sk-./.test(k), {
      error: 'expected a key starting with "sk-" (the model gateway requires it)',
    })
    .refine((k) => k !== "sk-1234", { error: "a publicly known key: the model gateway refuses it" })
    .optional()
    .describe(
      "API key the model gateway and every model server require (Bearer token). Secret: `pulumi config set --secret homebrew-dev:modelApiKey`. @default - a generated key (the stack output `modelApiKey`)",
    ),
  buildSecrets: z
    .record(
      z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: "expected a secret id such as npmrc" }),
      z.string().min(1),
    )
    .optional()
    .describe(
      "BuildKit secrets by id, mounted during `RUN --mount=type=secret,id=<id>` of the images that name them (`builds.images[].secrets`), never stored in a layer. Secret: `pulumi config set --secret --path 'homebrew-dev:buildSecrets.<id>' <value>`. @default - none",
    ),
});

/** Keys that hold credentials: they must be set with `pulumi config set --secret`. */
export const SECRET_CONFIG_KEYS = [
  "huggingFaceToken",
  "modelApiKey",
  "registryPassword",
  "buildSecrets",
] as const;

/** The validated, defaulted configuration of one stack. */
export type StackConfig = z.output<typeof StackConfigSchema>;
/** What a stack file may contain (before defaults). */
export type StackConfigInput = z.input<typeof StackConfigSchema>;
export type ProxmoxHost = StackConfig["proxmox"]["hosts"][number];
export type ClusterNode = z.output<typeof NodeSchema>;
export type WorkerPool = StackConfig["cluster"]["workerPools"][number];
export type Model = StackConfig["models"][number];
export type DnsRecordSpec = z.output<typeof DnsRecordSchema>;
export type RedirectSpec = z.output<typeof RedirectSchema>;
