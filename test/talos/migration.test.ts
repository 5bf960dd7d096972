import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { installerImage } from "../../components/talos/schematic";
import { machineConfigInput, planNodes, talosClusterArgs } from "../../components/talos/cluster";
import { contractProblems } from "../../components/talos/contract";
import { renderMachineConfigYaml } from "../../components/talos/machineConfig";
import { RUNTIMES } from "../../components/catalog/runtimes";
import { validateTalosConfig } from "./schema";
import { SHIPPED_STACKS } from "../helpers/plans";
import { shippedStack } from "../helpers/stacks";

/**
 * Migration from contract 1.13 to 1.14 is proven, not hoped: every node of every shipped stack is
 * rendered at both contracts and each rendering is read back the way Talos reads it (at 1.13 the
 * v1alpha1 fields with the defaults Talos derives from them: the k8sNodeConfigShim's role label
 * and taint, the default audit policy and authorizers, the discovery service endpoint; at 1.14
 * the documents, which inject nothing). The effective settings are the same; only their place
 * changes, but for the differences listed in `CHANGED_ON_PURPOSE`.
 */

type Doc = Record<string, unknown>;
const rec = (v: unknown): Doc => (typeof v === "object" && v !== null ? (v as Doc) : {});
const pem = (b64: unknown) =>
  typeof b64 === "string" ? Buffer.from(b64, "base64").toString("utf8") : undefined;
const CP_LABEL = "node-role.kubernetes.io/control-plane";
const DEFAULT_AUDIT = {
  apiVersion: "audit.k8s.io/v1",
  kind: "Policy",
  rules: [{ level: "Metadata" }],
};

/** What a node runs with, independent of where the config says it. */
interface Effective {
  readonly [setting: string]: unknown;
}

