import fc from "fast-check";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { scanCli } from "../../tools/scan";
import { planImages } from "../../tools/scan/images";
import { SEVERITIES, ScanPolicyError, readScanPolicy, severityRank } from "../../tools/scan/policy";
import {
  configFindings,
  imageFindings,
  judge,
  reportSlug,
  unreadable,
  workflowFindings,
  type ScanFinding,
} from "../../tools/scan/report";
import { REPO_ROOT, runPlanCli } from "../helpers/cli";

/**
 * The supply-chain scan: the images come from the plans, the scanners' reports (in the formats
 * Trivy and zizmor write) become one list, and the policy decides; an image without a report
 * fails.
 */
const dir = mkdtempSync(path.join(tmpdir(), "scan-"));
const planJson = async (stack: string) => {
  const res = await runPlanCli([stack, "--json"]);
  const file = path.join(dir, `${stack}.json`);
  writeFileSync(file, res.stdout);
  return { file, plan: JSON.parse(res.stdout) };
};

/** A Trivy image report (pkg/types/report.go, SchemaVersion 2) with one vulnerability. */
const trivyImage = (image: string, severity: string, id = "CVE-2026-0001") => ({
  SchemaVersion: 2,
  ArtifactName: image,
  ArtifactType: "container_image",
  Results: [
    {
      Target: `${image} (debian 12.8)`,
      Class: "os-pkgs",
      Type: "debian",
      Vulnerabilities: [
        {
          VulnerabilityID: id,
          PkgName: "libssl3",
          InstalledVersion: "3.0.15-1~deb12u1",
          FixedVersion: "3.0.16-1~deb12u1",
          Status: "fixed",
          Severity: severity,
          Title: "openssl: a flaw",
          PrimaryURL: `https://avd.aquasec.com/nvd/${id.toLowerCase()}`,
        },
      ],
    },
  ],
});

describe("the images of the plans", () => {
  it("are every container image the stacks deploy, the built ones apart", async () => {
    const prod = (await planJson("prod")).plan;
    const { images, built, usedBy } = planImages([prod]);
    expect(images).toContain("ghcr.io/berriai/litellm-non_root:v1.110.4");
    expect(images).toContain("vllm/vllm-openai:v0.11.0");
    // The pre-pull image of the vLLM and llama.cpp servers' init containers.
    expect(images.some((i) => i.startsWith("python:3.12-slim-bookworm@sha256:"))).toBe(true);
    // The image the stack builds has no real digest in a plan: it is scanned at its source.
    expect(images.some((i) => i.includes("hello-api"))).toBe(false);
    expect(built).toEqual([
      { repository: "ghcr.io/homebrew-dev/hello-api", context: "apps/hello-api" },
    ]);
    expect(usedBy["vllm/vllm-openai:v0.11.0"]).toEqual([
      "prod: model-embed-server/server",
      "prod: model-qwen-7b-server/server",
    ]);
    expect([...images].sort()).toEqual(images);
  });
});

