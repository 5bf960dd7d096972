import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { diffPlans, replaceReasons } from "../../tools/plan/diff";
import {
  commentMarker,
  DEFAULT_BUDGET,
  leafCell,
  renderMarkdown,
  verdict,
} from "../../tools/plan/markdown";
import { renderMermaid } from "../../tools/plan/mermaid";
import type { Plan, PlanResource, PolicyResult } from "../../tools/plan/render";
import { runPlanCli } from "../helpers/cli";
import { planOfResources as planOf, planResource } from "../helpers/plans";
import { planEditedStack } from "../helpers/stacks";

const dir = mkdtempSync(path.join(tmpdir(), "md-"));

async function planWith(edit: (doc: YAML.Document) => void): Promise<Plan> {
  const res = await planEditedStack("prod", edit, ["--json"]);
  expect(res.stderr).toBe("");
  return JSON.parse(res.stdout) as Plan;
}

const POOLS = ["config", "homebrew-dev:cluster", "workerPools"];

describe("plan diff and pull-request comment on real plan pairs", () => {
  let base: Plan;
  beforeAll(async () => {
    base = JSON.parse((await runPlanCli(["prod", "--json"])).stdout) as Plan;
  });

  it("a worker added: creates only, a safe verdict, no danger block", async () => {
    const head = await planWith((doc) => {
      (doc.getIn([...POOLS, 0, "nodes"]) as YAML.YAMLSeq).add(
        doc.createNode({ name: "prod-worker-5", ip: "10.50.0.25" }),
      );
    });
    const diff = diffPlans(base, head);
    expect(diff.counts.update).toBe(0);
    expect(diff.counts.replace).toBe(0);
    expect(diff.counts.delete).toBe(0);
    expect(diff.counts.create).toBeGreaterThanOrEqual(5);
    const md = renderMarkdown(diff, head);
    expect(md.startsWith(`${commentMarker("prod")}\n### Plan of stack \`prod\``)).toBe(true);
    expect(md).toContain(
      `**Safe**: ${diff.counts.create} to create and 0 to update, nothing deleted or replaced.`,
    );
    expect(md).toContain(`| ${diff.counts.create} | 0 | 0 | 0 |`);
    expect(md).not.toContain("#### Danger");
    expect(md).toContain("```mermaid\nflowchart LR");
    expect(md).toContain("prod-worker-5");
  });

  it("a VM moved to another host: a live migration (an update), not a new VM", async () => {
    const head = await planWith((doc) => {
      doc.setIn([...POOLS, 0, "nodes", 0, "host"], "pve-3");
    });
    const diff = diffPlans(base, head);
    const vms = diff.changes.filter((c) => c.type === "proxmoxve:index/vmLegacy:VmLegacy");
    expect(vms.map((c) => [c.kind, c.name, c.properties.map((p) => p.path)])).toEqual([
      ["update", "hbd-prod-vm-prod-worker-1", ["nodeName"]],
    ]);
    expect(diff.findings).toEqual([]);
    const md = renderMarkdown(diff, head);
    expect(md).toContain("  - `nodeName`: `pve-");
  });

  it("a replacement is shown first in the danger block with the property forcing it", () => {
    const vm = (host: string) =>
      planResource({
        urn: "urn:pulumi:prod::homebrew-dev::proxmoxve:index/vmLegacy:VmLegacy::gpu",
        type: "proxmoxve:index/vmLegacy:VmLegacy",
        name: "gpu",
        // PCI passthrough cannot migrate: a new host is a new VM.
        inputs: { name: "gpu", nodeName: host, migrate: false },
      });
    const head = planOf([vm("pve-2")]);
    const diff = diffPlans(planOf([vm("pve-3")]), head);
    expect(diff.changes[0]).toMatchObject({
      kind: "replace",
      replaceReasons: ["nodeName"],
      // An explicit `name` is auto-named input given by hand: the bridge deletes first.
      deleteFirst: true,
    });
    const md = renderMarkdown(diff, head);
    const danger = md.indexOf("#### Danger");
    expect(danger).toBeGreaterThan(0);
    expect(danger).toBeLessThan(md.indexOf("#### Policies"));
    expect(md).toContain(
      "- **replace** `proxmoxve:index/vmLegacy:VmLegacy` `gpu` (deleted first), forced by `nodeName`",
    );
    expect(md).toContain(
      "**Review carefully**: 1 change that loses data or restarts nodes (0 to delete and 1 to replace in all).",
    );
  });

  it("a redirect removed: the list or rule that carried it changes, nothing else", async () => {
    const head = await planWith((doc) => {
      const redirects = doc.getIn(["config", "homebrew-dev:edge", "redirects"]) as YAML.YAMLSeq;
      redirects.delete(0);
    });
    const diff = diffPlans(base, head);
    expect(diff.changes.length).toBeGreaterThan(0);
    for (const c of diff.changes) {
      expect(c.type).toMatch(/^cloudflare:index\/(list|ruleset|listItem):/i);
    }
    const md = renderMarkdown(diff, head);
    expect(md).toContain("#### Changed properties");
    expect(md).toMatch(/\*\*(update|delete)\*\* `cloudflare:index\/(list|ruleset)/);
  });

  it("masks secrets and carries no key material", async () => {
    const head = await planWith((doc) =>
      doc.setIn(["config", "homebrew-dev:cluster", "talosVersion"], "v1.13.8"),
    );
    const md = renderMarkdown(diffPlans(base, head), head);
    expect(md).not.toMatch(/-----BEGIN|PRIVATE KEY|LS0tLS1CRUdJT/);
    expect(md).toMatch(/`update`: `[^`]*` → `[^`]*v1\.13\.8/);
    expect(md).toMatch(/\*\*update\*\* `command:local:Command` `hbd-prod-upgrade-prod-cp-1`/);
  });
});

