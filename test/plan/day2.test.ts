import * as YAML from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { diffPlans, type PlanDiff } from "../../tools/plan/diff";
import { renderMarkdown, summaryLines } from "../../tools/plan/markdown";
import type { Plan } from "../../tools/plan/render";
import { runPlanCli } from "../helpers/cli";
import { planEditedStack } from "../helpers/stacks";

/**
 * Day-2 scenarios on the shipped stacks: the plan diff between a base and an edited stack shows
 * exactly the steps `pulumi up` takes and nothing else. The README's day-2 section is written
 * from these.
 */

type Edit = (doc: YAML.Document) => void;

async function planOf(stack: string, edit?: Edit): Promise<Plan> {
  const res =
    edit === undefined
      ? await runPlanCli([stack, "--json"])
      : await planEditedStack(stack, edit, ["--json"]);
  expect(res.stderr).toBe("");
  return JSON.parse(res.stdout) as Plan;
}

const short = (type: string) => type.split(":").pop()!;

/** Each step as `<kind>[!] <Type> <name>` (`!`: deleted first), sorted. */
function steps(diff: PlanDiff): string[] {
  return diff.changes
    .map((c) => `${c.kind}${c.deleteFirst ? "!" : ""} ${short(c.type)} ${c.name}`)
    .sort();
}

/** The danger block of the comment, a line per change. */
function danger(diff: PlanDiff, head: Plan): string[] {
  const md = renderMarkdown(diff, head, { diagram: false });
  if (!md.includes("#### Danger")) return [];
  const block = md.slice(md.indexOf("#### Danger"), md.indexOf("#### Policies"));
  return block.split("\n").filter((l) => l.startsWith("- "));
}

const C = ["config", "homebrew-dev:cluster"];
const PROD_NODES = [
  "prod-cp-1",
  "prod-cp-2",
  "prod-cp-3",
  "prod-worker-1",
  "prod-worker-2",
  "prod-worker-3",
  "prod-worker-4",
  "prod-gpu-1",
];
const IMAGES = ["base", "gvisor-kata", "nvidia"];
/** A node's own resources. */
const nodeResources = (kind: string, node: string) =>
  [
    `${kind} Command hbd-prod-apply-${node}`,
    `${kind} Command hbd-prod-remove-${node}`,
    `${kind} Command hbd-prod-upgrade-${node}`,
    `${kind} FileLegacy hbd-prod-vm-${node}-user-data`,
    `${kind} TalosVm hbd-prod-vm-${node}`,
    `${kind} VmLegacy hbd-prod-vm-${node}`,
  ].sort();
/** Every node's machine config changes: its snippet is rewritten, its config applied. */
const configsRewritten = (nodes: readonly string[]) =>
  nodes.flatMap((n) => [
    `update Command hbd-prod-apply-${n}`,
    `replace! FileLegacy hbd-prod-vm-${n}-user-data`,
  ]);

