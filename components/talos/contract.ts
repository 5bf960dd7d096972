import type { ConfigContract } from "../catalog/talos";

/**
 * The document-level rules of Talos's own machine-config validation that a JSON schema cannot
 * express, read from siderolabs/talos at v1.13.9 and v1.14.0-rc.1 (pkg/machinery/config): which
 * documents may appear together, how often, on which machine type, and which v1alpha1 fields a
 * document replaces. Each rule names the file it was read from; the messages are Talos's where
 * Talos has one. Pure: the renderer checks its own output with it, and the tests break each rule
 * once.
 */

type Doc = Readonly<Record<string, unknown>>;

/** The kinds of contract 1.13 (its schema's `kind` enums). */
const KINDS_113 = [
  "BlackholeRouteConfig",
  "BondConfig",
  "BridgeConfig",
  "DHCPv4Config",
  "DHCPv6Config",
  "DummyLinkConfig",
  "EnvironmentConfig",
  "EthernetConfig",
  "EventSinkConfig",
  "ExistingVolumeConfig",
  "ExtensionServiceConfig",
  "ExternalVolumeConfig",
  "HCloudVIPConfig",
  "HostnameConfig",
  "KmsgLogConfig",
  "KubeSpanConfig",
  "KubeSpanEndpoints",
  "Layer2VIPConfig",
  "LinkAliasConfig",
  "LinkConfig",
  "NetworkDefaultActionConfig",
  "NetworkRuleConfig",
  "OOMConfig",
  "PCIDriverRebindConfig",
  "RawVolumeConfig",
  "RegistryAuthConfig",
  "RegistryMirrorConfig",
  "RegistryTLSConfig",
  "ResolverConfig",
  "RoutingRuleConfig",
  "SideroLinkConfig",
  "StaticHostConfig",
  "SwapVolumeConfig",
  "TCPProbeConfig",
  "TimeSyncConfig",
  "TrustedRootsConfig",
  "UserVolumeConfig",
  "VLANConfig",
  "VRFConfig",
  "VolumeConfig",
  "WatchdogTimerConfig",
  "WireguardConfig",
  "ZswapConfig",
] as const;

/**
 * The kinds contract 1.14 adds; it keeps every 1.13 kind. The schema names the install document
 * `UnattendedInstall`; Talos registers and decodes `UnattendedInstallConfig`
 * (types/runtime/unattended_install.go: the kind at L24, a stale schemaMeta at L50). This list
 * has the name Talos decodes.
 */
const KINDS_ADDED_114 = [
  "BGPInstanceConfig",
  "CRIBaseRuntimeSpecConfig",
  "CRICustomizationConfig",
  "ContainerConfig",
  "DiscoveryIdentityConfig",
  "DiscoveryServiceConfig",
  "EtcFileConfig",
  "FilesystemScrubConfig",
  "FilesystemTrimConfig",
  "HTTPProbeConfig",
  "ImageCacheConfig",
  "KernelModuleConfig",
  "KubeAPIServerCAConfig",
  "KubeAPIServerConfig",
  "KubeAdmissionControlConfig",
  "KubeAggregatorCAConfig",
  "KubeAuditPolicyConfig",
  "KubeAuthenticationConfig",
  "KubeAuthorizerConfig",
  "KubeClusterConfig",
  "KubeControllerManagerConfig",
  "KubeCoreDNSConfig",
  "KubeCredentialProviderConfig",
  "KubeEtcdEncryptionConfig",
  "KubeExternalManifestConfig",
  "KubeFlannelCNIConfig",
  "KubeInlineManifestConfig",
  "KubeNetworkConfig",
  "KubeNodeConfig",
  "KubePrismConfig",
  "KubeProxyConfig",
  "KubeSchedulerConfig",
  "KubeServiceAccountConfig",
  "KubeStaticPodConfig",
  "KubeTalosAPIAccessConfig",
  "KubeletConfig",
  "LVMLogicalVolumeConfig",
  "LVMVolumeGroupConfig",
  "RAIDArrayConfig",
  "SecurityProfileConfig",
  "SysctlConfig",
  "SysfsConfig",
  "UdevRulesConfig",
  "UnattendedInstallConfig",
  "VethConfig",
] as const;