/** Talos 1.13 reading its v1alpha1 document (pkg/machinery/config/types/v1alpha1 at v1.13.9). */
function effective113(docs: Doc[]): Effective {
  const v1 = docs[0]!;
  const m = rec(v1["machine"]);
  const c = rec(v1["cluster"]);
  const kubelet = rec(m["kubelet"]);
  const cp = m["type"] === "controlplane";
  const resolver = docs.find((d) => d["kind"] === "ResolverConfig") ?? {};
  const apiServer = rec(c["apiServer"]);
  const discovery = rec(c["discovery"]);
  const registries = rec(discovery["registries"]);
  return {
    role: m["type"],
    machineToken: m["token"],
    machineCa: m["ca"],
    diskQuota: rec(m["features"])["diskQuotaSupport"],
    bootstrapToken: c["token"],
    etcd: c["etcd"],
    clusterName: c["clusterName"],
    endpoint: rec(c["controlPlane"])["endpoint"],
    kubelet: {
      image: kubelet["image"],
      extraArgs: kubelet["extraArgs"] ?? {},
      config: kubelet["extraConfig"] ?? {},
      seccompDefault: kubelet["defaultRuntimeSeccompProfileEnabled"],
      // locked to true at 1.14; ours sets it at 1.13
      manifestsDirectoryDisabled: kubelet["disableManifestsDirectory"] === true,
    },
    nodeIP: rec(kubelet["nodeIP"])["validSubnets"],
    // k8sNodeConfigShim: a control plane gets its role label and, unless scheduling on control
    // planes is allowed, its NoSchedule taint.
    labels: { ...rec(m["nodeLabels"]), ...(cp ? { [CP_LABEL]: "" } : {}) },
    taints: {
      ...rec(m["nodeTaints"]),
      ...(cp && c["allowSchedulingOnControlPlanes"] !== true ? { [CP_LABEL]: "NoSchedule" } : {}),
    },
    network: {
      dnsDomain: rec(c["network"])["dnsDomain"],
      podSubnets: rec(c["network"])["podSubnets"],
      serviceSubnets: rec(c["network"])["serviceSubnets"],
    },
    // Flannel's defaults at 1.13 (vxlan on 4789) with the options set.
    cni: cp
      ? {
          name: rec(rec(c["network"])["cni"])["name"],
          backend: "vxlan",
          port: 4789,
          kubeNetworkPolicies:
            rec(rec(rec(c["network"])["cni"])["flannel"])["kubeNetworkPoliciesEnabled"] === true,
        }
      : undefined,
    kubernetesCa: { cert: pem(rec(c["ca"])["crt"]), key: pem(rec(c["ca"])["key"]) },
    aggregatorCa: cp
      ? { cert: pem(rec(c["aggregatorCA"])["crt"]), key: pem(rec(c["aggregatorCA"])["key"]) }
      : undefined,
    serviceAccount: cp
      ? { key: pem(rec(c["serviceAccount"])["key"]), issuer: rec(c["controlPlane"])["endpoint"] }
      : undefined,
    // k8stemplates/apiserver.go: secretbox named key2, then identity.
    encryption:
      c["secretboxEncryptionSecret"] !== undefined
        ? [
            { secretbox: { keys: [{ name: "key2", secret: c["secretboxEncryptionSecret"] }] } },
            { identity: {} },
          ]
        : undefined,
    discovery: {
      service:
        discovery["enabled"] === true && rec(registries["service"])["disabled"] !== true
          ? (rec(registries["service"])["endpoint"] ?? "https://discovery.talos.dev/")
          : undefined,
      kubernetesRegistry:
        discovery["enabled"] === true && rec(registries["kubernetes"])["disabled"] !== true,
      id: c["id"],
      secret: c["secret"],
    },
    kubePrism:
      rec(rec(m["features"])["kubePrism"])["enabled"] === true
        ? rec(rec(m["features"])["kubePrism"])["port"]
        : undefined,
    hostDNS: rec(m["features"])["hostDNS"],
    nameservers: resolver["nameservers"],
    apiServer: cp
      ? {
          image: apiServer["image"],
          certSANs: apiServer["certSANs"],
          admission: apiServer["admissionControl"],
          audit: apiServer["auditPolicy"] ?? DEFAULT_AUDIT,
          authorizers: ["Node", "RBAC"],
        }
      : undefined,
    controllerManager: cp ? rec(c["controllerManager"])["image"] : undefined,
    scheduler: cp ? rec(c["scheduler"])["image"] : undefined,
    proxy: cp ? rec(c["proxy"])["image"] : undefined,
    coreDNS: cp ? rec(c["coreDNS"])["disabled"] !== true : undefined,
    sysctls: m["sysctls"] ?? {},
    kernelModules:
      (rec(m["kernel"])["modules"] as { name: string }[] | undefined)?.map((x) => x.name) ?? [],
    // The documents both contracts share, as written.
    hostname: docs.find((d) => d["kind"] === "HostnameConfig"),
    links: docs.filter((d) =>
      ["LinkAliasConfig", "LinkConfig", "Layer2VIPConfig"].includes(String(d["kind"])),
    ),
  };
}