describe("the reports as findings", () => {
  it("Trivy's image and config reports, zizmor's workflow report", () => {
    expect(imageFindings("valkey/valkey:8.1.4", trivyImage("valkey/valkey:8.1.4", "HIGH"))).toEqual(
      [
        {
          scanner: "image",
          target: "valkey/valkey:8.1.4",
          id: "CVE-2026-0001",
          severity: "HIGH",
          title: "openssl: a flaw",
          where: "libssl3 3.0.15-1~deb12u1",
          fixedIn: "3.0.16-1~deb12u1",
          url: "https://avd.aquasec.com/nvd/cve-2026-0001",
        },
      ],
    );
    const config = {
      SchemaVersion: 2,
      ArtifactName: "rendered",
      ArtifactType: "filesystem",
      Results: [
        {
          Target: "model-qwen-7b-server.yaml",
          Class: "config",
          Type: "kubernetes",
          Misconfigurations: [
            {
              Type: "Kubernetes Security Check",
              ID: "KSV-0014",
              Title: "Root file system is not read-only",
              Message:
                "Container 'server' should set 'securityContext.readOnlyRootFilesystem' to true",
              Severity: "HIGH",
              Status: "FAIL",
              CauseMetadata: { Resource: "StatefulSet qwen-7b", StartLine: 40, EndLine: 60 },
            },
            { ID: "KSV-0001", Severity: "MEDIUM", Status: "PASS", Title: "passes" },
          ],
        },
      ],
    };
    expect(configFindings(config)).toEqual([
      {
        scanner: "config",
        target: "model-qwen-7b-server.yaml",
        id: "KSV-0014",
        severity: "HIGH",
        title: "Container 'server' should set 'securityContext.readOnlyRootFilesystem' to true",
        where: "model-qwen-7b-server.yaml:40",
      },
    ]);
    const zizmor = [
      {
        ident: "template-injection",
        desc: "code injection via template expansion",
        url: "https://docs.zizmor.sh/audits/#template-injection",
        determinations: { confidence: "High", severity: "High", persona: "Regular" },
        locations: [
          {
            symbolic: {
              key: { Local: { prefix: ".", verbatim_path: ".github/workflows/deploy.yml" } },
              annotation: "may expand into attacker-controllable code",
            },
            concrete: {
              location: { start_point: { row: 41, column: 8 }, end_point: { row: 41, column: 30 } },
            },
          },
        ],
        ignored: false,
      },
      {
        ident: "unpinned-uses",
        desc: "ignored inline",
        determinations: { severity: "High" },
        locations: [],
        ignored: true,
      },
    ];
    expect(workflowFindings(zizmor)).toEqual([
      {
        scanner: "workflow",
        target: ".github/workflows/deploy.yml",
        id: "template-injection",
        severity: "HIGH",
        title: "code injection via template expansion",
        where: ".github/workflows/deploy.yml:42",
        url: "https://docs.zizmor.sh/audits/#template-injection",
      },
    ]);
  });
});

describe("the gate", () => {
  const f = (over: Partial<ScanFinding>): ScanFinding => ({
    scanner: "image",
    target: "valkey/valkey:8.1.4",
    id: "CVE-2026-0001",
    severity: "HIGH",
    title: "a flaw",
    ...over,
  });
  const policy = (
    accepted: { id: string; target: string; reason: string; expires: string }[] = [],
  ) => ({
    failOn: "HIGH" as const,
    onlyFixable: false,
    accepted,
  });

  it("fails at or above the threshold, and on an unreadable image whatever it is", () => {
    const v = judge(
      [f({ severity: "MEDIUM", id: "CVE-2" }), f({}), unreadable("ghost:1", "not found")],
      policy(),
      "2026-12-02",
    );
    expect(v.failing).toBe(2);
    expect(v.findings.map((x) => [x.id, x.fails])).toEqual([
      ["CVE-2026-0001", true],
      ["unreadable", true],
      ["CVE-2", false],
    ]);
  });

  it("an acceptance holds until its day, then the finding counts again; a stale one is named", () => {
    const accepted = [
      {
        id: "CVE-2026-0001",
        target: "valkey/*",
        reason: "not reachable from the server",
        expires: "2026-12-31",
      },
      {
        id: "CVE-2025-9999",
        target: "*",
        reason: "fixed upstream long ago",
        expires: "2027-01-01",
      },
    ];
    const live = judge([f({})], policy(accepted), "2026-12-31");
    expect(live.failing).toBe(0);
    expect(live.findings[0]!.accepted).toEqual({
      reason: "not reachable from the server",
      expires: "2026-12-31",
    });
    expect(live.unusedAcceptances).toEqual([{ id: "CVE-2025-9999", target: "*" }]);
    const later = judge([f({})], policy(accepted), "2027-01-01");
    expect(later.failing).toBe(1);
    expect(later.findings[0]!.expired).toBe("2026-12-31");
  });

  it("a file's finding is the same finding when its line moves; an image's is its package's", () => {
    const cfg = (line: number): ScanFinding => ({
      scanner: "workflow",
      target: "./.github/workflows/deploy.yml",
      id: "template-injection",
      severity: "HIGH",
      title: "code injection",
      where: `./.github/workflows/deploy.yml:${line}`,
    });
    expect(judge([cfg(160)], policy(), "2026-12-02", [cfg(40)]).findings[0]!.isNew).toBe(false);
    const pkg = (version: string) => f({ where: `libssl3 ${version}` });
    expect(judge([pkg("3.0.16")], policy(), "2026-12-02", [pkg("3.0.15")]).findings[0]!.isNew).toBe(
      true,
    );
  });

  it("a live acceptance covers a finding an expired one also names", () => {
    const both = [
      { id: "CVE-2026-0001", target: "*", reason: "accepted last quarter", expires: "2026-09-30" },
      {
        id: "CVE-2026-0001",
        target: "valkey/*",
        reason: "accepted again, still unreachable",
        expires: "2027-03-31",
      },
    ];
    const v = judge([f({})], policy(both), "2026-12-02");
    expect(v.failing).toBe(0);
    expect(v.findings[0]!.accepted?.expires).toBe("2027-03-31");
    expect(v.unusedAcceptances).toEqual([]);
  });

  it("a vulnerability no version fixes is listed but does not fail, unless the policy says so", () => {
    const unfixed = f({ severity: "CRITICAL" });
    const fixable = f({ id: "CVE-2", fixedIn: "1.2.3" });
    const v = judge([unfixed, fixable], { ...policy(), onlyFixable: true }, "2026-12-02");
    expect(v.findings.map((x) => [x.id, x.fails])).toEqual([
      ["CVE-2", true],
      ["CVE-2026-0001", false],
    ]);
    expect(judge([unfixed], policy(), "2026-12-02").failing).toBe(1);
  });

  it("new findings first: those the base branch does not have", () => {
    const v = judge(
      [
        f({ id: "CVE-OLD" }),
        f({ id: "CVE-NEW", severity: "LOW" }),
        f({ id: "CVE-NEW2", severity: "LOW" }),
      ],
      { failOn: "CRITICAL", onlyFixable: false, accepted: [] },
      "2026-12-02",
      [f({ id: "CVE-OLD" })],
    );
    expect(v.findings.map((x) => [x.id, x.isNew])).toEqual([
      ["CVE-NEW", true],
      ["CVE-NEW2", true],
      ["CVE-OLD", false],
    ]);
  });

  it("a finding fails exactly when it is over the threshold or unreadable, and not accepted (property)", () => {
    const sev = fc.constantFrom(...SEVERITIES);
    fc.assert(
      fc.property(
        sev,
        sev,
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (s, failOn, blocking, accepted, expired) => {
          const finding = f({ severity: s, ...(blocking ? { blocking: true } : {}) });
          const acc = accepted
            ? [
                {
                  id: finding.id,
                  target: finding.target,
                  reason: "a reason of length",
                  expires: expired ? "2026-01-01" : "2027-01-01",
                },
              ]
            : [];
          const v = judge([finding], { failOn, onlyFixable: false, accepted: acc }, "2026-12-02");
          const live = accepted && !expired;
          expect(v.findings[0]!.fails).toBe(
            (blocking || severityRank(s) >= severityRank(failOn)) && !live,
          );
        },
      ),
    );
  });
});

