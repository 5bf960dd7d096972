import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import type { StackConfig } from "../config";
import { TOPOLOGY_REGION_LABEL, TOPOLOGY_ZONE_LABEL } from "../catalog/labels";
import { LOCAL_PATH_VOLUME, type NodeStorage } from "../catalog/storage";
import {
  PlacementError,
  placeVms,
  type MisfitReason,
  type PlacementRequest,
} from "../proxmox/placement";
import { TalosVm } from "../proxmox/talosVm";
import { renderKubeconfig, renderTalosconfig } from "./access";
import { TalosImage } from "./image";
import {
  MachineRole,
  controlPlaneEndpoint,
  renderMachineConfigYaml,
  runtimeNodeSettings,
  type MachineConfigInput,
  type NodeTaint,
} from "./machineConfig";
import { extensionsFor, normalizeTalosVersion, type ImageFeatures } from "./schematic";
import { TalosSecrets, type TalosSecretsBundle } from "./secrets";
import {
  MACHINE_CONFIG_ENV,
  RECORD_ONLY,
  TALOSCONFIG_ENV,
  applyConfigScript,
  bootstrapScript,
  healthScript,
  removeNodeScript,
  upgradeKubernetesScript,
  upgradeScript,
  type NodeTarget,
} from "./talosctl";

/** The node network: static addresses in one subnet, a gateway, resolvers, the API's VIP. */
export interface ClusterNetwork {
  /** Node subnet (CIDR). */
  readonly subnet: string;
  readonly gateway: string;
  readonly nameservers: readonly string[];
  /** Shared virtual IP of the Kubernetes API (control planes announce it). */
  readonly vip: string;
}

/** A Proxmox host the cluster's VMs may run on, with its datastores. */
export interface ClusterHost {
  readonly name: string;
  /** Datastore the Talos images are downloaded to. */
  readonly imageDatastore: string;
  /** Datastore of the VM disks. */
  readonly diskDatastore: string;
  /** Datastore of the cloud-init snippets (content type `snippets`). */
  readonly snippetDatastore: string;
  /** PCI resource mapping of the host's GPUs. @default - no GPUs */
  readonly gpuMapping?: string | undefined;
}

/** What the machine configs of every node share. */
export interface MachineConfigContext {
  readonly clusterName: string;
  /** Talos Linux release of the node image and installer (it picks the config contract). */
  readonly talosVersion: string;
  readonly kubernetesVersion: string;
  readonly network: ClusterNetwork;
  /** Disk Talos installs to inside the VM. */
  readonly installDisk: string;
  /**
   * What provides the cluster's volumes, for what each node needs of it: the Proxmox CSI plugin
   * needs every node's region and zone (its Proxmox host) as topology labels; the local-path
   * provisioner a directory user volume on every worker.
   * @default - nothing for storage
   */
  readonly storage?: NodeStorage | undefined;
}

export interface TalosClusterArgs extends MachineConfigContext {
  /** Validity of the admin client certificates (kubeconfig, talosconfig) in hours. */
  readonly adminCertValidityHours: number;
  /** Protect the control-plane VMs from deletion. */
  readonly protectControlPlanes: boolean;
  /** The Proxmox hosts (every host a node is placed on must be here). */
  readonly hosts: readonly ClusterHost[];
  /**
   * Datastores every host sees as one (CephFS, NFS): images on them are downloaded once.
   * @default []
   */
  readonly sharedDatastores?: readonly string[];
  /** The Proxmox bridge of the node network. */
  readonly bridge: string;
  /** VLAN tag of the node network. @default - untagged */
  readonly vlanId?: number | undefined;
  /** The nodes and where each runs (`planCluster`: validated before anything exists). */
  readonly plan: ClusterPlan;
  /**
   * Protect the secrets bundle from deletion (losing it means rebuilding the cluster).
   * @default false
   */
  readonly protectSecrets?: boolean;
  /**
   * Kubelets request their serving certificates from the cluster CA (`rotate-server-certificates`),
   * so that metrics-server can verify them. Needs an approver of kubelet-serving CSRs in the
   * cluster; until one approves, `kubectl logs` and `exec` cannot reach the kubelets.
   * @default false
   */
  readonly kubeletServingCertificates?: boolean;
}

