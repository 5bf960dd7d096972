/**
 * `npm run scan -- <command>`: the supply-chain scan of a pull request, around the scanners the
 * workflow runs (Trivy for images and manifests, zizmor for workflows).
 *
 *   npm run scan -- charts PLAN.json... --out DIR  one line per Helm release (id, release, chart,
 *                                                  version, namespace, repository or -), and its
 *                                                  values in DIR/<id>.values.yaml, to render it
 *   npm run scan -- images PLAN.json... [--charts DIR]
 *                                                  one line per image: its report's slug and ref
 *                                                  (with the images of the charts rendered in DIR)
 *   npm run scan -- sources PLAN.json...           one line per image the stacks build: the
 *                                                  slug, build context and repository
 *   npm run scan -- manifests PLAN.json --out DIR  the plan's Kubernetes objects as YAML files
 *   npm run scan -- report --plan PLAN.json... --reports DIR [--base-plan PLAN.json...]
 *                  [--base-reports DIR] [--policy security/scan-policy.yaml] [--today YYYY-MM-DD]
 *                  [--markdown]
 *
 * `report` reads DIR/images/<slug>.json (Trivy, one per image; <slug>.error holds why one could
 * not be made), DIR/sources/<slug>.json (Trivy's filesystem scan of each build context),
 * DIR/config.json (Trivy config) and DIR/workflows.json (zizmor), judges them by the
 * policy and prints the verdict (Markdown for the plan comment). It exits 1 when a finding fails
 * the gate, 2 on bad input. An image of the plan without a readable report fails it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parseAllDocuments, stringify } from "yaml";
import { manifestImages, planCharts, planImages } from "./scan/images";
import { ScanPolicyError, readScanPolicy } from "./scan/policy";
import {
  configFindings,
  imageFindings,
  judge,
  reportSlug,
  unreadable,
  verdictMarkdown,
  workflowFindings,
  type ScanFinding,
} from "./scan/report";

class UsageError extends Error {}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new UsageError(`${file}: ${(err as Error).message}`);
  }
}
const plansOf = (files: readonly string[]) =>
  files.map((f) => readJson(f) as Parameters<typeof planImages>[0][number]);

/** apiVersion and kind of a Pulumi Kubernetes type (`kubernetes:apps/v1:Deployment`). */
function manifestKind(type: string): { apiVersion: string; kind: string } | undefined {
  const m = /^kubernetes:([^:]+):([A-Za-z]+)$/.exec(type);
  if (m === null || m[1]!.startsWith("helm.sh")) return undefined;
  return { apiVersion: m[1]!.replace(/^core\//, ""), kind: m[2]! };
}

/** The findings of the reports in a directory (those present). */
function reportFindings(
  dir: string,
  images: readonly string[],
  built: readonly { readonly repository: string; readonly context: string }[] = [],
): ScanFinding[] {
  const out: ScanFinding[] = [];
  // The images the stack builds, at their source (Trivy's filesystem scan of the build context:
  // the packages its lock files pin, and its Dockerfile's checks).
  for (const b of built) {
    const target = `${b.repository} (built from ${b.context})`;
    const file = path.join(dir, "sources", `${reportSlug(b.context)}.json`);
    let report: unknown;
    try {
      report = JSON.parse(readFileSync(file, "utf8"));
    } catch {
      out.push(unreadable(target, "no report of its build context was written"));
      continue;
    }
    out.push(
      ...imageFindings(target, report),
      ...configFindings(report).map((f) => ({ ...f, target: `${target}: ${f.target}` })),
    );
  }
  for (const image of images) {
    const file = path.join(dir, "images", `${reportSlug(image)}.json`);
    const error = path.join(dir, "images", `${reportSlug(image)}.error`);
    let report: unknown;
    try {
      report = JSON.parse(readFileSync(file, "utf8"));
    } catch {
      const why = existsSync(error)
        ? readFileSync(error, "utf8").trim().split("\n").slice(-1)[0]!
        : "no report was written";
      out.push(unreadable(image, why));
      continue;
    }
    const artifact = (report as { ArtifactName?: unknown }).ArtifactName;
    if (artifact !== image) {
      out.push(unreadable(image, `the report is of ${String(artifact)}`));
      continue;
    }
    out.push(...imageFindings(image, report));
  }
  const config = path.join(dir, "config.json");
  if (existsSync(config)) out.push(...configFindings(readJson(config)));
  else out.push({ ...unreadable("manifests", "no config report"), target: "manifests" });
  const workflows = path.join(dir, "workflows.json");
  if (existsSync(workflows)) out.push(...workflowFindings(readJson(workflows)));
  else out.push({ ...unreadable("workflows", "no workflow report"), target: "workflows" });
  return out;
}

/** The rendered chart manifests of a directory (`<id>.yaml`, from `helm template`). */
function renderedCharts(dir: string | undefined): Map<string, unknown[]> {
  const out = new Map<string, unknown[]>();
  if (dir === undefined || !existsSync(dir)) return out;
  for (const f of readdirSync(dir).filter(
    (x) => x.endsWith(".yaml") && !x.endsWith(".values.yaml"),
  )) {
    try {
      out.set(
        f.replace(/\.yaml$/, ""),
        parseAllDocuments(readFileSync(path.join(dir, f), "utf8")).map((d) => d.toJS()),
      );
    } catch {
      out.set(f.replace(/\.yaml$/, ""), []);
    }
  }
  return out;
}

/** The plans' images and those of the charts they install, rendered in `charts`. */
function allImages(plans: Parameters<typeof planImages>[0], charts: string | undefined): string[] {
  const rendered = renderedCharts(charts);
  const fromCharts = planCharts(plans).flatMap((c) => manifestImages(rendered.get(c.id) ?? []));
  return [...new Set([...planImages(plans).images, ...fromCharts])].sort();
}

/** A chart of the plans that was not rendered: its images are unknown, which fails. */
function chartProblems(
  plans: Parameters<typeof planImages>[0],
  charts: string | undefined,
): ScanFinding[] {
  if (charts === undefined) return [];
  const rendered = renderedCharts(charts);
  return planCharts(plans)
    .filter((c) => (rendered.get(c.id) ?? []).length === 0)
    .map((c) => {
      const error = path.join(charts, `${c.id}.error`);
      const why = existsSync(error)
        ? readFileSync(error, "utf8").trim().split("\n").slice(-1)[0]!
        : "it was not rendered";
      return {
        ...unreadable(`${c.chart} ${c.version}`, `its images are unknown: ${why}`),
        id: "unrendered-chart",
      };
    });
}

function main(argv: readonly string[]): { stdout: string; code: number } {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: [...rest],
    allowPositionals: true,
    options: {
      out: { type: "string" },
      plan: { type: "string", multiple: true, default: [] },
      "base-plan": { type: "string", multiple: true, default: [] },
      reports: { type: "string" },
      "base-reports": { type: "string" },
      policy: { type: "string", default: path.join("security", "scan-policy.yaml") },
      today: { type: "string", default: new Date().toISOString().slice(0, 10) },
      markdown: { type: "boolean", default: false },
      charts: { type: "string" },
    },
  });
  switch (command) {
    case "images": {
      const images = allImages(plansOf(positionals), values.charts);
      return { stdout: images.map((i) => `${reportSlug(i)} ${i}\n`).join(""), code: 0 };
    }
    case "charts": {
      if (values.out === undefined) throw new UsageError("charts: --out DIR is required");
      mkdirSync(values.out, { recursive: true });
      const lines = planCharts(plansOf(positionals)).map((c) => {
        writeFileSync(path.join(values.out!, `${c.id}.values.yaml`), stringify(c.values));
        return `${c.id} ${c.release} ${c.chart} ${c.version} ${c.namespace} ${c.repo ?? "-"}\n`;
      });
      return { stdout: lines.join(""), code: 0 };
    }
    case "sources": {
      const { built } = planImages(plansOf(positionals));
      return {
        stdout: built
          .map((b) => `${reportSlug(b.context)} ${b.context} ${b.repository}\n`)
          .join(""),
        code: 0,
      };
    }
    case "manifests": {
      if (values.out === undefined) throw new UsageError("manifests: --out DIR is required");
      mkdirSync(values.out, { recursive: true });
      let n = 0;
      for (const plan of plansOf(positionals)) {
        for (const r of (plan as { resources?: { type: string; name: string; inputs: object }[] })
          .resources ?? []) {
          const k = manifestKind(r.type);
          // Secrets are shown as placeholders in a plan; their manifests say nothing to scan.
          if (k === undefined || k.kind === "Secret") continue;
          // Named by stack too: the stacks share resource names, and their manifests differ.
          writeFileSync(
            path.join(values.out, `${String((plan as { stack?: string }).stack)}--${r.name}.yaml`),
            stringify({ ...r.inputs, ...k }, { aliasDuplicateObjects: false }),
          );
          n++;
        }
      }
      return { stdout: `${n} manifests written to ${values.out}\n`, code: 0 };
    }
    case "report": {
      const plans = values.plan;
      if (plans.length === 0 || values.reports === undefined) {
        throw new UsageError("report: --plan FILE (one or more) and --reports DIR are required");
      }
      const headPlans = plansOf(plans);
      const head = planImages(headPlans);
      const images = allImages(headPlans, values.charts);
      // The manifests of these stacks only (the config report covers every stack's).
      const stacks = headPlans.map((p) => `${String(p.stack)}--`);
      const ofTheseStacks = (f: ScanFinding) =>
        f.scanner !== "config" || stacks.some((st) => f.target.startsWith(st));
      const findings = [
        ...reportFindings(values.reports, images, head.built).filter(ofTheseStacks),
        ...chartProblems(headPlans, values.charts),
      ];
      let base: ScanFinding[] | undefined;
      if (values["base-plan"].length > 0 || values["base-reports"] !== undefined) {
        const basePlans = plansOf(values["base-plan"]);
        // An image the base deploys too, or one of a chart it installs at the same version,
        // brings its findings along: not new here.
        const releases = new Set(
          planCharts(basePlans).map((c) => `${c.id} ${c.chart} ${c.version}`),
        );
        const rendered = renderedCharts(values.charts);
        const before = new Set([
          ...planImages(basePlans).images,
          ...planCharts(headPlans)
            .filter((c) => releases.has(`${c.id} ${c.chart} ${c.version}`))
            .flatMap((c) => manifestImages(rendered.get(c.id) ?? [])),
        ]);
        base = [
          ...findings.filter(
            (f) =>
              f.scanner === "image" && !f.target.includes(" (built from ") && before.has(f.target),
          ),
          ...(values["base-reports"] !== undefined
            ? reportFindings(values["base-reports"], [], planImages(basePlans).built).filter(
                (f) => f.scanner !== "image" || f.target.includes(" (built from "),
              )
            : []),
        ];
      }
      let policy;
      try {
        policy = readScanPolicy(values.policy);
      } catch (err) {
        if (err instanceof ScanPolicyError) throw new UsageError(err.message);
        throw err;
      }
      const verdict = judge(findings, policy, values.today, base);
      const text = values.markdown
        ? verdictMarkdown(verdict, { images: images.length })
        : `${verdict.findings.map((f) => `${f.fails ? "FAIL" : f.accepted ? "accepted" : "ok"} ${f.severity} ${f.id} ${f.target}${f.where !== undefined ? ` (${f.where})` : ""}: ${f.title}`).join("\n")}\n${verdict.failing} failing at or above ${verdict.failOn}\n`;
      return { stdout: text, code: verdict.failing > 0 ? 1 : 0 };
    }
    default:
      throw new UsageError(
        `unknown command ${JSON.stringify(command ?? "")} (images, charts, sources, manifests or report)`,
      );
  }
}

export function scanCli(argv: readonly string[]): { stdout: string; stderr: string; code: number } {
  try {
    return { ...main(argv), stderr: "" };
  } catch (err) {
    if (
      err instanceof UsageError ||
      (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
    ) {
      return { stdout: "", stderr: `error: ${(err as Error).message}\n`, code: 2 };
    }
    throw err;
  }
}

if (require.main === module) {
  const res = scanCli(process.argv.slice(2));
  process.stdout.write(res.stdout);
  process.stderr.write(res.stderr);
  process.exitCode = res.code;
}