describe("the policy file", () => {
  it("the shipped one reads, with HIGH as its threshold", () => {
    expect(readScanPolicy(path.join(REPO_ROOT, "security", "scan-policy.yaml"))).toEqual({
      failOn: "HIGH",
      onlyFixable: true,
      accepted: [],
    });
  });

  it("every problem at once, with its key path", () => {
    const file = path.join(dir, "bad-policy.yaml");
    writeFileSync(
      file,
      "failOn: SEVERE\naccepted:\n  - id: CVE-1\n    target: x\n    reason: short\n    expires: 2027-13-40\n  - id: CVE-2\n",
    );
    expect(() => readScanPolicy(file)).toThrow(ScanPolicyError);
    let message = "";
    try {
      readScanPolicy(file);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split("\n").slice(1)).toEqual([
      '  - failOn: Invalid option: expected one of "UNKNOWN"|"LOW"|"MEDIUM"|"HIGH"|"CRITICAL"',
      "  - accepted[0].reason: say why it is accepted (10 characters or more)",
      "  - accepted[0].expires: not a calendar date",
      "  - accepted[1].target: Invalid input: expected string, received undefined",
      "  - accepted[1].reason: Invalid input: expected string, received undefined",
      "  - accepted[1].expires: Invalid input: expected string, received undefined",
    ]);
  });
});

/** `npm run scan -- report` of a plan against a reports directory, with the shipped policy. */
const report = (file: string, reports: string, ...extra: string[]) =>
  scanCli([
    "report",
    "--plan",
    file,
    "--reports",
    reports,
    "--policy",
    path.join(REPO_ROOT, "security", "scan-policy.yaml"),
    ...extra,
  ]);