/** The TalosCluster arguments of a stack's cluster and Proxmox sections and their plan. */
export function talosClusterArgs(
  cluster: StackConfig["cluster"],
  proxmox: StackConfig["proxmox"],
  plan: ClusterPlan = planCluster(cluster, proxmox),
  storage?: NodeStorage,
): TalosClusterArgs {
  return {
    clusterName: cluster.name,
    talosVersion: cluster.talosVersion,
    kubernetesVersion: cluster.kubernetesVersion,
    network: cluster.network,
    installDisk: cluster.installDisk,
    adminCertValidityHours: cluster.adminCertValidityHours,
    protectControlPlanes: cluster.controlPlane.protect,
    hosts: proxmox.hosts,
    sharedDatastores: proxmox.sharedDatastores,
    bridge: proxmox.bridge,
    ...(proxmox.vlanId !== undefined ? { vlanId: proxmox.vlanId } : {}),
    plan,
    ...(storage !== undefined ? { storage } : {}),
  };
}

/** What the cluster's resources are wired from: its nodes and their hosts. */
export interface ClusterPlan {
  readonly nodes: readonly PlannedNode[];
  /** Node name to Proxmox host. */
  readonly placement: Readonly<Record<string, string>>;
}

/** The nodes of a cluster and where each runs. Pure; the stack is validated first. */
export function planCluster(
  cluster: StackConfig["cluster"],
  proxmox: StackConfig["proxmox"],
): ClusterPlan {
  const nodes = planNodes(cluster);
  return { nodes, placement: placeNodes(nodes, proxmox) };
}

/** One node of the cluster with everything the renderer and the VM need. */
export interface PlannedNode {
  readonly name: string;
  readonly ip: string;
  readonly role: MachineRole;
  /** Worker pool name; `controlplane` for control planes. */
  readonly pool: string;
  readonly cpuCores: number;
  readonly memoryMiB: number;
  readonly diskGiB: number;
  readonly gpus: number;
  readonly pin?: string;
  readonly allowedHosts?: readonly string[];
  readonly features: ImageFeatures;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly NodeTaint[];
  /** A control plane about to be removed: left unprotected, tagged `retiring`. */
  readonly retire?: boolean;
}

/** The Proxmox tag of a control-plane VM that is unprotected on purpose, to be removed next. */
export const RETIRING_TAG = "retiring";

/** Label of the pool a node belongs to (control planes: `controlplane`). */
export const POOL_LABEL = "homebrew-dev.io/pool";

/** The nodes of a cluster in stack order: control planes first, then each pool's workers. */
export function planNodes(cluster: StackConfig["cluster"]): PlannedNode[] {
  const cp = cluster.controlPlane;
  const controlPlanes: PlannedNode[] = cp.nodes.map((n) => ({
    name: n.name,
    ip: n.ip,
    role: MachineRole.controlPlane,
    pool: "controlplane",
    cpuCores: cp.cpuCores,
    memoryMiB: cp.memoryMiB,
    diskGiB: cp.diskGiB,
    gpus: 0,
    ...(n.host !== undefined ? { pin: n.host } : {}),
    features: { guestAgent: true, gvisor: false, kata: false, nvidia: false },
    labels: { [POOL_LABEL]: "controlplane" },
    taints: [],
    ...(n.retire ? { retire: true } : {}),
  }));
  const workers = cluster.workerPools.flatMap((p) => {
    const features: ImageFeatures = {
      guestAgent: true,
      gvisor: p.runtimes.includes("gvisor"),
      kata: p.runtimes.includes("kata"),
      nvidia: p.runtimes.includes("nvidia"),
    };
    return p.nodes.map((n): PlannedNode => ({
      name: n.name,
      ip: n.ip,
      role: MachineRole.worker,
      pool: p.name,
      cpuCores: p.cpuCores,
      memoryMiB: p.memoryMiB,
      diskGiB: p.diskGiB,
      gpus: p.gpusPerNode,
      ...(n.host !== undefined ? { pin: n.host } : {}),
      ...(p.hosts !== undefined ? { allowedHosts: p.hosts } : {}),
      features,
      labels: { ...p.labels, [POOL_LABEL]: p.name },
      taints: p.taints,
    }));
  });
  return [...controlPlanes, ...workers];
}

