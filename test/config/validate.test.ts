import { describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig } from "../../components/config";
import { resolveStorage } from "../../components/config/storage";

/** A small valid stack config (keys without the namespace); each test breaks one thing. */
function base(): Record<string, any> {
  return {
    environment: "staging",
    proxmox: {
      endpoint: "https://pve1.lab.example:8006/",
      hosts: [
        { name: "pve1", cpuCores: 16, memoryMiB: 65536 },
        { name: "pve2", cpuCores: 16, memoryMiB: 65536 },
        { name: "pve3", cpuCores: 16, memoryMiB: 65536, gpus: 1, gpuMapping: "gpu" },
      ],
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
        { name: "general", nodes: [{ name: "w-1", ip: "10.0.0.21" }] },
        {
          name: "gpu",
          nodes: [{ name: "g-1", ip: "10.0.0.31" }],
          gpusPerNode: 1,
          gpuMemoryGiB: 24,
          hosts: ["pve3"],
          runtimes: ["nvidia"],
        },
      ],
    },
    models: [{ name: "llm", engine: "vllm", source: { huggingFace: "org/model" }, gpus: 1 }],
  };
}

/** The problems a config yields, or [] when it is valid. */
function problems(raw: unknown): readonly string[] {
  try {
    parseStackConfig(raw);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
}

describe("stack config validation", () => {
  it("refuses a Kubernetes version outside the window of the Talos release, at its key", () => {
    const c = base();
    c.cluster.kubernetesVersion = "v1.20.0";
    expect(problems(c)).toEqual([
      "homebrew-dev:cluster.kubernetesVersion: Talos 1.13 runs Kubernetes 1.31 to 1.36 (its default is v1.36.3); got v1.20.0",
    ]);
    c.cluster.kubernetesVersion = "v1.37.0";
    expect(problems(c)).toHaveLength(1);
    for (const ok of ["v1.31.0", "v1.36.3"]) {
      c.cluster.kubernetesVersion = ok;
      expect(problems(c)).toEqual([]);
    }
  });

  it("refuses retiring control planes below etcd quorum", () => {
    const c = base();
    c.cluster.controlPlane.nodes[1].retire = true;
    expect(problems(c)).toEqual([]);
    c.cluster.controlPlane.nodes[2].retire = true;
    expect(problems(c)).toEqual([
      "homebrew-dev:cluster.controlPlane.nodes: retiring 2 of 3 control planes leaves 1, fewer than etcd's quorum of 2",
    ]);
  });

  it("refuses a shared datastore that no host uses", () => {
    const c = base();
    c.proxmox.sharedDatastores = ["cephfs"];
    expect(problems(c)[0]).toMatch(
      /^homebrew-dev:proxmox\.sharedDatastores\[0\]: no host uses a datastore "cephfs" \(hosts use /,
    );
  });

  it("accepts the base config and fills every default", () => {
    const c = parseStackConfig(base());
    expect(c.proxmox.insecure).toBe(false);
    expect(c.proxmox.bridge).toBe("vmbr0");
    expect(c.proxmox.vlanId).toBeUndefined();
    expect(c.proxmox.hosts[0]).toEqual({
      name: "pve1",
      cpuCores: 16,
      memoryMiB: 65536,
      gpus: 0,
      diskDatastore: "local-lvm",
      imageDatastore: "local",
      snippetDatastore: "local",
    });
    expect(c.cluster.network.nameservers).toEqual(["1.1.1.1", "9.9.9.9"]);
    expect(c.cluster.installDisk).toBe("/dev/sda");
    expect(c.cluster.adminCertValidityHours).toBe(8760);
    expect(c.cluster.controlPlane).toMatchObject({
      cpuCores: 4,
      memoryMiB: 8192,
      diskGiB: 40,
      protect: true,
    });
    expect(c.cluster.workerPools[0]).toMatchObject({
      cpuCores: 4,
      memoryMiB: 8192,
      diskGiB: 40,
      gpusPerNode: 0,
      runtimes: [],
      labels: {},
      taints: [],
    });
    expect(c.cluster.workerPools[0]?.hosts).toBeUndefined();
    expect(c.platform).toEqual({
      ingress: { enabled: true, replicas: 2 },
      observability: { enabled: true, retentionDays: 7, storageGiB: 20 },
      storage: { region: "proxmox", reclaimPolicy: "Delete" },
      metricsServer: { enabled: true },
      postgres: { enabled: false, instances: 1, storageGiB: 10, clients: ["apps"] },
      redis: { enabled: false, storageGiB: 5, clients: ["apps"] },
      rabbitmq: { enabled: false, storageGiB: 5, clients: ["apps"] },
    });
    expect(c.models[0]).toMatchObject({
      minReplicas: 1,
      maxReplicas: 1,
      cacheGiB: 20,
      targetCpuUtilization: 75,
    });
    // Unset, it depends on the model: 1800 s with GPUs, 600 s without.
    expect(c.models[0]?.startupTimeoutSeconds).toBeUndefined();
    expect(c.builds).toEqual({ buildOnPreview: false, images: [] });
    const withImage = parseStackConfig({
      ...base(),
      builds: { registry: "ghcr.io/acme", images: [{ name: "api", context: "apps/api" }] },
    });
    expect(withImage.builds.images[0]).toMatchObject({
      dockerfile: "Dockerfile",
      platforms: ["linux/amd64"],
      port: 8080,
      replicas: 2,
      healthPath: "/healthz",
      buildArgs: {},
    });
    expect(c.edge).toBeUndefined();
  });

  it("fills the edge defaults", () => {
    const raw = base();
    raw["edge"] = {
      accountId: "0123456789abcdef0123456789abcdef",
      zone: { name: "example.com" },
      redirects: [{ source: "https://example.com/a", target: "https://example.com/b" }],
    };
    const c = parseStackConfig(raw);
    expect(c.edge).toEqual({
      accountId: "0123456789abcdef0123456789abcdef",
      plan: "free",
      zone: { name: "example.com" },
      caaIssuers: ["letsencrypt.org", "pki.goog"],
      records: [],
      redirects: [
        {
          source: "https://example.com/a",
          target: "https://example.com/b",
          status: 301,
          preserveQueryString: true,
          preservePathSuffix: false,
          subpathMatching: false,
          includeSubdomains: false,
        },
      ],
      cachePaths: [],
    });
  });

  it("fails when a gated model has no Hugging Face token, and passes with one", () => {
    const raw = base();
    raw["models"][0].source = { huggingFace: "meta-llama/Llama-3.1-8B-Instruct" };
    expect(problems(raw)).toEqual([
      "homebrew-dev:models[0].source.huggingFace: meta-llama/Llama-3.1-8B-Instruct is gated on Hugging Face: set a token of an account that accepted its license (`pulumi config set --secret homebrew-dev:huggingFaceToken <token>`)",
    ]);
    raw["huggingFaceToken"] = "hf_not_a_real_token";
    expect(problems(raw)).toEqual([]);
  });

  it("refuses a GPU pool without its GPUs' memory, at its key", () => {
    const raw = base();
    delete raw["cluster"].workerPools[1].gpuMemoryGiB;
    expect(problems(raw)).toEqual([
      'homebrew-dev:cluster.workerPools[1].gpuMemoryGiB: required when gpusPerNode > 0 (pool "gpu" has 1): the memory of each GPU in GiB',
    ]);
  });

  it("refuses a vLLM context longer than the model's own", () => {
    const raw = base();
    raw["models"][0].source = { huggingFace: "Qwen/Qwen2.5-7B-Instruct" };
    raw["models"][0].contextLength = 65536;
    expect(problems(raw)).toEqual([
      'homebrew-dev:models[0].contextLength: model "llm": Qwen/Qwen2.5-7B-Instruct is configured for at most 32768 tokens (got 65536); vLLM refuses a longer max-model-len',
    ]);
    raw["models"][0].contextLength = 32768;
    expect(problems(raw)).toEqual([]);
  });

  it("refuses a vLLM model whose weights and one full-context sequence exceed the pool's GPU memory", () => {
    const raw = base();
    raw["models"][0].source = { huggingFace: "Qwen/Qwen2.5-7B-Instruct" };
    // 7.6 B parameters in bfloat16 are 14.2 GiB; 32768 tokens of KV cache (28 layers × 4 KV heads
    // × 128 × 2 bytes × keys and values = 56 KiB a token) are 1.75 GiB; 90 % of 16 GiB is 14.4.
    raw["cluster"].workerPools[1].gpuMemoryGiB = 16;
    expect(problems(raw)).toEqual([
      'homebrew-dev:models[0].gpus: model "llm": the weights (14.2 GiB) and one 32768-token sequence of KV cache need 15.9 GiB, more than vLLM\'s 14.4 GiB of 1 × 16 GiB GPU in pool "gpu"; set a shorter contextLength',
    ]);
    // 2048 tokens take 0.11 GiB: 14.3 GiB fit.
    raw["models"][0].contextLength = 2048;
    expect(problems(raw)).toEqual([]);
    raw["models"][0].contextLength = 16384;
    raw["cluster"].workerPools[1].gpuMemoryGiB = 12;
    expect(problems(raw)).toEqual([
      'homebrew-dev:models[0].gpus: model "llm": its weights take 14.2 GiB, more than vLLM\'s 10.8 GiB of 1 × 12 GiB GPU in pool "gpu"',
    ]);
    raw["cluster"].workerPools[1].gpuMemoryGiB = 16;
    expect(problems(raw)).toEqual([
      'homebrew-dev:models[0].contextLength: model "llm": the weights (14.2 GiB) and one 16384-token sequence of KV cache need 15.1 GiB, more than vLLM\'s 14.4 GiB of 1 × 16 GiB GPU in pool "gpu"',
    ]);
  });

  it("storage: the Proxmox CSI plugin with several hosts, local-path with one", () => {
    const c = parseStackConfig(base());
    expect(resolveStorage(c)).toEqual({
      provisioner: "proxmox-csi",
      className: "proxmox",
      reclaimPolicy: "Delete",
      datastore: "local-lvm",
      region: "proxmox",
    });
    const one = { ...c, proxmox: { ...c.proxmox, hosts: c.proxmox.hosts.slice(0, 1) } };
    expect(resolveStorage(one)).toEqual({
      provisioner: "local-path",
      className: "local-path",
      reclaimPolicy: "Delete",
      region: "proxmox",
    });
  });

  it("storage: refuses hosts with different disk datastores and no datastore named", () => {
    const raw = base();
    raw["proxmox"].hosts[1].diskDatastore = "nvme";
    expect(problems(raw)).toEqual([
      "homebrew-dev:platform.storage.datastore: required with proxmox-csi when the hosts' disk datastores differ (local-lvm, nvme): one StorageClass names one Proxmox datastore",
    ]);
    raw["platform"] = { storage: { datastore: "nvme" } };
    expect(problems(raw)).toEqual([]);
  });

  it("storage: refuses a datastore local-path would ignore, and volume-snapshot backups", () => {
    const raw = base();
    raw["platform"] = {
      storage: { provisioner: "local-path", datastore: "local-lvm" },
      postgres: { enabled: true, backupVolumeSnapshotClass: "snapshots" },
    };
    expect(problems(raw)).toEqual([
      "homebrew-dev:platform.storage.datastore: has no effect with local-path: volumes are directories of the node",
      "homebrew-dev:platform.postgres.backupVolumeSnapshotClass: local-path volumes cannot be snapshotted dependably (local-path has no snapshots; the Proxmox CSI plugin's are experimental full copies that need root@pam's password): volume-snapshot backups would never complete",
    ]);
  });

  it("fails when a value has the wrong type", () => {
    const raw = base();
    raw["proxmox"].hosts[0].cpuCores = "sixteen";
    expect(problems(raw)).toEqual([
      'homebrew-dev:proxmox.hosts[0].cpuCores: expected a number (got "sixteen")',
    ]);
  });

  it("fails when a number is not an integer", () => {
    const raw = base();
    raw["cluster"].controlPlane.memoryMiB = 4096.5;
    expect(problems(raw)).toEqual([
      "homebrew-dev:cluster.controlPlane.memoryMiB: expected an integer (got 4096.5)",
    ]);
  });

  it("fails when a required key is missing", () => {
    const raw = base();
    delete raw["cluster"].talosVersion;
    expect(problems(raw)).toEqual([
      "homebrew-dev:cluster.talosVersion: required key is missing (expected a string)",
    ]);
  });

  it("fails when a whole section is missing", () => {
    const raw = base();
    delete raw["proxmox"];
    expect(problems(raw)).toEqual([
      "homebrew-dev:proxmox: required key is missing (expected an object)",
    ]);
  });

  it("fails when a number is out of range", () => {
    const raw = base();
    raw["proxmox"].vlanId = 5000;
    expect(problems(raw)).toEqual([
      "homebrew-dev:proxmox.vlanId: expected a number <= 4094 (got 5000)",
    ]);
  });

  it("fails when a number is below its minimum", () => {
    const raw = base();
    raw["cluster"].controlPlane.memoryMiB = 512;
    expect(problems(raw)).toEqual([
      "homebrew-dev:cluster.controlPlane.memoryMiB: expected a number >= 2048 (got 512)",
    ]);
  });

  it("fails when an IP address is malformed", () => {
    const raw = base();
    raw["cluster"].workerPools[0].nodes[0].ip = "10.0.0.300";
    expect(problems(raw)).toEqual([
      'homebrew-dev:cluster.workerPools[0].nodes[0].ip: expected an IPv4 address such as 10.0.0.11 (got "10.0.0.300")',
    ]);
  });

  it("fails when a subnet is not a CIDR", () => {
    const raw = base();
    raw["cluster"].network.subnet = "10.0.0.0";
    expect(problems(raw)).toEqual([
      'homebrew-dev:cluster.network.subnet: expected an IPv4 CIDR such as 10.0.0.0/24 (got "10.0.0.0")',
    ]);
  });

  it("fails when a key is unknown", () => {
    const raw = base();
    raw["cluster"].workerPool = [];
    expect(problems(raw)).toEqual([
      "homebrew-dev:cluster.workerPool: unknown key (see docs/config-reference.md)",
    ]);
  });

  it("fails when an enum value is not allowed", () => {
    const raw = base();
    raw["models"][0].engine = "tgi";
    expect(problems(raw)).toEqual([
      'homebrew-dev:models[0].engine: expected one of "vllm", "ollama", "llamacpp", "docker-model-runner" (got "tgi")',
    ]);
  });

  it("fails when a list is empty that needs an item", () => {
    const raw = base();
    raw["proxmox"].hosts = [];
    expect(problems(raw)).toEqual([
      "homebrew-dev:proxmox.hosts: expected at least 1 item (got a list of 0)",
    ]);
  });

  it("fails when the Talos version is outside the contracts rendered (1.13, 1.14)", () => {
    const raw = base();
    raw["cluster"].talosVersion = "v1.15.0";
    expect(problems(raw)).toEqual([
      'homebrew-dev:cluster.talosVersion: expected a Talos v1.13 or v1.14 release such as v1.14.7 (the configuration contracts rendered) (got "v1.15.0")',
    ]);
  });

  it("fails when the endpoint is not https", () => {
    const raw = base();
    raw["proxmox"].endpoint = "http://pve1:8006/";
    expect(problems(raw)).toEqual([
      'homebrew-dev:proxmox.endpoint: expected an https:// URL such as https://pve1:8006/ (got "http://pve1:8006/")',
    ]);
  });

  it("fails when a model names no or several sources", () => {
    const raw = base();
    raw["models"][0].source = { huggingFace: "a/b", ollama: "c" };
    expect(problems(raw)).toEqual([
      "homebrew-dev:models[0].source: expected exactly one of huggingFace, oci or ollama (got an object)",
    ]);
  });

  it("fails when a record TTL is neither automatic nor 60-86400", () => {
    const raw = base();
    raw["edge"] = {
      accountId: "0123456789abcdef0123456789abcdef",
      zone: { name: "example.com" },
      records: [{ name: "www", type: "A", content: "203.0.113.1", ttl: 30 }],
    };
    expect(problems(raw)).toEqual([
      "homebrew-dev:edge.records[0].ttl: expected 1 (automatic) or 60-86400 seconds (got 30)",
    ]);
  });

  it("fails when a redirect status is not a redirect code", () => {
    const raw = base();
    raw["edge"] = {
      accountId: "0123456789abcdef0123456789abcdef",
      zone: { name: "example.com" },
      redirects: [
        { source: "https://example.com/a", target: "https://example.com/b", status: 303 },
      ],
    };
    expect(problems(raw)).toEqual([
      "homebrew-dev:edge.redirects[0].status: expected one of 301, 302, 307, 308 (got 303)",
    ]);
  });

  it("fails when the config is not an object at all", () => {
    expect(problems("just text")).toEqual(['homebrew-dev: expected an object (got "just text")']);
  });

  // Cross-field rules.

  it("fails when the control-plane count is even", () => {
    const raw = base();
    raw["cluster"].controlPlane.nodes.pop();
    expect(problems(raw)).toEqual([
      "homebrew-dev:cluster.controlPlane.nodes: expected an odd number of control-plane nodes for etcd quorum (got 2)",
    ]);
  });

  it("fails when two nodes share an IP", () => {
    const raw = base();
    raw["cluster"].workerPools[0].nodes[0].ip = "10.0.0.12";
    expect(problems(raw)).toEqual([
      "homebrew-dev:cluster.workerPools[0].nodes[0].ip: 10.0.0.12 is already used by cluster.controlPlane.nodes[1]",
    ]);
  });

  it("fails when two nodes share a name", () => {
    const raw = base();
    raw["cluster"].workerPools[1].nodes[0].name = "w-1";
    expect(problems(raw)).toEqual([
      'homebrew-dev:cluster.workerPools[1].nodes[0].name: node name "w-1" is already used by cluster.workerPools[0].nodes[0]',
    ]);
  });

  it("fails when a node IP is outside the subnet", () => {
    const raw = base();
    raw["cluster"].controlPlane.nodes[2].ip = "10.0.1.13";
    expect(problems(raw)).toEqual([
      "homebrew-dev:cluster.controlPlane.nodes[2].ip: 10.0.1.13 is not a usable address of the subnet 10.0.0.0/24",
    ]);
  });

  it("fails when a node IP is the network or broadcast address", () => {
    const raw = base();
    raw["cluster"].workerPools[0].nodes[0].ip = "10.0.0.255";
    expect(problems(raw)).toEqual([
      "homebrew-dev:cluster.workerPools[0].nodes[0].ip: 10.0.0.255 is not a usable address of the subnet 10.0.0.0/24",
    ]);
  });

  it("fails when a node IP is the gateway", () => {
    const raw = base();
    raw["cluster"].workerPools[0].nodes[0].ip = "10.0.0.1";
    expect(problems(raw)).toEqual([
      "homebrew-dev:cluster.workerPools[0].nodes[0].ip: 10.0.0.1 is the gateway",
    ]);
  });

  it("fails when the VIP is a node IP", () => {
    const raw = base();
    raw["cluster"].network.vip = "10.0.0.11";
    expect(problems(raw)).toEqual([
      "homebrew-dev:cluster.controlPlane.nodes[0].ip: 10.0.0.11 is the control-plane VIP; the VIP must not be a node address",
    ]);
  });

  it("fails when the VIP is outside the subnet", () => {
    const raw = base();
    raw["cluster"].network.vip = "192.168.1.10";
    expect(problems(raw)).toEqual([
      "homebrew-dev:cluster.network.vip: 192.168.1.10 is not a usable address of the subnet 10.0.0.0/24",
    ]);
  });

  it("fails when the VIP is the gateway", () => {
    const raw = base();
    raw["cluster"].network.vip = "10.0.0.1";
    expect(problems(raw)).toEqual(["homebrew-dev:cluster.network.vip: 10.0.0.1 is the gateway"]);
  });

  it("fails when the gateway is outside the subnet", () => {
    const raw = base();
    raw["cluster"].network.gateway = "10.9.0.1";
    expect(problems(raw)).toEqual([
      "homebrew-dev:cluster.network.gateway: 10.9.0.1 is outside the subnet 10.0.0.0/24",
    ]);
  });

  it("fails when the subnet leaves no room, or more than the renderer accepts", () => {
    const raw = base();
    raw["cluster"].network = {
      subnet: "10.0.0.10/31",
      gateway: "10.0.0.10",
      vip: "10.0.0.11",
      nameservers: ["1.1.1.1"],
    };
    expect(problems(raw)).toContain(
      "homebrew-dev:cluster.network.subnet: expected a prefix from /8 to /30, room for the nodes, the gateway and the VIP (got /31)",
    );
    const wide = base();
    wide["cluster"].network.subnet = "10.0.0.0/7";
    expect(problems(wide)).toContain(
      "homebrew-dev:cluster.network.subnet: expected a prefix from /8 to /30, room for the nodes, the gateway and the VIP (got /7)",
    );
  });

  it("fails when a node is pinned to a host that does not exist", () => {
    const raw = base();
    raw["cluster"].controlPlane.nodes[0].host = "pve9";
    expect(problems(raw)).toEqual([
      'homebrew-dev:cluster.controlPlane.nodes[0].host: unknown Proxmox host "pve9" (hosts: pve1, pve2, pve3)',
    ]);
  });

  it("fails when a pool names a host that does not exist", () => {
    const raw = base();
    raw["cluster"].workerPools[0].hosts = ["pve1", "pve7"];
    expect(problems(raw)).toEqual([
      'homebrew-dev:cluster.workerPools[0].hosts[1]: unknown Proxmox host "pve7" (hosts: pve1, pve2, pve3)',
    ]);
  });

  it("fails when a pinned node is not on one of its pool's hosts", () => {
    const raw = base();
    raw["cluster"].workerPools[1].nodes[0].host = "pve1";
    expect(problems(raw)).toEqual([
      'homebrew-dev:cluster.workerPools[1].nodes[0].host: "pve1" is not one of the pool\'s hosts (pve3)',
    ]);
  });

  it("fails when two hosts share a name", () => {
    const raw = base();
    raw["proxmox"].hosts[1].name = "pve1";
    raw["cluster"].workerPools[0].hosts = undefined;
    expect(problems(raw)).toEqual([
      'homebrew-dev:proxmox.hosts[1].name: duplicate host "pve1" (also proxmox.hosts[0])',
    ]);
  });

  it("fails when a GPU host has no PCI mapping", () => {
    const raw = base();
    delete raw["proxmox"].hosts[2].gpuMapping;
    expect(problems(raw)).toEqual([
      'homebrew-dev:proxmox.hosts[2].gpuMapping: required when gpus > 0 (host "pve3" has 1)',
    ]);
  });

  it("fails when two pools share a name", () => {
    const raw = base();
    raw["cluster"].workerPools[1].name = "general";
    expect(problems(raw)).toEqual([
      'homebrew-dev:cluster.workerPools[1].name: duplicate pool name "general"',
    ]);
  });

  it("fails when the nvidia runtime is on a pool without GPUs", () => {
    const raw = base();
    raw["cluster"].workerPools[0].runtimes = ["nvidia"];
    expect(problems(raw)).toEqual([
      'homebrew-dev:cluster.workerPools[0].runtimes: the nvidia runtime needs gpusPerNode > 0 in pool "general"',
    ]);
  });

  it("fails when a runtime is listed twice", () => {
    const raw = base();
    raw["cluster"].workerPools[0].runtimes = ["gvisor", "gvisor"];
    expect(problems(raw)).toEqual([
      'homebrew-dev:cluster.workerPools[0].runtimes: duplicate runtime in pool "general"',
    ]);
  });

  it("fails when a GPU pool's hosts cannot offer its GPUs per node", () => {
    const raw = base();
    raw["cluster"].workerPools[1].gpusPerNode = 2;
    raw["models"][0].gpus = 1;
    expect(problems(raw)).toEqual([
      'homebrew-dev:cluster.workerPools[1].gpusPerNode: pool "gpu" needs 2 GPU per node but no allowed host has that many',
    ]);
  });

  it("fails when a GPU model has no GPU pool", () => {
    const raw = base();
    raw["cluster"].workerPools.pop();
    expect(problems(raw)).toEqual([
      'homebrew-dev:models[0].gpus: model "llm" asks for 1 GPU but the stack has no GPU worker pool',
    ]);
  });

  it("fails when a model asks for more GPUs than a GPU node has", () => {
    const raw = base();
    raw["models"][0].gpus = 4;
    expect(problems(raw)).toEqual([
      'homebrew-dev:models[0].gpus: model "llm" asks for 4 GPU per replica but the largest GPU node has 1',
    ]);
  });

  it("fails when two models share a name", () => {
    const raw = base();
    raw["models"].push({ ...raw["models"][0] });
    expect(problems(raw)).toEqual(['homebrew-dev:models[1].name: duplicate model "llm"']);
  });

  it("fails when a model's minReplicas is above maxReplicas", () => {
    const raw = base();
    raw["models"][0].minReplicas = 3;
    raw["models"][0].maxReplicas = 2;
    expect(problems(raw)).toEqual([
      'homebrew-dev:models[0].minReplicas: model "llm": minReplicas 3 is above maxReplicas 2',
    ]);
  });

  it("fails when images are built with no registry", () => {
    const raw = base();
    raw["builds"] = { images: [{ name: "api", context: "apps/api" }] };
    expect(problems(raw)).toEqual([
      "homebrew-dev:builds.registry: required when builds.images is not empty (images are pushed and cached there)",
    ]);
  });

  it("refuses a metrics-server switch that is not a boolean", () => {
    const raw = base();
    raw["platform"] = { metricsServer: { enabled: "yes" } };
    expect(problems(raw)).toEqual([
      'homebrew-dev:platform.metricsServer.enabled: expected a boolean (got "yes")',
    ]);
  });

  it("reports every problem at once, type errors and cross-field rules together", () => {
    const raw = base();
    raw["proxmox"].vlanId = 0;
    raw["cluster"].controlPlane.nodes.pop();
    raw["cluster"].workerPools[0].nodes[0].ip = "10.0.0.11";
    raw["platform"] = { observability: { retentionDays: "long" } };
    expect(problems(raw)).toEqual([
      "homebrew-dev:proxmox.vlanId: expected a number >= 1 (got 0)",
      'homebrew-dev:platform.observability.retentionDays: expected a number (got "long")',
      "homebrew-dev:cluster.controlPlane.nodes: expected an odd number of control-plane nodes for etcd quorum (got 2)",
      "homebrew-dev:cluster.workerPools[0].nodes[0].ip: 10.0.0.11 is already used by cluster.controlPlane.nodes[0]",
    ]);
  });

  it("throws a pulumi.RunError whose message lists every problem", () => {
    const raw = base();
    raw["cluster"].controlPlane.nodes.pop();
    raw["proxmox"].hosts[0].cpuCores = 0;
    let error: unknown;
    try {
      parseStackConfig(raw);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      "invalid stack configuration (2 problems):\n" +
        "  - homebrew-dev:proxmox.hosts[0].cpuCores: expected a number >= 1 (got 0)\n" +
        "  - homebrew-dev:cluster.controlPlane.nodes: expected an odd number of control-plane nodes for etcd quorum (got 2)",
    );
    expect((error as { __pulumiRunError?: boolean }).__pulumiRunError).toBe(true);
  });
});

describe("stack config validation: workload runtimes", () => {
  it("fails when a model asks for a runtime no pool offers, naming the model", () => {
    const raw = base();
    raw["models"].push({
      name: "sandboxed",
      engine: "llamacpp",
      source: { huggingFace: "org/tiny", file: "tiny.gguf" },
      runtime: "kata",
    });
    expect(problems(raw)).toEqual([
      'homebrew-dev:models[1].runtime: model "sandboxed" asks for the kata runtime, but no worker pool offers it (offered: nvidia)',
    ]);
  });

  it("fails when a GPU model asks for a runtime other than nvidia", () => {
    const raw = base();
    raw["models"][0].runtime = "gvisor";
    expect(problems(raw)).toEqual([
      'homebrew-dev:models[0].runtime: model "llm" uses GPUs and needs the nvidia runtime (got gvisor)',
    ]);
  });

  it("fails when GPU pools exist but none offers the nvidia runtime", () => {
    const raw = base();
    raw["cluster"].workerPools[1].runtimes = [];
    expect(problems(raw)).toEqual([
      'homebrew-dev:models[0].gpus: model "llm" asks for the nvidia runtime, but no worker pool offers it (offered: none)',
    ]);
  });
});

describe("stack config validation: the model gateway", () => {
  const sleeping = () => {
    const raw = base();
    raw["models"].push({
      name: "tiny",
      engine: "llamacpp",
      source: { huggingFace: "org/tiny-GGUF", file: "tiny.gguf" },
      minReplicas: 0,
      maxReplicas: 2,
    });
    return raw;
  };
  const edge = {
    accountId: "0123456789abcdef0123456789abcdef",
    zone: { name: "example.com" },
  };

  it("fills the gateway's defaults, and accepts a model that scales to zero", () => {
    const c = parseStackConfig(sleeping());
    expect(c.modelGateway).toEqual({
      replicas: 2,
      requestTimeoutSeconds: 600,
      wakeTimeoutSeconds: 90,
    });
    expect(c.models[1]).toMatchObject({
      minReplicas: 0,
      targetWaitingRequests: 2,
      targetKvCacheUsage: 85,
    });
    expect(c.models[1]?.coldStartSeconds).toBeUndefined();
  });

  it("a wake as long as the gateway's whole request: the gateway would give up first", () => {
    const raw = sleeping();
    raw["modelGateway"] = { wakeTimeoutSeconds: 600, requestTimeoutSeconds: 600 };
    expect(problems(raw)).toEqual([
      "homebrew-dev:modelGateway.wakeTimeoutSeconds: 600 s is not below modelGateway.requestTimeoutSeconds (600 s): the gateway would give up on a woken model before it answers",
    ]);
  });

  it("a public gateway holding past Cloudflare's 100 s: 524 first (but not on Enterprise)", () => {
    const raw = sleeping();
    raw["edge"] = edge;
    raw["modelGateway"] = { hostname: "ai.example.com", wakeTimeoutSeconds: 120 };
    expect(problems(raw)).toEqual([
      "homebrew-dev:modelGateway.wakeTimeoutSeconds: 120 s is not below Cloudflare's 100 s for a proxied answer (plan free): a client of ai.example.com would get 524 before the gateway's 504",
    ]);
    raw["edge"] = { ...edge, plan: "enterprise" };
    expect(problems(raw)).toEqual([]);
    // Without a model that sleeps, nothing is held.
    const awake = base();
    awake["edge"] = edge;
    awake["modelGateway"] = { hostname: "ai.example.com", wakeTimeoutSeconds: 120 };
    expect(problems(awake)).toEqual([]);
  });

  it("a model that scales to zero with a hostname of its own: nothing would wake it there", () => {
    const raw = sleeping();
    raw["models"][1].hostname = "tiny.example.com";
    expect(problems(raw)).toEqual([
      'homebrew-dev:models[1].minReplicas: model "tiny" scales to zero, but tiny.example.com reaches its server without the gateway, which alone wakes it: set minReplicas to 1 or drop models[1].hostname',
    ]);
  });

  it("the gateway's hostname is one public name like any other", () => {
    const raw = sleeping();
    raw["models"][0].hostname = "ai.example.com";
    raw["modelGateway"] = { hostname: "ai.example.com" };
    expect(problems(raw)).toEqual([
      "homebrew-dev:models[0].hostname: hostname ai.example.com is already exposed by modelGateway.hostname: one public name, one service",
    ]);
  });

  it("a model key the gateway refuses, without printing it", () => {
    const raw = base();
    raw["modelApiKey"] = "hunter2-secret";
    expect(problems(raw)).toEqual([
      'homebrew-dev:modelApiKey: expected a key starting with "sk-" (the model gateway requires it) (the value, a secret, is not shown)',
    ]);
    raw["modelApiKey"] = "sk-1234";
    expect(problems(raw)).toEqual([
      "homebrew-dev:modelApiKey: a publicly known key: the model gateway refuses it (the value, a secret, is not shown)",
    ]);
    // The offline plan reads a secret it cannot decrypt as the placeholder: not judged there.
    raw["modelApiKey"] = "[secret]";
    expect(problems(raw)).toEqual([]);
  });
});

describe("stack config validation: what the autoscalers read", () => {
  it("a model that scales on CPU without metrics-server never scales", () => {
    const raw = base();
    raw["platform"] = { metricsServer: { enabled: false } };
    raw["models"].push(
      { name: "chat", engine: "ollama", source: { ollama: "qwen2.5:7b" }, maxReplicas: 3 },
      { name: "still", engine: "ollama", source: { ollama: "qwen2.5:7b" } },
    );
    expect(problems(raw)).toEqual([
      'homebrew-dev:models[1].maxReplicas: model "chat" scales on CPU (ollama exports no queue metric), which needs platform.metricsServer: enable it or set maxReplicas to 1',
    ]);
    // vLLM scales on its queue, from Prometheus; without observability it falls back to CPU.
    raw["models"][0].maxReplicas = 2;
    raw["platform"].observability = { enabled: false };
    expect(problems(raw)).toContain(
      'homebrew-dev:models[0].maxReplicas: model "llm" scales on CPU (the stack runs no Prometheus), which needs platform.metricsServer: enable it or set maxReplicas to 1',
    );
  });
});

describe("stack config validation: public names of models", () => {
  it("an engine that checks no key gets no hostname of its own", () => {
    const raw = base();
    raw["models"].push({
      name: "chat",
      engine: "ollama",
      source: { ollama: "qwen2.5:7b" },
      hostname: "chat.example.com",
    });
    expect(problems(raw)).toEqual([
      'homebrew-dev:models[1].hostname: model "chat": ollama checks no API key, so chat.example.com would serve it to anyone: reach it through the gateway (modelGateway.hostname), which checks the key',
    ]);
  });
});
