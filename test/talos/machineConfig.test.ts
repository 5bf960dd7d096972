import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import {
  API_SERVER_PORT,
  deepMerge,
  MachineRole,
  machineConfigInputProblems,
  NODE_LINK_ALIAS,
  renderMachineConfigYaml,
  runtimeNodeSettings,
  TaintEffect,
  validateMachineConfigInput,
  type MachineConfigInput,
  type RenderedMachineConfigV113 as RenderedMachineConfig,
  type TalosLayer2VipConfig,
  type TalosLinkAliasConfig,
  type TalosMachineSecrets,
  type TalosNetworkDocument,
} from "../../components/talos/machineConfig";
import { installerImage } from "../../components/talos/schematic";
import { render113 } from "../helpers/talos";
import { validateTalosConfig } from "./schema";

// ---------------------------------------------------------------------------------------------
// Fixtures: obviously fake secrets only
// ---------------------------------------------------------------------------------------------

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

/** Every value decodes to a "fake-…" marker, so snapshots hold no key material. */
const fakeSecrets: TalosMachineSecrets = {
  clusterId: b64("fake-cluster-id"),
  clusterSecret: b64("fake-cluster-secret"),
  bootstrapToken: "abcdef.0123456789abcdef",
  trustdToken: "ghijkl.0123456789abcdef",
  secretboxKey: b64("fake-secretbox-key"),
  osCa: { crt: b64("fake-os-ca-crt"), key: b64("fake-os-ca-key") },
  kubernetesCa: { crt: b64("fake-kubernetes-ca-crt"), key: b64("fake-kubernetes-ca-key") },
  aggregatorCa: { crt: b64("fake-aggregator-ca-crt"), key: b64("fake-aggregator-ca-key") },
  etcdCa: { crt: b64("fake-etcd-ca-crt"), key: b64("fake-etcd-ca-key") },
  serviceAccountKey: b64("fake-service-account-key"),
};

/**
 * PEM-shaped fakes (never snapshotted) so the leak test has real "PRIVATE KEY" text to look for.
 * The armour is assembled at run time so no key-shaped text sits in the repository.
 */
function pemShapedSecrets(): TalosMachineSecrets {
  const armour = (label: string) =>
    b64([`-----BEGIN ${label}-----`, b64("fake"), `-----END ${label}-----`, ""].join("\n"));
  const privateKey = (kind: string) => armour([kind, "PRIVATE", "KEY"].join(" "));
  const ca = (kind: string) => ({ crt: armour("CERTIFICATE"), key: privateKey(kind) });
  return {
    ...fakeSecrets,
    osCa: ca("ED25519"),
    kubernetesCa: ca("EC"),
    aggregatorCa: ca("EC"),
    etcdCa: ca("EC"),
    serviceAccountKey: privateKey("RSA"),
  };
}

const INSTALLER = installerImage(
  "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515",
  "v1.13.9",
);

function controlPlane(overrides: Partial<MachineConfigInput> = {}): MachineConfigInput {
  return {
    role: MachineRole.controlPlane,
    clusterName: "homelab",
    hostname: "cp-1",
    address: "10.20.0.11/24",
    gateway: "10.20.0.1",
    nameservers: ["1.1.1.1", "9.9.9.9"],
    vip: "10.20.0.10",
    talosVersion: "v1.13.9",
    installerImage: INSTALLER,
    kubernetesVersion: "v1.35.0",
    secrets: fakeSecrets,
    ...overrides,
  };
}

function worker(overrides: Partial<MachineConfigInput> = {}): MachineConfigInput {
  return controlPlane({
    role: MachineRole.worker,
    hostname: "worker-1",
    address: "10.20.0.21/24",
    ...overrides,
  });
}

function gpuWorker(overrides: Partial<MachineConfigInput> = {}): MachineConfigInput {
  const runtime = runtimeNodeSettings({ gvisor: true, kata: true, nvidia: true });
  return worker({
    hostname: "gpu-1",
    address: "10.20.0.31/24",
    linkBusPath: "0000:00:12.0",
    nodeLabels: { ...runtime.labels, "homebrew-dev.io/pool": "gpu" },
    nodeTaints: [{ key: "nvidia.com/gpu", value: "present", effect: TaintEffect.noSchedule }],
    kernelModules: runtime.kernelModules,
    sysctls: runtime.sysctls,
    kubeletExtraArgs: { "max-pods": "64" },
    ...overrides,
  });
}