describe("npm run scan -- report", () => {
  it("judges the reports of every planned image; one missing is unreadable and fails", async () => {
    const { file, plan } = await planJson("dev");
    const reports = path.join(dir, "reports-dev");
    mkdirSync(path.join(reports, "images"), { recursive: true });
    mkdirSync(path.join(reports, "sources"), { recursive: true });
    const { images } = planImages([plan]);
    const [first, second, ...rest] = images;
    writeFileSync(
      path.join(reports, "images", `${reportSlug(first!)}.json`),
      JSON.stringify(trivyImage(first!, "LOW")),
    );
    // The scanner could not pull this one: its stderr is kept.
    writeFileSync(
      path.join(reports, "images", `${reportSlug(second!)}.error`),
      "2026-12-02T00:00:00Z\tFATAL\tFatal error\trun error: image scan error: unable to find the specified image",
    );
    for (const image of rest) {
      writeFileSync(
        path.join(reports, "images", `${reportSlug(image)}.json`),
        JSON.stringify({ SchemaVersion: 2, ArtifactName: image, Results: [] }),
      );
    }
    // Trivy's config report of every stack's manifests: this stack's only are judged here.
    const misconfig = (target: string) => ({
      Target: target,
      Class: "config",
      Type: "kubernetes",
      Misconfigurations: [{ ID: "KSV-0014", Severity: "LOW", Status: "FAIL", Message: "m" }],
    });
    writeFileSync(
      path.join(reports, "config.json"),
      JSON.stringify({
        SchemaVersion: 2,
        Results: [misconfig("dev--app.yaml"), misconfig("prod--app.yaml")],
      }),
    );
    writeFileSync(path.join(reports, "workflows.json"), "[]");
    const res = report(file, reports, "--markdown", "--today", "2026-12-02");
    expect(res.stderr).toBe("");
    expect(res.code).toBe(1);
    expect(res.stdout).toContain("**1 finding at or above HIGH** (or unreadable) fail this change");
    expect(res.stdout).toContain(
      `| ✗ |  | UNKNOWN | unreadable | \`${second}\` |  | the scanner could not read this image: 2026-12-02T00:00:00Z\tFATAL\tFatal error\trun error: image scan error: unable to find the specified image |`,
    );
    expect(res.stdout).toContain("<details><summary>2 more (below HIGH, or accepted)</summary>");
    expect(res.stdout).toContain("`dev--app.yaml`");
    expect(res.stdout).not.toContain("prod--app.yaml");
  });

  it("bad input: one line, exit 2", () => {
    expect(scanCli(["report"])).toEqual({
      stdout: "",
      stderr: "error: report: --plan FILE (one or more) and --reports DIR are required\n",
      code: 2,
    });
    expect(scanCli(["frobnicate"]).stderr).toBe(
      'error: unknown command "frobnicate" (images, charts, sources, manifests or report)\n',
    );
  });
});

describe("the charts the plans install", () => {
  it("are listed to render, and their images join the scan; one not rendered fails", async () => {
    const { file } = await planJson("dev");
    const charts = path.join(dir, "charts-dev");
    const listed = scanCli(["charts", file, "--out", charts]);
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trim().split("\n");
    expect(lines).toContain(
      "dev-model-autoscaler-keda keda keda 2.20.2 kube-system https://kedacore.github.io/charts",
    );
    // What `helm template` renders: a workload of the chart.
    writeFileSync(
      path.join(charts, "dev-model-autoscaler-keda.yaml"),
      "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: keda-operator}\n---\n" +
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: keda-operator}\n" +
        "spec: {template: {spec: {containers: [{name: keda-operator, image: 'ghcr.io/kedacore/keda:2.20.2'}]}}}\n",
    );
    const images = scanCli(["images", file, "--charts", charts]).stdout;
    expect(images).toContain(
      `${reportSlug("ghcr.io/kedacore/keda:2.20.2")} ghcr.io/kedacore/keda:2.20.2\n`,
    );
    const reports = path.join(dir, "reports-charts");
    mkdirSync(path.join(reports, "images"), { recursive: true });
    writeFileSync(path.join(reports, "config.json"), "{}");
    writeFileSync(path.join(reports, "workflows.json"), "[]");
    writeFileSync(path.join(charts, "dev-observability-loki.error"), "Error: chart not found");
    const res = report(file, reports, "--charts", charts);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(
      "FAIL UNKNOWN unrendered-chart loki 6.30.1: the scanner could not read this image: its images are unknown: Error: chart not found",
    );
    expect(res.stdout).toContain("FAIL UNKNOWN unreadable ghcr.io/kedacore/keda:2.20.2");
  });
});
