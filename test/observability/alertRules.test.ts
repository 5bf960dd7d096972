import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { alertRules } from "../../components/observability/observability";
import { ALERT_SAMPLES, type SampleCase } from "./alertSamples";

/**
 * Prometheus's rule unit tester: `PROMTOOL`, `promtool` on PATH, or where `tools/promtool.sh`
 * puts it. CI installs it (.ci/run); elsewhere the rule tests are skipped when it is missing.
 */
function promtool(): string | undefined {
  const cache = path.join(
    process.env["XDG_CACHE_HOME"] ?? path.join(homedir(), ".cache"),
    "homebrew-dev",
    "promtool",
    "usr",
    "bin",
    "promtool",
  );
  const candidates = [process.env["PROMTOOL"], "promtool", cache].filter(
    (c): c is string => c !== undefined && c !== "",
  );
  return candidates.find((c) => spawnSync(c, ["--version"]).status === 0);
}

const rules = alertRules({ gpuExporter: true, vllm: true });
const alerts = rules.flatMap((g) => g.rules);
const PROMTOOL = promtool();
if (PROMTOOL === undefined && process.env["CI"] !== undefined) {
  throw new Error(
    "promtool is missing: run tools/promtool.sh (the alert rules are tested with it)",
  );
}

describe("every alert rule has sample series", () => {
  it.each(alerts.map((a) => a.alert))("%s: a case that fires and one that does not", (name) => {
    const cases = ALERT_SAMPLES[name] ?? [];
    expect(cases.some((c) => c.fires.length > 0)).toBe(true);
    expect(cases.some((c) => c.fires.length === 0)).toBe(true);
  });

  it("and no samples of a rule that is gone", () => {
    expect(Object.keys(ALERT_SAMPLES).sort()).toEqual(alerts.map((a) => a.alert).sort());
  });
});

/** One promtool test: the case's series, and the alert (or none) at its time. */
function promtoolTest(alert: (typeof alerts)[number], c: SampleCase) {
  return {
    name: `${alert.alert}: ${c.what}`,
    interval: "1m",
    input_series: c.series.map((s) => ({ series: s.series, values: s.values })),
    alert_rule_test: [
      {
        eval_time: c.at,
        alertname: alert.alert,
        exp_alerts: c.fires.map((f) => ({
          exp_labels: { ...alert.labels, ...f.labels },
          exp_annotations: { summary: f.summary },
        })),
      },
    ],
  };
}

describe.skipIf(PROMTOOL === undefined)("the alert rules under promtool test rules", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "alerts-"));
  // The rules exactly as the PrometheusRule carries them (spec.groups).
  writeFileSync(path.join(dir, "rules.yaml"), stringify({ groups: rules }));

  it.each(alerts.map((a) => a.alert))(
    "%s fires on its sample and stays quiet on the rest",
    (name) => {
      const alert = alerts.find((a) => a.alert === name)!;
      const file = path.join(dir, `${name}.test.yaml`);
      writeFileSync(
        file,
        stringify({
          rule_files: ["rules.yaml"],
          evaluation_interval: "1m",
          tests: (ALERT_SAMPLES[name] ?? []).map((c) => promtoolTest(alert, c)),
        }),
      );
      expect(existsSync(file)).toBe(true);
      const run = spawnSync(PROMTOOL!, ["test", "rules", file], { cwd: dir, encoding: "utf8" });
      expect(`${run.stdout}${run.stderr}`).toContain("SUCCESS");
      expect(run.status).toBe(0);
    },
  );

  it("finds a rule that can never fire: `and` without `on (job)` meets no series", () => {
    // The certificate rule as it once was: the quantile summed by `le` alone has no labels, the
    // count has job and instance, so `and` matches nothing and the alert never fires.
    const broken = {
      ...alerts.find((a) => a.alert === "ClientCertificateExpiring")!,
      expr: "apiserver_client_certificate_expiration_seconds_count > 0 and histogram_quantile(0.01, sum by (le) (rate(apiserver_client_certificate_expiration_seconds_bucket[5m]))) < 7 * 24 * 3600",
    };
    writeFileSync(
      path.join(dir, "broken.yaml"),
      stringify({ groups: [{ name: "broken", rules: [broken] }] }),
    );
    const file = path.join(dir, "broken.test.yaml");
    writeFileSync(
      file,
      stringify({
        rule_files: ["broken.yaml"],
        evaluation_interval: "1m",
        tests: ALERT_SAMPLES["ClientCertificateExpiring"]!.map((c) => promtoolTest(broken, c)),
      }),
    );
    const run = spawnSync(PROMTOOL!, ["test", "rules", file], { cwd: dir, encoding: "utf8" });
    expect(run.status).toBe(1);
    expect(`${run.stdout}${run.stderr}`).toContain("alertname: ClientCertificateExpiring");
    expect(`${run.stdout}${run.stderr}`).toContain("got:[]");
  });
});