describe("day 2 on prod: the plan diff shows exactly what pulumi up does", () => {
  let base: Plan;
  beforeAll(async () => {
    base = await planOf("prod");
  });
  const scenario = async (edit: Edit) => diffPlans(base, await planOf("prod", edit));

  it("add a worker: its VM, snippet and day-2 steps are created, nothing else changes", async () => {
    const diff = await scenario((doc) =>
      (doc.getIn([...C, "workerPools", 0, "nodes"]) as YAML.YAMLSeq).add(
        doc.createNode({ name: "prod-worker-5", ip: "10.50.0.25" }),
      ),
    );
    expect(steps(diff)).toEqual(nodeResources("create", "prod-worker-5"));
    expect(diff.findings).toEqual([]);
    expect(diff.summary.nodes.added).toEqual([
      expect.stringMatching(
        /^prod-worker-5 on pve-\d, 10\.50\.0\.25 \(general\), 8 vCPU, 32 GiB, 200 GiB disk$/,
      ),
    ]);
    expect(summaryLines(diff)).toEqual([
      expect.stringMatching(/^- \*\*Nodes\*\* added: prod-worker-5 on /),
    ]);
  });

  it("remove a worker: its removal step drains and resets it, then its VM goes", async () => {
    const diff = await scenario((doc) =>
      (doc.getIn([...C, "workerPools", 0, "nodes"]) as YAML.YAMLSeq).delete(1),
    );
    expect(steps(diff)).toEqual(nodeResources("delete", "prod-worker-2"));
    expect(diff.findings).toEqual([]);
    expect(danger(diff, base)).toEqual([
      "- **delete** `command:local:Command` `hbd-prod-remove-prod-worker-2`: drains and resets node prod-worker-2",
      "- **delete** `proxmoxve:index/vmLegacy:VmLegacy` `hbd-prod-vm-prod-worker-2`: loses a Talos node: its disk, its workloads' local data and, for a control plane, its etcd member",
    ]);
    // The removal step is deleted before the VM: it depends on it.
    const remove = base.resources.find((r) => r.name === "hbd-prod-remove-prod-worker-2")!;
    expect(remove.dependsOn.some((u) => u.endsWith("VmLegacy::hbd-prod-vm-prod-worker-2"))).toBe(
      true,
    );
    expect(remove.inputs["delete"]).toContain(
      "talosctl --context hbd-prod --nodes 10.50.0.22 reset --graceful=true --reboot=false",
    );
  });

  it("a new node on the address of one being removed: refused, one change each", async () => {
    const diff = await scenario((doc) =>
      doc.setIn([...C, "workerPools", 0, "nodes", 1, "name"], "prod-worker-9"),
    );
    expect(diff.findings.map((f) => [f.check, f.urn.split("::").pop()])).toEqual([
      ["create-before-delete", "hbd-prod-remove-prod-worker-9"],
      ["delete-removes-shared", "hbd-prod-remove-prod-worker-2"],
    ]);
    expect(diff.findings[0]!.message).toMatch(
      /while hbd-prod-remove-prod-worker-2 still runs there.*remove the old node in one change, add the new one in the next$/,
    );
  });

  it("declaring a datastore shared on a running stack: the first host's download is kept, the others flagged", async () => {
    const perHost = await planOf("prod", (doc) =>
      (doc.getIn(["config", "homebrew-dev:proxmox"]) as YAML.YAMLMap).delete("sharedDatastores"),
    );
    const diff = diffPlans(perHost, base);
    // The shared downloads take over the first host's by their aliases: no create. The nvidia
    // image was pve-3's alone; the first host of the stack (pve-1) downloads it now, once.
    expect(steps(diff)).toEqual([
      "delete File hbd-prod-image-base-pve-2",
      "delete File hbd-prod-image-base-pve-3",
      "delete File hbd-prod-image-gvisor-kata-pve-2",
      "delete File hbd-prod-image-gvisor-kata-pve-3",
      "replace! File hbd-prod-image-nvidia-cephfs",
    ]);
    // Deleting the others would remove the one shared file: remove them from the state instead.
    expect(diff.findings.map((f) => [f.check, f.urn.split("::").pop()])).toEqual(
      [
        "hbd-prod-image-base-pve-2",
        "hbd-prod-image-base-pve-3",
        "hbd-prod-image-gvisor-kata-pve-2",
        "hbd-prod-image-gvisor-kata-pve-3",
      ].map((n) => ["delete-removes-shared", n]),
    );
  });

  it("remove control planes: refused while protected, and below etcd quorum", async () => {
    const diff = await scenario((doc) => {
      const cps = doc.getIn([...C, "controlPlane", "nodes"]) as YAML.YAMLSeq;
      cps.delete(2);
      cps.delete(1);
    });
    expect(steps(diff)).toEqual(
      [
        ...nodeResources("delete", "prod-cp-2"),
        ...nodeResources("delete", "prod-cp-3"),
        // Every policy that names the control planes' addresses (egress to their API servers,
        // ingress from them to the webhooks) follows, and the remaining control plane's removal
        // step records the new set of the others (it runs nothing).
        "update NetworkPolicy platform-kubelet-serving-cert-approver-netpol-allow-apiserver-egress",
        "update NetworkPolicy platform-baseline-netpol-data-allow-apiserver-egress",
        "update NetworkPolicy platform-baseline-netpol-data-allow-apiserver-to-cloudnative-pg",
        "update NetworkPolicy platform-baseline-netpol-observability-allow-apiserver-egress",
        "update NetworkPolicy platform-baseline-netpol-observability-allow-apiserver-to-prometheus-operator",
        "update Command hbd-prod-remove-prod-cp-1",
      ].sort(),
    );
    expect(diff.findings.map((f) => [f.check, f.level, f.urn.split("::").pop()])).toEqual([
      ["protected", "error", "hbd-prod-vm-prod-cp-2"],
      ["protected", "error", "hbd-prod-vm-prod-cp-3"],
      ["etcd-quorum", "error", "homebrew-dev-prod"],
    ]);
    expect(diff.findings[2]!.message).toBe(
      "2 of 3 control planes removed: etcd keeps quorum only with 2 of 3; remove one per change",
    );
  });

  it("remove two of five control planes: retire them in one change, remove them in the next", async () => {
    const five: Edit = (doc) => {
      const hosts = doc.getIn(["config", "homebrew-dev:proxmox", "hosts"]) as YAML.YAMLSeq;
      for (const name of ["pve-4", "pve-5"]) {
        hosts.add(
          doc.createNode({
            name,
            cpuCores: 16,
            memoryMiB: 65536,
            diskDatastore: "ceph-vm",
            imageDatastore: "cephfs",
            snippetDatastore: "cephfs",
          }),
        );
      }
      const cps = doc.getIn([...C, "controlPlane", "nodes"]) as YAML.YAMLSeq;
      cps.add(doc.createNode({ name: "prod-cp-4", ip: "10.50.0.14" }));
      cps.add(doc.createNode({ name: "prod-cp-5", ip: "10.50.0.15" }));
    };
    const retire: Edit = (doc) => {
      five(doc);
      for (const i of [3, 4]) doc.setIn([...C, "controlPlane", "nodes", i, "retire"], true);
    };
    const [all, retiring] = await Promise.all([planOf("prod", five), planOf("prod", retire)]);
    // 1. Retiring: the VMs lose their protection (and say so in a tag); nothing else changes,
    //    and the policies that want control planes protected let them go.
    const first = diffPlans(all, retiring);
    expect(steps(first)).toEqual([
      "update VmLegacy hbd-prod-vm-prod-cp-4",
      "update VmLegacy hbd-prod-vm-prod-cp-5",
    ]);
    expect(retiring.summary.policies.mandatory).toBe(0);
    expect(
      retiring.resources
        .filter((r) => r.type.endsWith("VmLegacy") && !r.protect)
        .map((r) => r.name),
    ).toEqual(expect.arrayContaining(["hbd-prod-vm-prod-cp-4", "hbd-prod-vm-prod-cp-5"]));
    // 2. Removing: each leaves etcd through its removal step, one after the other; 5 → 3 keeps
    //    quorum, and nothing is protected any more.
    const second = diffPlans(retiring, base);
    expect(second.findings).toEqual([]);
    expect(steps(second).filter((s) => s.startsWith("delete"))).toEqual(
      [...nodeResources("delete", "prod-cp-4"), ...nodeResources("delete", "prod-cp-5")].sort(),
    );
    // Removing them without retiring first is refused: the state still protects them.
    expect(diffPlans(all, base).findings.map((f) => f.check)).toEqual(["protected", "protected"]);
  });

  it("Talos patch release: images downloaded anew, every node upgraded in turn, no VM or config touched", async () => {
    const from = diffPlans(
      await planOf("prod", (doc) => doc.setIn([...C, "talosVersion"], "v1.14.6")),
      base,
    );
    // At contract 1.14 the machine config names no installer image (the node boots from its disk
    // image; the upgrade step names the image), so a patch release rewrites no config.
    expect(steps(from)).toEqual(
      [
        ...IMAGES.map((i) => `replace! File hbd-prod-image-${i}-cephfs`),
        ...PROD_NODES.map((n) => `update Command hbd-prod-upgrade-${n}`),
      ].sort(),
    );
    expect(from.findings).toEqual([]);
    expect(summaryLines(from)).toEqual(["- **Versions** Talos v1.14.6 → v1.14.7"]);
    // What a reviewer must see: every node restarts, one after the other. Image downloads are no
    // danger.
    expect(danger(from, base)).toEqual(
      [...PROD_NODES]
        .sort()
        .map((n) =>
          expect.stringMatching(
            new RegExp(
              `^- \\*\\*update\\*\\* \`command:local:Command\` \`hbd-prod-upgrade-${n}\`: restarts 10\\.50\\.0\\.\\d+ \\(drained, upgraded, rebooted\\) unless it already runs the target$`,
            ),
          ),
        ),
    );
    const image = from.changes.find((c) => c.name === "hbd-prod-image-base-cephfs")!;
    expect(image.replaceReasons).toEqual(["fileName", "url"]);
  });

  it("Talos 1.13 to 1.14: every node upgraded in turn first, then its config in the 1.14 documents", async () => {
    const old = await planOf("prod", (doc) => doc.setIn([...C, "talosVersion"], "v1.13.13"));
    const diff = diffPlans(old, base);
    expect(steps(diff)).toEqual(
      [
        ...IMAGES.map((i) => `replace! File hbd-prod-image-${i}-cephfs`),
        ...PROD_NODES.map((n) => `update Command hbd-prod-upgrade-${n}`),
        ...configsRewritten(PROD_NODES),
      ].sort(),
    );
    expect(diff.findings).toEqual([]);
    expect(summaryLines(diff)).toEqual([
      "- **Versions** Talos v1.13.13 → v1.14.7 (machine configs move from the 1.13 to the 1.14 configuration contract: the same settings in other documents, applied after every node runs v1.14.7)",
    ]);
    // The order pulumi up runs them in: every upgrade before the first config apply (a 1.13 node
    // refuses the 1.14 documents), each apply after the one before it.
    const byName = new Map(base.resources.map((r) => [r.name, r]));
    const firstApply = byName.get("hbd-prod-apply-prod-cp-1")!;
    const upgrades = PROD_NODES.map((n) => byName.get(`hbd-prod-upgrade-${n}`)!.urn);
    const ancestors = (urn: string, seen = new Set<string>()): Set<string> => {
      for (const d of base.resources.find((r) => r.urn === urn)?.dependsOn ?? []) {
        if (!seen.has(d)) {
          seen.add(d);
          ancestors(d, seen);
        }
      }
      return seen;
    };
    const before = ancestors(firstApply.urn);
    for (const u of upgrades) expect(before.has(u), u).toBe(true);
    // The control plane's config: the v1alpha1 fields that moved, and the documents they moved to.
    const cp = diff.changes.find((c) => c.name === "hbd-prod-apply-prod-cp-1")!;
    const viewed = cp.properties.filter((p) => p.view === true).map((p) => p.path);
    expect(viewed).toEqual(
      expect.arrayContaining([
        "environment.HOMEBREW_MACHINE_CONFIG ▸ v1alpha1.cluster.secretboxEncryptionSecret",
        "environment.HOMEBREW_MACHINE_CONFIG ▸ v1alpha1.machine.kubelet",
        "environment.HOMEBREW_MACHINE_CONFIG ▸ KubeEtcdEncryptionConfig",
        "environment.HOMEBREW_MACHINE_CONFIG ▸ KubeletConfig",
      ]),
    );
  });

  it("Kubernetes minor upgrade: one upgrade-k8s step, then the configs that carry the version", async () => {
    const diff = await scenario((doc) => doc.setIn([...C, "kubernetesVersion"], "v1.36.3"));
    expect(steps(diff)).toEqual(
      ["update Command hbd-prod-upgrade-kubernetes", ...configsRewritten(PROD_NODES)].sort(),
    );
    expect(diff.findings).toEqual([]);
    expect(danger(diff, base)).toEqual([
      "- **update** `command:local:Command` `hbd-prod-upgrade-kubernetes`: restarts the control-plane components, kube-proxy and every kubelet, one at a time",
    ]);
    const k8s = diff.changes.find((c) => c.name === "hbd-prod-upgrade-kubernetes")!;
    expect(k8s.properties.map((p) => p.after)).toEqual([
      expect.stringContaining(
        "talosctl --context hbd-prod upgrade-k8s --to 1.36.3 --pre-pull-images=true --upgrade-kubelet=true",
      ),
    ]);
    const cp = diff.changes.find((c) => c.name === "hbd-prod-apply-prod-cp-1")!;
    expect(cp.properties.filter((p) => p.view === true).map((p) => [p.path, p.after])).toEqual([
      [
        "environment.HOMEBREW_MACHINE_CONFIG ▸ KubeAPIServerConfig.image",
        "registry.k8s.io/kube-apiserver:v1.36.3",
      ],
      [
        "environment.HOMEBREW_MACHINE_CONFIG ▸ KubeControllerManagerConfig.image",
        "registry.k8s.io/kube-controller-manager:v1.36.3",
      ],
      [
        "environment.HOMEBREW_MACHINE_CONFIG ▸ KubeProxyConfig.image",
        "registry.k8s.io/kube-proxy:v1.36.3",
      ],
      [
        "environment.HOMEBREW_MACHINE_CONFIG ▸ KubeSchedulerConfig.image",
        "registry.k8s.io/kube-scheduler:v1.36.3",
      ],
      [
        "environment.HOMEBREW_MACHINE_CONFIG ▸ KubeletConfig.image",
        "ghcr.io/siderolabs/kubelet:v1.36.3",
      ],
    ]);
  });

  it("Kubernetes: two minors at once, or a downgrade, is refused", async () => {
    const older = await planOf("prod", (doc) => doc.setIn([...C, "kubernetesVersion"], "v1.34.1"));
    const skip = diffPlans(
      older,
      await planOf("prod", (doc) => doc.setIn([...C, "kubernetesVersion"], "v1.36.3")),
    );
    expect(skip.findings.map((f) => [f.check, f.message])).toEqual([
      [
        "kubernetes-upgrade-path",
        "kubernetesVersion v1.34.1 → v1.36.3: upgrade one minor at a time (one change per minor)",
      ],
    ]);
    const down = diffPlans(base, older);
    expect(down.findings.map((f) => f.message)).toEqual([
      "kubernetesVersion v1.35.2 → v1.34.1: Kubernetes cannot be downgraded",
    ]);
  });

  it("pool label change: only that pool's nodes get a new config, no reboot step", async () => {
    const head = await planOf("prod", (doc) =>
      doc.setIn([...C, "workerPools", 1, "labels", "homebrew-dev.io/accelerator"], "rtx-5090"),
    );
    const diff = diffPlans(base, head);
    // The comment says which node and which field, and that the secret changed, not its value.
    const md = renderMarkdown(diff, head);
    expect(md).toContain("- **update** `command:local:Command` `hbd-prod-apply-prod-gpu-1`");
    expect(md).toContain("  - `environment.HOMEBREW_MACHINE_CONFIG`: changed, secret");
    expect(md).toContain(
      "  - `environment.HOMEBREW_MACHINE_CONFIG ▸ KubeNodeConfig.labels.homebrew-dev.io/accelerator`: `rtx-4090` → `rtx-5090`",
    );
    expect(steps(diff)).toEqual(configsRewritten(["prod-gpu-1"]).sort());
    expect(danger(diff, head)).toEqual([]);
    expect(md).toContain(
      "**Safe**: 0 to create, 1 to update, 1 to replace and 0 to delete; nothing loses data and no node restarts.",
    );
    const apply = diff.changes.find((c) => c.kind === "update")!;
    expect(apply.properties.filter((p) => p.view === true)).toEqual([
      {
        path: "environment.HOMEBREW_MACHINE_CONFIG ▸ KubeNodeConfig.labels.homebrew-dev.io/accelerator",
        before: "rtx-4090",
        after: "rtx-5090",
        view: true,
      },
    ]);
  });

  it("admin certificate renewal: two certificates and the Kubernetes provider, no step re-runs", async () => {
    const diff = await scenario((doc) => doc.setIn([...C, "adminCertValidityHours"], 4380));
    expect(steps(diff)).toEqual([
      "replace LocallySignedCert hbd-prod-kubernetes-admin",
      "replace LocallySignedCert hbd-prod-talos-admin",
      "update kubernetes kubernetes",
    ]);
    expect(diff.changes.find((c) => c.name === "kubernetes")!.properties).toEqual([
      {
        path: "kubeconfig",
        before: "[unknown]",
        after: "[unknown]",
        from: "hbd-prod-kubernetes-admin",
      },
    ]);
    expect(diff.findings).toEqual([]);
  });

  it("add a model: its server, service, key, autoscaler and disruption budget, and a gateway route, nothing else", async () => {
    const diff = await scenario((doc) =>
      (doc.getIn(["config", "homebrew-dev:models"]) as YAML.YAMLSeq).add(
        doc.createNode({
          name: "phi",
          engine: "ollama",
          source: { ollama: "phi3:mini" },
          gpus: 0,
          cacheGiB: 10,
        }),
      ),
    );
    expect(summaryLines(diff)).toEqual(["- **Workloads** added: model-phi-server (StatefulSet)"]);
    // The gateway's routes are a new ConfigMap (named after its content), created before the old
    // one goes; the gateway's pods roll onto it.
    expect(steps(diff)).toEqual([
      "create ModelServer model-phi",
      "create PodDisruptionBudget model-phi-pdb",
      "create ScaledObject model-phi-scaler",
      "create Secret model-phi-credentials",
      "create Service model-phi-service",
      "create StatefulSet model-phi-server",
      "replace ConfigMap model-gateway-config",
      "update Deployment model-gateway-deployment",
    ]);
    expect(diff.findings).toEqual([]);
  });

  it("grow a model cache: the StatefulSet is replaced, and the plan warns its claim keeps its size", async () => {
    const diff = await scenario((doc) =>
      doc.setIn(["config", "homebrew-dev:models", 0, "cacheGiB"], 80),
    );
    expect(steps(diff)).toEqual(["replace! StatefulSet model-qwen-7b-server"]);
    expect(diff.changes[0]!.replaceReasons).toEqual([
      "spec.volumeClaimTemplates[metadata.name=cache].spec.resources.requests.storage",
    ]);
    expect(diff.findings.map((f) => [f.check, f.level])).toEqual([["claims-kept", "warning"]]);
  });

  it("insert a redirect: one added list item, not every later item changed", async () => {
    const diff = await scenario((doc) =>
      (doc.getIn(["config", "homebrew-dev:edge", "redirects"]) as YAML.YAMLSeq).items.splice(
        1,
        0,
        doc.createNode({
          source: "https://www.homebrew.example/pricing-2026",
          target: "https://www.homebrew.example/plans",
          status: 301,
        }) as never,
      ),
    );
    expect(diff.changes.map((c) => [c.kind, short(c.type)])).toEqual([["update", "List"]]);
    expect(summaryLines(diff)).toEqual(["- **Redirects** 1 added, 0 removed, 0 changed"]);
    const props = diff.changes[0]!.properties;
    expect(props.map((p) => [p.path, p.before === undefined ? "added" : "changed"])).toEqual([
      ["items[redirect.sourceUrl=https://www.homebrew.example/pricing-2026]", "added"],
    ]);
    const md = renderMarkdown(diff, await planOf("prod"));
    expect(md).toContain(
      "  - `items[redirect.sourceUrl=https://www.homebrew.example/pricing-2026]`: added `",
    );
  });

  it("move a redirect to another target: the redirect list changes in place", async () => {
    const diff = await scenario((doc) =>
      doc.setIn(
        ["config", "homebrew-dev:edge", "redirects", 0, "target"],
        "https://www.homebrew.example/plans-2027",
      ),
    );
    expect(diff.changes.map((c) => [c.kind, short(c.type)])).toEqual([["update", "List"]]);
    expect(diff.findings).toEqual([]);
  });
});

describe("day 2 on staging without the tunnel", () => {
  it("change the ingress target: each exposed name's record changes in place", async () => {
    const noTunnel: Edit = (doc) => {
      doc.setIn(["config", "homebrew-dev:platform", "ingress", "enabled"], false);
      doc.setIn(["config", "homebrew-dev:edge", "ingressTarget"], "203.0.113.20");
    };
    const base = await planOf("staging", noTunnel);
    const head = await planOf("staging", (doc) => {
      noTunnel(doc);
      doc.setIn(["config", "homebrew-dev:edge", "ingressTarget"], "203.0.113.21");
    });
    const diff = diffPlans(base, head);
    expect(diff.changes.length).toBeGreaterThan(0);
    for (const c of diff.changes) {
      expect([c.kind, short(c.type), c.properties.map((p) => [p.path, p.before, p.after])]).toEqual(
        ["update", "DnsRecord", [["content", "203.0.113.20", "203.0.113.21"]]],
      );
    }
    expect(diff.findings).toEqual([]);
  });
});