describe("diff rules", () => {
  it("replacement reasons follow the provider's rules per type", () => {
    expect(
      replaceReasons("kubernetes:apps/v1:StatefulSet", [
        "spec.replicas",
        "spec.volumeClaimTemplates[0].spec",
      ]),
    ).toEqual(["spec.volumeClaimTemplates[0].spec"]);
    expect(replaceReasons("kubernetes:core/v1:Service", ["metadata.name"])).toEqual([
      "metadata.name",
    ]);
    expect(replaceReasons("random:index/randomBytes:RandomBytes", ["length"])).toEqual(["length"]);
    // The program's own replaceOnChanges counts as the provider's rules do.
    expect(
      replaceReasons("cloudflare:index/dnsRecord:DnsRecord", ["content", "type"], ["type"]),
    ).toEqual(["type"]);
    expect(
      replaceReasons("proxmoxve:index/vmLegacy:VmLegacy", ["cpu.cores", "memory.dedicated"]),
    ).toEqual([]);
  });

  it("a protected resource about to be deleted makes the verdict dangerous", () => {
    const r = (name: string, protect: boolean): PlanResource =>
      planResource({
        urn: `urn:pulumi:prod::homebrew-dev::t:index:R::${name}`,
        type: "t:index:R",
        name,
        protect,
      });
    const diff = diffPlans(planOf([r("zone", true), r("a", false)]), planOf([r("a", false)]));
    // `pulumi up` refuses to delete a protected resource: the change is blocked, and says why.
    expect(verdict(diff, 0)).toBe(
      "**Blocked**: 1 lifecycle error (`pulumi up` would fail or lose data).",
    );
    expect(diff.findings).toEqual([
      {
        check: "protected",
        level: "error",
        urn: "urn:pulumi:prod::homebrew-dev::t:index:R::zone",
        message: "zone is protected and would be deleted: `pulumi up` stops there",
      },
    ]);
    expect(renderMarkdown(diff, planOf([r("a", false)]))).toContain(
      "- **delete** `t:index:R` `zone` **(protected)**",
    );
    expect(verdict(diff, 2)).toBe(
      "**Blocked**: 2 mandatory policy violations, 1 lifecycle error (`pulumi up` would fail or lose data).",
    );
  });

  it("policy results show what the change adds and resolves first; standing ones are collapsed and counted", () => {
    const r = (name: string) =>
      planResource({
        urn: `urn:pulumi:prod::homebrew-dev::t:index:R::${name}`,
        type: "t:index:R",
        name,
      });
    const finding = (name: string, message: string): PolicyResult => ({
      policy: "image-digest-preferred",
      level: "advisory",
      urn: `urn:pulumi:prod::homebrew-dev::t:index:R::${name}`,
      message,
    });
    const base = {
      ...planOf([r("a"), r("b")]),
      policies: [finding("a", "old"), finding("b", "both")],
    };
    const head = {
      ...planOf([r("b"), r("c")]),
      policies: [finding("b", "both"), finding("c", "new")],
    };
    const diff = diffPlans(base, head);
    expect(diff.policies).toEqual({
      added: [finding("c", "new")],
      resolved: [finding("a", "old")],
      standing: [finding("b", "both")],
    });
    const md = renderMarkdown(diff, head);
    const section = md.slice(md.indexOf("#### Policies"), md.indexOf("#### Changed properties"));
    expect(section).toContain("0 mandatory, 2 advisory: 1 new, 1 resolved, 1 standing.");
    expect(section.indexOf("New:")).toBeLessThan(section.indexOf("Resolved:"));
    expect(section.indexOf("Resolved:")).toBeLessThan(
      section.indexOf("<details><summary>1 standing"),
    );
    expect(section).toContain("- **advisory** `image-digest-preferred` on `c`: new");
  });

  it("an exemption the change declares is read like a new finding; standing ones are collapsed with their reasons", () => {
    const r = (name: string) =>
      planResource({
        urn: `urn:pulumi:prod::homebrew-dev::t:index:R::${name}`,
        type: "t:index:R",
        name,
      });
    const exemption = (name: string, reason: string) => ({
      policy: "k8s-read-only-root-filesystem",
      urn: `urn:pulumi:prod::homebrew-dev::t:index:R::${name}`,
      reason,
    });
    const base = {
      ...planOf([r("a"), r("b")]),
      exemptions: [exemption("a", "writes below /opt"), exemption("b", "writes below /srv")],
    };
    const head = {
      ...planOf([r("a"), r("b")]),
      // b's reason changed: a new decision to review, and the old one is dropped.
      exemptions: [exemption("a", "writes below /opt"), exemption("b", "writes below /var")],
    };
    const diff = diffPlans(base, head);
    expect(diff.exemptions).toEqual({
      added: [exemption("b", "writes below /var")],
      removed: [exemption("b", "writes below /srv")],
      standing: [exemption("a", "writes below /opt")],
    });
    const md = renderMarkdown(diff, head);
    const section = md.slice(md.indexOf("#### Policies"), md.indexOf("#### Changed properties"));
    expect(section).toContain(
      "New exemptions:\n- `k8s-read-only-root-filesystem` on `b`: writes below /var",
    );
    expect(section).toContain(
      "Exemptions dropped:\n- `k8s-read-only-root-filesystem` on `b`: writes below /srv",
    );
    expect(section).toContain(
      "<details><summary>1 exemption standing, each with its reason</summary>\n\n- `k8s-read-only-root-filesystem` on `a`: writes below /opt",
    );
  });

  it("an added or removed object shows every leaf, not a prefix of its JSON", () => {
    expect(
      leafCell({
        redirect: { sourceUrl: "https://a/x", statusCode: 301, targetUrl: { value: "https://b/" } },
      }),
    ).toBe(
      "`redirect.sourceUrl=https://a/x, redirect.statusCode=301, redirect.targetUrl.value=https://b/`",
    );
    expect(leafCell({ ports: [{ port: 80 }, { port: 443 }], tags: [] })).toBe(
      "`ports[0].port=80, ports[1].port=443, tags=[]`",
    );
    expect(leafCell("plain")).toBe("`plain`");
  });

  it("the size budget holds on a huge diff and never cuts the top sections", () => {
    const many = (n: number, value: string): Plan => {
      const resources: PlanResource[] = Array.from({ length: n }, (_, i) =>
        planResource({
          urn: `urn:pulumi:prod::homebrew-dev::kubernetes:core/v1:PersistentVolumeClaim::cm-${String(i).padStart(5, "0")}`,
          type: "kubernetes:core/v1:PersistentVolumeClaim",
          name: `cm-${i}`,
          inputs: { data: { key: `${value}-${"x".repeat(200)}` }, metadata: { name: `cm-${i}` } },
        }),
      );
      return planOf(resources);
    };
    const base = many(5000, "a");
    const head = { ...many(4000, "b"), resources: [...many(4000, "b").resources] };
    const diff = diffPlans(base, head);
    expect(diff.counts).toEqual({ create: 0, update: 4000, replace: 0, delete: 1000 });
    const md = renderMarkdown(diff, head);
    expect(md.length).toBeLessThanOrEqual(DEFAULT_BUDGET);
    expect(md).toContain("| 0 | 4000 | 0 | 1000 |");
    expect(md).toContain("#### Danger");
    expect(md).toMatch(/_…and \d+ more changes, omitted to fit the comment\._/);
    const small = renderMarkdown(diff, head, { budget: 20_000 });
    expect(small).toContain(
      "**Review carefully**: 1000 changes that lose data or restart nodes (1000 to delete and 0 to replace in all).",
    );
  });
});

