import { RUNTIMES, RUNTIME_NAMES } from "../catalog/runtimes";
import { CONFIG_CONTRACTS, configContract, type ConfigContract } from "../catalog/talos";
import { contractProblems } from "./contract";
import { formatIpv4, parseIpv4 } from "../../policies/lib/ipv4";
import { isIP } from "node:net";
import { stringify } from "yaml";
import type { RuntimeFeatures } from "./schematic";

// ---------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------

/** The two machine types of the v1alpha1 contract (`init` is legacy: bootstrap is an API call). */
export const MachineRole = { controlPlane: "controlplane", worker: "worker" } as const;
export type MachineRole = (typeof MachineRole)[keyof typeof MachineRole];

export const TaintEffect = {
  noSchedule: "NoSchedule",
  preferNoSchedule: "PreferNoSchedule",
  noExecute: "NoExecute",
} as const;
export type TaintEffect = (typeof TaintEffect)[keyof typeof TaintEffect];

export interface NodeTaint {
  readonly key: string;
  /** @default "" - a taint without a value */
  readonly value?: string;
  readonly effect: TaintEffect;
}

/** A CA as Talos configs carry it: base64 of the PEM certificate and of the PEM private key. */
export interface TalosCaKeyPair {
  readonly crt: string;
  readonly key: string;
}

/**
 * The cluster's secrets bundle in the encoding machine configs use. Structurally the same as the
 * bundle the Talos secrets component produces, so that output can be passed straight in.
 */
export interface TalosMachineSecrets {
  /** base64 of 32 random bytes. */
  readonly clusterId: string;
  /** base64 of 32 random bytes. */
  readonly clusterSecret: string;
  /** `[a-z0-9]{6}.[a-z0-9]{16}`. */
  readonly bootstrapToken: string;
  /** `[a-z0-9]{6}.[a-z0-9]{16}`. */
  readonly trustdToken: string;
  /** base64 of 32 random bytes. */
  readonly secretboxKey: string;
  readonly osCa: TalosCaKeyPair;
  readonly kubernetesCa: TalosCaKeyPair;
  readonly aggregatorCa: TalosCaKeyPair;
  readonly etcdCa: TalosCaKeyPair;
  /** base64 of the service-account signing key PEM. */
  readonly serviceAccountKey: string;
}

/** Everything one node's machine configuration is rendered from. */
export interface MachineConfigInput {
  readonly role: MachineRole;
  /** Kubernetes cluster name (a DNS label). */
  readonly clusterName: string;
  /** Node hostname and Kubernetes node name (a DNS label). */
  readonly hostname: string;
  /** Static IPv4 address with its prefix length, e.g. `10.20.0.11/24`. */
  readonly address: string;
  /** Default gateway, inside the node subnet. */
  readonly gateway: string;
  /** DNS servers of the node. */
  readonly nameservers: readonly string[];
  /**
   * Virtual IP of the Kubernetes API, inside the node subnet. Every node uses
   * `https://<vip>:6443` as the cluster endpoint; only control planes announce it.
   */
  readonly vip: string;
  /**
   * Disk Talos installs to.
   * @default "/dev/sda"
   */
  readonly installDisk?: string;
  /**
   * Talos release the node runs, e.g. `v1.14.7`: its minor picks the configuration contract the
   * documents are written in (`CONFIG_CONTRACTS`).
   */
  readonly talosVersion: string;
  /**
   * Installer image, e.g. `factory.talos.dev/nocloud-installer/<schematic-id>:v1.13.9`: the 1.13
   * contract's `machine.install.image`. The 1.14 contract has no install section for a node booted
   * from a disk image (the upgrade step names its image).
   */
  readonly installerImage: string;
  /** Kubernetes version with its `v`, e.g. `v1.35.0`; tags the kubelet and control-plane images. */
  readonly kubernetesVersion: string;
  /**
   * PCI bus path of the node's network interface (as `talosctl get links` shows it, e.g.
   * `0000:00:12.0`), for VMs with more than one NIC.
   * @default - the node's only physical link (Talos skips the alias if there are several)
   */
  readonly linkBusPath?: string;
  readonly secrets: TalosMachineSecrets;
  /**
   * Extra kubelet flags, without the leading `--`.
   * @default {}
   */
  readonly kubeletExtraArgs?: Readonly<Record<string, string>>;
  /**
   * Kubernetes node labels (merge in `runtimeNodeSettings(...).labels` for runtime nodes).
   * @default {}
   */
  readonly nodeLabels?: Readonly<Record<string, string>>;
  /**
   * Kubernetes node taints, one per key.
   * @default []
   */
  readonly nodeTaints?: readonly NodeTaint[];
  /**
   * Directory user volumes (`UserVolumeConfig`, volumeType directory), each mounted at
   * /var/mnt/<name>: where the local-path provisioner keeps its volumes.
   * @default []
   */
  readonly directoryVolumes?: readonly string[];
  /**
   * Kernel modules to load, in this order.
   * @default []
   */
  readonly kernelModules?: readonly string[];
  /**
   * Kernel sysctls.
   * @default {}
   */
  readonly sysctls?: Readonly<Record<string, string>>;
  /**
   * Pod network (IPv4 CIDR); must not overlap the node or service subnet.
   * @default "10.244.0.0/16"
   */
  readonly podSubnet?: string;
  /**
   * Service network (IPv4 CIDR); must not overlap the node or pod subnet.
   * @default "10.96.0.0/12"
   */
  readonly serviceSubnet?: string;
  /**
   * Partial v1alpha1 documents deep-merged into the rendered one last, in order: objects merge
   * key by key, while arrays and scalars replace what was there (unlike talosctl's strategic
   * merge, which appends to most lists); `undefined` leaves a value alone. They only touch the
   * v1alpha1 document; the network documents come from the fields above. On workers they must not
   * add CA keys or control-plane-only sections.
   * @default []
   */
  readonly patches?: readonly MachineConfigPatch[];
}

// ---------------------------------------------------------------------------------------------
// Rendered documents (the subset of the v1.13 contract this project writes)
// ---------------------------------------------------------------------------------------------

/** A CA entry; workers carry `crt` only. */
export interface TalosCaEntry {
  readonly crt: string;
  readonly key?: string;
}

export interface TalosAdmissionPlugin {
  readonly name: string;
  readonly configuration: Readonly<Record<string, unknown>>;
}

export interface TalosKubeletSection {
  readonly image: string;
  readonly extraArgs?: Readonly<Record<string, string>>;
  readonly extraConfig?: Readonly<Record<string, unknown>>;
  readonly defaultRuntimeSeccompProfileEnabled?: boolean;
  readonly nodeIP?: { readonly validSubnets: readonly string[] };
  readonly disableManifestsDirectory?: boolean;
}

export interface TalosInstallSection {
  readonly disk: string;
  readonly image: string;
  readonly wipe?: boolean;
  readonly grubUseUKICmdline?: boolean;
}

export interface TalosMachineFile {
  readonly content: string;
  readonly permissions: number;
  readonly path: string;
  readonly op: "create" | "append" | "overwrite";
}

