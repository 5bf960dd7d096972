import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { describe, expect, it } from "vitest";
import { hasStackTrace, REPO_ROOT, runPlanCli } from "../helpers/cli";

describe("the offline plan runs the policy pack", () => {
  it("a prod stack whose control planes are unprotected exits 2, naming the policy and the resource", async () => {
    // A fixture the config schema accepts but production policy forbids.
    const doc = YAML.parseDocument(
      readFileSync(path.join(REPO_ROOT, "stacks", "Pulumi.prod.yaml"), "utf8"),
    );
    doc.setIn(["config", "homebrew-dev:cluster", "controlPlane", "protect"], false);
    const file = path.join(mkdtempSync(path.join(tmpdir(), "policy-")), "prod-unprotected.yaml");
    writeFileSync(file, doc.toString());

    const text = await runPlanCli(["prod", "--config", file]);
    expect(text.code).toBe(2);
    expect(hasStackTrace(text.stderr)).toBe(false);
    expect(text.stdout).toContain(
      "! mandatory proxmox-protect-control-planes: control-plane VM prod-cp-1 is not protected",
    );
    expect(text.stdout).toMatch(/Policies: [1-9]\d* mandatory and \d+ advisory violations\n$/);

    const json = await runPlanCli(["prod", "--config", file, "--json"]);
    expect(json.code).toBe(2);
    const plan = JSON.parse(json.stdout);
    expect(plan.policies).toContainEqual({
      policy: "proxmox-protect-control-planes",
      level: "mandatory",
      urn: "urn:pulumi:prod::homebrew-dev::homebrew-dev:talos:Cluster$homebrew-dev:proxmox:TalosVm$proxmoxve:index/vmLegacy:VmLegacy::hbd-prod-vm-prod-cp-1",
      message: "control-plane VM prod-cp-1 is not protected",
    });
  });

  it("the same change in dev is advice, not a failure", async () => {
    const doc = YAML.parseDocument(
      readFileSync(path.join(REPO_ROOT, "stacks", "Pulumi.dev.yaml"), "utf8"),
    );
    doc.setIn(["config", "homebrew-dev:cluster", "controlPlane", "protect"], false);
    const file = path.join(mkdtempSync(path.join(tmpdir(), "policy-")), "dev.yaml");
    writeFileSync(file, doc.toString());
    const json = await runPlanCli(["dev", "--config", file, "--json"]);
    expect(json.code).toBe(0);
    const plan = JSON.parse(json.stdout);
    expect(plan.policies).toContainEqual(
      expect.objectContaining({ policy: "proxmox-protect-control-planes", level: "advisory" }),
    );
    expect(plan.policyPack.policies).toContainEqual({
      name: "proxmox-protect-control-planes",
      enforcementLevel: "advisory",
    });
  });
});
