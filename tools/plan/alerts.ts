/**
 * Every metric an alert rule reads has a producer in the stack: a rule over a metric nothing
 * exports can never fire, and says nothing when it should. The producers are what the stack
 * installs (kube-prometheus-stack's kube-state-metrics, kubelet and API server monitors, the vLLM
 * servers behind the model PodMonitor, NVIDIA's DCGM exporter on GPU nodes).
 */

import { list, rec, type AnalysisPlan as AlertPlan } from "./analysis";

const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "and",
  "or",
  "unless",
  "bool",
  "offset",
  "inf",
  "nan",
]);

/** The metric names a PromQL expression reads (functions, labels, keywords and literals left out). */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, " ") // string literals
    .replace(/\{[^}]*\}/g, " ") // label matchers
    .replace(/\[[^\]]*\]/g, " ") // range and subquery selectors
    .replace(/\b\d+(?:\.\d+)?(?:ms|[smhdwy])?\b/g, " ") // numbers and durations
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " "); // label lists
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const name = m[0];
    const after = stripped.slice((m.index ?? 0) + name.length).trimStart();
    if (after.startsWith("(")) continue; // a function or aggregation
    if (KEYWORDS.has(name.toLowerCase())) continue;
    if (/^\d/.test(name)) continue;
    names.add(name);
  }
  return [...names].sort();
}

interface Producer {
  readonly what: string;
  readonly exports: (metric: string) => boolean;
  readonly present: (plan: AlertPlan) => boolean;
}

const helmChart = (plan: AlertPlan, chart: string) =>
  plan.resources.some(
    (r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs["chart"] === chart,
  );

/** Who exports which metrics, and whether the stack runs it. */
export const PRODUCERS: readonly Producer[] = [
  {
    what: "kube-state-metrics (kube-prometheus-stack)",
    exports: (m) => m.startsWith("kube_"),
    present: (p) => helmChart(p, "kube-prometheus-stack"),
  },
  {
    what: "the kubelets (kube-prometheus-stack's kubelet ServiceMonitor)",
    exports: (m) => m.startsWith("kubelet_") || m.startsWith("container_"),
    present: (p) => helmChart(p, "kube-prometheus-stack"),
  },
  {
    what: "the API servers (kube-prometheus-stack's apiserver ServiceMonitor)",
    exports: (m) => m.startsWith("apiserver_"),
    present: (p) => helmChart(p, "kube-prometheus-stack"),
  },
  {
    what: "a vLLM model server scraped by a PodMonitor",
    exports: (m) => m.startsWith("vllm:"),
    present: (p) =>
      p.resources.some((r) => r.type === "kubernetes:monitoring.coreos.com/v1:PodMonitor") &&
      p.resources.some(
        (r) =>
          r.type === "kubernetes:apps/v1:StatefulSet" &&
          JSON.stringify(rec(r.inputs["spec"])["template"] ?? {}).includes("vllm/vllm-openai"),
      ),
  },
  {
    what: "NVIDIA's DCGM exporter on the GPU nodes",
    exports: (m) => m.startsWith("DCGM_"),
    present: (p) => helmChart(p, "dcgm-exporter"),
  },
];

export interface AlertFinding {
  readonly rule: string;
  readonly metric: string;
  readonly message: string;
}

/** Every alert that reads a metric no producer of the stack exports. */
export function alertFindings(plan: AlertPlan): AlertFinding[] {
  const findings: AlertFinding[] = [];
  for (const r of plan.resources.filter(
    (x) => x.type === "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
  )) {
    for (const group of list(rec(r.inputs["spec"])["groups"])) {
      for (const rule of list(rec(group)["rules"])) {
        const alert = rec(rule)["alert"];
        const expr = rec(rule)["expr"];
        if (typeof alert !== "string" || typeof expr !== "string") continue;
        for (const metric of metricNames(expr)) {
          const producer = PRODUCERS.find((p) => p.exports(metric));
          if (producer === undefined) {
            findings.push({
              rule: alert,
              metric,
              message: `alert ${alert} reads ${metric}, which nothing the stack runs exports`,
            });
          } else if (!producer.present(plan)) {
            findings.push({
              rule: alert,
              metric,
              message: `alert ${alert} reads ${metric}, exported by ${producer.what}, which the stack does not run`,
            });
          }
        }
      }
    }
  }
  return findings;
}
