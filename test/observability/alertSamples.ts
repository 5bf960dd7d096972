/**
 * Sample series for every alert rule of the platform (components/observability/observability.ts
 * `alertRules`), each with the labels its producer really exports: one case where the alert
 * fires, and cases where it must not (healthy series, and the condition held for less than the
 * rule's `for`). Run through Prometheus's own rule unit tester (`promtool test rules`), so a rule
 * that can never fire, or fires on health, fails its test.
 *
 * Label names are the producers' own: kube-state-metrics' `kube_node_status_condition{node,
 * condition,status}`; the kubelet's `kubelet_volume_stats_*{namespace,persistentvolumeclaim}`; the
 * DCGM exporter's `DCGM_FI_DEV_FB_*{gpu,UUID,Hostname,modelName}` (dcgm-exporter
 * pkg/counters/const.go); vLLM v0.11.0's `vllm:*{model_name,engine}` with `finished_reason` of
 * stop, length or abort (vllm/v1/metrics/loggers.py, vllm/v1/engine/__init__.py FinishReason);
 * the API server's `apiserver_client_certificate_expiration_seconds` histogram under kube-prometheus-
 * stack's apiserver ServiceMonitor (`job="apiserver"`).
 */

/** One input series in promtool's notation: `start+step x count`. */
export interface SampleSeries {
  readonly series: string;
  readonly values: string;
}

export interface SampleCase {
  /** What the series show. */
  readonly what: string;
  readonly series: readonly SampleSeries[];
  /** When the alert is evaluated, in promtool's duration notation. */
  readonly at: string;
  /** The alerts expected then: labels besides the rule's own, and the rendered summary. */
  readonly fires: readonly { labels: Record<string, string>; summary: string }[];
}

const vllm = (name: string, labels: string) =>
  `vllm:${name}{model_name="qwen-7b",engine="0",${labels}}`;
const bucket = (le: string, values: string): SampleSeries => ({
  series: vllm("e2e_request_latency_seconds_bucket", `le="${le}"`),
  values,
});
const certBucket = (le: string, values: string): SampleSeries => ({
  series: `apiserver_client_certificate_expiration_seconds_bucket{job="apiserver",instance="10.50.0.11:6443",le="${le}"}`,
  values,
});
const certCount = (values: string): SampleSeries => ({
  series: `apiserver_client_certificate_expiration_seconds_count{job="apiserver",instance="10.50.0.11:6443"}`,
  values,
});
const gpu = (field: "USED" | "FREE", values: string): SampleSeries => ({
  series: `DCGM_FI_DEV_FB_${field}{gpu="0",UUID="GPU-5c1d",Hostname="prod-gpu-1",modelName="NVIDIA GeForce RTX 4090"}`,
  values,
});