export interface TalosFeaturesSection {
  readonly diskQuotaSupport?: boolean;
  readonly kubePrism?: { readonly enabled: boolean; readonly port: number };
  readonly hostDNS?: {
    readonly enabled: boolean;
    readonly forwardKubeDNSToHost?: boolean;
    readonly resolveMemberNames?: boolean;
  };
}

export interface TalosMachineSection {
  readonly type: MachineRole;
  readonly token: string;
  readonly ca: TalosCaEntry;
  readonly certSANs?: readonly string[];
  readonly kubelet: TalosKubeletSection;
  readonly install: TalosInstallSection;
  readonly files?: readonly TalosMachineFile[];
  readonly sysctls?: Readonly<Record<string, string>>;
  readonly features?: TalosFeaturesSection;
  readonly kernel?: { readonly modules: readonly { readonly name: string }[] };
  readonly nodeLabels?: Readonly<Record<string, string>>;
  readonly nodeAnnotations?: Readonly<Record<string, string>>;
  readonly nodeTaints?: Readonly<Record<string, string>>;
}

export interface TalosComponentSection {
  readonly image?: string;
  readonly extraArgs?: Readonly<Record<string, string>>;
}

export interface TalosClusterSection {
  readonly id: string;
  readonly secret: string;
  readonly controlPlane: { readonly endpoint: string };
  readonly clusterName: string;
  readonly network: {
    readonly cni?: {
      readonly name: "flannel" | "custom" | "none";
      readonly urls?: readonly string[];
      readonly flannel?: {
        readonly extraArgs?: readonly string[];
        readonly kubeNetworkPoliciesEnabled?: boolean;
      };
    };
    readonly dnsDomain: string;
    readonly podSubnets: readonly string[];
    readonly serviceSubnets: readonly string[];
  };
  readonly token: string;
  readonly secretboxEncryptionSecret?: string;
  readonly ca: TalosCaEntry;
  readonly aggregatorCA?: TalosCaEntry;
  readonly serviceAccount?: { readonly key: string };
  readonly apiServer?: TalosComponentSection & {
    readonly certSANs?: readonly string[];
    readonly admissionControl?: readonly TalosAdmissionPlugin[];
  };
  readonly controllerManager?: TalosComponentSection;
  readonly proxy?: TalosComponentSection & { readonly disabled?: boolean; readonly mode?: string };
  readonly scheduler?: TalosComponentSection;
  readonly discovery?: {
    readonly enabled: boolean;
    readonly registries?: {
      readonly kubernetes?: { readonly disabled: boolean };
      readonly service?: { readonly disabled?: boolean; readonly endpoint?: string };
    };
  };
  readonly etcd?: {
    readonly ca: TalosCaEntry;
    readonly extraArgs?: Readonly<Record<string, string>>;
    readonly advertisedSubnets?: readonly string[];
  };
  readonly coreDNS?: { readonly disabled?: boolean; readonly image?: string };
  readonly inlineManifests?: readonly { readonly name: string; readonly contents: string }[];
  readonly allowSchedulingOnControlPlanes?: boolean;
}

/** The v1alpha1 machine configuration document. */
export interface TalosV1Alpha1Config {
  readonly version: "v1alpha1";
  readonly debug: boolean;
  readonly machine: TalosMachineSection;
  readonly cluster: TalosClusterSection;
}

interface NetworkDocumentBase<K extends string> {
  readonly apiVersion: "v1alpha1";
  readonly kind: K;
}
export interface TalosHostnameConfig extends NetworkDocumentBase<"HostnameConfig"> {
  readonly hostname: string;
}
export interface TalosResolverConfig extends NetworkDocumentBase<"ResolverConfig"> {
  readonly nameservers: readonly { readonly address: string }[];
}
export interface TalosLinkAliasConfig extends NetworkDocumentBase<"LinkAliasConfig"> {
  readonly name: string;
  readonly selector: { readonly match: string };
}
export interface TalosLinkConfig extends NetworkDocumentBase<"LinkConfig"> {
  readonly name: string;
  readonly addresses: readonly { readonly address: string }[];
  readonly routes: readonly { readonly gateway: string }[];
}
export interface TalosLayer2VipConfig extends NetworkDocumentBase<"Layer2VIPConfig"> {
  readonly name: string;
  readonly link: string;
}
export type TalosNetworkDocument =
  | TalosHostnameConfig
  | TalosResolverConfig
  | TalosLinkAliasConfig
  | TalosLinkConfig
  | TalosLayer2VipConfig;

/**
 * A user volume of type directory: a directory of the EPHEMERAL partition, mounted at
 * /var/mnt/<name> and propagated into the kubelet; no provisioning, filesystem, encryption or
 * mount settings (pkg/machinery/config/types/block/user_volume_config.go at v1.13.9, Validate).
 */
export interface TalosUserVolumeConfig {
  readonly apiVersion: "v1alpha1";
  readonly kind: "UserVolumeConfig";
  readonly name: string;
  readonly volumeType: "directory";
}

/**
 * One node's configuration: the v1alpha1 document, then its network documents (hostname,
 * resolvers, link alias, link, and on control planes the Layer 2 VIP). The v1.13 contract has no
 * `machine.network`: networking lives in these separate documents.
 */
export type RenderedMachineConfigV113 = readonly [
  TalosV1Alpha1Config,
  ...(TalosNetworkDocument | TalosUserVolumeConfig)[],
];

/** The v1alpha1 document at contract 1.14: the machine identity, tokens, CAs and etcd. */
export interface TalosV1Alpha1ConfigV114 {
  readonly version: "v1alpha1";
  readonly debug: boolean;
  readonly machine: {
    readonly type: MachineRole;
    readonly token: string;
    readonly ca: TalosCaEntry;
    readonly features: { readonly diskQuotaSupport: boolean };
  };
  readonly cluster: {
    readonly token: string;
    readonly etcd?: {
      readonly ca: TalosCaEntry;
      readonly advertisedSubnets?: readonly string[];
    };
  };
}

/** A document of the 1.14 contract besides v1alpha1: `apiVersion: v1alpha1`, a kind, its fields. */
export interface TalosDocument {
  readonly apiVersion: "v1alpha1";
  readonly kind: string;
  readonly [field: string]: unknown;
}

/**
 * One node's configuration at contract 1.14: the v1alpha1 document, then every setting that moved
 * in its own document (see `renderContract114`).
 */
export type RenderedMachineConfigV114 = readonly [TalosV1Alpha1ConfigV114, ...TalosDocument[]];

/** One node's configuration in the contract of its Talos release. */
export type RenderedMachineConfig = RenderedMachineConfigV113 | RenderedMachineConfigV114;