/**
 * The document kinds each contract decodes besides v1alpha1 (the `kind` enums of the
 * configuration schema of v1.13.9 and v1.14.0-rc.1; a test keeps these equal to the schemas). A
 * 1.13 node refuses a config with a kind it does not know.
 */
export const CONTRACT_KINDS: Readonly<Record<ConfigContract, readonly string[]>> = {
  "1.13": KINDS_113,
  "1.14": [...KINDS_113, ...KINDS_ADDED_114].sort(),
};

/**
 * Documents that replace v1alpha1 fields at contract 1.14, the fields each replaces, and Talos's
 * error when both are set (each type's `V1Alpha1ConflictValidate`, pkg/machinery/config/types/
 * k8s/*.go, types/cluster/*.go, types/runtime/unattended_install.go, types/network/resolver.go).
 */
export const V1ALPHA1_CONFLICTS: Readonly<
  Record<string, readonly { readonly path: string; readonly message: string }[]>
> = {
  KubeletConfig: [
    {
      path: "machine.kubelet",
      message: "kubelet config is already set in v1alpha1 config (.machine.kubelet)",
    },
  ],
  KubeNodeConfig: [
    "cluster.allowSchedulingOnControlPlanes",
    "machine.kubelet.skipNodeRegistration",
    "machine.kubelet.registerWithFQDN",
    "machine.kubelet.nodeIP",
    "machine.nodeLabels",
    "machine.nodeAnnotations",
    "machine.nodeTaints",
  ].map((path) => ({ path, message: `.${path} is already set in v1alpha1 config` })),
  KubeClusterConfig: [
    {
      path: "cluster.clusterName",
      message:
        "cluster name is already set in the v1alpha1 config (.cluster.clusterName). Please remove it and use only the new KubeClusterConfig document to avoid conflicts",
    },
    {
      path: "cluster.controlPlane.endpoint",
      message:
        "cluster endpoint is already set in the v1alpha1 config (.cluster.controlPlane.endpoint). Please remove it and use only the new KubeClusterConfig document to avoid conflicts",
    },
  ],
  KubeFlannelCNIConfig: [
    {
      path: "cluster.network",
      message:
        "cluster network config in v1alpha1 config (.machine.cluster.network) can't be used with KubeFlannelCNIConfig document, please remove it to avoid conflicts",
    },
  ],
  KubeAPIServerConfig: [
    {
      path: "cluster.apiServer",
      message: "kube-apiserver config is already set in v1alpha1 config (.cluster.apiServer)",
    },
    {
      path: "cluster.controlPlane.localAPIServerPort",
      message:
        "kube-apiserver API port is already set in v1alpha1 config (.cluster.controlPlane.localAPIServerPort)",
    },
  ],
  KubeAPIServerCAConfig: [
    {
      path: "cluster.ca",
      message: "kube-apiserver CA is already set in v1alpha1 config (.cluster.ca)",
    },
  ],
  KubeAggregatorCAConfig: [
    {
      path: "cluster.aggregatorCA",
      message:
        "kube-apiserver aggregator CA is already set in v1alpha1 config (.cluster.aggregatorCA), please remove it and use the new KubeAggregatorCAConfig document instead",
    },
  ],
  KubeServiceAccountConfig: [
    {
      path: "cluster.serviceAccount",
      message: "service account is already set in v1alpha1 config (.cluster.serviceAccount)",
    },
  ],
  KubeEtcdEncryptionConfig: [
    "cluster.secretboxEncryptionSecret",
    "cluster.aescbcEncryptionSecret",
  ].map((path) => ({ path, message: "etcd encryption config is already set in v1alpha1 config" })),
  KubeAdmissionControlConfig: [
    {
      path: "cluster.apiServer.admissionControl",
      message: "admission control plugin config is already set in v1alpha1 config",
    },
  ],
  // Talos checks the admission plugins here too (k8s/authorization.go), not authorizationConfig.
  KubeAuthorizerConfig: [
    {
      path: "cluster.apiServer.admissionControl",
      message: "admission control plugin config is already set in v1alpha1 config",
    },
  ],
  KubeAuditPolicyConfig: [
    {
      path: "cluster.apiServer.auditPolicy",
      message: "audit policy config is already set in v1alpha1 config",
    },
  ],
  KubeControllerManagerConfig: [
    {
      path: "cluster.controllerManager",
      message:
        "kube-controller-manager config is already set in v1alpha1 config (.cluster.controllerManager)",
    },
    {
      path: "machine.controlPlane.controllerManager",
      message:
        "kube-controller-manager config is already set in v1alpha1 config (.machine.controlplane.controllerManager)",
    },
  ],
  KubeSchedulerConfig: [
    {
      path: "cluster.scheduler",
      message: "kube-scheduler config is already set in v1alpha1 config (.cluster.scheduler)",
    },
    {
      path: "machine.controlPlane.scheduler",
      message:
        "kube-scheduler config is already set in v1alpha1 config (.machine.controlplane.scheduler)",
    },
  ],
  KubeProxyConfig: [
    {
      path: "cluster.proxy",
      message:
        "cluster proxy config in v1alpha1 config (.machine.cluster.proxy) can't be used with KubeProxyConfig document, please remove it to avoid conflicts",
    },
  ],
  KubeCoreDNSConfig: [
    {
      path: "cluster.coreDNS",
      message: "CoreDNS config is already set in v1alpha1 config (.cluster.coreDNS)",
    },
  ],
  KubePrismConfig: [
    {
      path: "machine.features.kubePrism",
      message:
        "KubePrism config in v1alpha1 config (.machine.features.kubePrism) can't be used with KubePrismConfig document, please remove it to avoid conflicts",
    },
  ],
  KubeTalosAPIAccessConfig: [
    {
      path: "machine.features.kubernetesTalosAPIAccess",
      message: ".machine.features.kubernetesTalosAPIAccess is already set in v1alpha1 config",
    },
  ],
  DiscoveryServiceConfig: [
    {
      path: "cluster.discovery",
      message:
        "discovery service is already configured in .cluster.discovery of the v1alpha1 config",
    },
  ],
  DiscoveryIdentityConfig: ["cluster.id", "cluster.secret"].map((path) => ({
    path,
    message:
      "cluster identity is already configured in .cluster.id/.cluster.secret of the v1alpha1 config",
  })),
  UnattendedInstallConfig: [
    {
      path: "machine.install",
      message:
        "UnattendedInstallConfig config is incompatible with v1alpha1 config (.machine.install)",
    },
  ],
};

