import { describe, expect, it } from "vitest";
import { PROXMOX_CSI_PRIVILEGES, STORAGE_DRIVERS } from "../../components/catalog/storage";
import { proxmoxCsiConfig } from "../../components/kubernetes/storage";
import { claims, storageFindings } from "../../tools/plan/storage";
import type { Plan, PlanResource } from "../../tools/plan/render";
import { planOf } from "../helpers/plans";

type Obj = Record<string, any>;
const clone = (p: Plan): Plan => structuredClone(p);
const find = (p: Plan, pred: (r: PlanResource) => boolean): Obj => {
  const r = p.resources.find(pred);
  if (r === undefined) throw new Error("no such resource");
  return r as Obj;
};
const byName = (p: Plan, name: string) => find(p, (r) => r.name === name);
const messages = (p: Plan) => storageFindings(p).map((f) => f.message);

describe("every claim of the shipped stacks binds", () => {
  it.each([
    // Prometheus, Alertmanager, Grafana and Loki; one cache per model; the data services.
    ["dev", "local-path", 5],
    ["staging", "proxmox", 8],
    ["prod", "proxmox", 11],
  ] as const)(
    "%s: every claim names its class %s (%i claims), and binds",
    async (stack, cls, n) => {
      const plan = await planOf(stack);
      const all = claims(plan);
      expect(all).toHaveLength(n);
      expect(new Set(all.map((c) => c.className))).toEqual(new Set([cls]));
      expect(storageFindings(plan)).toEqual([]);
      expect(plan.findings.filter((f) => f.check === "storage")).toEqual([]);
    },
  );

  it("the class is the default, waits for the pod and names the installed provisioner", async () => {
    for (const [stack, provisioner] of [
      ["dev", "local-path"],
      ["prod", "proxmox-csi"],
    ] as const) {
      const plan = await planOf(stack);
      const cls = find(plan, (r) => r.type === "kubernetes:storage.k8s.io/v1:StorageClass").inputs;
      const driver = STORAGE_DRIVERS[provisioner];
      expect(cls.provisioner).toBe(driver.provisioner);
      expect(cls.volumeBindingMode).toBe("WaitForFirstConsumer");
      expect(cls.metadata.annotations).toEqual({
        "storageclass.kubernetes.io/is-default-class": "true",
      });
      const release = find(
        plan,
        (r) => r.type === "kubernetes:helm.sh/v3:Release" && r.name.startsWith("storage-"),
      ).inputs;
      expect(release.chart).toBe(`${driver.chart.repo}/${driver.chart.chart}`);
      expect(release.version).toBe(driver.chart.version);
      expect(release.namespace).toBe("kube-system");
    }
  });

  it("prod keeps a deleted claim's disk, on the hosts' shared datastore", async () => {
    const cls = find(
      await planOf("prod"),
      (r) => r.type === "kubernetes:storage.k8s.io/v1:StorageClass",
    ).inputs;
    expect(cls.reclaimPolicy).toBe("Retain");
    expect(cls.parameters).toEqual({ storage: "ceph-vm", "csi.storage.k8s.io/fstype": "ext4" });
  });
});

describe("the Proxmox CSI plugin's identity and configuration", () => {
  it("has a role with only the privileges the plugin documents, a user, an ACL and a token", async () => {
    const plan = await planOf("prod");
    expect(byName(plan, "proxmox-csi-role").inputs).toEqual({
      roleId: "HomebrewDevCSI",
      privileges: [...PROXMOX_CSI_PRIVILEGES],
    });
    expect(byName(plan, "proxmox-csi-acl").inputs).toMatchObject({
      path: "/",
      propagate: true,
    });
    expect(byName(plan, "proxmox-csi-token").inputs).toMatchObject({
      userId: "homebrew-dev-csi@pve",
      tokenName: "csi",
      privilegesSeparation: false,
    });
    // The token's secret reaches the cluster only inside the plugin's config Secret.
    const secret = byName(plan, "storage-proxmox-csi-config").inputs;
    expect(secret.stringData).toBe("[secret]");
    const release = byName(plan, "storage-proxmox-csi").inputs;
    expect(release.values).toEqual({
      existingConfigSecret: "proxmox-csi-config",
      existingConfigSecretKey: "config.yaml",
      storageClass: [],
      node: { tolerations: [{ operator: "Exists" }] },
    });
  });

  it("writes one cluster with the API URL, the token and the region", () => {
    expect(
      proxmoxCsiConfig({
        endpoint: "https://pve-1.example:8006/",
        insecure: false,
        region: "proxmox",
        tokenId: "homebrew-dev-csi@pve!csi",
        tokenSecret: "s3cr3t",
      }),
    ).toBe(
      "clusters:\n" +
        "  - url: https://pve-1.example:8006/api2/json\n" +
        "    insecure: false\n" +
        "    token_id: homebrew-dev-csi@pve!csi\n" +
        "    token_secret: s3cr3t\n" +
        "    region: proxmox\n",
    );
  });

  it("every node carries its region and its Proxmox host as zone", async () => {
    const plan = await planOf("prod");
    const vms = plan.resources.filter((r) => r.type === "proxmoxve:index/vmLegacy:VmLegacy");
    expect(vms.length).toBeGreaterThan(0);
    for (const vm of vms) {
      const view = byName(plan, `${vm.name}-user-data`).views["sourceRaw.data"];
      expect(view.KubeNodeConfig.labels["topology.kubernetes.io/region"]).toBe("proxmox");
      expect(view.KubeNodeConfig.labels["topology.kubernetes.io/zone"]).toBe(vm.inputs["nodeName"]);
    }
  });
});