describe("system diagram", () => {
  it("shows hosts with their VMs, the cluster, workloads and public names", async () => {
    const plan = JSON.parse((await runPlanCli(["prod", "--json"])).stdout) as Plan;
    const mermaid = renderMermaid(plan);
    expect(mermaid.startsWith("flowchart LR\n")).toBe(true);
    expect(mermaid).toContain('subgraph host_pve_3["pve-3"]');
    expect(mermaid).toContain('vm_prod_gpu_1["prod-gpu-1"]');
    expect(mermaid).toContain("proxmox --> k8s");
    expect(mermaid).toContain('subgraph ns_models["namespace models"]');
    expect(mermaid).toContain('wl_models_qwen_7b["qwen-7b"]');
  });
});

describe("system diagram of a change", () => {
  it("marks what the change adds and removes, and shows every tier and every exposed name", async () => {
    const base = JSON.parse((await runPlanCli(["prod", "--json"])).stdout) as Plan;
    const head = await planWith((doc) => {
      (doc.getIn([...POOLS, 0, "nodes"]) as YAML.YAMLSeq).delete(1);
      (doc.getIn(["config", "homebrew-dev:models"]) as YAML.YAMLSeq).add(
        doc.createNode({ name: "phi", engine: "ollama", source: { ollama: "phi3:mini" }, gpus: 0 }),
      );
    });
    const mermaid = renderMermaid(head, base);
    expect(mermaid).toContain("  class wl_models_phi added\n");
    expect(mermaid).toContain("  class vm_prod_worker_2 removed");
    // The removed VM is still drawn, on its host.
    expect(mermaid).toContain('vm_prod_worker_2["prod-worker-2"]');
    // Every namespace the program creates, the database and the Helm releases among the workloads.
    for (const ns of ["apps", "data", "ingress", "models", "observability"]) {
      expect(mermaid).toContain(`subgraph ns_${ns}["namespace ${ns}"]`);
    }
    expect(mermaid).toContain('wl_data_postgres["postgres"]');
    // Exposed names are never summarised away.
    for (const name of [
      "grafana.homebrew.example",
      "llm.homebrew.example",
      "hello.homebrew.example",
    ]) {
      expect(mermaid).toContain(`["${name}"]`);
    }
  });
});