/** Talos 1.14 reading the documents (pkg/machinery/config/types/k8s, cluster, runtime). */
function effective114(docs: Doc[]): Effective {
  const v1 = docs[0]!;
  const m = rec(v1["machine"]);
  const c = rec(v1["cluster"]);
  const one = (kind: string) => docs.find((d) => d["kind"] === kind);
  const kubelet = rec(one("KubeletConfig"));
  const node = rec(one("KubeNodeConfig"));
  const net = rec(one("KubeNetworkConfig"));
  const flannel = one("KubeFlannelCNIConfig");
  const ca = rec(one("KubeAPIServerCAConfig"));
  const agg = one("KubeAggregatorCAConfig");
  const sa = one("KubeServiceAccountConfig");
  const api = one("KubeAPIServerConfig");
  const resolver = rec(one("ResolverConfig"));
  const service = one("DiscoveryServiceConfig");
  const identity = rec(one("DiscoveryIdentityConfig"));
  const prism = one("KubePrismConfig");
  const cp = m["type"] === "controlplane";
  const { hostDNS, ...resolverRest } = resolver;
  return {
    role: m["type"],
    machineToken: m["token"],
    machineCa: m["ca"],
    diskQuota: rec(m["features"])["diskQuotaSupport"],
    bootstrapToken: c["token"],
    etcd: c["etcd"],
    clusterName: rec(one("KubeClusterConfig"))["clusterName"],
    endpoint: rec(one("KubeClusterConfig"))["endpoint"],
    kubelet: {
      image: kubelet["image"],
      extraArgs: kubelet["extraArgs"] ?? {},
      config: kubelet["config"] ?? {},
      seccompDefault: kubelet["defaultRuntimeSeccompProfileEnabled"],
      // types/k8s/kubelet.go DisableManifestsDirectory(): always true.
      manifestsDirectoryDisabled: true,
    },
    nodeIP: rec(node["nodeIP"])["validSubnets"],
    labels: node["labels"] ?? {},
    taints: node["taints"] ?? {},
    network: {
      dnsDomain: net["dnsDomain"],
      podSubnets: net["podSubnets"],
      serviceSubnets: net["serviceSubnets"],
    },
    cni: cp
      ? {
          name: flannel !== undefined ? "flannel" : "none",
          backend: rec(flannel)["backendType"],
          port: rec(flannel)["backendPort"],
          kubeNetworkPolicies: rec(flannel)["kubeNetworkPoliciesEnabled"] === true,
        }
      : undefined,
    kubernetesCa: cp
      ? { cert: rec(ca["issuingCA"])["cert"], key: rec(ca["issuingCA"])["key"] }
      : { cert: (ca["acceptedCAs"] as string[] | undefined)?.[0], key: undefined },
    aggregatorCa: cp
      ? { cert: rec(rec(agg)["issuingCA"])["cert"], key: rec(rec(agg)["issuingCA"])["key"] }
      : undefined,
    serviceAccount: cp
      ? { key: rec(rec(sa)["issuer"])["privateKey"], issuer: rec(rec(sa)["issuer"])["issuerURL"] }
      : undefined,
    encryption: cp
      ? rec(rec(one("KubeEtcdEncryptionConfig"))["config"])["resources"] &&
        (
          rec(one("KubeEtcdEncryptionConfig"))["config"] as {
            resources: { providers: unknown[] }[];
          }
        ).resources[0]!.providers
      : undefined,
    discovery: {
      service: rec(service)["endpoint"],
      // cluster/config.go: the Kubernetes registry is legacy v1alpha1 only.
      kubernetesRegistry: false,
      id: identity["clusterID"],
      secret: identity["clusterSecret"],
    },
    kubePrism: prism !== undefined ? prism["port"] : undefined,
    hostDNS,
    nameservers: resolverRest["nameservers"],
    apiServer: cp
      ? {
          image: rec(api)["image"],
          certSANs: rec(api)["certExtraSANs"],
          admission: docs
            .filter((d) => d["kind"] === "KubeAdmissionControlConfig")
            .map((d) => ({ name: d["name"], configuration: d["configuration"] })),
          audit: rec(one("KubeAuditPolicyConfig"))["configuration"],
          authorizers: docs
            .filter((d) => d["kind"] === "KubeAuthorizerConfig")
            .map((d) => d["type"]),
        }
      : undefined,
    controllerManager: cp ? rec(one("KubeControllerManagerConfig"))["image"] : undefined,
    scheduler: cp ? rec(one("KubeSchedulerConfig"))["image"] : undefined,
    proxy: cp ? rec(one("KubeProxyConfig"))["image"] : undefined,
    coreDNS: cp ? rec(one("KubeCoreDNSConfig"))["enabled"] !== false : undefined,
    sysctls: rec(one("SysctlConfig"))["params"] ?? {},
    kernelModules: docs.filter((d) => d["kind"] === "KernelModuleConfig").map((d) => d["name"]),
    hostname: one("HostnameConfig"),
    links: docs.filter((d) =>
      ["LinkAliasConfig", "LinkConfig", "Layer2VIPConfig"].includes(String(d["kind"])),
    ),
  };
}