/** A short, stable key of an image feature set: `base`, `gvisor-kata`, `nvidia`, ... */
export function featureKey(f: ImageFeatures): string {
  const parts = (["gvisor", "kata", "nvidia"] as const).filter((k) => f[k]);
  return parts.length > 0 ? parts.join("-") : "base";
}

/** The key path of the setting a misfit is about: the pool's size, or the node itself. */
function misfitPath(
  cluster: StackConfig["cluster"],
  index: number,
  reasons: readonly MisfitReason[],
): (string | number)[][] {
  const cps = cluster.controlPlane.nodes.length;
  const field = (r: MisfitReason) =>
    r === "vCPU"
      ? "cpuCores"
      : r === "MiB memory"
        ? "memoryMiB"
        : r === "GPU"
          ? "gpusPerNode"
          : undefined;
  if (index < cps) {
    return reasons.map((r) =>
      field(r) !== undefined && r !== "GPU"
        ? ["cluster", "controlPlane", field(r)!]
        : ["cluster", "controlPlane", "nodes", index],
    );
  }
  let rest = index - cps;
  for (const [pi, pool] of cluster.workerPools.entries()) {
    if (rest < pool.nodes.length) {
      return reasons.map((r) =>
        field(r) !== undefined
          ? ["cluster", "workerPools", pi, field(r)!]
          : ["cluster", "workerPools", pi, "nodes", rest],
      );
    }
    rest -= pool.nodes.length;
  }
  return [["cluster"]];
}

/**
 * The cluster plan, or every node that does not fit on the Proxmox hosts, each at the key path of
 * the setting it is about (`cluster.workerPools[0].memoryMiB` when a pool's nodes are too large).
 * Pure.
 */
export function planClusterWithProblems(
  cluster: StackConfig["cluster"],
  proxmox: StackConfig["proxmox"],
): { plan: ClusterPlan | undefined; problems: { path: (string | number)[]; message: string }[] } {
  try {
    return { plan: planCluster(cluster, proxmox), problems: [] };
  } catch (err) {
    if (!(err instanceof PlacementError)) throw err;
    if (err.misfits.length === 0)
      return {
        plan: undefined,
        problems: err.problems.map((message) => ({ path: ["cluster"], message })),
      };
    return {
      plan: undefined,
      // One line per misfit, at the first setting it names.
      problems: err.misfits.map((m) => ({
        path: misfitPath(cluster, m.index, m.reasons)[0]!,
        message: m.message,
      })),
    };
  }
}

/** Every node that does not fit on the Proxmox hosts, at its key path. Pure. */
export function placementProblems(
  cluster: StackConfig["cluster"],
  proxmox: StackConfig["proxmox"],
): { path: (string | number)[]; message: string }[] {
  return planClusterWithProblems(cluster, proxmox).problems;
}

/** Where each node runs (the stack is validated first: see `placementProblems`). */
export function placeNodes(
  nodes: readonly PlannedNode[],
  proxmox: StackConfig["proxmox"],
): Record<string, string> {
  const requests: PlacementRequest[] = nodes.map((n) => ({
    name: n.name,
    role: n.role,
    cpuCores: n.cpuCores,
    memoryMiB: n.memoryMiB,
    gpus: n.gpus,
    ...(n.pin !== undefined ? { pin: n.pin } : {}),
    ...(n.allowedHosts !== undefined ? { allowedHosts: n.allowedHosts } : {}),
  }));
  return placeVms(proxmox.hosts, requests);
}