export type DeepPartial<T> = T extends readonly (infer U)[]
  ? readonly U[]
  : T extends object
    ? { readonly [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** A partial v1alpha1 document; see `MachineConfigInput.patches` for the merge rules. */
export type MachineConfigPatch = DeepPartial<TalosV1Alpha1Config>;

// ---------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------

export const API_SERVER_PORT = 6443;
/** Talos' default KubePrism port (a node-local load balancer in front of all API servers). */
export const KUBE_PRISM_PORT = 7445;
/** The alias every node's NIC gets, so the link and VIP documents never name a kernel interface. */
export const NODE_LINK_ALIAS = "net0";
export const DEFAULT_INSTALL_DISK = "/dev/sda";
export const DEFAULT_POD_SUBNET = "10.244.0.0/16";
export const DEFAULT_SERVICE_SUBNET = "10.96.0.0/12";
export const CLUSTER_DNS_DOMAIN = "cluster.local";

/** Node labels that mark which sandboxed or GPU runtimes a node offers (RuntimeClass selectors). */
export const RUNTIME_NODE_LABELS = {
  gvisor: RUNTIMES.gvisor.nodeLabel,
  kata: RUNTIMES.kata.nodeLabel,
  nvidia: RUNTIMES.nvidia.nodeLabel,
} as const satisfies Record<keyof RuntimeFeatures, string>;

/** Pod Security admission defaults every control plane enforces. */
export const POD_SECURITY_DEFAULTS = {
  enforce: "baseline",
  audit: "restricted",
  warn: "restricted",
  exemptNamespaces: ["kube-system"],
} as const;

// Talos' kubelet image is its own build; the control-plane images are the upstream ones.
const KUBELET_IMAGE = "ghcr.io/siderolabs/kubelet";
const K8S_IMAGE = "registry.k8s.io";

/** The cluster endpoint every node and kubeconfig uses. */
export function controlPlaneEndpoint(vip: string): string {
  return `https://${vip}:${API_SERVER_PORT}`;
}

// ---------------------------------------------------------------------------------------------
// Runtime settings
// ---------------------------------------------------------------------------------------------

export interface RuntimeNodeSettings {
  readonly kernelModules: readonly string[];
  readonly sysctls: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * What a node needs in its machine config for the runtime extensions in its image, and the labels
 * RuntimeClasses schedule by: gVisor's user namespaces, NVIDIA's kernel modules and BPF setting
 * (catalog/runtimes.ts). The extensions register their containerd handlers themselves. Contract
 * 1.13 writes these as `machine.sysctls` and `machine.kernel.modules`, 1.14 as a SysctlConfig and
 * one KernelModuleConfig per module.
 */
export function runtimeNodeSettings(features: RuntimeFeatures): RuntimeNodeSettings {
  const kernelModules: string[] = [];
  const sysctls: Record<string, string> = {};
  const labels: Record<string, string> = {};
  for (const name of RUNTIME_NAMES) {
    if (!features[name]) continue;
    const runtime = RUNTIMES[name];
    kernelModules.push(...runtime.kernelModules);
    Object.assign(sysctls, runtime.sysctls);
    labels[runtime.nodeLabel] = "true";
    Object.assign(labels, runtime.extraNodeLabels);
  }
  return { kernelModules, sysctls: sortedRecord(sysctls), labels: sortedRecord(labels) };
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const INSTALL_DISK = /^\/dev\/[A-Za-z0-9._/-]+$/;
const IMAGE_REF =
  /^[a-z0-9][a-z0-9._-]*(:\d+)?(\/[a-z0-9][a-z0-9._-]*)+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$/;
const KUBERNETES_VERSION = /^v1\.\d+\.\d+$/;
const PCI_BUS_PATH = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const TOKEN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;
const KERNEL_MODULE = /^[a-z0-9_-]+$/;
const SYSCTL = /^[a-z][a-z0-9_-]*([./][a-z0-9_-]+)+$/;
const KUBELET_FLAG = /^[a-z0-9][a-z0-9-]*$/;

// NodeRestriction lets a kubelet set only these labels inside the kubernetes.io and k8s.io
// namespaces; Talos applies worker labels with the kubelet's own credentials.
const KUBELET_SETTABLE_LABELS = new Set([
  "kubernetes.io/hostname",
  "kubernetes.io/arch",
  "kubernetes.io/os",
  "beta.kubernetes.io/arch",
  "beta.kubernetes.io/os",
  "beta.kubernetes.io/instance-type",
  "node.kubernetes.io/instance-type",
  "failure-domain.beta.kubernetes.io/region",
  "failure-domain.beta.kubernetes.io/zone",
  "topology.kubernetes.io/region",
  "topology.kubernetes.io/zone",
]);
const KUBELET_SETTABLE_NAMESPACES = ["kubelet.kubernetes.io", "node.kubernetes.io"];

// Paths a worker patch may not set: CA keys and the control-plane-only sections.
const WORKER_FORBIDDEN_PATCH_PATHS: readonly (readonly string[])[] = [
  ["machine", "ca", "key"],
  ["cluster", "ca", "key"],
  ["cluster", "secretboxEncryptionSecret"],
  ["cluster", "aggregatorCA"],
  ["cluster", "serviceAccount"],
  ["cluster", "apiServer"],
  ["cluster", "controllerManager"],
  ["cluster", "proxy"],
  ["cluster", "scheduler"],
  ["cluster", "etcd"],
];

function problem(field: string, value: unknown, expected: string): string {
  return `${field}: got ${JSON.stringify(value)}; expected ${expected}`;
}

// Secrets are named but never echoed: validation errors end up in CI logs.
function secretProblem(field: string, expected: string): string {
  return `${field}: got (hidden); expected ${expected}`;
}

/** A problem of one node label: the key, the bad value (the key or the value) and what is allowed. */
export interface LabelProblem {
  readonly key: string;
  readonly value: unknown;
  readonly expected: string;
}

/**
 * The rules for node labels: qualified keys, valid values, and on workers only keys the kubelet
 * may set on its own Node (NodeRestriction). Pure; the stack validation and the renderer share it.
 */
export function nodeLabelProblems(
  labels: Readonly<Record<string, string>>,
  isWorker: boolean,
): LabelProblem[] {
  const problems: LabelProblem[] = [];
  for (const [key, value] of Object.entries(labels)) {
    if (!isQualifiedName(key)) {
      problems.push({
        key,
        value: key,
        expected: "a label key: [prefix/]name, name at most 63 characters",
      });
    } else if (isWorker && !kubeletMaySetLabel(key)) {
      problems.push({
        key,
        value: key,
        expected:
          "a key outside kubernetes.io and k8s.io (workers label themselves with kubelet credentials, which NodeRestriction limits there to node.kubernetes.io/*, kubelet.kubernetes.io/* and a few well-known keys)",
      });
    }
    if (!isLabelValue(value)) {
      problems.push({
        key,
        value,
        expected: "a label value: empty or at most 63 of [A-Za-z0-9-_.]",
      });
    }
  }
  return problems;
}

/** A problem of one node taint: its index, the field, the bad value and what is allowed. */
export interface TaintProblem {
  readonly index: number;
  readonly field: "key" | "value" | "effect";
  readonly value: unknown;
  readonly expected: string;
}

/** The rules for node taints: qualified keys, each key once (Talos keys them), valid values and effects. */
export function nodeTaintProblems(taints: readonly NodeTaint[]): TaintProblem[] {
  const problems: TaintProblem[] = [];
  const taintKeys = new Set<string>();
  taints.forEach((taint, index) => {
    if (!isQualifiedName(taint.key)) {
      problems.push({
        index,
        field: "key",
        value: taint.key,
        expected: "a taint key: [prefix/]name, name at most 63 characters",
      });
    } else if (taintKeys.has(taint.key)) {
      // machine.nodeTaints is a map keyed by taint key.
      problems.push({ index, field: "key", value: taint.key, expected: "each taint key once" });
    }
    taintKeys.add(taint.key);
    if (taint.value !== undefined && !isLabelValue(taint.value)) {
      problems.push({
        index,
        field: "value",
        value: taint.value,
        expected: "empty or at most 63 of [A-Za-z0-9-_.]",
      });
    }
    if (!Object.values<string>(TaintEffect).includes(taint.effect)) {
      problems.push({
        index,
        field: "effect",
        value: taint.effect,
        expected: `one of ${Object.values(TaintEffect).join(", ")}`,
      });
    }
  });
  return problems;
}

/** Every problem of the input, each naming the field, the value and what is allowed. */
export function machineConfigInputProblems(input: MachineConfigInput): string[] {
  const problems: string[] = [];
  const isWorker = input.role === MachineRole.worker;
  const isControlPlane = input.role === MachineRole.controlPlane;

  if (!isWorker && !isControlPlane) {
    problems.push(problem("role", input.role, `one of "controlplane", "worker"`));
  }
  if (!DNS_LABEL.test(input.clusterName) || input.clusterName.length > 63) {
    problems.push(
      problem("clusterName", input.clusterName, "a DNS label (a-z, 0-9, '-', at most 63)"),
    );
  }
  if (!DNS_LABEL.test(input.hostname) || input.hostname.length > 63) {
    problems.push(problem("hostname", input.hostname, "a DNS label (a-z, 0-9, '-', at most 63)"));
  }

  const subnet = parseHostCidr(input.address);
  if (subnet === undefined) {
    problems.push(
      problem(
        "address",
        input.address,
        "an IPv4 address with a /8 to /30 prefix, e.g. 10.20.0.11/24",
      ),
    );
  } else if (subnet.host === subnet.network || subnet.host === subnet.broadcast) {
    problems.push(
      problem(
        "address",
        input.address,
        `a host address, not the network or broadcast address of ${subnet.cidr}`,
      ),
    );
  }

  const gateway = parseIpv4(input.gateway);
  if (gateway === undefined) {
    problems.push(problem("gateway", input.gateway, "an IPv4 address"));
  } else if (subnet !== undefined && (!inSubnet(subnet, gateway) || gateway === subnet.host)) {
    problems.push(
      problem(
        "gateway",
        input.gateway,
        `an address inside the node subnet ${subnet.cidr} other than the node's own`,
      ),
    );
  }

  if (input.nameservers.length === 0) {
    problems.push(problem("nameservers", input.nameservers, "at least one DNS server address"));
  }
  input.nameservers.forEach((ns, i) => {
    if (isIP(ns) === 0) problems.push(problem(`nameservers[${i}]`, ns, "an IPv4 or IPv6 address"));
  });

  const vip = parseIpv4(input.vip);
  if (vip === undefined) {
    problems.push(problem("vip", input.vip, "an IPv4 address"));
  } else if (
    subnet !== undefined &&
    (!inSubnet(subnet, vip) || vip === subnet.host || vip === gateway)
  ) {
    // A Layer 2 VIP is announced by gratuitous ARP on the node's own link.
    problems.push(
      problem(
        "vip",
        input.vip,
        `an unused address inside the node subnet ${subnet.cidr} (not the node's own, not the gateway)`,
      ),
    );
  }

  if (input.installDisk !== undefined && !INSTALL_DISK.test(input.installDisk)) {
    problems.push(problem("installDisk", input.installDisk, "a device path such as /dev/sda"));
  }
  if (!IMAGE_REF.test(input.installerImage) || !/[:@][^/]+$/.test(input.installerImage)) {
    problems.push(
      problem(
        "installerImage",
        input.installerImage,
        "an image reference with a tag or digest, e.g. factory.talos.dev/nocloud-installer/<schematic-id>:v1.13.9",
      ),
    );
  }
  if (configContract(input.talosVersion) === undefined) {
    problems.push(
      problem(
        "talosVersion",
        input.talosVersion,
        `a Talos release whose configuration contract is rendered (${CONFIG_CONTRACTS.map((c) => `v${c}.x`).join(", ")})`,
      ),
    );
  }
  if (!KUBERNETES_VERSION.test(input.kubernetesVersion)) {
    problems.push(
      problem("kubernetesVersion", input.kubernetesVersion, "a version such as v1.35.0"),
    );
  }
  if (input.linkBusPath !== undefined && !PCI_BUS_PATH.test(input.linkBusPath)) {
    problems.push(problem("linkBusPath", input.linkBusPath, "a PCI bus path such as 0000:00:12.0"));
  }

  problems.push(...secretsProblems(input.secrets, isControlPlane));

  for (const p of nodeLabelProblems(input.nodeLabels ?? {}, isWorker)) {
    problems.push(problem(`nodeLabels[${JSON.stringify(p.key)}]`, p.value, p.expected));
  }
  for (const p of nodeTaintProblems(input.nodeTaints ?? [])) {
    problems.push(problem(`nodeTaints[${p.index}].${p.field}`, p.value, p.expected));
  }

  (input.kernelModules ?? []).forEach((name, i) => {
    if (!KERNEL_MODULE.test(name)) {
      problems.push(problem(`kernelModules[${i}]`, name, "a module name such as nvidia_uvm"));
    }
  });
  for (const [key, value] of Object.entries(input.sysctls ?? {})) {
    if (!SYSCTL.test(key)) {
      problems.push(
        problem(`sysctls[${JSON.stringify(key)}]`, key, "a sysctl name such as net.core.somaxconn"),
      );
    }
    if (value === "" || /[\r\n]/.test(value)) {
      problems.push(
        problem(`sysctls[${JSON.stringify(key)}]`, value, "a non-empty one-line value"),
      );
    }
  }
  for (const key of Object.keys(input.kubeletExtraArgs ?? {})) {
    if (!KUBELET_FLAG.test(key)) {
      problems.push(
        problem(
          `kubeletExtraArgs[${JSON.stringify(key)}]`,
          key,
          "a kubelet flag name without leading dashes, such as max-pods",
        ),
      );
    }
  }

  const podSubnet = input.podSubnet ?? DEFAULT_POD_SUBNET;
  const serviceSubnet = input.serviceSubnet ?? DEFAULT_SERVICE_SUBNET;
  const pods = parseNetworkCidr(podSubnet);
  const services = parseNetworkCidr(serviceSubnet);
  const nets: [string, string, Cidr | undefined][] = [
    ["podSubnet", podSubnet, pods],
    ["serviceSubnet", serviceSubnet, services],
  ];
  for (const [field, value, cidr] of nets) {
    if (cidr === undefined) {
      problems.push(problem(field, value, "an IPv4 network in CIDR form, e.g. 10.244.0.0/16"));
    } else if (subnet !== undefined && overlaps(cidr, subnet)) {
      problems.push(
        problem(field, value, `a network that does not overlap the node subnet ${subnet.cidr}`),
      );
    }
  }
  if (pods !== undefined && services !== undefined && overlaps(pods, services)) {
    problems.push(
      problem(
        "serviceSubnet",
        serviceSubnet,
        `a network that does not overlap podSubnet ${podSubnet}`,
      ),
    );
  }

  if (isWorker) {
    (input.patches ?? []).forEach((patch, i) => {
      for (const path of WORKER_FORBIDDEN_PATCH_PATHS) {
        if (getPath(patch, path) !== undefined) {
          problems.push(
            secretProblem(
              `patches[${i}].${path.join(".")}`,
              "nothing on a worker (CA keys and control-plane-only sections stay on control planes)",
            ),
          );
        }
      }
    });
  }
  return problems;
}

function secretsProblems(secrets: TalosMachineSecrets, isControlPlane: boolean): string[] {
  const problems: string[] = [];
  const base64Fields: [string, string][] = [
    ["clusterId", secrets.clusterId],
    ["clusterSecret", secrets.clusterSecret],
    ["osCa.crt", secrets.osCa.crt],
    ["kubernetesCa.crt", secrets.kubernetesCa.crt],
  ];
  // Workers never see the keys and the control-plane-only material, so it is not checked there.
  if (isControlPlane) {
    base64Fields.push(
      ["secretboxKey", secrets.secretboxKey],
      ["osCa.key", secrets.osCa.key],
      ["kubernetesCa.key", secrets.kubernetesCa.key],
      ["aggregatorCa.crt", secrets.aggregatorCa.crt],
      ["aggregatorCa.key", secrets.aggregatorCa.key],
      ["etcdCa.crt", secrets.etcdCa.crt],
      ["etcdCa.key", secrets.etcdCa.key],
      ["serviceAccountKey", secrets.serviceAccountKey],
    );
  }
  for (const [field, value] of base64Fields) {
    if (value === "" || !BASE64.test(value)) {
      problems.push(secretProblem(`secrets.${field}`, "non-empty standard base64"));
    }
  }
  for (const [field, value] of [
    ["bootstrapToken", secrets.bootstrapToken],
    ["trustdToken", secrets.trustdToken],
  ] as const) {
    if (!TOKEN.test(value)) {
      problems.push(
        secretProblem(`secrets.${field}`, "a token of the form [a-z0-9]{6}.[a-z0-9]{16}"),
      );
    }
  }
  return problems;
}

/** Throws once, listing every problem, when the input cannot be rendered. */
export function validateMachineConfigInput(input: MachineConfigInput): void {
  const problems = machineConfigInputProblems(input);
  if (problems.length > 0) {
    throw new Error(
      `invalid machine config input for ${JSON.stringify(input.hostname)}:\n${problems
        .map((p) => `  - ${p}`)
        .join("\n")}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

/**
 * Renders one node's documents in the contract of its Talos release (validated first; throws with
 * every problem at once). The result passes Talos's document-level rules (./contract.ts); a
 * render that did not would be a defect of this function, and throws.
 */
export function renderMachineConfig(input: MachineConfigInput): RenderedMachineConfig {
  validateMachineConfigInput(input);
  const contract = configContract(input.talosVersion) as ConfigContract;
  const docs = contract === "1.14" ? renderContract114(input) : renderContract113(input);
  const problems = contractProblems(docs, contract);
  if (problems.length > 0) {
    throw new Error(
      `the ${contract} machine config of ${JSON.stringify(input.hostname)} breaks Talos's rules:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
  }
  return docs;
}

function renderContract113(input: MachineConfigInput): RenderedMachineConfigV113 {
  const installDisk = input.installDisk ?? DEFAULT_INSTALL_DISK;
  const podSubnet = input.podSubnet ?? DEFAULT_POD_SUBNET;
  const serviceSubnet = input.serviceSubnet ?? DEFAULT_SERVICE_SUBNET;
  const kubeletExtraArgs = input.kubeletExtraArgs ?? {};
  const nodeLabels = input.nodeLabels ?? {};
  const nodeTaints = input.nodeTaints ?? [];
  const kernelModules = input.kernelModules ?? [];
  const sysctls = input.sysctls ?? {};
  const patches = input.patches ?? [];

  // Validation has proven the address parses.
  const nodeSubnet = (parseHostCidr(input.address) as HostCidr).cidr;
  const k8s = input.kubernetesVersion;
  const { secrets } = input;
  const sortedTaints = [...nodeTaints].sort((a, b) => compareBytes(a.key, b.key));

  const machineBase = {
    type: input.role,
    token: secrets.trustdToken,
  };
  const kubelet = (extraConfig: Record<string, unknown> | undefined): TalosKubeletSection => ({
    image: `${KUBELET_IMAGE}:${k8s}`,
    ...nonEmpty("extraArgs", sortedRecord(kubeletExtraArgs)),
    ...(extraConfig === undefined ? {} : { extraConfig }),
    defaultRuntimeSeccompProfileEnabled: true,
    // Pins the node IP to the node subnet; Talos itself keeps the VIP out of it.
    nodeIP: { validSubnets: [nodeSubnet] },
    disableManifestsDirectory: true,
  });
  const machineRest = {
    install: {
      disk: installDisk,
      image: input.installerImage,
      wipe: false,
      // The v1.12+ default: GRUB takes the kernel command line from the UKI, i.e. from the
      // schematic's extraKernelArgs, so there is one place for kernel arguments.
      grubUseUKICmdline: true,
    },
    ...nonEmpty("sysctls", sortedRecord(sysctls)),
    features: {
      diskQuotaSupport: true,
      kubePrism: { enabled: true, port: KUBE_PRISM_PORT },
      hostDNS: { enabled: true, forwardKubeDNSToHost: true },
    },
    ...(kernelModules.length === 0
      ? {}
      : { kernel: { modules: unique(kernelModules).map((name) => ({ name })) } }),
  };
  const taintMap = sortedRecord(
    Object.fromEntries(
      sortedTaints.map((t) => [t.key, t.value ? `${t.value}:${t.effect}` : t.effect]),
    ),
  );
  const clusterBase = {
    id: secrets.clusterId,
    secret: secrets.clusterSecret,
    controlPlane: { endpoint: controlPlaneEndpoint(input.vip) },
    clusterName: input.clusterName,
    network: {
      // Plain flannel ignores NetworkPolicy; kube-network-policies makes the platform's
      // default-deny policies actually enforced.
      cni: { name: "flannel" as const, flannel: { kubeNetworkPoliciesEnabled: true } },
      dnsDomain: CLUSTER_DNS_DOMAIN,
      podSubnets: [podSubnet],
      serviceSubnets: [serviceSubnet],
    },
    token: secrets.bootstrapToken,
  };
  const discovery = {
    enabled: true,
    // The Kubernetes registry is deprecated and broken on Kubernetes 1.32+ (siderolabs/talos#9980);
    // the discovery service (end-to-end encrypted with the cluster secret) remains.
    registries: { kubernetes: { disabled: true } },
  };

  let config: TalosV1Alpha1Config;
  switch (input.role) {
    case MachineRole.controlPlane:
      config = {
        version: "v1alpha1",
        debug: false,
        machine: {
          ...machineBase,
          ca: { crt: secrets.osCa.crt, key: secrets.osCa.key },
          kubelet: kubelet(undefined),
          ...machineRest,
          nodeLabels: sortedRecord({
            // Talos' own default for control planes: keep them out of LoadBalancer pools.
            "node.kubernetes.io/exclude-from-external-load-balancers": "",
            ...nodeLabels,
          }),
          // Control planes apply taints with admin credentials, so the map is enough.
          ...nonEmpty("nodeTaints", taintMap),
        },
        cluster: {
          ...clusterBase,
          secretboxEncryptionSecret: secrets.secretboxKey,
          ca: { crt: secrets.kubernetesCa.crt, key: secrets.kubernetesCa.key },
          aggregatorCA: { crt: secrets.aggregatorCa.crt, key: secrets.aggregatorCa.key },
          serviceAccount: { key: secrets.serviceAccountKey },
          apiServer: {
            image: `${K8S_IMAGE}/kube-apiserver:${k8s}`,
            certSANs: [input.vip],
            admissionControl: [podSecurityAdmission()],
          },
          controllerManager: { image: `${K8S_IMAGE}/kube-controller-manager:${k8s}` },
          proxy: { image: `${K8S_IMAGE}/kube-proxy:${k8s}` },
          scheduler: { image: `${K8S_IMAGE}/kube-scheduler:${k8s}` },
          discovery,
          etcd: {
            ca: { crt: secrets.etcdCa.crt, key: secrets.etcdCa.key },
            // Peers talk over the node subnet only; Talos itself keeps the VIP out of it.
            advertisedSubnets: [nodeSubnet],
          },
        },
      };
      break;
    case MachineRole.worker:
      config = {
        version: "v1alpha1",
        debug: false,
        machine: {
          ...machineBase,
          // Certificates only: `talosctl gen config` writes an empty key here, and Talos rejects
          // a worker config that carries either CA key.
          ca: { crt: secrets.osCa.crt },
          // NodeRestriction forbids a node to change its own taints after registration, and
          // Talos applies worker taints with the kubelet's credentials: the kubelet registers with
          // them instead, and Talos then adopts the identical taints of machine.nodeTaints.
          kubelet: kubelet(
            sortedTaints.length === 0
              ? undefined
              : {
                  registerWithTaints: sortedTaints.map((t) => ({
                    key: t.key,
                    ...(t.value ? { value: t.value } : {}),
                    effect: t.effect,
                  })),
                },
          ),
          ...machineRest,
          ...nonEmpty("nodeLabels", sortedRecord(nodeLabels)),
          ...nonEmpty("nodeTaints", taintMap),
        },
        cluster: {
          ...clusterBase,
          ca: { crt: secrets.kubernetesCa.crt },
          discovery,
        },
      };
      break;
    default:
      return assertNever(input.role);
  }

  const patched = patches.reduce<TalosV1Alpha1Config>(
    (acc, patch) => deepMerge(acc, patch) as TalosV1Alpha1Config,
    config,
  );
  return [patched, ...networkDocuments(input), ...userVolumeDocuments(input)];
}

/** The node's directory user volumes, in the order given. */
function userVolumeDocuments(input: MachineConfigInput): TalosUserVolumeConfig[] {
  return (input.directoryVolumes ?? []).map((name) => ({
    apiVersion: "v1alpha1",
    kind: "UserVolumeConfig",
    name,
    volumeType: "directory",
  }));
}

/** The discovery service every node registers with (Talos's default endpoint at both contracts). */
export const DISCOVERY_SERVICE_ENDPOINT = "https://discovery.talos.dev/";

/**
 * Weekly fstrim of the node's filesystems: the VM disks are thin and have `discard` on, so what
 * the kubelet and containerd free is given back to the datastore. The interval is what
 * `talosctl gen config` writes at contract 1.14 (pkg/machinery/config/generate/block.go).
 */
export const FILESYSTEM_TRIM_INTERVAL = "168h0m0s";

/**
 * The one encryption provider list of Kubernetes Secrets, as the 1.13 contract renders it from
 * `cluster.secretboxEncryptionSecret` (internal/app/machined/pkg/controllers/k8s/internal/
 * k8stemplates/apiserver.go at v1.13.9): secretbox with the key named `key2`, then identity.
 * The name is stored in every encrypted value (`k8s:enc:secretbox:v1:key2:`): the 1.14 document
 * must keep it, or the API server cannot read the Secrets it wrote (siderolabs/talos#13885).
 */
export function etcdEncryptionConfig(secretboxKey: string): Record<string, unknown> {
  return {
    resources: [
      {
        resources: ["secrets"],
        providers: [
          { secretbox: { keys: [{ name: "key2", secret: secretboxKey }] } },
          { identity: {} },
        ],
      },
    ],
  };
}

/** The API server's health endpoints its 1.14 probes request without credentials. */
export const HEALTH_PATHS = ["/livez", "/readyz", "/healthz"] as const;

/** Talos's default audit policy of the 1.13 contract (v1alpha1_apiserverconfig.go, v1.13.9). */
const DEFAULT_AUDIT_POLICY = {
  apiVersion: "audit.k8s.io/v1",
  kind: "Policy",
  rules: [{ level: "Metadata" }],
} as const;

/** The labels and taint Talos gives a control plane implicitly at 1.13 (k8sNodeConfigShim). */
export const CONTROL_PLANE_NODE_LABEL = "node-role.kubernetes.io/control-plane";

const pem = (base64: string) => Buffer.from(base64, "base64").toString("utf8");

/**
 * The documents of contract 1.14 (read from pkg/machinery/config/generate and the stability
 * files at siderolabs/talos v1.14.0-rc.1): the same effective settings as contract 1.13, each in
 * the one document that owns it, and nothing left in v1alpha1 that a document replaces. Defaults
 * that Talos applied implicitly from v1alpha1 are written out (a document injects nothing): the
 * control plane's role label and NoSchedule taint, the audit policy, the Node and RBAC
 * authorizers. Two settings are new at 1.14 and adopted (docs/adr/0017): the API server's own
 * health probes, which need anonymous access to exactly `/livez`, `/readyz` and `/healthz`
 * (KubeAuthenticationConfig; 1.13 refused every anonymous request), and a weekly fstrim
 * (FilesystemTrimConfig).
 */
function renderContract114(input: MachineConfigInput): RenderedMachineConfigV114 {
  const podSubnet = input.podSubnet ?? DEFAULT_POD_SUBNET;
  const serviceSubnet = input.serviceSubnet ?? DEFAULT_SERVICE_SUBNET;
  const nodeSubnet = (parseHostCidr(input.address) as HostCidr).cidr;
  const k8s = input.kubernetesVersion;
  const { secrets } = input;
  const isControlPlane = input.role === MachineRole.controlPlane;
  const sortedTaints = [...(input.nodeTaints ?? [])].sort((a, b) => compareBytes(a.key, b.key));
  const endpoint = controlPlaneEndpoint(input.vip);
  const apiVersion = "v1alpha1" as const;
  const doc = (kind: string, fields: Record<string, unknown>): TalosDocument => ({
    apiVersion,
    kind,
    ...fields,
  });

  const v1alpha1: TalosV1Alpha1ConfigV114 = {
    version: "v1alpha1",
    debug: false,
    machine: {
      type: input.role,
      token: secrets.trustdToken,
      ca: isControlPlane
        ? { crt: secrets.osCa.crt, key: secrets.osCa.key }
        : { crt: secrets.osCa.crt },
      features: { diskQuotaSupport: true },
    },
    cluster: {
      token: secrets.bootstrapToken,
      ...(isControlPlane
        ? {
            etcd: {
              ca: { crt: secrets.etcdCa.crt, key: secrets.etcdCa.key },
              advertisedSubnets: [nodeSubnet],
            },
          }
        : {}),
    },
  };
  const patched = (input.patches ?? []).reduce<TalosV1Alpha1ConfigV114>(
    (acc, patch) => deepMerge(acc, patch) as TalosV1Alpha1ConfigV114,
    v1alpha1,
  );

  // Hostname, links and VIP as at 1.13; host DNS moves into the resolver document.
  const network = networkDocuments(input).map((d) =>
    d.kind === "ResolverConfig"
      ? { ...d, hostDNS: { enabled: true, forwardKubeDNSToHost: true } }
      : d,
  ) as TalosDocument[];

  const labels = sortedRecord({
    ...(isControlPlane
      ? {
          [CONTROL_PLANE_NODE_LABEL]: "",
          "node.kubernetes.io/exclude-from-external-load-balancers": "",
        }
      : {}),
    ...(input.nodeLabels ?? {}),
  });
  const taints = sortedRecord({
    ...(isControlPlane ? { [CONTROL_PLANE_NODE_LABEL]: "NoSchedule" } : {}),
    ...Object.fromEntries(
      sortedTaints.map((t) => [t.key, t.value ? `${t.value}:${t.effect}` : t.effect]),
    ),
  });
  const universal: TalosDocument[] = [
    doc("DiscoveryServiceConfig", { name: "default", endpoint: DISCOVERY_SERVICE_ENDPOINT }),
    doc("DiscoveryIdentityConfig", {
      clusterID: secrets.clusterId,
      clusterSecret: secrets.clusterSecret,
    }),
    ...network,
    ...userVolumeDocuments(input).map((v) => ({ ...v })),
    doc("FilesystemTrimConfig", { interval: FILESYSTEM_TRIM_INTERVAL }),
    doc("KubeClusterConfig", { clusterName: input.clusterName, endpoint }),
    doc("KubeNodeConfig", {
      nodeIP: { validSubnets: [nodeSubnet] },
      ...nonEmpty("labels", labels),
      ...nonEmpty("taints", taints),
    }),
    doc("KubeletConfig", {
      image: `${KUBELET_IMAGE}:${k8s}`,
      // Workers register with their taints (NodeRestriction, see the 1.13 rendering).
      ...(!isControlPlane && sortedTaints.length > 0
        ? {
            config: {
              registerWithTaints: sortedTaints.map((t) => ({
                key: t.key,
                ...(t.value ? { value: t.value } : {}),
                effect: t.effect,
              })),
            },
          }
        : {}),
      ...nonEmpty("extraArgs", sortedRecord(input.kubeletExtraArgs ?? {})),
      defaultRuntimeSeccompProfileEnabled: true,
    }),
    doc("KubeNetworkConfig", {
      dnsDomain: CLUSTER_DNS_DOMAIN,
      podSubnets: [podSubnet],
      serviceSubnets: [serviceSubnet],
    }),
    doc(
      "KubeAPIServerCAConfig",
      isControlPlane
        ? {
            issuingCA: {
              cert: pem(secrets.kubernetesCa.crt),
              key: pem(secrets.kubernetesCa.key),
            },
          }
        : { acceptedCAs: [pem(secrets.kubernetesCa.crt)] },
    ),
    doc("KubePrismConfig", { port: KUBE_PRISM_PORT }),
  ];
  const controlPlaneOnly: TalosDocument[] = isControlPlane
    ? [
        doc("KubeAggregatorCAConfig", {
          issuingCA: {
            cert: pem(secrets.aggregatorCa.crt),
            key: pem(secrets.aggregatorCa.key),
          },
        }),
        doc("KubeAdmissionControlConfig", { ...podSecurityAdmission() }),
        doc("KubeAuditPolicyConfig", { configuration: DEFAULT_AUDIT_POLICY }),
        // k8stemplates/apiserver.go: with the document, the API server has startup, readiness and
        // liveness probes, unauthenticated requests to these paths (control_plane_final.go drops
        // --anonymous-auth=false for the authentication config file).
        doc("KubeAuthenticationConfig", {
          configuration: {
            anonymous: {
              enabled: true,
              conditions: HEALTH_PATHS.map((path) => ({ path })),
            },
            jwt: [],
          },
        }),
        doc("KubeAuthorizerConfig", { name: "node", type: "Node" }),
        doc("KubeAuthorizerConfig", { name: "rbac", type: "RBAC" }),
        doc("KubeEtcdEncryptionConfig", { config: etcdEncryptionConfig(secrets.secretboxKey) }),
        doc("KubeServiceAccountConfig", {
          issuer: { privateKey: pem(secrets.serviceAccountKey), issuerURL: endpoint },
        }),
        doc("KubeAPIServerConfig", {
          image: `${K8S_IMAGE}/kube-apiserver:${k8s}`,
          certExtraSANs: [input.vip],
        }),
        doc("KubeControllerManagerConfig", {
          image: `${K8S_IMAGE}/kube-controller-manager:${k8s}`,
        }),
        doc("KubeSchedulerConfig", { image: `${K8S_IMAGE}/kube-scheduler:${k8s}` }),
        doc("KubeProxyConfig", { image: `${K8S_IMAGE}/kube-proxy:${k8s}` }),
        doc("KubeFlannelCNIConfig", {
          backendType: "vxlan",
          backendPort: 4789,
          kubeNetworkPoliciesEnabled: true,
        }),
        doc("KubeCoreDNSConfig", { enabled: true }),
      ]
    : [];
  const sysctls = sortedRecord(input.sysctls ?? {});
  const runtime: TalosDocument[] = [
    ...(Object.keys(sysctls).length > 0 ? [doc("SysctlConfig", { params: sysctls })] : []),
    ...unique(input.kernelModules ?? []).map((name) => doc("KernelModuleConfig", { name })),
  ];
  return [patched, ...universal, ...controlPlaneOnly, ...runtime];
}

function podSecurityAdmission(): TalosAdmissionPlugin {
  return {
    name: "PodSecurity",
    configuration: {
      // v1 is the GA version of the admission configuration (Kubernetes 1.25+).
      apiVersion: "pod-security.admission.config.k8s.io/v1",
      kind: "PodSecurityConfiguration",
      defaults: {
        enforce: POD_SECURITY_DEFAULTS.enforce,
        "enforce-version": "latest",
        audit: POD_SECURITY_DEFAULTS.audit,
        "audit-version": "latest",
        warn: POD_SECURITY_DEFAULTS.warn,
        "warn-version": "latest",
      },
      exemptions: {
        usernames: [],
        runtimeClasses: [],
        namespaces: [...POD_SECURITY_DEFAULTS.exemptNamespaces],
      },
    },
  };
}

function networkDocuments(input: MachineConfigInput): TalosNetworkDocument[] {
  const apiVersion = "v1alpha1" as const;
  const docs: TalosNetworkDocument[] = [
    { apiVersion, kind: "HostnameConfig", hostname: input.hostname },
    {
      apiVersion,
      kind: "ResolverConfig",
      nameservers: input.nameservers.map((address) => ({ address })),
    },
    {
      apiVersion,
      kind: "LinkAliasConfig",
      name: NODE_LINK_ALIAS,
      // Talos evaluates alias selectors against physical links only and needs exactly one match
      // for a fixed alias, so `true` means "the node's only NIC".
      selector: {
        match: input.linkBusPath === undefined ? "true" : `link.bus_path == "${input.linkBusPath}"`,
      },
    },
    {
      apiVersion,
      kind: "LinkConfig",
      name: NODE_LINK_ALIAS,
      addresses: [{ address: input.address }],
      // No destination: Talos makes it the default route of the gateway's address family.
      routes: [{ gateway: input.gateway }],
    },
  ];
  switch (input.role) {
    case MachineRole.controlPlane:
      // The VIP is announced by the etcd-elected control plane; workers only use it.
      docs.push({ apiVersion, kind: "Layer2VIPConfig", name: input.vip, link: NODE_LINK_ALIAS });
      break;
    case MachineRole.worker:
      break;
    default:
      return assertNever(input.role);
  }
  return docs;
}

/**
 * Multi-document YAML (`---` between documents), deterministic: keys in the order the renderer
 * built them, no anchors, no line folding (base64 blobs stay on one line).
 */
export function machineConfigDocumentsToYaml(docs: RenderedMachineConfig): string {
  return docs
    .map((doc) =>
      stringify(doc, { indent: 4, indentSeq: true, lineWidth: 0, aliasDuplicateObjects: false }),
    )
    .join("---\n");
}

/** `renderMachineConfig` as the text Talos reads (e.g. as cloud-init user-data). */
export function renderMachineConfigYaml(input: MachineConfigInput): string {
  return machineConfigDocumentsToYaml(renderMachineConfig(input));
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** Deep merge: plain objects merge key by key; arrays and scalars replace; undefined is skipped. */
export function deepMerge(base: unknown, patch: unknown): unknown {
  if (patch === undefined) return base;
  if (isPlainObject(base) && isPlainObject(patch)) {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(base)) defineOwn(out, key, value);
    for (const [key, value] of Object.entries(patch)) {
      if (value !== undefined) defineOwn(out, key, deepMerge(base[key], value));
    }
    return out;
  }
  return clonePlain(patch);
}

// defineProperty, so a `__proto__` key from parsed YAML becomes data, not a prototype.
function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function clonePlain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clonePlain);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value))
      if (v !== undefined) defineOwn(out, key, clonePlain(v));
    return out;
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function getPath(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (!isPlainObject(current) || !Object.prototype.hasOwnProperty.call(current, key)) {
      return undefined;
    }
    current = current[key];
  }
  return current;
}

function assertNever(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}

function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// Keys sorted, so the same labels in another order render the same bytes (no spurious diffs).
function sortedRecord(record: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(record).sort(compareBytes)) {
    defineOwn(out, key, record[key]);
  }
  return out;
}

