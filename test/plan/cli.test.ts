import { spawnSync } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import {
  REPO_ROOT,
  hasStackTrace,
  runPlanCli,
  runPlanProcess,
  type CliResult,
} from "../helpers/cli";

const PEM = /-----BEGIN [A-Z ]*-----/;
/** base64 of "-----BEGIN" at each of the three byte alignments. */
const PEM_BASE64 = /LS0tLS1CRUdJT|0tLS0tQkVHSU|tLS0tLUJFR0lO/;

describe.each(["dev", "staging", "prod"])("npm run plan -- %s", (stack) => {
  let text: CliResult;
  let json: CliResult;
  beforeAll(async () => {
    text = await runPlanCli([stack]);
    json = await runPlanCli([stack, "--json"]);
  });

  it("exits 0 and prints the tree, counts by type and outputs", () => {
    expect(text.stderr).toBe("");
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(
        `^homebrew-dev · stack ${stack} · \\d+ resources \\(offline plan: nothing is deployed\\)`,
      ),
    );
    expect(text.stdout).toContain(`pulumi:pulumi:Stack  homebrew-dev-${stack}`);
    expect(text.stdout).toContain(`└─ homebrew-dev:talos:Cluster  hbd-${stack}`);
    expect(text.stdout).toContain(`homebrew-dev:talos:Secrets  hbd-${stack}-secrets`);
    expect(text.stdout).toContain("Resources by type:");
    expect(text.stdout).toContain("Outputs:");
    expect(text.stdout).toMatch(/Policies: 0 mandatory and 0 advisory violations\n$/);
  });

  it("prints JSON that follows the plan contract", () => {
    expect(json.code).toBe(0);
    const plan = JSON.parse(json.stdout);
    expect(Object.keys(plan)).toEqual([
      "project",
      "stack",
      "facts",
      "resources",
      "outputs",
      "policies",
      "exemptions",
      "comesUp",
      "findings",
      "policyPack",
      "summary",
    ]);
    expect(plan.project).toBe("homebrew-dev");
    expect(plan.stack).toBe(stack);
    for (const r of plan.resources) {
      expect(Object.keys(r).filter((k) => k !== "secretDigests" && k !== "views")).toEqual([
        "urn",
        "type",
        "name",
        "parent",
        "provider",
        "dependsOn",
        "propertyDependencies",
        "protect",
        "deleteBeforeReplace",
        "ignoreChanges",
        "replaceOnChanges",
        "owns",
        "aliases",
        "inputs",
      ]);
      expect(r.urn).toMatch(new RegExp(`^urn:pulumi:${stack}::homebrew-dev::`));
    }
    const urns = plan.resources.map((r: { urn: string }) => r.urn);
    expect(urns).toEqual([...urns].sort());
    expect(new Set(urns).size).toBe(urns.length);
    expect(plan.summary.resources).toBe(plan.resources.length);
    expect(plan.policies).toEqual([]);
    expect(plan.summary.policies.exemptions).toBe(plan.exemptions.length);
    expect(plan.policyPack.name).toBe("homebrew-dev");
    expect(plan.policyPack.policies.length).toBeGreaterThanOrEqual(25);
    const byType: Record<string, number> = {};
    for (const r of plan.resources) byType[r.type] = (byType[r.type] ?? 0) + 1;
    expect(plan.summary.byType).toEqual(byType);
  });

  it("contains no key material and masks every secret", () => {
    for (const out of [text.stdout, json.stdout]) {
      expect(out).not.toMatch(PEM);
      expect(out).not.toMatch(PEM_BASE64);
    }
    const plan = JSON.parse(json.stdout);
    const certs = plan.resources.filter(
      (r: { type: string }) => r.type === "tls:index/selfSignedCert:SelfSignedCert",
    );
    expect(certs).toHaveLength(4);
    for (const c of certs) expect(c.inputs.privateKeyPem).toBe("[secret]");
    const snippets = plan.resources.filter(
      (r: { type: string }) => r.type === "proxmoxve:index/fileLegacy:FileLegacy",
    );
    expect(snippets.length).toBeGreaterThan(0);
    for (const s of snippets) expect(s.inputs.sourceRaw.data).toBe("[secret]");
    expect(plan.outputs.kubeconfig).toBe("[secret]");
    expect(plan.outputs.talosconfig).toBe("[secret]");
  });
});

describe("npm run plan as its own process", () => {
  it("prints the same bytes as in this process, with exit 0 and nothing on stderr", async () => {
    // The largest stack, as a user runs the command: determinism across processes.
    const inProcess = await runPlanCli(["prod", "--json"]);
    expect(runPlanProcess(["prod", "--json"])).toEqual({
      code: 0,
      stdout: inProcess.stdout,
      stderr: "",
    });
  });
});

describe("npm run plan into a reader that stops early", () => {
  it("ends quietly when the pipe closes (`| head`): no EPIPE trace", () => {
    const plan = `"${process.execPath}" --import tsx tools/plan.ts prod --json`;
    const res = spawnSync("sh", ["-c", `${plan} | head -c 100 > /dev/null`], {
      cwd: REPO_ROOT,
      encoding: "utf8",
    });
    expect(res.status).toBe(0);
    expect(res.stderr).toBe("");
    expect(hasStackTrace(res.stderr)).toBe(false);
  });
});

describe("npm run plan: resources per stack", () => {
  it("reveals secret values only with --show-secrets", async () => {
    const shown = await runPlanCli(["prod", "--json", "--show-secrets"]);
    expect(shown.code).toBe(0);
    const plan = JSON.parse(shown.stdout);
    const cert = plan.resources.find(
      (r: { type: string; name: string }) => r.type === "tls:index/selfSignedCert:SelfSignedCert",
    );
    expect(cert.inputs.privateKeyPem).toMatch(/^<computed tls:PrivateKey .+\.privateKeyPem>$/);
    expect(shown.stdout).not.toContain("[secret]");
  });

  it("prod protects the Talos secrets, dev does not", async () => {
    const prod = JSON.parse((await runPlanCli(["prod", "--json"])).stdout);
    const dev = JSON.parse((await runPlanCli(["dev", "--json"])).stdout);
    const protectedIn = (plan: { resources: { type: string; protect: boolean }[] }) =>
      plan.resources.filter((r) => r.type.startsWith("tls:") && r.protect).length;
    expect(protectedIn(prod)).toBe(9);
    expect(protectedIn(dev)).toBe(0);
    expect(prod.summary.byType).toMatchObject({
      "homebrew-dev:talos:Secrets": 1,
      "pulumi:pulumi:Stack": 1,
      "tls:index/privateKey:PrivateKey": 7,
      "tls:index/selfSignedCert:SelfSignedCert": 4,
      "random:index/randomBytes:RandomBytes": 4,
      "random:index/randomString:RandomString": 4,
    });
    expect(prod.outputs).toMatchObject({
      clusterName: "hbd-prod",
      environment: "prod",
      kubernetesApi: "https://10.50.0.10:6443",
      zone: "homebrew.example",
    });
  });
});
