import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import type { ExposedService } from "../kubernetes/ingress";
import { CHARTS } from "../catalog/charts";
import { LOKI_HTTP_PORT, RELEASES } from "../catalog/footprints";
import { METRICS_LABEL } from "../catalog/labels";

/** The charts of this area (pinned in the catalog). */
export const OBSERVABILITY_CHARTS = {
  kubePrometheusStack: CHARTS.kubePrometheusStack,
  loki: CHARTS.loki,
  alloy: CHARTS.alloy,
} as const;

/** Helm release name of the monitoring stack; its Grafana Service is `<release>-grafana`. */
export const MONITORING_RELEASE = RELEASES.monitoring;

/** The Grafana route through the ingress, when the stack names a hostname. */
export function grafanaExposure(
  platform: StackConfig["platform"],
  namespace: string,
): ExposedService | undefined {
  const o = platform.observability;
  if (!o.enabled || o.grafanaHostname === undefined) return undefined;
  return {
    hostname: o.grafanaHostname,
    service: `http://${MONITORING_RELEASE}-grafana.${namespace}.svc.cluster.local:80`,
  };
}

/** Chart values of kube-prometheus-stack for a stack: retention, storage, what is scraped. */
export function monitoringValues(o: RetentionSettings) {
  return {
    // node-exporter needs the host's network, PID namespace and filesystem, which Pod Security
    // baseline forbids in this namespace; kubelet and cAdvisor metrics cover nodes and pods.
    nodeExporter: { enabled: false },
    // Talos binds the controller manager and the scheduler to 127.0.0.1
    // (internal/app/machined/pkg/controllers/k8s/control_plane_final.go, v1.14.0-rc.1) and runs
    // etcd as a system service, not a pod; kube-proxy serves its metrics on the node's loopback.
    // Prometheus cannot reach any of them, so they are not monitored (the chart's down alerts for
    // them would fire forever).
    kubeControllerManager: { enabled: false },
    kubeScheduler: { enabled: false },
    kubeEtcd: { enabled: false },
    kubeProxy: { enabled: false },
    prometheus: {
      prometheusSpec: {
        retention: `${o.retentionDays}d`,
        // Pick up the PodMonitors and rules of every namespace, not only the chart's own.
        podMonitorSelectorNilUsesHelmValues: false,
        serviceMonitorSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
        storageSpec: {
          volumeClaimTemplate: {
            spec: {
              storageClassName: o.storageClass,
              accessModes: ["ReadWriteOnce"],
              resources: { requests: { storage: `${o.storageGiB}Gi` } },
            },
          },
        },
      },
    },
    alertmanager: {
      alertmanagerSpec: {
        storage: {
          volumeClaimTemplate: {
            spec: {
              storageClassName: o.storageClass,
              accessModes: ["ReadWriteOnce"],
              resources: { requests: { storage: "2Gi" } },
            },
          },
        },
      },
    },
    grafana: {
      // grafana chart: persistence.storageClassName, accessModes [ReadWriteOnce] by default.
      persistence: { enabled: true, size: "5Gi", storageClassName: o.storageClass },
      ingress: { enabled: false },
      // Loki, next to Grafana in this namespace (its Service is the release's name,
      // helm-loki-6.30.1): the logs the agent ships are one click from the metrics.
      additionalDataSources: [
        {
          name: "Loki",
          type: "loki",
          uid: "loki",
          access: "proxy",
          url: `http://${RELEASES.loki}:${LOKI_HTTP_PORT}`,
        },
      ],
    },
  };
}

/** Loki as a single binary with filesystem storage and retention. */
export function lokiValues(o: RetentionSettings) {
  return {
    deploymentMode: "SingleBinary",
    loki: {
      auth_enabled: false,
      commonConfig: { replication_factor: 1 },
      storage: { type: "filesystem" },
      schemaConfig: {
        configs: [
          {
            from: "2024-01-01",
            store: "tsdb",
            object_store: "filesystem",
            schema: "v13",
            index: { prefix: "index_", period: "24h" },
          },
        ],
      },
      limits_config: { retention_period: `${o.retentionDays * 24}h` },
      compactor: { retention_enabled: true, delete_request_store: "filesystem" },
    },
    // loki chart 6.30.1: singleBinary.persistence.storageClass (enabled by default).
    singleBinary: {
      replicas: 1,
      persistence: { size: `${o.storageGiB}Gi`, storageClass: o.storageClass },
    },
    read: { replicas: 0 },
    write: { replicas: 0 },
    backend: { replicas: 0 },
    chunksCache: { enabled: false },
    resultsCache: { enabled: false },
  };
}

/** What the stack runs that alert rules read: a DCGM exporter on GPU nodes, vLLM servers. */
export interface AlertSources {
  /** NVIDIA's DCGM exporter runs on the GPU nodes (the GPU alerts read its metrics). */
  readonly gpuExporter: boolean;
  /** vLLM model servers run, scraped by the model PodMonitor (the model alerts read theirs). */
  readonly vllm: boolean;
}

