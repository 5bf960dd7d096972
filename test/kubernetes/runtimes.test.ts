import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config";
import {
  KATA_POD_OVERHEAD,
  runtimeClassName,
  runtimeClasses,
} from "../../components/kubernetes/runtimes";
import { planNodes } from "../../components/talos/cluster";
import { render113 } from "../helpers/talos";
import { machineConfigInput, talosClusterArgs } from "../../components/talos/cluster";
import { validateK8s } from "../helpers/k8s";

const config = parseStackConfig({
  environment: "staging",
  proxmox: {
    endpoint: "https://pve1:8006/",
    hosts: [{ name: "pve1", cpuCores: 64, memoryMiB: 262144, gpus: 1, gpuMapping: "gpu" }],
  },
  cluster: {
    name: "lab",
    talosVersion: "v1.13.9",
    kubernetesVersion: "v1.35.2",
    network: { subnet: "10.0.0.0/24", gateway: "10.0.0.1", vip: "10.0.0.10" },
    controlPlane: { nodes: [{ name: "cp-1", ip: "10.0.0.11" }] },
    workerPools: [
      { name: "sandbox", nodes: [{ name: "s-1", ip: "10.0.0.21" }], runtimes: ["gvisor", "kata"] },
      {
        name: "gpu",
        nodes: [{ name: "g-1", ip: "10.0.0.31" }],
        gpusPerNode: 1,
        gpuMemoryGiB: 24,
        runtimes: ["nvidia"],
        taints: [{ key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" }],
      },
    ],
  },
});

describe("runtime classes from the pools' declaration", () => {
  const classes = runtimeClasses(config.cluster);

  it("creates one RuntimeClass per offered runtime with its handler", () => {
    expect(classes.map((c) => [c.metadata.name, c.handler])).toEqual([
      ["gvisor", "runsc"],
      ["kata", "kata"],
      ["nvidia", "nvidia"],
    ]);
  });

  it("accounts for the Kata micro-VM overhead", () => {
    expect(classes.find((c) => c.metadata.name === "kata")?.overhead).toEqual({
      podFixed: { ...KATA_POD_OVERHEAD },
    });
    expect(KATA_POD_OVERHEAD).toEqual({ cpu: "250m", memory: "160Mi" });
  });

  it("schedules onto the nodes the Talos side labels, tolerating their taints", () => {
    const nvidia = classes.find((c) => c.metadata.name === "nvidia")!;
    expect(nvidia.scheduling).toEqual({
      nodeSelector: { "homebrew-dev.io/runtime.nvidia": "true", "nvidia.com/gpu.present": "true" },
      tolerations: [
        { key: "nvidia.com/gpu", operator: "Equal", value: "present", effect: "NoSchedule" },
      ],
    });
    // The same declaration labels the nodes: the selectors match what the machine config sets.
    const fake = Buffer.from("fake").toString("base64");
    const ca = { crt: fake, key: fake };
    const bundle = {
      clusterId: fake,
      clusterSecret: fake,
      bootstrapToken: "abcdef.0123456789abcdef",
      trustdToken: "abcdef.0123456789abcdef",
      secretboxKey: fake,
      osCa: ca,
      kubernetesCa: ca,
      aggregatorCa: ca,
      etcdCa: ca,
      serviceAccountKey: fake,
    };
    for (const node of planNodes(config.cluster).filter((n) => n.role === "worker")) {
      const labels =
        render113(
          machineConfigInput(
            node,
            talosClusterArgs(config.cluster, config.proxmox),
            "factory.talos.dev/nocloud-installer/x:v1.13.9",
            bundle,
          ),
        )[0].machine.nodeLabels ?? {};
      for (const rc of classes) {
        const matches = Object.entries(rc.scheduling.nodeSelector).every(
          ([k, v]) => labels[k] === v,
        );
        const offers = config.cluster.workerPools
          .find((p) => p.name === node.pool)!
          .runtimes.includes(rc.metadata.name as never);
        expect(matches, `${node.name} / ${rc.metadata.name}`).toBe(offers);
      }
    }
  });

  it("every RuntimeClass validates against the Kubernetes schema", async () => {
    for (const rc of classes)
      expect(
        await validateK8s("kubernetes:node.k8s.io/v1:RuntimeClass", { ...rc }),
      ).toBeUndefined();
  });

  it("offers no class for runtimes no pool declares", () => {
    const plain = {
      ...config.cluster,
      workerPools: [{ ...config.cluster.workerPools[0]!, runtimes: [] }],
    };
    expect(runtimeClasses(plain)).toEqual([]);
  });

  it("gives a workload its RuntimeClass, and none for runc", () => {
    expect(runtimeClassName('model "a"', "gvisor", config.cluster)).toBe("gvisor");
    expect(runtimeClassName('model "a"', "runc", config.cluster)).toBeUndefined();
  });

  it("fails naming the workload when no pool offers the runtime", () => {
    const plain = { ...config.cluster, workerPools: [] };
    expect(() => runtimeClassName('model "tiny"', "kata", plain)).toThrow(
      'model "tiny" asks for the kata runtime, but no worker pool offers it',
    );
  });
});

describe("the Kubernetes schema check itself", () => {
  it("rejects an object the API server would reject", async () => {
    expect(
      await validateK8s("kubernetes:node.k8s.io/v1:RuntimeClass", {
        apiVersion: "node.k8s.io/v1",
        kind: "RuntimeClass",
        metadata: { name: "broken" },
      }),
    ).toMatch(/handler/);
    expect(
      await validateK8s("kubernetes:networking.k8s.io/v1:NetworkPolicy", {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "x" },
        spec: { podSelector: {}, policyTypes: "Ingress" },
      }),
    ).toBeDefined();
  });
});