/** The renderer's input for one node, given the secrets bundle. */
export function machineConfigInput(
  node: PlannedNode,
  cluster: MachineConfigContext,
  installerImage: string,
  secrets: TalosSecretsBundle,
  options: { readonly kubeletServingCertificates?: boolean; readonly host?: string } = {},
): MachineConfigInput {
  const runtime = runtimeNodeSettings(node.features);
  const storage = cluster.storage;
  // proxmox-csi-plugin v0.19.1 reads a node's Proxmox cluster and host from these two labels
  // (pkg/csi/node.go NodeGetInfo fails without them); NodeRestriction lets the kubelet set both.
  const topology: Record<string, string> =
    storage?.provisioner === "proxmox-csi" && options.host !== undefined
      ? {
          [TOPOLOGY_REGION_LABEL]: storage.region,
          [TOPOLOGY_ZONE_LABEL]: options.host,
        }
      : {};
  const prefix = cluster.network.subnet.split("/")[1];
  return {
    role: node.role,
    clusterName: cluster.clusterName,
    hostname: node.name,
    address: `${node.ip}/${prefix}`,
    gateway: cluster.network.gateway,
    nameservers: cluster.network.nameservers,
    vip: cluster.network.vip,
    installDisk: cluster.installDisk,
    talosVersion: cluster.talosVersion,
    installerImage,
    kubernetesVersion: cluster.kubernetesVersion,
    secrets,
    nodeLabels: { ...runtime.labels, ...topology, ...node.labels },
    nodeTaints: node.taints,
    ...(storage?.provisioner === "local-path" && node.role === MachineRole.worker
      ? { directoryVolumes: [LOCAL_PATH_VOLUME] }
      : {}),
    kernelModules: runtime.kernelModules,
    sysctls: runtime.sysctls,
    ...(options.kubeletServingCertificates === true
      ? { kubeletExtraArgs: { "rotate-server-certificates": "true" } }
      : {}),
  };
}

/**
 * A Talos Kubernetes cluster on Proxmox: secrets, one image per feature set, placement, a VM per
 * node with its machine config, bootstrap through the first control plane, a health wait, admin
 * credentials, and day-2 steps (config apply, rolling upgrade) chained node by node.
 */
export class TalosCluster extends pulumi.ComponentResource {
  /** `https://<vip>:6443`. */
  public readonly endpoint: string;
  /** Node name to Proxmox host. */
  public readonly placement: Readonly<Record<string, string>>;
  /** Schematic id per feature set (`base`, `gvisor-kata`, `nvidia`, ...). */
  public readonly schematics: Readonly<Record<string, string>>;
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly talosconfig: pulumi.Output<string>;
  /** Resolves once the cluster reported healthy. */
  public readonly ready: pulumi.Resource;