/**
 * Kinds only a control plane may carry (`ControlplaneOnlyDocument()` in types/k8s; checked in
 * container/validate.go `validateContainer`).
 */
export const CONTROL_PLANE_ONLY_KINDS = [
  "KubeAPIServerConfig",
  "KubeAdmissionControlConfig",
  "KubeAggregatorCAConfig",
  "KubeAuditPolicyConfig",
  "KubeAuthenticationConfig",
  "KubeAuthorizerConfig",
  "KubeControllerManagerConfig",
  "KubeCoreDNSConfig",
  "KubeEtcdEncryptionConfig",
  "KubeFlannelCNIConfig",
  "KubeProxyConfig",
  "KubeSchedulerConfig",
  "KubeServiceAccountConfig",
  "KubeTalosAPIAccessConfig",
] as const;

/** The v1alpha1 name of the secretbox key of the 1.13 contract (k8stemplates/apiserver.go). */
export const SECRETBOX_KEY_NAME = "key2";

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function at(doc: unknown, path: string): unknown {
  let v = doc;
  for (const key of path.split(".")) {
    if (!isRecord(v) || !Object.prototype.hasOwnProperty.call(v, key)) return undefined;
    v = v[key];
  }
  return v;
}

const set = (v: unknown) =>
  v !== undefined &&
  v !== null &&
  v !== "" &&
  !(Array.isArray(v) && v.length === 0) &&
  !(isRecord(v) && Object.keys(v).length === 0);

