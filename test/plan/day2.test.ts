import * as YAML from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { runPlanCli } from "../helpers/cli";
import { planEditedStack } from "../helpers/stacks";

interface Resource {
  urn: string;
  type: string;
  inputs: Record<string, unknown>;
}

/** Plans prod with its stack file changed by `edit`. */
async function planWith(edit: (doc: YAML.Document) => void): Promise<Map<string, Resource>> {
  const res = await planEditedStack("prod", edit, ["--json"]);
  expect(res.stderr).toBe("");
  return byUrn(res.stdout);
}

function byUrn(json: string): Map<string, Resource> {
  const plan = JSON.parse(json) as { resources: Resource[] };
  return new Map(plan.resources.map((r) => [r.urn, r]));
}

/** URNs only in a, only in b, and in both with different inputs. */
function diff(a: Map<string, Resource>, b: Map<string, Resource>) {
  return {
    removed: [...a.keys()].filter((u) => !b.has(u)),
    added: [...b.keys()].filter((u) => !a.has(u)),
    changed: [...a.keys()].filter(
      (u) => b.has(u) && JSON.stringify(a.get(u)!.inputs) !== JSON.stringify(b.get(u)!.inputs),
    ),
  };
}

const POOLS = ["config", "homebrew-dev:cluster", "workerPools"];

describe("day 2 on prod, plan against plan", () => {
  let base: Map<string, Resource>;
  beforeAll(async () => {
    base = byUrn((await runPlanCli(["prod", "--json"])).stdout);
  });

  it("adding a worker only adds that worker's resources", async () => {
    const next = await planWith((doc) => {
      const nodes = doc.getIn([...POOLS, 0, "nodes"]) as YAML.YAMLSeq;
      nodes.add(doc.createNode({ name: "prod-worker-5", ip: "10.50.0.25" }));
    });
    const d = diff(base, next);
    expect(d.removed).toEqual([]);
    expect(d.changed).toEqual([]);
    expect(d.added.length).toBeGreaterThanOrEqual(5);
    for (const urn of d.added) expect(urn).toMatch(/prod-worker-5/);
  });

  it("removing a worker only removes that worker's resources", async () => {
    const next = await planWith((doc) => {
      const nodes = doc.getIn([...POOLS, 0, "nodes"]) as YAML.YAMLSeq;
      nodes.delete(1); // prod-worker-2, in the middle of the pool
    });
    const d = diff(base, next);
    expect(d.added).toEqual([]);
    expect(d.changed).toEqual([]);
    expect(d.removed.length).toBeGreaterThanOrEqual(5);
    // The worker's own resources, and the image on its host when no other node there uses it.
    const vm = [...base.values()].find((r) =>
      r.urn.endsWith("VmLegacy::hbd-prod-vm-prod-worker-2"),
    )!;
    const host = String(vm.inputs["nodeName"]);
    for (const urn of d.removed) {
      expect(urn).toMatch(
        new RegExp(`prod-worker-2|download/file:File::hbd-prod-image-[a-z-]+-${host}$`),
      );
    }
  });

  it("a Talos version change rolls out as upgrade steps and keeps every VM", async () => {
    const next = await planWith((doc) =>
      doc.setIn(["config", "homebrew-dev:cluster", "talosVersion"], "v1.13.8"),
    );
    const d = diff(base, next);
    expect(d.added).toEqual([]);
    expect(d.removed).toEqual([]);
    const changedTypes = new Set(d.changed.map((u) => base.get(u)!.type));
    expect([...changedTypes].sort()).toEqual([
      "command:local:Command",
      "proxmoxve:download/file:File",
    ]);
    const upgrades = d.changed.filter((u) => /::hbd-prod-upgrade-/.test(u));
    expect(upgrades).toHaveLength(8);
    for (const u of upgrades) {
      expect(next.get(u)!.inputs["update"]).toMatch(
        /upgrade --image factory\.talos\.dev\/nocloud-installer\/[0-9a-f]{64}:v1\.13\.8 --wait/,
      );
    }
    // No VM is replaced: the boot image and user-data are ignored after creation.
    expect(
      d.changed.filter((u) => base.get(u)!.type === "proxmoxve:index/vmLegacy:VmLegacy"),
    ).toEqual([]);
  });
});
