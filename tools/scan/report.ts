/**
 * The scanners' reports as one list of findings, judged by the scan policy (./policy.ts):
 * - Trivy's JSON report (SchemaVersion 2) of each image (`trivy image --format json`): its
 *   `Results[].Vulnerabilities[]`; an image the plan deploys with no readable report is a finding
 *   of its own ("unreadable"), which fails whatever the threshold: a scan that did not happen is
 *   not a pass;
 * - Trivy's JSON report of the rendered manifests (`trivy config`): `Results[].Misconfigurations[]`
 *   that failed;
 * - zizmor's JSON report (v1) of the workflows: its findings not ignored inline.
 * A finding the base branch has too is "existing"; the rest are "new" and come first.
 */
import { createHash } from "node:crypto";
import { list, rec } from "../plan/analysis";
import { SEVERITIES, severityRank, targetMatches, type ScanPolicy, type Severity } from "./policy";

export type Scanner = "image" | "config" | "workflow";

export interface ScanFinding {
  readonly scanner: Scanner;
  /** The image reference, manifest file or workflow file. */
  readonly target: string;
  readonly id: string;
  readonly severity: Severity;
  readonly title: string;
  /** Package and version, or file and line. */
  readonly where?: string;
  readonly fixedIn?: string;
  readonly url?: string;
  /** Fails whatever the threshold (an image that could not be scanned). */
  readonly blocking?: boolean;
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const severity = (v: unknown): Severity =>
  (SEVERITIES as readonly string[]).includes(String(v).toUpperCase())
    ? (String(v).toUpperCase() as Severity)
    : "UNKNOWN";

/** The file name of an image's report: one per reference, whatever characters it has. */
export const reportSlug = (image: string): string =>
  createHash("sha256").update(image).digest("hex").slice(0, 16);

/**
 * Findings of one Trivy image report (aquasecurity/trivy v0.74.0 pkg/types/report.go Report,
 * pkg/types/vulnerability.go DetectedVulnerability; `Results` may be absent).
 */
export function imageFindings(image: string, report: unknown): ScanFinding[] {
  const out: ScanFinding[] = [];
  for (const result of list(rec(report)["Results"]).map(rec)) {
    for (const v of list(result["Vulnerabilities"]).map(rec)) {
      const fixed = str(v["FixedVersion"]);
      const url = str(v["PrimaryURL"]);
      out.push({
        scanner: "image",
        target: image,
        id: String(v["VulnerabilityID"]),
        severity: severity(v["Severity"]),
        title: str(v["Title"]) ?? String(v["VulnerabilityID"]),
        where: `${String(v["PkgName"])} ${String(v["InstalledVersion"])}`,
        ...(fixed !== undefined && fixed !== "" ? { fixedIn: fixed } : {}),
        ...(url !== undefined ? { url } : {}),
      });
    }
  }
  return out;
}

/**
 * Failed checks of a Trivy config report (pkg/types/misconfiguration.go at v0.74.0,
 * DetectedMisconfiguration with Status FAIL; ids such as KSV-0014 since v0.69).
 */
export function configFindings(report: unknown): ScanFinding[] {
  const out: ScanFinding[] = [];
  for (const result of list(rec(report)["Results"]).map(rec)) {
    for (const m of list(result["Misconfigurations"]).map(rec)) {
      if (m["Status"] !== undefined && m["Status"] !== "FAIL") continue;
      const cause = rec(m["CauseMetadata"]);
      const line = cause["StartLine"];
      const url = str(m["PrimaryURL"]);
      out.push({
        scanner: "config",
        target: String(result["Target"]),
        id: String(m["ID"] ?? m["AVDID"]),
        severity: severity(m["Severity"]),
        title: str(m["Message"]) ?? str(m["Title"]) ?? String(m["ID"]),
        ...(typeof line === "number" && line > 0
          ? { where: `${String(result["Target"])}:${line}` }
          : {}),
        ...(url !== undefined ? { url } : {}),
      });
    }
  }
  return out;
}

/**
 * zizmor's severities (crates/zizmor/src/finding.rs `Severity` at v1.29.0: Informational, Low,
 * Medium, High; "Unknown" only before 1.14) on the scale of the gate.
 */
const ZIZMOR_SEVERITY: Readonly<Record<string, Severity>> = {
  Unknown: "UNKNOWN",
  Informational: "LOW",
  Low: "LOW",
  Medium: "MEDIUM",
  High: "HIGH",
};

/**
 * Findings of a zizmor v1 JSON report (crates/zizmor/src/output/json/v1.rs at v1.29.0), those not
 * ignored inline; its rows are 0-based.
 */
export function workflowFindings(report: unknown): ScanFinding[] {
  return list(report)
    .map(rec)
    .filter((f) => f["ignored"] !== true)
    .map((f) => {
      const loc = rec(list(f["locations"])[0]);
      const key = rec(rec(loc["symbolic"])["key"]);
      const local = rec(key["Local"]);
      // The local key is `verbatim_path` from zizmor 1.27.0, `given_path` before.
      const file =
        str(local["verbatim_path"]) ??
        str(local["given_path"]) ??
        str(rec(key["Remote"])["path"]) ??
        "?";
      const row = rec(rec(rec(loc["concrete"])["location"])["start_point"])["row"];
      const url = str(f["url"]);
      return {
        scanner: "workflow" as const,
        target: file,
        id: String(f["ident"]),
        severity: ZIZMOR_SEVERITY[String(rec(f["determinations"])["severity"])] ?? "UNKNOWN",
        title: str(f["desc"]) ?? String(f["ident"]),
        ...(typeof row === "number" ? { where: `${file}:${row + 1}` } : {}),
        ...(url !== undefined ? { url } : {}),
      };
    });
}

/** An image of the plan the scanner could not read: a finding, never a pass. */
export const unreadable = (image: string, why: string): ScanFinding => ({
  scanner: "image",
  target: image,
  id: "unreadable",
  severity: "UNKNOWN",
  title: `the scanner could not read this image: ${why}`,
  blocking: true,
});

export interface Judged extends ScanFinding {
  readonly isNew: boolean;
  /** The acceptance that covers it, unexpired. */
  readonly accepted?: { readonly reason: string; readonly expires: string };
  /** An acceptance that covered it until the day it expired. */
  readonly expired?: string;
  readonly fails: boolean;
}

export interface Verdict {
  readonly failOn: Severity;
  readonly findings: readonly Judged[];
  readonly failing: number;
  /** Acceptances that match no finding (stale, to be removed). */
  readonly unusedAcceptances: readonly { id: string; target: string }[];
}

/**
 * What identifies a finding across branches: an image's by its package and version, a file's by
 * its check alone (its line moves with every edit above it).
 */
const key = (f: Pick<ScanFinding, "scanner" | "target" | "id" | "where">) =>
  `${f.scanner}\u0000${f.target}\u0000${f.id}\u0000${f.scanner === "image" ? (f.where ?? "") : ""}`;

/**
 * Every finding judged: accepted (until its expiry), new or existing (against the base branch's),
 * failing (at or above the threshold, or blocking, and not accepted). New first, then by severity.
 */
export function judge(
  findings: readonly ScanFinding[],
  policy: ScanPolicy,
  today: string,
  base?: readonly ScanFinding[],
): Verdict {
  const before = new Set((base ?? []).map(key));
  const used = new Set<number>();
  const judged = findings.map((f): Judged => {
    // A live acceptance wins over an expired one for the same finding.
    const matching = policy.accepted
      .map((a, i) => ({ a, i }))
      .filter(({ a }) => a.id === f.id && targetMatches(a.target, f.target))
      .sort((x, y) => Number(y.a.expires >= today) - Number(x.a.expires >= today));
    for (const { i } of matching) used.add(i);
    const a = matching[0]?.a;
    const live = a !== undefined && a.expires >= today;
    const unfixable = policy.onlyFixable && f.scanner === "image" && f.fixedIn === undefined;
    const over =
      f.blocking === true ||
      (severityRank(f.severity) >= severityRank(policy.failOn) && !unfixable);
    return {
      ...f,
      isNew: base !== undefined && !before.has(key(f)),
      ...(a !== undefined && live ? { accepted: { reason: a.reason, expires: a.expires } } : {}),
      ...(a !== undefined && !live ? { expired: a.expires } : {}),
      fails: over && !live,
    };
  });
  judged.sort(
    (x, y) =>
      Number(y.fails) - Number(x.fails) ||
      Number(y.isNew) - Number(x.isNew) ||
      severityRank(y.severity) - severityRank(x.severity) ||
      x.target.localeCompare(y.target) ||
      x.id.localeCompare(y.id),
  );
  return {
    failOn: policy.failOn,
    findings: judged,
    failing: judged.filter((f) => f.fails).length,
    unusedAcceptances: policy.accepted
      .filter((_, i) => !used.has(i))
      .map((a) => ({ id: a.id, target: a.target })),
  };
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** The plan comment's supply-chain section. */
export function verdictMarkdown(v: Verdict, scanned: { images: number }): string {
  const row = (f: Judged) =>
    `| ${f.fails ? "✗" : f.accepted !== undefined ? "accepted" : "·"} | ${f.isNew ? "new" : ""} | ${f.severity} | ${f.url !== undefined ? `[${cell(f.id)}](${f.url})` : cell(f.id)} | \`${cell(f.target)}\` | ${cell(f.where ?? "")} | ${cell(f.title)}${f.fixedIn !== undefined ? ` (fixed in ${cell(f.fixedIn)})` : ""}${f.expired !== undefined ? ` (acceptance expired ${f.expired})` : ""} |`;
  const head =
    "|  | new | severity | id | target | where | finding |\n| - | - | - | - | - | - | - |";
  const shown = v.findings.filter((f) => f.fails || f.isNew);
  const rest = v.findings.filter((f) => !f.fails && !f.isNew);
  const lines = [
    "#### Supply chain",
    "",
    v.failing > 0
      ? `**${v.failing} finding${v.failing === 1 ? "" : "s"} at or above ${v.failOn}** (or unreadable) fail this change (security/scan-policy.yaml).`
      : `No finding at or above ${v.failOn}: ${scanned.images} images, the rendered manifests and the workflows scanned.`,
    "",
  ];
  if (shown.length > 0) lines.push(head, ...shown.map(row), "");
  if (rest.length > 0) {
    lines.push(
      `<details><summary>${rest.length} more (below ${v.failOn}, or accepted)</summary>`,
      "",
      head,
      ...rest.map(row),
      "",
      "</details>",
      "",
    );
  }
  if (v.unusedAcceptances.length > 0) {
    lines.push(
      `Acceptances that match no finding any more (remove them): ${v.unusedAcceptances.map((a) => `\`${a.id}\` on \`${a.target}\``).join(", ")}.`,
      "",
    );
  }
  return lines.join("\n");
}