/**
 * Alert rules that matter for this platform, each group only where something exports the metrics
 * it reads (a rule over a metric nobody exports never fires; tools/plan/alerts.ts checks it).
 */
export function alertRules(sources: AlertSources) {
  const groups = [
    {
      name: "homebrew-dev.nodes",
      rules: [
        {
          alert: "NodeNotReady",
          expr: 'kube_node_status_condition{condition="Ready",status="true"} == 0',
          for: "10m",
          labels: { severity: "critical" },
          annotations: { summary: "Node {{ $labels.node }} has not been Ready for 10 minutes." },
        },
        {
          alert: "VolumeFillingUp",
          expr: "predict_linear(kubelet_volume_stats_available_bytes[6h], 24 * 3600) < 0",
          for: "30m",
          labels: { severity: "warning" },
          annotations: {
            summary: "Volume {{ $labels.persistentvolumeclaim }} fills up within a day.",
          },
        },
      ],
    },
    {
      name: "homebrew-dev.gpu",
      rules: [
        {
          alert: "GpuMemoryHigh",
          expr: "DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE) > 0.95",
          for: "15m",
          labels: { severity: "warning" },
          annotations: {
            summary: "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} uses over 95% of its memory.",
          },
        },
      ],
    },
    {
      name: "homebrew-dev.models",
      rules: [
        {
          alert: "ModelServerErrors",
          expr: 'sum by (model_name) (rate(vllm:request_success_total{finished_reason="abort"}[5m])) / sum by (model_name) (rate(vllm:request_success_total[5m])) > 0.05',
          for: "10m",
          labels: { severity: "warning" },
          annotations: { summary: "More than 5% of requests to {{ $labels.model_name }} fail." },
        },
        {
          alert: "ModelServerSlow",
          expr: "histogram_quantile(0.95, sum by (le, model_name) (rate(vllm:e2e_request_latency_seconds_bucket[5m]))) > 30",
          for: "15m",
          labels: { severity: "warning" },
          annotations: { summary: "p95 latency of {{ $labels.model_name }} is over 30 s." },
        },
      ],
    },
    {
      name: "homebrew-dev.certificates",
      rules: [
        {
          alert: "ClientCertificateExpiring",
          // `and` matches series by their labels: the quantile keeps `job` so that it meets the
          // count's series (kubernetes-mixin's KubeClientCertificateExpiration has the same form).
          expr: "apiserver_client_certificate_expiration_seconds_count > 0 and on (job) histogram_quantile(0.01, sum by (job, le) (rate(apiserver_client_certificate_expiration_seconds_bucket[5m]))) < 7 * 24 * 3600",
          for: "1h",
          labels: { severity: "warning" },
          annotations: {
            summary: "Client certificates used against the API expire within a week.",
          },
        },
      ],
    },
  ];
  return groups.filter(
    (g) =>
      (g.name !== "homebrew-dev.gpu" || sources.gpuExporter) &&
      (g.name !== "homebrew-dev.models" || sources.vllm),
  );
}

/** How long metrics and logs are kept, and the volume each store gets. */
export interface RetentionSettings {
  /** Metrics and log retention in days. */
  readonly retentionDays: number;
  /** Size of the Prometheus volume and of Loki's, in GiB. */
  readonly storageGiB: number;
  /** The StorageClass every volume names (the stack's default class). */
  readonly storageClass: string;
}

export interface ObservabilityArgs extends RetentionSettings {
  /** The observability namespace (from the platform). */
  readonly namespace: pulumi.Input<string>;
  /** Namespace of the model servers, scraped by a PodMonitor. */
  readonly modelsNamespace?: pulumi.Input<string>;
  /**
   * The Secret (in the models' namespace) and key of the API key the model servers' metrics are
   * read with: llama.cpp answers /metrics only with it (tools/server/server.cpp at b7010, whose
   * public endpoints are /health, /models and the like); vLLM ignores it there.
   * @default - no key
   */
  readonly modelMetricsKey?: { readonly name: pulumi.Input<string>; readonly key: string };
  /**
   * The GPU nodes, where NVIDIA's DCGM exporter runs (its metrics feed the GPU alerts).
   * @default - no GPU pool, no exporter
   */
  readonly gpuNodes?: {
    /** The GPU pools' taints, as the nvidia RuntimeClass tolerates them. */
    readonly tolerations: readonly {
      key: string;
      operator: string;
      value?: string;
      effect?: string;
    }[];
    /** The label GPU nodes carry. */
    readonly nodeSelector: Readonly<Record<string, string>>;
  };
  /**
   * vLLM servers run, scraped by the model PodMonitor (the model alerts read their metrics).
   * @default false
   */
  readonly vllm?: boolean;
}