  constructor(name: string, args: TalosClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homebrew-dev:talos:Cluster", name, {}, opts);
    const adminCertValidityHours = args.adminCertValidityHours;
    const parent = { parent: this };
    this.endpoint = controlPlaneEndpoint(args.network.vip);

    const secrets = new TalosSecrets(
      `${name}-secrets`,
      {},
      { parent: this, protect: args.protectSecrets ?? false },
    );
    const { nodes, placement } = args.plan;
    this.placement = placement;
    const hostByName = new Map(args.hosts.map((h) => [h.name, h]));

    // One image per feature set, downloaded to the hosts that run a node of that set.
    const images = new Map<string, TalosImage>();
    for (const key of [...new Set(nodes.map((n) => featureKey(n.features)))]) {
      const features = nodes.find((n) => featureKey(n.features) === key)!.features;
      const used = new Set(
        nodes.filter((n) => featureKey(n.features) === key).map((n) => placement[n.name]!),
      );
      const hosts = args.hosts
        .filter((h) => used.has(h.name))
        .map((h) => ({ name: h.name, datastoreId: h.imageDatastore }));
      images.set(
        key,
        new TalosImage(
          `${name}-image-${key}`,
          {
            schematic: { officialExtensions: extensionsFor(features) },
            talosVersion: args.talosVersion,
            hosts,
            allHosts: args.hosts.map((h) => ({ name: h.name, datastoreId: h.imageDatastore })),
            sharedDatastores: args.sharedDatastores ?? [],
          },
          parent,
        ),
      );
    }
    this.schematics = Object.fromEntries([...images].map(([k, img]) => [k, img.schematicId]));

    // Admin credentials, minted from the CAs without calling Talos.
    const client = (
      role: string,
      subject: tls.types.input.CertRequestSubject,
      ca: {
        cert: pulumi.Output<string>;
        key: pulumi.Output<string>;
      },
      algorithm: { algorithm: string; ecdsaCurve?: string },
    ) => {
      const key = new tls.PrivateKey(`${name}-${role}`, algorithm, parent);
      const csr = new tls.CertRequest(
        `${name}-${role}`,
        { privateKeyPem: pulumi.secret(key.privateKeyPem), subject },
        parent,
      );
      const cert = new tls.LocallySignedCert(
        `${name}-${role}`,
        {
          certRequestPem: csr.certRequestPem,
          caCertPem: ca.cert,
          caPrivateKeyPem: ca.key,
          validityPeriodHours: adminCertValidityHours,
          allowedUses: ["digital_signature", "key_encipherment", "client_auth"],
        },
        parent,
      );
      return { certPem: cert.certPem, keyPem: pulumi.secret(key.privateKeyPem) };
    };
    const kubeAdmin = client(
      "kubernetes-admin",
      { commonName: "admin", organization: "system:masters" },
      { cert: secrets.kubernetesCaCertPem, key: secrets.kubernetesCaKeyPem },
      { algorithm: "ECDSA", ecdsaCurve: "P256" },
    );
    const talosAdmin = client(
      "talos-admin",
      { commonName: "admin", organization: "os:admin" },
      { cert: secrets.osCaCertPem, key: secrets.osCaKeyPem },
      { algorithm: "ED25519" },
    );
    const controlPlaneIps = nodes
      .filter((n) => n.role === MachineRole.controlPlane)
      .map((n) => n.ip);
    this.kubeconfig = pulumi.secret(
      pulumi
        .all([secrets.kubernetesCaCertPem, kubeAdmin.certPem, kubeAdmin.keyPem])
        .apply(([caCertPem, clientCertPem, clientKeyPem]) =>
          renderKubeconfig({
            clusterName: args.clusterName,
            endpoint: this.endpoint,
            identity: { caCertPem, clientCertPem, clientKeyPem },
          }),
        ),
    );
    this.talosconfig = pulumi.secret(
      pulumi
        .all([secrets.osCaCertPem, talosAdmin.certPem, talosAdmin.keyPem])
        .apply(([caCertPem, clientCertPem, clientKeyPem]) =>
          renderTalosconfig({
            clusterName: args.clusterName,
            endpoints: controlPlaneIps,
            nodes: controlPlaneIps.slice(0, 1),
            identity: { caCertPem, clientCertPem, clientKeyPem },
          }),
        ),
    );

    // A VM per node, its machine config as user-data.
    const vms = new Map<string, TalosVm>();
    const configs = new Map<string, pulumi.Output<string>>();
    for (const node of nodes) {
      const host = hostByName.get(placement[node.name]!)!;
      const image = images.get(featureKey(node.features))!;
      const config = pulumi.secret(
        secrets.bundle.apply((bundle) =>
          renderMachineConfigYaml(
            machineConfigInput(node, args, image.installerImage, bundle, {
              kubeletServingCertificates: args.kubeletServingCertificates ?? false,
              host: host.name,
            }),
          ),
        ),
      );
      configs.set(node.name, config);
      const isControlPlane = node.role === MachineRole.controlPlane;
      vms.set(
        node.name,
        new TalosVm(
          `${name}-vm-${node.name}`,
          {
            host: host.name,
            hostname: node.name,
            cpuCores: node.cpuCores,
            memoryMiB: node.memoryMiB,
            diskGiB: node.diskGiB,
            diskDatastore: host.diskDatastore,
            snippetDatastore: host.snippetDatastore,
            imageFileId: image.fileIds[host.name]!,
            imageDownload: image.downloads[host.name]!,
            machineConfig: config,
            bridge: args.bridge,
            ...(args.vlanId !== undefined ? { vlanId: args.vlanId } : {}),
            ...(node.gpus > 0 ? { gpus: { mapping: host.gpuMapping!, count: node.gpus } } : {}),
            guestAgent: node.features.guestAgent,
            tags: [
              "talos",
              args.clusterName,
              node.pool,
              ...(node.retire === true ? [RETIRING_TAG] : []),
            ],
            protect: isControlPlane && args.protectControlPlanes && node.retire !== true,
          },
          { parent: this },
        ),
      );
    }

    const env = { [TALOSCONFIG_ENV]: this.talosconfig };
    const controlPlaneVms = nodes
      .filter((n) => n.role === MachineRole.controlPlane)
      .map((n) => vms.get(n.name)!);
    // Once per cluster, against the first control plane's own address. Both steps run on
    // creation only: a renewed talosconfig must not run them again.
    // Their update does nothing: a new first control plane is no new cluster.
    const createOnly = { ignoreChanges: ["environment"] };
    const bootstrap = new command.local.Command(
      `${name}-bootstrap`,
      { create: bootstrapScript(controlPlaneIps[0]!), update: RECORD_ONLY, environment: env },
      { parent: this, dependsOn: controlPlaneVms, ...createOnly },
    );
    const health = new command.local.Command(
      `${name}-health`,
      {
        create: healthScript({ firstControlPlaneIp: controlPlaneIps[0]! }),
        update: RECORD_ONLY,
        environment: env,
      },
      { parent: this, dependsOn: [bootstrap, ...vms.values()], ...createOnly },
    );
    this.ready = health;

    // Day 2, each step triggered by its own input only (credentials come from the environment of
    // `pulumi up`, see talosctl.ts): a changed installer image rolls out node by node, control
    // planes first and each behind an etcd health gate; then a Kubernetes version change, as one
    // `talosctl upgrade-k8s`; then changed machine configs, node by node. On creation every step
    // only records its state. Removing a node drains and resets it before its VM goes.
    const target = (node: PlannedNode): NodeTarget => ({
      ip: node.ip,
      controlPlane: node.role === MachineRole.controlPlane,
      name: node.name,
      cluster: args.clusterName,
    });
    let previous: pulumi.Resource = health;
    for (const node of nodes) {
      const image = images.get(featureKey(node.features))!;
      previous = new command.local.Command(
        `${name}-upgrade-${node.name}`,
        {
          create: RECORD_ONLY,
          update: upgradeScript(target(node), {
            installerImage: image.installerImage,
            schematicId: image.schematicId,
            talosVersion: normalizeTalosVersion(args.talosVersion),
          }),
        },
        { parent: this, dependsOn: [previous] },
      );
    }
    previous = new command.local.Command(
      `${name}-upgrade-kubernetes`,
      {
        create: RECORD_ONLY,
        update: upgradeKubernetesScript({ cluster: args.clusterName }, args.kubernetesVersion),
      },
      { parent: this, dependsOn: [previous] },
    );
    // Each removal step is deleted before its VM (it depends on it), so the node leaves the
    // cluster first; chained, so that nodes removed together leave one after the other (etcd
    // members never two at once).
    let previousRemoval: pulumi.Resource | undefined;
    for (const node of nodes) {
      previous = new command.local.Command(
        `${name}-apply-${node.name}`,
        {
          create: RECORD_ONLY,
          update: applyConfigScript(target(node)),
          environment: { [MACHINE_CONFIG_ENV]: configs.get(node.name)! },
        },
        { parent: this, dependsOn: [previous] },
      );
      previousRemoval = new command.local.Command(
        `${name}-remove-${node.name}`,
        { create: RECORD_ONLY, delete: removeNodeScript(target(node), controlPlaneIps) },
        {
          parent: this,
          dependsOn: [
            vms.get(node.name)!,
            ...(previousRemoval !== undefined ? [previousRemoval] : []),
          ],
        },
      );
    }

    this.registerOutputs({
      endpoint: this.endpoint,
      placement,
      schematics: this.schematics,
      kubeconfig: this.kubeconfig,
      talosconfig: this.talosconfig,
    });
  }
}
