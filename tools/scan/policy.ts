/**
 * The scan gate, set in one place (security/scan-policy.yaml): the lowest severity that fails a
 * pull request, and the findings accepted, each with a reason and an expiry date after which it
 * counts again. Read with zod: every problem of the file at once, with its key path.
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { z } from "zod";

export const SEVERITIES = ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"] as const;
export type Severity = (typeof SEVERITIES)[number];
export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { error: "expected a date such as 2027-01-31" })
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)), { error: "not a calendar date" });

export const ScanPolicySchema = z.strictObject({
  failOn: z
    .enum(SEVERITIES)
    .describe("The lowest severity that fails a pull request. An unreadable image always does."),
  onlyFixable: z
    .boolean()
    .default(true)
    .describe(
      "Vulnerabilities without a fixed version are listed but do not fail: no update removes them.",
    ),
  accepted: z
    .array(
      z.strictObject({
        id: z.string().min(1).describe("The finding's id: a CVE, a Trivy check, a zizmor audit."),
        target: z
          .string()
          .min(1)
          .describe("The image, file or workflow it is accepted for; `*` matches any run."),
        reason: z.string().min(10, { error: "say why it is accepted (10 characters or more)" }),
        expires: isoDate.describe("The day it counts again."),
      }),
    )
    .default([]),
});
export type ScanPolicy = z.output<typeof ScanPolicySchema>;

export class ScanPolicyError extends Error {}

/** The policy file, or one error listing every problem with its key path. */
export function readScanPolicy(file: string): ScanPolicy {
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ScanPolicyError(`${file}: ${(err as Error).message.split("\n")[0]}`);
  }
  const parsed = ScanPolicySchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (i) =>
        `  - ${i.path.map((p, n) => (typeof p === "number" ? `[${p}]` : n === 0 ? String(p) : `.${String(p)}`)).join("") || "(top)"}: ${i.message}`,
    );
    throw new ScanPolicyError(
      `${file}: ${lines.length} problem${lines.length === 1 ? "" : "s"}:\n${lines.join("\n")}`,
    );
  }
  return parsed.data;
}

/** Whether a target matches an acceptance's (`*` matches any run of characters). */
export function targetMatches(pattern: string, target: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split("*")
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  return re.test(target);
}