/**
 * Metrics, alerts, dashboards and logs: kube-prometheus-stack (Prometheus, Alertmanager, Grafana)
 * and Loki in the observability namespace, the Alloy log agent in kube-system (it reads the
 * nodes' pod logs through a hostPath), a PodMonitor for the model servers and the alert rules.
 */
export class Observability extends pulumi.ComponentResource {
  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homebrew-dev:observability:Observability", name, {}, opts);
    const o: RetentionSettings = {
      retentionDays: args.retentionDays,
      storageGiB: args.storageGiB,
      storageClass: args.storageClass,
    };
    const parent = { parent: this };
    const release = (
      key: string,
      chart: { chart: string; version: string; repo: string },
      namespace: pulumi.Input<string>,
      values: object,
      releaseName?: string,
    ) =>
      new k8s.helm.v3.Release(
        `${name}-${key}`,
        {
          ...(releaseName !== undefined ? { name: releaseName } : {}),
          chart: chart.chart,
          version: chart.version,
          repositoryOpts: { repo: chart.repo },
          namespace,
          values,
        },
        parent,
      );
    const monitoring = release(
      "monitoring",
      CHARTS.kubePrometheusStack,
      args.namespace,
      monitoringValues(o),
      MONITORING_RELEASE,
    );
    const loki = release("loki", CHARTS.loki, args.namespace, lokiValues(o), RELEASES.loki);
    // A DaemonSet: each agent reads the pods of its own node only, so every pod's log is
    // collected once (the chart sets HOSTNAME to spec.nodeName, alloy helm-chart/0.12.0
    // templates/containers/_agent.yaml). No usage report leaves the cluster.
    release(
      "log-agent",
      CHARTS.alloy,
      "kube-system",
      {
        alloy: {
          enableReporting: false,
          configMap: {
            content: pulumi.interpolate`discovery.kubernetes "pods" {
  role = "pod"
  selectors {
    role  = "pod"
    field = "spec.nodeName=" + sys.env("HOSTNAME")
  }
}
loki.source.kubernetes "pods" {
  targets    = discovery.kubernetes.pods.targets
  forward_to = [loki.write.default.receiver]
}
loki.write "default" {
  endpoint {
    url = "http://${RELEASES.loki}.${args.namespace}.svc.cluster.local:${LOKI_HTTP_PORT}/loki/api/v1/push"
  }
}
`,
          },
        },
      },
      RELEASES.logAgent,
    );
    if (args.gpuNodes !== undefined) {
      // kube-system: the exporter runs as root with SYS_ADMIN and reads the kubelet's
      // pod-resources socket (a hostPath), which no namespace of ours admits; the nvidia
      // RuntimeClass gives it the GPUs (the chart sets none, NVIDIA/dcgm-exporter values.yaml at
      // 4.5.3-4.8.2). Its ServiceMonitor needs the operator's CRDs.
      new k8s.helm.v3.Release(
        `${name}-gpu-metrics`,
        {
          name: RELEASES.gpuMetrics,
          chart: CHARTS.dcgmExporter.chart,
          version: CHARTS.dcgmExporter.version,
          repositoryOpts: { repo: CHARTS.dcgmExporter.repo },
          namespace: "kube-system",
          values: {
            runtimeClassName: "nvidia",
            nodeSelector: { ...args.gpuNodes.nodeSelector },
            tolerations: [...args.gpuNodes.tolerations],
            serviceMonitor: { enabled: true },
          },
        },
        { parent: this, dependsOn: [monitoring] },
      );
    }
    const crOpts = { parent: this, dependsOn: [monitoring, loki] };
    if (args.modelsNamespace !== undefined) {
      new k8s.apiextensions.CustomResource(
        `${name}-model-servers`,
        {
          apiVersion: "monitoring.coreos.com/v1",
          kind: "PodMonitor",
          metadata: { name: "model-servers", namespace: args.modelsNamespace },
          spec: {
            // Only the servers that export metrics (Ollama has no /metrics).
            selector: {
              matchLabels: {
                "app.kubernetes.io/component": "model-server",
                [METRICS_LABEL]: "true",
              },
            },
            // The autoscalers select a model's series by its instance label.
            podTargetLabels: ["app.kubernetes.io/instance"],
            podMetricsEndpoints: [
              {
                port: "http",
                path: "/metrics",
                interval: "15s",
                ...(args.modelMetricsKey !== undefined
                  ? { authorization: { type: "Bearer", credentials: args.modelMetricsKey } }
                  : {}),
              },
            ],
          },
        },
        crOpts,
      );
    }
    new k8s.apiextensions.CustomResource(
      `${name}-alerts`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: { name: "homebrew-dev", namespace: args.namespace },
        spec: {
          groups: alertRules({
            gpuExporter: args.gpuNodes !== undefined,
            vllm: args.vllm ?? false,
          }),
        },
      },
      crOpts,
    );
    this.registerOutputs({});
  }
}