function nonEmpty<K extends string, V extends object>(key: K, value: V): { [P in K]?: V } {
  return (Object.keys(value).length === 0 ? {} : { [key]: value }) as { [P in K]?: V };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function isQualifiedName(key: string): boolean {
  const parts = key.split("/");
  if (parts.length > 2) return false;
  const name = parts[parts.length - 1] ?? "";
  const prefix = parts.length === 2 ? (parts[0] ?? "") : undefined;
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return false;
  return name.length <= 63 && LABEL_NAME.test(name);
}

function isLabelValue(value: string): boolean {
  return value === "" || (value.length <= 63 && LABEL_NAME.test(value));
}

function kubeletMaySetLabel(key: string): boolean {
  const slash = key.indexOf("/");
  if (slash < 0) return true;
  const namespace = key.slice(0, slash);
  const restricted = ["kubernetes.io", "k8s.io"].some(
    (domain) => namespace === domain || namespace.endsWith(`.${domain}`),
  );
  if (!restricted) return true;
  return (
    KUBELET_SETTABLE_LABELS.has(key) ||
    KUBELET_SETTABLE_NAMESPACES.some((ns) => namespace === ns || namespace.endsWith(`.${ns}`))
  );
}

interface Cidr {
  readonly network: number;
  readonly broadcast: number;
  readonly cidr: string;
}
interface HostCidr extends Cidr {
  readonly host: number;
}

function splitCidr(text: string): { ip: number; prefix: number } | undefined {
  const match = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  if (!match) return undefined;
  const ip = parseIpv4(match[1] ?? "");
  const prefix = Number(match[2]);
  if (ip === undefined || prefix > 32) return undefined;
  return { ip, prefix };
}

function toCidr(ip: number, prefix: number): Cidr {
  const size = 2 ** (32 - prefix);
  const network = Math.floor(ip / size) * size;
  return { network, broadcast: network + size - 1, cidr: `${formatIpv4(network)}/${prefix}` };
}

/** A node address such as 10.20.0.11/24 (prefix /8 to /30, room for node, gateway and VIP). */
function parseHostCidr(text: string): HostCidr | undefined {
  const parts = splitCidr(text);
  if (parts === undefined || parts.prefix < 8 || parts.prefix > 30) return undefined;
  return { ...toCidr(parts.ip, parts.prefix), host: parts.ip };
}

/** A network such as 10.244.0.0/16 (no host bits set). */
function parseNetworkCidr(text: string): Cidr | undefined {
  const parts = splitCidr(text);
  if (parts === undefined) return undefined;
  const cidr = toCidr(parts.ip, parts.prefix);
  return cidr.network === parts.ip ? cidr : undefined;
}

function inSubnet(cidr: Cidr, ip: number): boolean {
  return ip >= cidr.network && ip <= cidr.broadcast;
}

function overlaps(a: Cidr, b: Cidr): boolean {
  return a.network <= b.broadcast && b.network <= a.broadcast;
}