describe("npm run plan -- prod --diff <staging plan> --markdown", () => {
  it("prints a comment with the counts table, the danger block and a diagram, with no key material", async () => {
    const staging = await runPlanCli(["staging", "--json"]);
    const file = path.join(dir, "staging.json");
    writeFileSync(file, staging.stdout);
    const res = await runPlanCli(["prod", "--diff", file, "--markdown"]);
    // Turning staging into prod would delete staging's protected control planes: blocked, each
    // one on stderr.
    expect(res.code).toBe(2);
    expect(res.stderr.split("\n")[0]).toBe(
      "blocked: 0 mandatory policy violations, 3 lifecycle errors",
    );
    for (const cp of ["stg-cp-1", "stg-cp-2", "stg-cp-3"]) {
      expect(res.stderr).toContain(
        `hbd-staging-vm-${cp} is protected and would be deleted: \`pulumi up\` stops there`,
      );
    }
    expect(res.stdout.startsWith("<!-- homebrew-dev-plan:prod -->\n")).toBe(true);
    expect(res.stdout).toMatch(
      /\| create \| update \| replace \| delete \|\n\| ---: \| ---: \| ---: \| ---: \|\n\| \d+ \| \d+ \| \d+ \| \d+ \|/,
    );
    expect(res.stdout).toContain("#### Danger");
    expect(res.stdout).toContain("```mermaid\nflowchart LR");
    expect(res.stdout).not.toMatch(/-----BEGIN|PRIVATE KEY|LS0tLS1CRUdJT|eyJhIjoi/);
    expect(res.stdout.length).toBeLessThanOrEqual(DEFAULT_BUDGET);
  });

  it("refuses --markdown without --diff, and --diff with --show-secrets", async () => {
    const a = await runPlanCli(["prod", "--markdown"]);
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/^error: --markdown needs --diff BASE\.json/);
    const b = await runPlanCli(["prod", "--diff", "x.json", "--show-secrets"]);
    expect(b.code).toBe(1);
    expect(b.stderr).toBe("error: --diff cannot be combined with --show-secrets\n");
  });

  it("rejects a base file that is not a plan", async () => {
    const file = path.join(dir, "not-a-plan.json");
    writeFileSync(file, "{}");
    const res = await runPlanCli(["prod", "--diff", file, "--markdown"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      `error: ${file} is not a plan made with --json (it has no resources list)\n`,
    );
  });
});