/** A document's id as Talos keys it (container.go `docID`): `Kind/name`, `Kind/` when unnamed. */
export const documentId = (d: Doc): string =>
  `${String(d["kind"])}/${typeof d["name"] === "string" ? d["name"] : ""}`;

/** Every rule the documents break, as messages (Talos's own text where it has one). */
export function contractProblems(rendered: readonly object[], contract: ConfigContract): string[] {
  const docs = rendered as readonly Doc[];
  const problems: string[] = [];
  const v1alpha1s = docs.filter((d) => d["version"] === "v1alpha1" && d["kind"] === undefined);
  const others = docs.filter((d) => !v1alpha1s.includes(d));
  const v1 = v1alpha1s[0];

  // container.go New: one v1alpha1 document, each other document once by kind and name.
  if (v1alpha1s.length > 1) problems.push("duplicate v1alpha1.Config");
  if (v1 === undefined) problems.push("the v1alpha1 document is missing");
  const seen = new Set<string>();
  for (const d of others) {
    const id = documentId(d);
    if (seen.has(id)) problems.push(`duplicate document: ${id}`);
    seen.add(id);
  }
  const kinds = new Set(others.map((d) => String(d["kind"])));
  const has = (kind: string) => kinds.has(kind);

  // A node decodes only the kinds its machinery registers (a 1.13 node refuses every 1.14 one).
  const unknown = [...kinds].filter((k) => !CONTRACT_KINDS[contract].includes(k)).sort();
  if (unknown.length > 0) {
    problems.push(`kinds Talos ${contract} does not know: ${unknown.join(", ")}`);
  }

  // container/validate.go: each new document against the v1alpha1 fields it replaces.
  for (const kind of [...kinds].sort()) {
    for (const c of V1ALPHA1_CONFLICTS[kind] ?? []) {
      if (set(at(v1, c.path))) problems.push(c.message);
    }
  }
  // ResolverConfig with host DNS replaces machine.features.hostDNS (network/resolver.go).
  const resolver = others.find((d) => d["kind"] === "ResolverConfig");
  if (
    resolver !== undefined &&
    set(resolver["hostDNS"]) &&
    set(at(v1, "machine.features.hostDNS"))
  ) {
    problems.push(".machine.features.hostDNS is already set in v1alpha1 config");
  }

  const type = at(v1, "machine.type");
  const isControlPlane = type === "controlplane" || type === "init";
  // validate.go validateContainer: control-plane-only kinds.
  if (!isControlPlane) {
    const cpOnly = [...kinds]
      .filter((k) => (CONTROL_PLANE_ONLY_KINDS as readonly string[]).includes(k))
      .sort();
    if (cpOnly.length > 0) {
      problems.push(
        `the following document kinds are only allowed on control plane machines: [${cpOnly.join(" ")}]`,
      );
    }
    // v1alpha1_validation.go: a worker carries the certificates only.
    if (set(at(v1, "machine.ca.key"))) problems.push("machine.ca.key is not allowed on a worker");
  }
  // validate.go: a control plane running kube-apiserver encrypts Secrets.
  const legacyEncryption =
    set(at(v1, "cluster.secretboxEncryptionSecret")) ||
    set(at(v1, "cluster.aescbcEncryptionSecret"));
  if (
    isControlPlane &&
    (has("KubeAPIServerCAConfig") || set(at(v1, "cluster.ca"))) &&
    !legacyEncryption &&
    !has("KubeEtcdEncryptionConfig")
  ) {
    problems.push(
      "etcd encryption config is required for control plane machines running kube-apiserver",
    );
  }
  // validate.go: discovery needs the cluster identity.
  const discovery = has("DiscoveryServiceConfig") || at(v1, "cluster.discovery.enabled") === true;
  if (discovery) {
    if (!set(at(v1, "cluster.id")) && !has("DiscoveryIdentityConfig")) {
      problems.push(
        "cluster ID (.cluster.id or DiscoveryIdentityConfig) should be set when cluster discovery (DiscoveryServiceConfig) is enabled",
      );
    }
    if (!set(at(v1, "cluster.secret")) && !has("DiscoveryIdentityConfig")) {
      problems.push(
        "cluster secret (.cluster.secret or DiscoveryIdentityConfig) should be set when cluster discovery (DiscoveryServiceConfig) is enabled",
      );
    }
  }

  if (contract === "1.14" && isControlPlane) {
    // internal/app/machined/pkg/controllers/k8s/control_plane.go: no API server is configured
    // unless the cluster, network and API server documents are all there (no validation error:
    // the node would just never run one).
    const missing = ["KubeClusterConfig", "KubeNetworkConfig", "KubeAPIServerConfig"].filter(
      (k) => !has(k),
    );
    if (has("KubeAPIServerConfig") || has("KubeClusterConfig")) {
      for (const k of missing)
        problems.push(`a control plane at 1.14 runs no kube-apiserver without ${k}`);
    }
    // k8stemplates/apiserver.go: the document's API server has HTTP startup, readiness and
    // liveness probes (startupProbes defaults to true), sent without credentials; with
    // UseAuthenticationConfig (always true for the document, control_plane_final.go) only a
    // KubeAuthenticationConfig that lets anonymous requests reach /livez and /readyz keeps the
    // probes from failing and the kubelet from restarting the API server forever.
    const api = others.find((d) => d["kind"] === "KubeAPIServerConfig");
    if (api !== undefined && api["startupProbes"] !== false) {
      const auth = others.find((d) => d["kind"] === "KubeAuthenticationConfig");
      const anonymous = at(auth, "configuration.anonymous");
      const paths = (
        Array.isArray(at(anonymous, "conditions")) ? (at(anonymous, "conditions") as unknown[]) : []
      ).map((c) => (isRecord(c) ? c["path"] : undefined));
      if (
        at(anonymous, "enabled") !== true ||
        !["/livez", "/readyz"].every((p) => paths.includes(p))
      ) {
        problems.push(
          "KubeAPIServerConfig probes /livez and /readyz without credentials: KubeAuthenticationConfig must allow anonymous requests to them",
        );
      }
    }
    // types/k8s/apiserver.go InjectDefaultAuthorizers() is false for the document: without
    // authorizer documents the API server authorizes nothing.
    if (has("KubeAPIServerConfig") && !has("KubeAuthorizerConfig")) {
      problems.push(
        "KubeAPIServerConfig without KubeAuthorizerConfig documents: no authorizer is configured",
      );
    }
  }

  // The encryption key keeps the name existing Secrets were written with (siderolabs/talos#13885).
  const encryption = others.find((d) => d["kind"] === "KubeEtcdEncryptionConfig");
  if (encryption !== undefined) {
    const resources = at(encryption, "config.resources");
    const secretbox = (Array.isArray(resources) ? resources : [])
      .flatMap((r) => (isRecord(r) && Array.isArray(r["providers"]) ? r["providers"] : []))
      .flatMap((p) => (isRecord(p) && isRecord(p["secretbox"]) ? [p["secretbox"]] : []))
      .flatMap((s) => (Array.isArray(s["keys"]) ? s["keys"] : []));
    const names = secretbox.map((k) => (isRecord(k) ? k["name"] : undefined));
    if (!names.includes(SECRETBOX_KEY_NAME)) {
      problems.push(
        `KubeEtcdEncryptionConfig: the secretbox key must be named ${SECRETBOX_KEY_NAME}, as the 1.13 contract named it (got ${JSON.stringify(names)}): Secrets encrypted under the old name could no longer be read`,
      );
    }
  }
  return problems;
}
