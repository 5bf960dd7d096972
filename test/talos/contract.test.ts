import { existsSync, readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import {
  CONTRACT_KINDS,
  CONTROL_PLANE_ONLY_KINDS,
  V1ALPHA1_CONFLICTS,
  contractProblems,
} from "../../components/talos/contract";
import {
  MachineRole,
  TaintEffect,
  renderMachineConfig,
  renderMachineConfigYaml,
  type MachineConfigInput,
  type TalosMachineSecrets,
} from "../../components/talos/machineConfig";
import { installerImage } from "../../components/talos/schematic";
import {
  TALOS_SCHEMA_PATHS,
  TALOS_SCHEMA_UPSTREAMS,
  schemaKinds,
  validateTalosConfig,
} from "./schema";

/**
 * Contract 1.14 (siderolabs/talos v1.14.0-rc.1, pkg/machinery/config): every document is valid
 * against the 1.14 schema, the set passes Talos's document-level rules (components/talos/
 * contract.ts, each broken once below), and a node renders the same effective settings at both
 * contracts.
 */

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
const pemOf = (label: string, body: string) =>
  b64([`-----BEGIN ${label}-----`, b64(body), `-----END ${label}-----`, ""].join("\n"));
const key = (body: string) => pemOf(["EC", "PRIVATE", "KEY"].join(" "), body);
const SECRETS: TalosMachineSecrets = {
  clusterId: b64("fake-cluster-id-0123456789abcdef"),
  clusterSecret: Buffer.alloc(32, 7).toString("base64"),
  bootstrapToken: "abcdef.0123456789abcdef",
  trustdToken: "ghijkl.0123456789abcdef",
  secretboxKey: Buffer.alloc(32, 9).toString("base64"),
  osCa: { crt: pemOf("CERTIFICATE", "os"), key: key("os") },
  kubernetesCa: { crt: pemOf("CERTIFICATE", "k8s"), key: key("k8s") },
  aggregatorCa: { crt: pemOf("CERTIFICATE", "agg"), key: key("agg") },
  etcdCa: { crt: pemOf("CERTIFICATE", "etcd"), key: key("etcd") },
  serviceAccountKey: key("sa"),
};
const SCHEMATIC = "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515";

const node = (
  role: MachineRole,
  talosVersion: string,
  extra: Partial<MachineConfigInput> = {},
): MachineConfigInput => ({
  role,
  clusterName: "homelab",
  hostname: role === MachineRole.controlPlane ? "cp-1" : "gpu-1",
  address: role === MachineRole.controlPlane ? "10.20.0.11/24" : "10.20.0.31/24",
  gateway: "10.20.0.1",
  nameservers: ["1.1.1.1"],
  vip: "10.20.0.10",
  talosVersion,
  installerImage: installerImage(SCHEMATIC, talosVersion),
  kubernetesVersion: "v1.35.2",
  secrets: SECRETS,
  ...extra,
});
const gpuWorker = (v: string) =>
  node(MachineRole.worker, v, {
    nodeLabels: { "homebrew-dev.io/runtime-nvidia": "true" },
    nodeTaints: [{ key: "nvidia.com/gpu", value: "present", effect: TaintEffect.noSchedule }],
    kernelModules: ["nvidia", "nvidia_uvm"],
    sysctls: { "net.core.bpf_jit_harden": "1", "user.max_user_namespaces": "11255" },
    kubeletExtraArgs: { "rotate-server-certificates": "true" },
  });
const NODES = {
  "control plane": (v: string) => node(MachineRole.controlPlane, v),
  "GPU worker": gpuWorker,
};
type Doc = Record<string, unknown>;
const docsOf = (input: MachineConfigInput): Doc[] =>
  parseAllDocuments(renderMachineConfigYaml(input)).map((d) => d.toJS() as Doc);

describe("the vendored Talos schemas", () => {
  it.each(["1.13", "1.14"] as const)("contract %s is identical to the upstream copy", (c) => {
    if (!existsSync(TALOS_SCHEMA_UPSTREAMS[c])) return;
    expect(readFileSync(TALOS_SCHEMA_PATHS[c], "utf8")).toBe(
      readFileSync(TALOS_SCHEMA_UPSTREAMS[c], "utf8"),
    );
  });

  it("list the kinds each contract decodes (one upstream schema bug noted)", () => {
    expect(CONTRACT_KINDS["1.13"]).toEqual(schemaKinds("1.13"));
    // The schema's enum says UnattendedInstall; Talos decodes UnattendedInstallConfig.
    expect(
      [...CONTRACT_KINDS["1.14"]]
        .map((k) => (k === "UnattendedInstallConfig" ? "UnattendedInstall" : k))
        .sort(),
    ).toEqual(schemaKinds("1.14"));
    for (const kind of [...Object.keys(V1ALPHA1_CONFLICTS), ...CONTROL_PLANE_ONLY_KINDS]) {
      expect(CONTRACT_KINDS["1.14"], kind).toContain(kind);
    }
  });
});

describe.each(Object.entries(NODES))("the %s at contract 1.14", (_, make) => {
  const input = make("v1.14.7");

  it("is valid, document by document, against the 1.14 schema (read back from its YAML)", () => {
    const docs = docsOf(input);
    expect(docs.length).toBeGreaterThan(10);
    for (const doc of docs) {
      expect(validateTalosConfig(doc, "1.14"), String(doc["kind"] ?? "v1alpha1")).toEqual([]);
    }
  });

  it("passes Talos's document-level rules, and would not pass at 1.13", () => {
    const docs = docsOf(input);
    expect(contractProblems(docs, "1.14")).toEqual([]);
    expect(contractProblems(docs, "1.13")).toEqual([
      expect.stringMatching(/^kinds Talos 1\.13 does not know: DiscoveryIdentityConfig, /),
    ]);
  });

  it("keeps in v1alpha1 only what no document replaces", () => {
    const [v1] = docsOf(input);
    expect(Object.keys(v1!["machine"] as Doc).sort()).toEqual(["ca", "features", "token", "type"]);
    expect(Object.keys(v1!["cluster"] as Doc).sort()).toEqual(
      input.role === MachineRole.controlPlane ? ["etcd", "token"] : ["token"],
    );
  });
});

describe("the 1.13 layout", () => {
  it.each(Object.entries(NODES))(
    "of the %s passes the rules at 1.13, and is refused at 1.14",
    (_, make) => {
      const docs = docsOf(make("v1.13.9"));
      expect(contractProblems(docs, "1.13")).toEqual([]);
      // Every v1alpha1 field 1.14 moved is a conflict once a replacing document joins it.
      const withKubelet = [...docs, { apiVersion: "v1alpha1", kind: "KubeletConfig", image: "x" }];
      expect(contractProblems(withKubelet, "1.14")).toContain(
        "kubelet config is already set in v1alpha1 config (.machine.kubelet)",
      );
    },
  );
});

/** A 1.14 control plane, with `edit` applied to its documents. */
const cp114 = (edit: (docs: Doc[]) => Doc[]) =>
  contractProblems(edit(docsOf(node(MachineRole.controlPlane, "v1.14.7"))), "1.14");
const w114 = (edit: (docs: Doc[]) => Doc[]) =>
  contractProblems(edit(docsOf(gpuWorker("v1.14.7"))), "1.14");
const without = (kind: string) => (docs: Doc[]) => docs.filter((d) => d["kind"] !== kind);
const editV1 = (f: (v1: Doc) => void) => (docs: Doc[]) => {
  const v1 = structuredClone(docs[0]!);
  f(v1);
  return [v1, ...docs.slice(1)];
};

describe("each document-level rule, broken once", () => {
  it("one v1alpha1 document, each other document once by kind and name", () => {
    expect(cp114((d) => [...d, d[0]!])).toContain("duplicate v1alpha1.Config");
    expect(
      cp114((d) => [
        ...d,
        { apiVersion: "v1alpha1", kind: "SysctlConfig", params: {} },
        { apiVersion: "v1alpha1", kind: "SysctlConfig", params: {} },
      ]),
    ).toContain("duplicate document: SysctlConfig/");
    // Named kinds are one per name: two authorizers are fine, two named rbac are not.
    expect(
      cp114((d) => [
        ...d,
        { apiVersion: "v1alpha1", kind: "KubeAuthorizerConfig", name: "rbac", type: "RBAC" },
      ]),
    ).toEqual(["duplicate document: KubeAuthorizerConfig/rbac"]);
  });

  it("a setting in v1alpha1 and in the document that replaces it", () => {
    expect(
      cp114(editV1((v) => ((v["cluster"] as Doc)["secretboxEncryptionSecret"] = "x"))),
    ).toEqual(["etcd encryption config is already set in v1alpha1 config"]);
    expect(cp114(editV1((v) => ((v["machine"] as Doc)["nodeLabels"] = { a: "b" })))).toEqual([
      ".machine.nodeLabels is already set in v1alpha1 config",
    ]);
    expect(
      cp114(
        editV1((v) => ((v["cluster"] as Doc)["controlPlane"] = { endpoint: "https://x:6443" })),
      ),
    ).toEqual([
      "cluster endpoint is already set in the v1alpha1 config (.cluster.controlPlane.endpoint). Please remove it and use only the new KubeClusterConfig document to avoid conflicts",
    ]);
    expect(
      cp114(
        editV1((v) => (((v["machine"] as Doc)["features"] as Doc)["hostDNS"] = { enabled: true })),
      ),
    ).toEqual([".machine.features.hostDNS is already set in v1alpha1 config"]);
  });

  it("control-plane documents on a worker, and a CA key there", () => {
    expect(
      w114((d) => [...d, { apiVersion: "v1alpha1", kind: "KubeEtcdEncryptionConfig", config: {} }]),
    ).toContain(
      "the following document kinds are only allowed on control plane machines: [KubeEtcdEncryptionConfig]",
    );
    expect(w114(editV1((v) => (((v["machine"] as Doc)["ca"] as Doc)["key"] = "x")))).toEqual([
      "machine.ca.key is not allowed on a worker",
    ]);
  });

  it("a control plane without Secret encryption", () => {
    expect(cp114(without("KubeEtcdEncryptionConfig"))).toEqual([
      "etcd encryption config is required for control plane machines running kube-apiserver",
    ]);
  });

  it("discovery without the cluster identity", () => {
    expect(cp114(without("DiscoveryIdentityConfig"))).toEqual([
      "cluster ID (.cluster.id or DiscoveryIdentityConfig) should be set when cluster discovery (DiscoveryServiceConfig) is enabled",
      "cluster secret (.cluster.secret or DiscoveryIdentityConfig) should be set when cluster discovery (DiscoveryServiceConfig) is enabled",
    ]);
  });

  it("a 1.14 control plane that would run no API server, or one that authorizes nothing", () => {
    expect(cp114(without("KubeNetworkConfig"))).toEqual([
      "a control plane at 1.14 runs no kube-apiserver without KubeNetworkConfig",
    ]);
    expect(cp114(without("KubeAuthorizerConfig"))).toEqual([
      "KubeAPIServerConfig without KubeAuthorizerConfig documents: no authorizer is configured",
    ]);
  });

  it("an API server whose probes would be refused (no anonymous access to its health paths)", () => {
    const message =
      "KubeAPIServerConfig probes /livez and /readyz without credentials: KubeAuthenticationConfig must allow anonymous requests to them";
    expect(cp114(without("KubeAuthenticationConfig"))).toEqual([message]);
    const noReadyz = (docs: Doc[]) =>
      docs.map((d) =>
        d["kind"] === "KubeAuthenticationConfig"
          ? JSON.parse(JSON.stringify(d).replace('{"path":"/readyz"},', ""))
          : d,
      );
    expect(cp114(noReadyz)).toEqual([message]);
    // Without probes the authentication config is not needed for them.
    const noProbes = (docs: Doc[]) =>
      without("KubeAuthenticationConfig")(docs).map((d) =>
        d["kind"] === "KubeAPIServerConfig" ? { ...d, startupProbes: false } : d,
      );
    expect(cp114(noProbes)).toEqual([]);
  });

  it("a secretbox key renamed (siderolabs/talos#13885)", () => {
    const rename = (docs: Doc[]) =>
      docs.map((d) =>
        d["kind"] === "KubeEtcdEncryptionConfig"
          ? JSON.parse(JSON.stringify(d).replace('"name":"key2"', '"name":"key1"'))
          : d,
      );
    expect(cp114(rename)).toEqual([
      'KubeEtcdEncryptionConfig: the secretbox key must be named key2, as the 1.13 contract named it (got ["key1"]): Secrets encrypted under the old name could no longer be read',
    ]);
  });

  it("a kind the contract does not know", () => {
    expect(cp114((d) => [...d, { apiVersion: "v1alpha1", kind: "UnattendedInstall" }])).toEqual([
      "kinds Talos 1.14 does not know: UnattendedInstall",
    ]);
  });

  it("the renderer refuses to hand out a config that breaks a rule", () => {
    expect(() =>
      renderMachineConfig(
        node(MachineRole.controlPlane, "v1.14.7", {
          patches: [{ cluster: { secretboxEncryptionSecret: "x" } } as never],
        }),
      ),
    ).toThrow(
      /the 1\.14 machine config of "cp-1" breaks Talos's rules:\n {2}- etcd encryption config is already set in v1alpha1 config/,
    );
  });
});