function patchedWorker(): MachineConfigInput {
  return worker({
    kubeletExtraArgs: { "max-pods": "110" },
    patches: [
      {
        machine: { kubelet: { extraArgs: { "max-pods": "250", "image-gc-high-threshold": "80" } } },
      },
      { machine: { features: { kubePrism: { port: 7446 } }, certSANs: ["worker-1.lan"] } },
      { machine: { certSANs: ["worker-1.home.arpa"] } },
    ],
  });
}

function patchedControlPlane(): MachineConfigInput {
  return controlPlane({
    patches: [
      { cluster: { allowSchedulingOnControlPlanes: true, apiServer: { certSANs: ["k8s.lan"] } } },
    ],
  });
}

const scenarios: [string, () => MachineConfigInput][] = [
  ["control plane", () => controlPlane()],
  ["worker", () => worker()],
  ["GPU worker", () => gpuWorker()],
  ["patched worker", patchedWorker],
  ["patched control plane", patchedControlPlane],
  [
    "control plane with every option",
    () =>
      controlPlane({
        installDisk: "/dev/vda",
        linkBusPath: "0000:06:12.0",
        podSubnet: "10.100.0.0/16",
        serviceSubnet: "10.101.0.0/16",
        nodeTaints: [{ key: "dedicated", effect: TaintEffect.preferNoSchedule }],
        nodeLabels: { "node-role.kubernetes.io/ingress": "" },
        sysctls: { "vm.max_map_count": "262144" },
        kernelModules: ["br_netfilter"],
        kubeletExtraArgs: { "rotate-server-certificates": "true" },
      }),
  ],
];

function byKind<K extends TalosNetworkDocument["kind"]>(
  docs: RenderedMachineConfig,
  kind: K,
): Extract<TalosNetworkDocument, { kind: K }>[] {
  return docs
    .slice(1)
    .filter((d): d is Extract<TalosNetworkDocument, { kind: K }> => "kind" in d && d.kind === kind);
}

/** Every property name anywhere in a value. */
function keysDeep(value: unknown, path = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => keysDeep(v, `${path}[${i}]`));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => [
      `${path}.${k}`,
      ...keysDeep(v, `${path}.${k}`),
    ]);
  }
  return [];
}

/** Every string anywhere in a value, plus its base64 decoding when it is base64. */
function textsDeep(value: unknown): string[] {
  if (typeof value === "string") {
    const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(value)
      ? Buffer.from(value, "base64").toString("utf8")
      : "";
    return [value, decoded];
  }
  if (Array.isArray(value)) return value.flatMap(textsDeep);
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(textsDeep);
  return [];
}

function thrownMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  return "did not throw";
}

// ---------------------------------------------------------------------------------------------
// The contract
// ---------------------------------------------------------------------------------------------

describe("the v1.13 schema", () => {
  it.each(scenarios)("accepts every document of the %s config", (_, input) => {
    const docs = render113(input());
    for (const doc of docs) {
      expect(validateTalosConfig(doc)).toEqual([]);
    }
  });

  it.each(scenarios)("accepts the %s config read back from its YAML", (_, input) => {
    const parsed = parseAllDocuments(renderMachineConfigYaml(input()));
    expect(parsed).toHaveLength(render113(input()).length);
    for (const doc of parsed) {
      expect(doc.errors).toEqual([]);
      expect(validateTalosConfig(doc.toJS())).toEqual([]);
    }
  });

  it("rejects what it should (the validator is live)", () => {
    const [config] = render113(worker());
    expect(
      validateTalosConfig({ ...config, machine: { ...config.machine, network: {} } }),
    ).not.toEqual([]);
    expect(
      validateTalosConfig({
        ...config,
        cluster: { ...config.cluster, controlPlane: { endpoint: "10.20.0.10:6443" } },
      }),
    ).not.toEqual([]);
  });
});