describe("a claim that would not bind is a finding", () => {
  it("names a class the stack does not provide", async () => {
    const plan = clone(await planOf("prod"));
    byName(plan, "data-valkey").inputs.spec.volumeClaimTemplates[0].spec.storageClassName = "fast";
    expect(messages(plan)).toEqual([
      'data-valkey spec.volumeClaimTemplates[0].spec.storageClassName: StorageClass "fast" is not one the stack provides (proxmox): the claim stays Pending',
    ]);
  });

  it("names no class while the stack has no default class", async () => {
    const plan = clone(await planOf("prod"));
    delete byName(plan, "data-valkey").inputs.spec.volumeClaimTemplates[0].spec.storageClassName;
    // With the default class it binds there.
    expect(messages(plan)).toEqual([]);
    delete byName(plan, "storage-class").inputs.metadata.annotations;
    expect(messages(plan)).toEqual([
      "data-valkey spec.volumeClaimTemplates[0].spec.storageClassName: names no StorageClass and the stack has no default class: the claim stays Pending",
    ]);
  });

  it("has a class whose provisioner the stack does not install", async () => {
    const plan = clone(await planOf("prod"));
    const withoutPlugin = {
      ...plan,
      resources: plan.resources.filter((r) => r.name !== "storage-proxmox-csi"),
    };
    const found = messages(withoutPlugin);
    expect(found).toHaveLength(11);
    expect(found[0]).toBe(
      'data-rabbitmq spec.volumeClaimTemplates[0].spec.storageClassName: StorageClass "proxmox"\'s provisioner csi.proxmox.sinextra.dev is not installed by the stack: the claim stays Pending',
    );
  });

  it("asks for an access mode the provisioner does not offer", async () => {
    const plan = clone(await planOf("prod"));
    byName(plan, "data-valkey").inputs.spec.volumeClaimTemplates[0].spec.accessModes = [
      "ReadWriteMany",
    ];
    expect(messages(plan)).toEqual([
      "data-valkey spec.volumeClaimTemplates[0].spec.storageClassName: csi.proxmox.sinextra.dev offers ReadWriteOnce and ReadWriteOncePod, not ReadWriteMany",
    ]);
  });

  it("provisions a host-bound volume before its pod is scheduled", async () => {
    const plan = clone(await planOf("dev"));
    byName(plan, "storage-class").inputs.volumeBindingMode = "Immediate";
    const found = messages(plan);
    expect(found).toHaveLength(5);
    expect(found[0]).toBe(
      'model-qwen-small-server spec.volumeClaimTemplates[0].spec.storageClassName: StorageClass "local-path" provisions rancher.io/local-path volumes before the pod is scheduled, where the pod may not follow (volumeBindingMode must be WaitForFirstConsumer)',
    );
  });

  it("reads the chart's claims from its values: a Loki volume of a class that is not there", async () => {
    const plan = clone(await planOf("dev"));
    byName(plan, "observability-loki").inputs.values.singleBinary.persistence.storageClass = "ssd";
    expect(messages(plan)).toEqual([
      'observability-loki values.singleBinary.persistence.storageClass: StorageClass "ssd" is not one the stack provides (local-path): the claim stays Pending',
    ]);
  });
});

describe("a node the provisioner cannot serve is a finding", () => {
  it("a node without its region, or with another host as zone (proxmox-csi)", async () => {
    const plan = clone(await planOf("staging"));
    const vm = find(plan, (r) => r.type === "proxmoxve:index/vmLegacy:VmLegacy");
    const labels = byName(plan, `${vm.name}-user-data`).views["sourceRaw.data"].KubeNodeConfig
      .labels;
    delete labels["topology.kubernetes.io/region"];
    labels["topology.kubernetes.io/zone"] = "elsewhere";
    const node = vm.inputs.name;
    expect(messages(plan)).toEqual([
      `node ${node}: no topology.kubernetes.io/region label: the Proxmox CSI plugin cannot serve it`,
      `node ${node}: topology.kubernetes.io/zone is "elsewhere", not its Proxmox host ${vm.inputs.nodeName}: the Proxmox CSI plugin would create its disks on the wrong host`,
    ]);
  });

  it("a worker without the local-path user volume (local-path)", async () => {
    const plan = clone(await planOf("dev"));
    const view = byName(plan, "hbd-dev-vm-dev-worker-1-user-data").views["sourceRaw.data"];
    expect(view["UserVolumeConfig/local-path-provisioner"]).toEqual({
      apiVersion: "v1alpha1",
      kind: "UserVolumeConfig",
      name: "local-path-provisioner",
      volumeType: "directory",
    });
    // Control planes run no volumes: they have none.
    expect(
      byName(plan, "hbd-dev-vm-dev-cp-1-user-data").views["sourceRaw.data"][
        "UserVolumeConfig/local-path-provisioner"
      ],
    ).toBeUndefined();
    delete view["UserVolumeConfig/local-path-provisioner"];
    expect(messages(plan)).toEqual([
      "node dev-worker-1: no UserVolumeConfig local-path-provisioner (a directory volume): the local-path provisioner's directories would not reach the kubelet",
    ]);
  });
});