/**
 * What contract 1.14 changes on purpose (docs/adr/0017): 1.13's install section (a node booted
 * from its disk image has nothing to install; the upgrade step names its image), the API server's
 * health probes with anonymous access to exactly its health endpoints (1.13 refused every
 * anonymous request), and a weekly fstrim.
 */
const CHANGED_ON_PURPOSE = {
  "1.13 only": ["machine.install"],
  "1.14 only": ["KubeAuthenticationConfig", "FilesystemTrimConfig"],
};

const render = (yaml: string): Doc[] => parseAllDocuments(yaml).map((d) => d.toJS() as Doc);

describe.each(SHIPPED_STACKS)(
  "stack %s: every node migrates from contract 1.13 to 1.14",
  (stack) => {
    const config = shippedStack(stack);
    const fake = (s: string) =>
      Buffer.from(`-----BEGIN X-----\nfake-${s}\n-----END X-----\n`).toString("base64");
    const bundle = {
      clusterId: fake("id"),
      clusterSecret: Buffer.alloc(32, 3).toString("base64"),
      bootstrapToken: "abcdef.0123456789abcdef",
      trustdToken: "ghijkl.0123456789abcdef",
      secretboxKey: Buffer.alloc(32, 5).toString("base64"),
      osCa: { crt: fake("os-crt"), key: fake("os-key") },
      kubernetesCa: { crt: fake("k8s-crt"), key: fake("k8s-key") },
      aggregatorCa: { crt: fake("agg-crt"), key: fake("agg-key") },
      etcdCa: { crt: fake("etcd-crt"), key: fake("etcd-key") },
      serviceAccountKey: fake("sa"),
    };
    const at = (talosVersion: string, n: ReturnType<typeof planNodes>[number]) =>
      render(
        renderMachineConfigYaml(
          machineConfigInput(
            n,
            { ...talosClusterArgs(config.cluster, config.proxmox), talosVersion },
            installerImage("0".repeat(64), talosVersion),
            bundle,
            { kubeletServingCertificates: true },
          ),
        ),
      );

    it.each(planNodes(config.cluster).map((n) => [n.name, n] as const))(
      "%s: the same effective settings, the encryption key keeps its name",
      (_name, n) => {
        const before = at("v1.13.13", n);
        const after = at("v1.14.7", n);
        // Each render is valid against the schema of its contract and passes Talos's rules there.
        for (const [docs, contract] of [
          [before, "1.13"],
          [after, "1.14"],
        ] as const) {
          for (const d of docs) {
            expect(validateTalosConfig(d, contract), String(d["kind"])).toEqual([]);
          }
          expect(contractProblems(docs, contract)).toEqual([]);
        }
        // The runtimes' kernel settings are documents at 1.14.
        const params = rec(after.find((d) => d["kind"] === "SysctlConfig"))["params"];
        const modules = after
          .filter((d) => d["kind"] === "KernelModuleConfig")
          .map((d) => d["name"]);
        expect(modules).toEqual(n.features.nvidia ? [...RUNTIMES.nvidia.kernelModules] : []);
        expect(params).toEqual(
          n.features.nvidia || n.features.gvisor
            ? {
                ...(n.features.nvidia ? RUNTIMES.nvidia.sysctls : {}),
                ...(n.features.gvisor ? RUNTIMES.gvisor.sysctls : {}),
              }
            : undefined,
        );
        expect(effective114(after)).toEqual(effective113(before));
        // What 1.14 adds or drops, and nothing else.
        expect(before[0]!["machine"]).toHaveProperty("install");
        const newKinds = new Set(after.map((d) => d["kind"]));
        for (const kind of CHANGED_ON_PURPOSE["1.14 only"]) {
          expect(newKinds.has(kind), kind).toBe(
            kind === "FilesystemTrimConfig" || n.role === "controlplane",
          );
        }
        if (n.role === "controlplane") {
          const encryption = JSON.stringify(
            after.find((d) => d["kind"] === "KubeEtcdEncryptionConfig"),
          );
          expect(encryption).toContain('"name":"key2"');
          expect(encryption).toContain(bundle.secretboxKey);
        }
      },
    );
  },
);