describe("renderMachineConfig", () => {
  it("puts the v1alpha1 document first, then the network documents in a fixed order", () => {
    const kinds = (docs: RenderedMachineConfig) =>
      docs.map((d) => ("kind" in d ? d.kind : `v1alpha1/${d.machine.type}`));
    expect(kinds(render113(controlPlane()))).toEqual([
      "v1alpha1/controlplane",
      "HostnameConfig",
      "ResolverConfig",
      "LinkAliasConfig",
      "LinkConfig",
      "Layer2VIPConfig",
    ]);
    expect(kinds(render113(worker()))).toEqual([
      "v1alpha1/worker",
      "HostnameConfig",
      "ResolverConfig",
      "LinkAliasConfig",
      "LinkConfig",
    ]);
  });

  it("points every node at the VIP endpoint", () => {
    for (const input of [controlPlane(), worker(), gpuWorker()]) {
      const [config] = render113(input);
      expect(config.cluster.controlPlane.endpoint).toBe(`https://10.20.0.10:${API_SERVER_PORT}`);
      expect(config.cluster.clusterName).toBe("homelab");
    }
  });

  it("announces the VIP on control planes only, on the aliased link", () => {
    const cp = render113(controlPlane());
    expect(byKind(cp, "Layer2VIPConfig")).toEqual<TalosLayer2VipConfig[]>([
      {
        apiVersion: "v1alpha1",
        kind: "Layer2VIPConfig",
        name: "10.20.0.10",
        link: NODE_LINK_ALIAS,
      },
    ]);
    expect(cp[0].cluster.apiServer?.certSANs).toEqual(["10.20.0.10"]);
    for (const input of [worker(), gpuWorker()]) {
      expect(byKind(render113(input), "Layer2VIPConfig")).toEqual([]);
    }
  });

  it("configures the node's own address, route, resolvers and hostname", () => {
    const docs = render113(worker());
    expect(docs.slice(1)).toEqual([
      { apiVersion: "v1alpha1", kind: "HostnameConfig", hostname: "worker-1" },
      {
        apiVersion: "v1alpha1",
        kind: "ResolverConfig",
        nameservers: [{ address: "1.1.1.1" }, { address: "9.9.9.9" }],
      },
      {
        apiVersion: "v1alpha1",
        kind: "LinkAliasConfig",
        name: "net0",
        selector: { match: "true" },
      },
      {
        apiVersion: "v1alpha1",
        kind: "LinkConfig",
        name: "net0",
        addresses: [{ address: "10.20.0.21/24" }],
        routes: [{ gateway: "10.20.0.1" }],
      },
    ]);
  });

  it("selects the NIC by PCI bus path when one is given", () => {
    expect(byKind(render113(gpuWorker()), "LinkAliasConfig")).toEqual<TalosLinkAliasConfig[]>([
      {
        apiVersion: "v1alpha1",
        kind: "LinkAliasConfig",
        name: "net0",
        selector: { match: 'link.bus_path == "0000:00:12.0"' },
      },
    ]);
  });

  it("installs from the installer image and tags every Kubernetes image with the version", () => {
    const [config] = render113(controlPlane());
    expect(config.machine.install).toEqual({
      disk: "/dev/sda",
      image: INSTALLER,
      wipe: false,
      grubUseUKICmdline: true,
    });
    expect(config.machine.kubelet.image).toBe("ghcr.io/siderolabs/kubelet:v1.35.0");
    expect(config.cluster.apiServer?.image).toBe("registry.k8s.io/kube-apiserver:v1.35.0");
    expect(config.cluster.controllerManager?.image).toBe(
      "registry.k8s.io/kube-controller-manager:v1.35.0",
    );
    expect(config.cluster.scheduler?.image).toBe("registry.k8s.io/kube-scheduler:v1.35.0");
    expect(config.cluster.proxy?.image).toBe("registry.k8s.io/kube-proxy:v1.35.0");
  });

  it("keeps the kubelet and etcd on the node subnet", () => {
    const [cp] = render113(controlPlane());
    expect(cp.machine.kubelet.nodeIP).toEqual({ validSubnets: ["10.20.0.0/24"] });
    expect(cp.cluster.etcd?.advertisedSubnets).toEqual(["10.20.0.0/24"]);
    const [w] = render113(worker());
    expect(w.machine.kubelet.nodeIP).toEqual({ validSubnets: ["10.20.0.0/24"] });
  });

  it("enforces Pod Security defaults on control planes", () => {
    const [config] = render113(controlPlane());
    expect(config.cluster.apiServer?.admissionControl).toEqual([
      {
        name: "PodSecurity",
        configuration: {
          apiVersion: "pod-security.admission.config.k8s.io/v1",
          kind: "PodSecurityConfiguration",
          defaults: {
            enforce: "baseline",
            "enforce-version": "latest",
            audit: "restricted",
            "audit-version": "latest",
            warn: "restricted",
            "warn-version": "latest",
          },
          exemptions: { usernames: [], runtimeClasses: [], namespaces: ["kube-system"] },
        },
      },
    ]);
  });

  it("gives a control plane its keys and control-plane sections", () => {
    const [config] = render113(controlPlane());
    expect(config.machine.ca).toEqual(fakeSecrets.osCa);
    expect(config.cluster.ca).toEqual(fakeSecrets.kubernetesCa);
    expect(config.cluster.aggregatorCA).toEqual(fakeSecrets.aggregatorCa);
    expect(config.cluster.etcd?.ca).toEqual(fakeSecrets.etcdCa);
    expect(config.cluster.serviceAccount).toEqual({ key: fakeSecrets.serviceAccountKey });
    expect(config.cluster.secretboxEncryptionSecret).toBe(fakeSecrets.secretboxKey);
    expect(config.machine.token).toBe(fakeSecrets.trustdToken);
    expect(config.cluster.token).toBe(fakeSecrets.bootstrapToken);
  });

  it("gives a worker CA certificates only and no control-plane sections", () => {
    for (const input of [worker(), gpuWorker(), patchedWorker()]) {
      const [config] = render113(input);
      expect(config.machine.ca).toEqual({ crt: fakeSecrets.osCa.crt });
      expect(config.cluster.ca).toEqual({ crt: fakeSecrets.kubernetesCa.crt });
      expect(Object.keys(config.cluster)).toEqual([
        "id",
        "secret",
        "controlPlane",
        "clusterName",
        "network",
        "token",
        "ca",
        "discovery",
      ]);
      // A taint's `key` is its name; every other `key` would be key material.
      const keyFields = keysDeep(config).filter(
        (k) => k.endsWith(".key") && !k.includes(".registerWithTaints["),
      );
      expect(keyFields).toEqual([]);
    }
  });

  it("never puts private key text in a worker config", () => {
    const secrets = pemShapedSecrets();
    const leaks = (input: MachineConfigInput) =>
      render113(input)
        .flatMap(textsDeep)
        .filter((text) => text.includes("PRIVATE KEY"));
    // The fixture does carry keys: a control plane gets them.
    expect(leaks(controlPlane({ secrets })).length).toBeGreaterThan(0);
    for (const input of [worker({ secrets }), gpuWorker({ secrets })]) {
      expect(leaks(input)).toEqual([]);
      expect(renderMachineConfigYaml(input)).not.toContain("PRIVATE KEY");
    }
  });

  it("labels and taints a GPU worker and loads the NVIDIA modules", () => {
    const [config] = render113(gpuWorker());
    expect(config.machine.nodeLabels).toEqual({
      "homebrew-dev.io/pool": "gpu",
      "homebrew-dev.io/runtime.gvisor": "true",
      "homebrew-dev.io/runtime.kata": "true",
      "homebrew-dev.io/runtime.nvidia": "true",
      "nvidia.com/gpu.present": "true",
    });
    expect(config.machine.nodeTaints).toEqual({ "nvidia.com/gpu": "present:NoSchedule" });
    // Workers cannot change their own taints after registration (NodeRestriction).
    expect(config.machine.kubelet.extraConfig).toEqual({
      registerWithTaints: [{ key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" }],
    });
    expect(config.machine.kernel).toEqual({
      modules: [
        { name: "nvidia" },
        { name: "nvidia_uvm" },
        { name: "nvidia_drm" },
        { name: "nvidia_modeset" },
      ],
    });
    // The GPU pool's image has gVisor and Kata too: runsc needs user namespaces.
    expect(config.machine.sysctls).toEqual({
      "net.core.bpf_jit_harden": "1",
      "user.max_user_namespaces": "11255",
    });
    expect(config.machine.kubelet.extraArgs).toEqual({ "max-pods": "64" });
  });

  it("taints a control plane through machine.nodeTaints only", () => {
    const [config] = render113(
      controlPlane({
        nodeTaints: [
          { key: "dedicated", value: "infra", effect: TaintEffect.noExecute },
          { key: "b-no-value", effect: TaintEffect.preferNoSchedule },
        ],
      }),
    );
    expect(config.machine.nodeTaints).toEqual({
      "b-no-value": "PreferNoSchedule",
      dedicated: "infra:NoExecute",
    });
    expect(config.machine.kubelet.extraConfig).toBeUndefined();
  });

  it("keeps control planes out of external load balancers, as Talos does by default", () => {
    const [config] = render113(controlPlane({ nodeLabels: { zone: "a" } }));
    expect(config.machine.nodeLabels).toEqual({
      "node.kubernetes.io/exclude-from-external-load-balancers": "",
      zone: "a",
    });
  });

  it("loads each kernel module once, in the given order", () => {
    const [config] = render113(worker({ kernelModules: ["nvidia", "br_netfilter", "nvidia"] }));
    expect(config.machine.kernel?.modules).toEqual([{ name: "nvidia" }, { name: "br_netfilter" }]);
  });

  it("pins every @default", () => {
    const [cp, ...cpNetwork] = render113(controlPlane());
    const [w] = render113(worker());
    expect(cp.machine.install.disk).toBe("/dev/sda");
    expect(cp.cluster.network).toEqual({
      cni: { name: "flannel", flannel: { kubeNetworkPoliciesEnabled: true } },
      dnsDomain: "cluster.local",
      podSubnets: ["10.244.0.0/16"],
      serviceSubnets: ["10.96.0.0/12"],
    });
    expect(w.cluster.network).toEqual(cp.cluster.network);
    expect(cpNetwork.find((d) => d.kind === "LinkAliasConfig")).toMatchObject({
      selector: { match: "true" },
    });
    for (const config of [cp, w]) {
      expect(config.machine.kubelet.extraArgs).toBeUndefined();
      expect(config.machine.kubelet.extraConfig).toBeUndefined();
      expect(config.machine.nodeTaints).toBeUndefined();
      expect(config.machine.kernel).toBeUndefined();
      expect(config.machine.sysctls).toBeUndefined();
      expect(config.machine.features).toEqual({
        diskQuotaSupport: true,
        kubePrism: { enabled: true, port: 7445 },
        hostDNS: { enabled: true, forwardKubeDNSToHost: true },
      });
      expect(config.cluster.discovery).toEqual({
        enabled: true,
        registries: { kubernetes: { disabled: true } },
      });
    }
    expect(w.machine.nodeLabels).toBeUndefined();
    expect(cp.machine.nodeLabels).toEqual({
      "node.kubernetes.io/exclude-from-external-load-balancers": "",
    });
  });

  it("validates before rendering", () => {
    expect(thrownMessage(() => render113(worker({ gateway: "nope" })))).toBe(
      'invalid machine config input for "worker-1":\n  - gateway: got "nope"; expected an IPv4 address',
    );
  });
});

describe("patches", () => {
  it("merge last: objects merge, arrays and scalars replace, later patches win", () => {
    const [config] = render113(patchedWorker());
    // Patch beats the kubeletExtraArgs field; keys not in the patch survive.
    expect(config.machine.kubelet.extraArgs).toEqual({
      "max-pods": "250",
      "image-gc-high-threshold": "80",
    });
    // A nested object merges: only the port changes.
    expect(config.machine.features?.kubePrism).toEqual({ enabled: true, port: 7446 });
    // An array replaces instead of appending.
    expect(config.machine.certSANs).toEqual(["worker-1.home.arpa"]);
    // Untouched sections are still rendered.
    expect(config.machine.kubelet.nodeIP).toEqual({ validSubnets: ["10.20.0.0/24"] });
  });

  it("can extend a control plane", () => {
    const [config] = render113(patchedControlPlane());
    expect(config.cluster.allowSchedulingOnControlPlanes).toBe(true);
    expect(config.cluster.apiServer?.certSANs).toEqual(["k8s.lan"]);
    expect(config.cluster.apiServer?.admissionControl).toHaveLength(1);
  });

  it("do not touch the network documents or the input", () => {
    const input = patchedWorker();
    const before = JSON.stringify(input);
    const docs = render113(input);
    expect(JSON.stringify(input)).toBe(before);
    expect(docs.slice(1)).toEqual(render113(worker()).slice(1));
  });

  it("skip undefined and never write through __proto__", () => {
    const patch = JSON.parse('{"a": {"__proto__": {"polluted": true}}, "b": 2}') as unknown;
    const merged = deepMerge({ a: { x: 1 }, b: 1, c: undefined }, patch) as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(merged.b).toBe(2);
    expect(Object.getPrototypeOf(merged.a)).toBe(Object.prototype);
    expect(deepMerge({ a: 1 }, { a: undefined })).toEqual({ a: 1 });
  });
});

describe("renderMachineConfigYaml", () => {
  it.each(scenarios.slice(0, 4))("renders the %s config deterministically", (_, input) => {
    const yaml = renderMachineConfigYaml(input());
    expect(renderMachineConfigYaml(input())).toBe(yaml);
    expect(yaml).toMatchSnapshot();
  });

  it("does not depend on the order labels, sysctls and taints are given in", () => {
    const a = gpuWorker({
      nodeLabels: { b: "2", a: "1" },
      sysctls: { "vm.b": "2", "vm.a": "1" },
      nodeTaints: [
        { key: "y", effect: TaintEffect.noSchedule },
        { key: "x", effect: TaintEffect.noSchedule },
      ],
    });
    const b = gpuWorker({
      nodeLabels: { a: "1", b: "2" },
      sysctls: { "vm.a": "1", "vm.b": "2" },
      nodeTaints: [
        { key: "x", effect: TaintEffect.noSchedule },
        { key: "y", effect: TaintEffect.noSchedule },
      ],
    });
    expect(renderMachineConfigYaml(a)).toBe(renderMachineConfigYaml(b));
  });

  it("keeps base64 on one line and writes no anchors", () => {
    const longCrt = b64("fake-".repeat(200));
    const yaml = renderMachineConfigYaml(
      controlPlane({ secrets: { ...fakeSecrets, osCa: { crt: longCrt, key: longCrt } } }),
    );
    expect(yaml).toContain(`crt: ${longCrt}\n`);
    expect(yaml).not.toMatch(/[&*]a\d/);
  });
});

describe("runtimeNodeSettings", () => {
  it.each([
    [{ gvisor: false, kata: false, nvidia: false }, [], {}, {}],
    [
      { gvisor: true, kata: false, nvidia: false },
      [],
      { "user.max_user_namespaces": "11255" },
      { "homebrew-dev.io/runtime.gvisor": "true" },
    ],
    [
      { gvisor: false, kata: true, nvidia: false },
      [],
      {},
      { "homebrew-dev.io/runtime.kata": "true" },
    ],
    [
      { gvisor: false, kata: false, nvidia: true },
      ["nvidia", "nvidia_uvm", "nvidia_drm", "nvidia_modeset"],
      { "net.core.bpf_jit_harden": "1" },
      { "homebrew-dev.io/runtime.nvidia": "true", "nvidia.com/gpu.present": "true" },
    ],
  ])("settings for %o", (features, kernelModules, sysctls, labels) => {
    expect(runtimeNodeSettings(features)).toEqual({ kernelModules, sysctls, labels });
  });

  it("produces labels a worker may set on itself", () => {
    const all = runtimeNodeSettings({ gvisor: true, kata: true, nvidia: true });
    expect(machineConfigInputProblems(worker({ nodeLabels: all.labels }))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Validation: one "fails when" per rule, with the exact message
// ---------------------------------------------------------------------------------------------

describe("validateMachineConfigInput", () => {
  const cases: [string, MachineConfigInput, string][] = [
    [
      "the role is unknown",
      controlPlane({ role: "master" as unknown as MachineRole }),
      'role: got "master"; expected one of "controlplane", "worker"',
    ],
    [
      "the cluster name is not a DNS label",
      controlPlane({ clusterName: "Home_Lab" }),
      `clusterName: got "Home_Lab"; expected a DNS label (a-z, 0-9, '-', at most 63)`,
    ],
    [
      "the hostname is not a DNS label",
      controlPlane({ hostname: "cp.1" }),
      `hostname: got "cp.1"; expected a DNS label (a-z, 0-9, '-', at most 63)`,
    ],
    [
      "the address has no prefix length",
      controlPlane({ address: "10.20.0.11" }),
      'address: got "10.20.0.11"; expected an IPv4 address with a /8 to /30 prefix, e.g. 10.20.0.11/24',
    ],
    [
      "the address is the network address",
      controlPlane({ address: "10.20.0.0/24" }),
      'address: got "10.20.0.0/24"; expected a host address, not the network or broadcast address of 10.20.0.0/24',
    ],
    [
      "the gateway is not an IPv4 address",
      controlPlane({ gateway: "10.20.0.256" }),
      'gateway: got "10.20.0.256"; expected an IPv4 address',
    ],
    [
      "the gateway is outside the node subnet",
      controlPlane({ gateway: "10.30.0.1" }),
      `gateway: got "10.30.0.1"; expected an address inside the node subnet 10.20.0.0/24 other than the node's own`,
    ],
    [
      "there is no nameserver",
      controlPlane({ nameservers: [] }),
      "nameservers: got []; expected at least one DNS server address",
    ],
    [
      "a nameserver is not an IP address",
      controlPlane({ nameservers: ["1.1.1.1", "dns.google"] }),
      'nameservers[1]: got "dns.google"; expected an IPv4 or IPv6 address',
    ],
    [
      "the VIP is not an IPv4 address",
      controlPlane({ vip: "api.lan" }),
      'vip: got "api.lan"; expected an IPv4 address',
    ],
    [
      "the VIP is the node's own address",
      controlPlane({ vip: "10.20.0.11" }),
      `vip: got "10.20.0.11"; expected an unused address inside the node subnet 10.20.0.0/24 (not the node's own, not the gateway)`,
    ],
    [
      "the install disk is not a device path",
      controlPlane({ installDisk: "sda" }),
      'installDisk: got "sda"; expected a device path such as /dev/sda',
    ],
    [
      "the installer image has neither tag nor digest",
      controlPlane({ installerImage: "factory.talos.dev/nocloud-installer/abc" }),
      'installerImage: got "factory.talos.dev/nocloud-installer/abc"; expected an image reference with a tag or digest, e.g. factory.talos.dev/nocloud-installer/<schematic-id>:v1.13.9',
    ],
    [
      "the Kubernetes version lacks its v",
      controlPlane({ kubernetesVersion: "1.35.0" }),
      'kubernetesVersion: got "1.35.0"; expected a version such as v1.35.0',
    ],
    [
      "the bus path is not a PCI address",
      controlPlane({ linkBusPath: "00:12.0" }),
      'linkBusPath: got "00:12.0"; expected a PCI bus path such as 0000:00:12.0',
    ],
    [
      "a secret is not base64",
      controlPlane({
        secrets: { ...fakeSecrets, osCa: { ...fakeSecrets.osCa, key: "not base64!" } },
      }),
      "secrets.osCa.key: got (hidden); expected non-empty standard base64",
    ],
    [
      "a token has the wrong shape",
      controlPlane({ secrets: { ...fakeSecrets, bootstrapToken: "ABCDEF.0123456789ABCDEF" } }),
      "secrets.bootstrapToken: got (hidden); expected a token of the form [a-z0-9]{6}.[a-z0-9]{16}",
    ],
    [
      "a label key is malformed",
      controlPlane({ nodeLabels: { "-bad": "x" } }),
      'nodeLabels["-bad"]: got "-bad"; expected a label key: [prefix/]name, name at most 63 characters',
    ],
    [
      "a worker sets a label NodeRestriction forbids",
      worker({ nodeLabels: { "node-role.kubernetes.io/gpu": "" } }),
      'nodeLabels["node-role.kubernetes.io/gpu"]: got "node-role.kubernetes.io/gpu"; expected a key outside kubernetes.io and k8s.io (workers label themselves with kubelet credentials, which NodeRestriction limits there to node.kubernetes.io/*, kubelet.kubernetes.io/* and a few well-known keys)',
    ],
    [
      "a label value is malformed",
      controlPlane({ nodeLabels: { team: "has space" } }),
      'nodeLabels["team"]: got "has space"; expected a label value: empty or at most 63 of [A-Za-z0-9-_.]',
    ],
    [
      "a taint key is malformed",
      controlPlane({ nodeTaints: [{ key: "a/b/c", effect: TaintEffect.noSchedule }] }),
      'nodeTaints[0].key: got "a/b/c"; expected a taint key: [prefix/]name, name at most 63 characters',
    ],
    [
      "a taint key is given twice",
      controlPlane({
        nodeTaints: [
          { key: "gpu", effect: TaintEffect.noSchedule },
          { key: "gpu", effect: TaintEffect.noExecute },
        ],
      }),
      'nodeTaints[1].key: got "gpu"; expected each taint key once',
    ],
    [
      "a taint value is malformed",
      controlPlane({ nodeTaints: [{ key: "gpu", value: "a:b", effect: TaintEffect.noSchedule }] }),
      'nodeTaints[0].value: got "a:b"; expected empty or at most 63 of [A-Za-z0-9-_.]',
    ],
    [
      "a taint effect is unknown",
      controlPlane({ nodeTaints: [{ key: "gpu", effect: "NoRun" as TaintEffect }] }),
      'nodeTaints[0].effect: got "NoRun"; expected one of NoSchedule, PreferNoSchedule, NoExecute',
    ],
    [
      "a kernel module name is a file name",
      controlPlane({ kernelModules: ["nvidia.ko"] }),
      'kernelModules[0]: got "nvidia.ko"; expected a module name such as nvidia_uvm',
    ],
    [
      "a sysctl name is malformed",
      controlPlane({ sysctls: { "NET.core.somaxconn": "1024" } }),
      'sysctls["NET.core.somaxconn"]: got "NET.core.somaxconn"; expected a sysctl name such as net.core.somaxconn',
    ],
    [
      "a sysctl value is empty",
      controlPlane({ sysctls: { "net.core.somaxconn": "" } }),
      'sysctls["net.core.somaxconn"]: got ""; expected a non-empty one-line value',
    ],
    [
      "a kubelet flag keeps its dashes",
      controlPlane({ kubeletExtraArgs: { "--max-pods": "250" } }),
      'kubeletExtraArgs["--max-pods"]: got "--max-pods"; expected a kubelet flag name without leading dashes, such as max-pods',
    ],
    [
      "the pod subnet has host bits",
      controlPlane({ podSubnet: "10.244.0.1/16" }),
      'podSubnet: got "10.244.0.1/16"; expected an IPv4 network in CIDR form, e.g. 10.244.0.0/16',
    ],
    [
      "the pod subnet overlaps the node subnet",
      controlPlane({ podSubnet: "10.20.0.0/16" }),
      'podSubnet: got "10.20.0.0/16"; expected a network that does not overlap the node subnet 10.20.0.0/24',
    ],
    [
      "the service subnet overlaps the pod subnet",
      controlPlane({ serviceSubnet: "10.244.128.0/20" }),
      'serviceSubnet: got "10.244.128.0/20"; expected a network that does not overlap podSubnet 10.244.0.0/16',
    ],
    [
      "a worker patch adds a control-plane-only section",
      worker({ patches: [{ cluster: { etcd: { ca: fakeSecrets.etcdCa } } }] }),
      "patches[0].cluster.etcd: got (hidden); expected nothing on a worker (CA keys and control-plane-only sections stay on control planes)",
    ],
  ];

  it.each(cases)("fails when %s", (_, input, message) => {
    expect(thrownMessage(() => validateMachineConfigInput(input))).toBe(
      `invalid machine config input for ${JSON.stringify(input.hostname)}:\n  - ${message}`,
    );
  });

  it("never echoes secret values", () => {
    const message = thrownMessage(() =>
      validateMachineConfigInput(
        controlPlane({ secrets: { ...fakeSecrets, clusterSecret: "s3cr3t value" } }),
      ),
    );
    expect(message).toContain("secrets.clusterSecret: got (hidden)");
    expect(message).not.toContain("s3cr3t");
  });

  it("collects every problem and throws once", () => {
    expect(
      thrownMessage(() =>
        validateMachineConfigInput(
          worker({ gateway: "10.30.0.1", installDisk: "sda", kernelModules: ["a b"] }),
        ),
      ),
    ).toBe(
      [
        'invalid machine config input for "worker-1":',
        `  - gateway: got "10.30.0.1"; expected an address inside the node subnet 10.20.0.0/24 other than the node's own`,
        '  - installDisk: got "sda"; expected a device path such as /dev/sda',
        '  - kernelModules[0]: got "a b"; expected a module name such as nvidia_uvm',
      ].join("\n"),
    );
  });

  it("lets control planes set kubernetes.io labels (Talos applies them as admin)", () => {
    expect(
      machineConfigInputProblems(
        controlPlane({ nodeLabels: { "node-role.kubernetes.io/infra": "" } }),
      ),
    ).toEqual([]);
  });

  it("lets workers set node.kubernetes.io and well-known labels", () => {
    expect(
      machineConfigInputProblems(
        worker({
          nodeLabels: {
            "node.kubernetes.io/instance-type": "gpu-large",
            "topology.kubernetes.io/zone": "rack-1",
            "example.com/team": "ml",
          },
        }),
      ),
    ).toEqual([]);
  });

  it("does not require keys or control-plane material from workers", () => {
    const empty = { crt: fakeSecrets.osCa.crt, key: "" };
    expect(
      machineConfigInputProblems(
        worker({
          secrets: {
            ...fakeSecrets,
            secretboxKey: "",
            serviceAccountKey: "",
            osCa: empty,
            kubernetesCa: { crt: fakeSecrets.kubernetesCa.crt, key: "" },
            aggregatorCa: { crt: "", key: "" },
            etcdCa: { crt: "", key: "" },
          },
        }),
      ),
    ).toEqual([]);
  });
});