export const ALERT_SAMPLES: Readonly<Record<string, readonly SampleCase[]>> = {
  NodeNotReady: [
    {
      what: "a node not Ready for 12 minutes",
      series: [
        {
          series:
            'kube_node_status_condition{node="prod-worker-1",condition="Ready",status="true"}',
          values: "0x20",
        },
      ],
      at: "12m",
      fires: [
        {
          labels: { node: "prod-worker-1", condition: "Ready", status: "true" },
          summary: "Node prod-worker-1 has not been Ready for 10 minutes.",
        },
      ],
    },
    {
      what: "a node not Ready for 5 minutes (pending)",
      series: [
        {
          series:
            'kube_node_status_condition{node="prod-worker-1",condition="Ready",status="true"}',
          values: "0x20",
        },
      ],
      at: "5m",
      fires: [],
    },
    {
      what: "a Ready node",
      series: [
        {
          series:
            'kube_node_status_condition{node="prod-worker-1",condition="Ready",status="true"}',
          values: "1x20",
        },
      ],
      at: "12m",
      fires: [],
    },
  ],
  VolumeFillingUp: [
    {
      what: "10 GB left, 10 MB written a minute (14.4 GB a day)",
      series: [
        {
          series:
            'kubelet_volume_stats_available_bytes{namespace="observability",persistentvolumeclaim="prometheus-db-0"}',
          values: "10000000000-10000000x120",
        },
      ],
      at: "1h",
      fires: [
        {
          labels: { namespace: "observability", persistentvolumeclaim: "prometheus-db-0" },
          summary: "Volume prometheus-db-0 fills up within a day.",
        },
      ],
    },
    {
      what: "10 GB left, 1 MB written a minute (1.4 GB a day)",
      series: [
        {
          series:
            'kubelet_volume_stats_available_bytes{namespace="observability",persistentvolumeclaim="prometheus-db-0"}',
          values: "10000000000-1000000x120",
        },
      ],
      at: "1h",
      fires: [],
    },
  ],
  GpuMemoryHigh: [
    {
      what: "23.5 of 24 GB in use for 20 minutes",
      series: [gpu("USED", "23500x30"), gpu("FREE", "500x30")],
      at: "20m",
      fires: [
        {
          labels: {
            gpu: "0",
            UUID: "GPU-5c1d",
            Hostname: "prod-gpu-1",
            modelName: "NVIDIA GeForce RTX 4090",
          },
          summary: "GPU 0 on prod-gpu-1 uses over 95% of its memory.",
        },
      ],
    },
    {
      what: "half of the GPU memory in use",
      series: [gpu("USED", "12000x30"), gpu("FREE", "12000x30")],
      at: "20m",
      fires: [],
    },
  ],
  ModelServerErrors: [
    {
      what: "one request in eleven aborted",
      series: [
        { series: vllm("request_success_total", 'finished_reason="abort"'), values: "0+6x30" },
        { series: vllm("request_success_total", 'finished_reason="stop"'), values: "0+60x30" },
      ],
      at: "20m",
      fires: [
        { labels: { model_name: "qwen-7b" }, summary: "More than 5% of requests to qwen-7b fail." },
      ],
    },
    {
      what: "one request in sixty-one aborted",
      series: [
        { series: vllm("request_success_total", 'finished_reason="abort"'), values: "0+1x30" },
        { series: vllm("request_success_total", 'finished_reason="stop"'), values: "0+60x30" },
      ],
      at: "20m",
      fires: [],
    },
  ],
  ModelServerSlow: [
    {
      what: "nine requests in ten take 30 to 60 s",
      series: [
        bucket("10", "0+1x40"),
        bucket("30", "0+1x40"),
        bucket("60", "0+10x40"),
        bucket("+Inf", "0+10x40"),
      ],
      at: "25m",
      fires: [
        { labels: { model_name: "qwen-7b" }, summary: "p95 latency of qwen-7b is over 30 s." },
      ],
    },
    {
      what: "every request within 10 s",
      series: [
        bucket("10", "0+10x40"),
        bucket("30", "0+10x40"),
        bucket("60", "0+10x40"),
        bucket("+Inf", "0+10x40"),
      ],
      at: "25m",
      fires: [],
    },
  ],
  ClientCertificateExpiring: [
    {
      what: "every client certificate seen expires within a day",
      series: [
        certCount("0+10x120"),
        certBucket("21600", "0x120"),
        certBucket("86400", "0+10x120"),
        certBucket("604800", "0+10x120"),
        certBucket("+Inf", "0+10x120"),
      ],
      at: "80m",
      fires: [
        {
          labels: { job: "apiserver", instance: "10.50.0.11:6443" },
          summary: "Client certificates used against the API expire within a week.",
        },
      ],
    },
    {
      what: "every client certificate seen is valid for a year",
      series: [
        certCount("0+10x120"),
        certBucket("21600", "0x120"),
        certBucket("86400", "0x120"),
        certBucket("604800", "0x120"),
        certBucket("31536000", "0+10x120"),
        certBucket("+Inf", "0+10x120"),
      ],
      at: "80m",
      fires: [],
    },
  ],
};
