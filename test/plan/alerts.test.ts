import { describe, expect, it } from "vitest";
import { alertFindings, metricNames } from "../../tools/plan/alerts";
import { SHIPPED_STACKS, planOf } from "../helpers/plans";

describe("the metrics a PromQL expression reads", () => {
  it.each([
    [
      'kube_node_status_condition{condition="Ready",status="true"} == 0',
      ["kube_node_status_condition"],
    ],
    [
      "predict_linear(kubelet_volume_stats_available_bytes[6h], 24 * 3600) < 0",
      ["kubelet_volume_stats_available_bytes"],
    ],
    [
      "DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE) > 0.95",
      ["DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_FB_USED"],
    ],
    [
      'sum by (model_name) (rate(vllm:request_success_total{finished_reason="abort"}[5m])) / sum by (model_name) (rate(vllm:request_success_total[5m])) > 0.05',
      ["vllm:request_success_total"],
    ],
    ["a and on (x) b unless ignoring(y) c offset 5m", ["a", "b", "c"]],
  ])("%s", (expr, names) => {
    expect(metricNames(expr)).toEqual(names);
  });
});

describe.each(SHIPPED_STACKS)("stack %s: every alert's metrics", (stack) => {
  it("have a producer the stack runs", async () => {
    expect(alertFindings(await planOf(stack)).map((f) => f.message)).toEqual([]);
  });
});

describe("an alert without a producer", () => {
  it("is found, naming the rule, the metric and the missing producer", async () => {
    const plan = await planOf("prod");
    // prod runs vLLM: without its model servers the model alerts read nothing.
    const withoutVllm = {
      ...plan,
      resources: plan.resources.filter(
        (r) => !JSON.stringify(r.inputs).includes("vllm/vllm-openai"),
      ),
    };
    expect(alertFindings(withoutVllm).map((f) => f.message)).toEqual([
      "alert ModelServerErrors reads vllm:request_success_total, exported by a vLLM model server scraped by a PodMonitor, which the stack does not run",
      "alert ModelServerSlow reads vllm:e2e_request_latency_seconds_bucket, exported by a vLLM model server scraped by a PodMonitor, which the stack does not run",
    ]);
    const unknown = {
      resources: [
        {
          type: "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
          name: "r",
          inputs: { spec: { groups: [{ rules: [{ alert: "X", expr: "node_load1 > 4" }] }] } },
        },
      ],
    };
    expect(alertFindings(unknown).map((f) => f.message)).toEqual([
      "alert X reads node_load1, which nothing the stack runs exports",
    ]);
  });
});

describe.each(SHIPPED_STACKS)("stack %s: GPU metrics", (stack) => {
  it("come from NVIDIA's DCGM exporter on the GPU nodes, under the nvidia runtime, where a pool has GPUs", async () => {
    const plan = await planOf(stack);
    const gpuPool = plan.resources.some(
      (r) =>
        r.type === "kubernetes:node.k8s.io/v1:RuntimeClass" && r.inputs["handler"] === "nvidia",
    );
    const release = plan.resources.find((r) => r.inputs["chart"] === "dcgm-exporter");
    expect(release !== undefined, stack).toBe(gpuPool);
    if (release === undefined) return;
    const values = release.inputs["values"] as Record<string, unknown>;
    expect(values["runtimeClassName"]).toBe("nvidia");
    expect(values["nodeSelector"]).toEqual({ "nvidia.com/gpu.present": "true" });
    expect(values["tolerations"]).toContainEqual(
      expect.objectContaining({ key: "nvidia.com/gpu" }),
    );
    expect(release.inputs["namespace"]).toBe("kube-system");
  });
});
