import * as YAML from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config";
import {
  TalosCluster,
  machineConfigInput,
  planNodes,
  placementProblems,
  talosClusterArgs,
} from "../../components/talos/cluster";
import { render113 } from "../helpers/talos";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { recordResources, resolve } from "../helpers/mocks";
import { validateTalosConfig } from "./schema";

const rec = recordResources({ stack: "lab" });

const config = parseStackConfig({
  environment: "prod",
  proxmox: {
    endpoint: "https://pve1:8006/",
    hosts: [
      { name: "pve1", cpuCores: 16, memoryMiB: 65536 },
      { name: "pve2", cpuCores: 16, memoryMiB: 65536 },
      { name: "pve3", cpuCores: 32, memoryMiB: 131072, gpus: 2, gpuMapping: "gpus" },
    ],
    vlanId: 20,
  },
  cluster: {
    name: "lab",
    talosVersion: "v1.13.9",
    kubernetesVersion: "v1.35.2",
    network: { subnet: "10.0.0.0/24", gateway: "10.0.0.1", vip: "10.0.0.10" },
    controlPlane: {
      nodes: [
        { name: "cp-1", ip: "10.0.0.11" },
        { name: "cp-2", ip: "10.0.0.12" },
        { name: "cp-3", ip: "10.0.0.13" },
      ],
    },
    workerPools: [
      {
        name: "general",
        nodes: [
          { name: "w-1", ip: "10.0.0.21" },
          { name: "w-2", ip: "10.0.0.22" },
        ],
        runtimes: ["gvisor", "kata"],
      },
      {
        name: "gpu",
        nodes: [{ name: "g-1", ip: "10.0.0.31" }],
        gpusPerNode: 2,
        gpuMemoryGiB: 24,
        hosts: ["pve3"],
        runtimes: ["nvidia"],
        memoryMiB: 32768,
        taints: [{ key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" }],
      },
    ],
  },
});

const secretValue = (v: unknown) =>
  typeof v === "object" &&
  v !== null &&
  (v as Record<string, unknown>)[specialSigKey] === specialSecretSig;

describe("TalosCluster", () => {
  let cluster: TalosCluster;
  beforeAll(async () => {
    rec.reset();
    cluster = new TalosCluster("lab", {
      ...talosClusterArgs(config.cluster, config.proxmox),
      protectSecrets: true,
    });
    await resolve(cluster.kubeconfig);
    await resolve(cluster.talosconfig);
    await new Promise((r) => setTimeout(r, 50));
  });

  const vms = () => rec.registrations.filter((r) => r.type === "proxmoxve:index/vmLegacy:VmLegacy");

  it("creates one VM per node with the settings Talos needs", () => {
    expect(
      vms()
        .map((r) => r.name)
        .sort(),
    ).toEqual(["cp-1", "cp-2", "cp-3", "g-1", "w-1", "w-2"].map((n) => `lab-vm-${n}`));
    for (const vm of vms()) {
      expect(vm.inputs).toMatchObject({
        machine: "q35",
        cpu: { type: "host", sockets: 1 },
        scsiHardware: "virtio-scsi-pci",
        memory: { floating: 0 },
        agent: { enabled: true },
        onBoot: true,
        started: true,
        initialization: { type: "nocloud" },
      });
      expect(vm.ignoreChanges).toEqual(["initialization", "disks[0].fileId"]);
      const [nic] = vm.inputs["networkDevices"] as Record<string, unknown>[];
      expect(nic).toMatchObject({ bridge: "vmbr0", vlanId: 20, model: "virtio" });
    }
  });

  it("places control planes on distinct hosts and no host over capacity", () => {
    const placement = cluster.placement;
    expect(new Set(["cp-1", "cp-2", "cp-3"].map((n) => placement[n])).size).toBe(3);
    expect(placement["g-1"]).toBe("pve3");
    for (const host of config.proxmox.hosts) {
      const on = vms().filter((v) => v.inputs["nodeName"] === host.name);
      const cpu = on.reduce((n, v) => n + ((v.inputs["cpu"] as { cores: number }).cores ?? 0), 0);
      const mem = on.reduce(
        (n, v) => n + ((v.inputs["memory"] as { dedicated: number }).dedicated ?? 0),
        0,
      );
      expect(cpu).toBeLessThanOrEqual(host.cpuCores);
      expect(mem).toBeLessThanOrEqual(host.memoryMiB);
    }
  });

  it("protects control-plane VMs and the secrets, not workers, and not the snippets", () => {
    // Protection is on the VM resource only: a component's protect would pass to its snippet,
    // which every config change rewrites (a replacement, refused when protected).
    const components = rec.registrations.filter((r) => r.type === "homebrew-dev:proxmox:TalosVm");
    expect(components.filter((c) => c.protect)).toEqual([]);
    expect(
      vms()
        .filter((v) => v.protect)
        .map((v) => v.name)
        .sort(),
    ).toEqual(["lab-vm-cp-1", "lab-vm-cp-2", "lab-vm-cp-3"]);
    const snippets = rec.registrations.filter(
      (r) => r.type === "proxmoxve:index/fileLegacy:FileLegacy",
    );
    expect(snippets.filter((s) => s.protect)).toEqual([]);
    // Same file name after a change: delete first, or the old delete removes the new file.
    expect(snippets.every((s) => s.deleteBeforeReplace)).toBe(true);
    expect(rec.registration("lab-secrets")?.protect).toBe(true);
  });

  it("passes the GPUs of the pool through the PCI resource mapping", () => {
    const vm = (name: string) => vms().find((v) => v.name === name);
    expect(vm("lab-vm-g-1")?.inputs["hostpcis"]).toEqual([
      { device: "hostpci0", mapping: "gpus", pcie: true, rombar: true },
      { device: "hostpci1", mapping: "gpus", pcie: true, rombar: true },
    ]);
    expect(vm("lab-vm-w-1")?.inputs["hostpcis"]).toEqual([]);
  });

  it("delivers each machine config as a secret cloud-init snippet", () => {
    const snippets = rec.registrations.filter(
      (r) => r.type === "proxmoxve:index/fileLegacy:FileLegacy",
    );
    expect(snippets).toHaveLength(6);
    for (const s of snippets) {
      expect(s.inputs["contentType"]).toBe("snippets");
      expect(secretValue((s.inputs["sourceRaw"] as Record<string, unknown>)["data"])).toBe(true);
    }
  });

  it("builds one image per feature set, downloaded once per host that needs it", () => {
    expect(cluster.schematics).toEqual({
      base: "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515",
      "gvisor-kata": expect.stringMatching(/^[0-9a-f]{64}$/),
      nvidia: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const downloads = rec.registrations.filter((r) => r.type === "proxmoxve:download/file:File");
    const cpHosts = new Set(["cp-1", "cp-2", "cp-3"].map((n) => cluster.placement[n]));
    const generalHosts = new Set(["w-1", "w-2"].map((n) => cluster.placement[n]));
    expect(downloads).toHaveLength(cpHosts.size + generalHosts.size + 1);
    const gpu = downloads.find((d) => d.name === "lab-image-nvidia-pve3");
    expect(gpu?.inputs).toMatchObject({
      contentType: "iso",
      decompressionAlgorithm: "gz",
      nodeName: "pve3",
      url: `https://factory.talos.dev/image/${cluster.schematics["nvidia"]}/v1.13.9/nocloud-amd64.raw.gz`,
    });
    const registrations = rec.registrations.filter((r) => r.name.endsWith("-schematic"));
    expect(registrations).toHaveLength(3);
    for (const d of downloads) {
      expect(d.dependsOn.some((u) => u.endsWith("-schematic"))).toBe(true);
    }
  });

  it("bootstraps once, through the first control plane and never the VIP", () => {
    const bootstrap = rec.registrations.filter((r) => r.name.endsWith("-bootstrap"));
    expect(bootstrap).toHaveLength(1);
    const script = bootstrap[0]!.inputs["create"] as string;
    expect(script).toContain("--endpoints 10.0.0.11 --nodes 10.0.0.11 bootstrap");
    expect(script).not.toContain("10.0.0.10");
    const env = bootstrap[0]!.inputs["environment"] as Record<string, unknown>;
    expect(secretValue(env["HOMEBREW_TALOSCONFIG"])).toBe(true);
    const deps = bootstrap[0]!.dependsOn;
    for (const cp of ["cp-1", "cp-2", "cp-3"]) {
      expect(deps.some((u) => u.endsWith(`::lab-vm-${cp}`))).toBe(true);
    }
    const health = rec.registration("lab-health");
    expect(health?.dependsOn.some((u) => u.endsWith("::lab-bootstrap"))).toBe(true);
  });

  it("chains day-2 steps: upgrades node by node (control planes first), Kubernetes, then configs", () => {
    const order = ["cp-1", "cp-2", "cp-3", "w-1", "w-2", "g-1"];
    const ips: Record<string, string> = Object.fromEntries(
      rec.registrations
        .filter((r) => r.type === "homebrew-dev:proxmox:TalosVm")
        .map((r) => [r.name.replace(/^lab-vm-/, ""), ""]),
    );
    for (const node of Object.keys(ips)) {
      ips[node] = /--nodes (\S+) /.exec(
        rec.registration(`lab-apply-${node}`)!.inputs["update"] as string,
      )![1]!;
    }
    expect(ips["cp-1"]).toBe("10.0.0.11");
    const after = (name: string, previous: string) =>
      expect(rec.registration(name)!.dependsOn.some((u) => u.endsWith(`::${previous}`))).toBe(true);
    let previous = "lab-health";
    for (const node of order) {
      const upgrade = rec.registration(`lab-upgrade-${node}`)!;
      after(`lab-upgrade-${node}`, previous);
      expect(upgrade.inputs["create"]).toBe("echo recorded");
      const script = upgrade.inputs["update"] as string;
      expect(script).toMatch(
        / upgrade --image factory\.talos\.dev\/nocloud-installer\/[0-9a-f]{64}:v1\.13\.9 --wait=true --drain=true --drain-timeout=10m --timeout=30m$/m,
      );
      // Through the talosconfig's endpoints (every control plane: they serve the kubeconfig
      // the drain needs), naming only the node itself.
      expect(script).not.toContain("--endpoints");
      expect(script).toContain(`talosctl --context lab --nodes ${ips[node]} upgrade `);
      // Run again on a node that already runs the target, it does nothing.
      expect(script).toContain(
        `talosctl --context lab --nodes ${ips[node]} get extensions | grep -qF `,
      );
      // A control plane upgrades only with etcd healthy, before and after.
      expect((script.match(/ etcd status /g) ?? []).length).toBe(node.startsWith("cp") ? 2 : 0);
      previous = `lab-upgrade-${node}`;
    }
    after("lab-upgrade-kubernetes", previous);
    expect(rec.registration("lab-upgrade-kubernetes")!.inputs["update"]).toContain(
      "talosctl --context lab upgrade-k8s --to 1.35.2 --pre-pull-images=true --upgrade-kubelet=true",
    );
    previous = "lab-upgrade-kubernetes";
    for (const node of order) {
      after(`lab-apply-${node}`, previous);
      previous = `lab-apply-${node}`;
    }
  });

  it("takes no credential as an input of a step that runs again (a renewed certificate re-runs nothing)", () => {
    const steps = rec.registrations.filter((r) => r.type === "command:local:Command");
    for (const step of steps) {
      const env = (step.inputs["environment"] ?? {}) as Record<string, unknown>;
      if ("HOMEBREW_TALOSCONFIG" in env) {
        // Creation-only steps: their environment is ignored after creation.
        expect(step.name).toMatch(/-(bootstrap|health)$/);
        expect(step.ignoreChanges).toEqual(["environment"]);
      }
      for (const script of [step.inputs["update"], step.inputs["delete"]]) {
        if (typeof script === "string" && script.includes("talosctl")) {
          expect(script).toContain(': "${TALOSCONFIG:?');
        }
      }
    }
  });

  it("removes a node by draining and resetting it, and deleting its Node, before its VM goes", () => {
    for (const node of ["cp-2", "w-1"]) {
      const remove = rec.registration(`lab-remove-${node}`)!;
      expect(remove.dependsOn.some((u) => u.endsWith(`::lab-vm-${node}`))).toBe(true);
      expect(remove.inputs["create"]).toBe("echo recorded");
      const lines = (remove.inputs["delete"] as string).split("\n");
      const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
      const order = [
        at(
          /^ {2}kc=\$dir\/kubeconfig; talosctl --context lab --nodes 10\.0\.0\.1[12] kubeconfig "\$kc" --force$/,
        ),
        at(/ get hostname --output='jsonpath=\{\.spec\.hostname\}'\); then$/),
        at(new RegExp(`kubectl .* cordon ${node}$`)),
        at(/ drain .* --ignore-daemonsets --delete-emptydir-data --timeout=10m$/),
        at(/ reset --graceful=true --reboot=false --wait=true --timeout=15m$/),
        at(/ delete node .* --ignore-not-found/),
      ];
      expect(order.every((i, k) => i > (k === 0 ? -1 : order[k - 1]!))).toBe(true);
      // A node that does not answer is an error unless the operator says it is gone; a gone
      // control plane leaves etcd through another one.
      const script = remove.inputs["delete"] as string;
      expect(script).toContain(`if [ "\${HOMEBREW_NODE_GONE:-}" = ${node} ]; then`);
      expect(script).toContain(
        `if it is gone for good, set HOMEBREW_NODE_GONE=${node} and run again`,
      );
      expect(script.includes("etcd remove-member")).toBe(node.startsWith("cp"));
    }
  });

  it("mints admin credentials from the CAs and keeps them secret", async () => {
    const kube = await resolve(cluster.kubeconfig);
    expect(kube.secret).toBe(true);
    const parsed = YAML.parse(kube.value);
    expect(parsed.clusters[0].cluster.server).toBe("https://10.0.0.10:6443");
    expect(parsed["current-context"]).toBe("admin@lab");
    const talos = await resolve(cluster.talosconfig);
    expect(talos.secret).toBe(true);
    expect(YAML.parse(talos.value).contexts.lab.endpoints).toEqual([
      "10.0.0.11",
      "10.0.0.12",
      "10.0.0.13",
    ]);
    expect(rec.registration("lab-kubernetes-admin")?.inputs).toBeDefined();
    const csr = rec.registrations.find(
      (r) => r.type === "tls:index/certRequest:CertRequest" && r.name === "lab-kubernetes-admin",
    );
    expect(csr?.inputs["subject"]).toEqual({ commonName: "admin", organization: "system:masters" });
    const talosCsr = rec.registrations.find(
      (r) => r.type === "tls:index/certRequest:CertRequest" && r.name === "lab-talos-admin",
    );
    expect(talosCsr?.inputs["subject"]).toEqual({ commonName: "admin", organization: "os:admin" });
  });
});

describe("machine configs of a planned cluster", () => {
  const fake = (s: string) => Buffer.from(`fake-${s}`).toString("base64");
  const bundle = {
    clusterId: fake("id"),
    clusterSecret: fake("secret"),
    bootstrapToken: "abcdef.0123456789abcdef",
    trustdToken: "ghijkl.0123456789abcdef",
    secretboxKey: fake("secretbox"),
    osCa: { crt: fake("os-crt"), key: fake("os-key") },
    kubernetesCa: { crt: fake("k8s-crt"), key: fake("k8s-key") },
    aggregatorCa: { crt: fake("agg-crt"), key: fake("agg-key") },
    etcdCa: { crt: fake("etcd-crt"), key: fake("etcd-key") },
    serviceAccountKey: fake("sa"),
  };

  /** The node's rendered documents, each checked against the Talos schema. */
  const renderValid = (
    node: ReturnType<typeof planNodes>[number],
    options?: Parameters<typeof machineConfigInput>[4],
  ) => {
    const installer = "factory.talos.dev/nocloud-installer/x:v1.13.9";
    const docs = render113(
      machineConfigInput(
        node,
        talosClusterArgs(config.cluster, config.proxmox),
        installer,
        bundle,
        options,
      ),
    );
    for (const doc of docs) expect(validateTalosConfig(doc)).toEqual([]);
    return docs;
  };

  it.each(planNodes(config.cluster).map((n) => [n.name, n] as const))(
    "%s: passes the Talos schema, with the runtime settings of its pool",
    (_name, node) => {
      const docs = renderValid(node);
      const machine = docs[0].machine;
      expect(machine.nodeLabels?.["homebrew-dev.io/pool"]).toBe(node.pool);
      if (node.pool === "gpu") {
        expect(machine.nodeLabels?.["nvidia.com/gpu.present"]).toBe("true");
        expect(machine.kernel?.modules?.map((m) => m.name)).toContain("nvidia_uvm");
      }
      if (node.role === "worker") {
        expect(JSON.stringify(docs)).not.toContain(fake("os-key"));
        expect(JSON.stringify(docs)).not.toContain(fake("k8s-key"));
      }
    },
  );

  it("with kubelet serving certificates, every node's config asks for them and passes the schema", () => {
    for (const node of planNodes(config.cluster)) {
      const docs = renderValid(node, { kubeletServingCertificates: true });
      expect(docs[0].machine.kubelet?.extraArgs).toEqual({ "rotate-server-certificates": "true" });
    }
  });

  it("fails with the node and the short resource when placement is impossible", () => {
    const tight = parseStackConfig({
      ...structuredClone(config),
      proxmox: {
        ...config.proxmox,
        hosts: config.proxmox.hosts.map((h) => ({ ...h, memoryMiB: 9000 })),
      },
    });
    const problems = placementProblems(tight.cluster, tight.proxmox);
    expect(problems.map((p) => p.path)).toContainEqual(["cluster", "workerPools", 1, "memoryMiB"]);
    expect(problems.map((p) => p.message).join("\n")).toMatch(
      /node "g-1" \(worker\) does not fit: needs 32768 MiB memory/,
    );
  });
});
