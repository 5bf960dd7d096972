/**
 * What the charts the platform installs (and Talos itself) run, as NetworkPolicies see it: each
 * pod's labels and ports, whether it talks to the Kubernetes API, and which of its ports the API
 * server calls. Read from the charts' templates and the operators' source at the pinned versions
 * (charts.ts); each entry names where. The flow analysis (tools/plan/flows.ts) checks the stack's
 * NetworkPolicies against these pods.
 */

export type Protocol = "TCP" | "UDP";

export interface PodFootprint {
  /** A name for messages (the workload's). */
  readonly name: string;
  readonly namespace: string;
  /** The labels of the pod template. */
  readonly labels: Readonly<Record<string, string>>;
  readonly ports: readonly {
    readonly name: string;
    readonly port: number;
    readonly protocol?: Protocol;
  }[];
  /** It talks to the Kubernetes API. @default false */
  readonly apiServer?: boolean;
  /** Ports the API server calls (admission webhooks, aggregated APIs). @default [] */
  readonly webhookPorts?: readonly number[];
  readonly source: string;
}

export interface ChartRelease {
  readonly release: string;
  readonly namespace: string;
  readonly values: Readonly<Record<string, unknown>>;
}

/** Talos's CoreDNS (internal/app/machined/pkg/controllers/k8s/internal/k8stemplates, v1.14.0-rc.1). */
export const CLUSTER_DNS: PodFootprint = {
  name: "coredns",
  namespace: "kube-system",
  labels: { "k8s-app": "kube-dns" },
  ports: [
    { name: "dns", port: 53, protocol: "UDP" },
    { name: "dns-tcp", port: 53, protocol: "TCP" },
    { name: "metrics", port: 9153, protocol: "TCP" },
  ],
  apiServer: true,
  source: "siderolabs/talos v1.14.0-rc.1 k8stemplates/testdata/coredns-deployment.yaml",
};

/** The label of Prometheus server pods (prometheus-operator v0.86.0 makeSelectorLabels). */
export const PROMETHEUS_POD_LABEL = { "app.kubernetes.io/name": "prometheus" } as const;

/** The Helm release names the platform installs its charts under. */
export const RELEASES = {
  monitoring: "monitoring",
  loki: "loki",
  logAgent: "log-agent",
  cnpg: "cnpg",
  gpuMetrics: "gpu-metrics",
  keda: "keda",
  kedaHttp: "keda-http",
} as const;

/**
 * The selector labels of the chart pods a NetworkPolicy names (each chart's pod template; see
 * the footprints below): the name and instance labels, and the component where pods of one chart
 * share a name (the operator and its admission Jobs).
 */
export const POD_SELECTORS = {
  prometheusOperator: (release: string) => ({
    "app.kubernetes.io/name": "kube-prometheus-stack-prometheus-operator",
    "app.kubernetes.io/component": "prometheus-operator",
    "app.kubernetes.io/instance": release,
  }),
  loki: (release: string) => ({
    "app.kubernetes.io/name": "loki",
    "app.kubernetes.io/instance": release,
  }),
  alloy: (release: string) => ({
    "app.kubernetes.io/name": "alloy",
    "app.kubernetes.io/instance": release,
  }),
  cnpgOperator: (release: string) => ({
    "app.kubernetes.io/name": "cloudnative-pg",
    "app.kubernetes.io/instance": release,
  }),
  // kedacore/charts v2.20.2 keda/templates/manager/deployment.yaml: the operator runs the scalers
  // (it is what queries Prometheus).
  kedaOperator: (release: string) => ({
    "app.kubernetes.io/name": "keda-operator",
    "app.kubernetes.io/instance": release,
  }),
  // kedacore/charts http-add-on/ at c4b92e9 (v0.15.0) templates/interceptor/deployment.yaml.
  interceptor: (release: string) => ({
    "app.kubernetes.io/component": "interceptor",
    "app.kubernetes.io/name": "http-add-on",
    "app.kubernetes.io/instance": release,
  }),
} as const;

/** Prometheus's in-cluster base URL (kube-prometheus-stack's `<fullname>-prometheus` Service, 9090). */
export const prometheusUrl = (release: string, namespace: string): string =>
  `http://${kpsBase(release)}-prometheus.${namespace}.svc.cluster.local:9090`;

/**
 * The HTTP add-on's Services are named after the chart, whatever the release
 * (http-add-on/templates: `{{ .Chart.Name }}-interceptor-proxy`, `-external-scaler`).
 */
export const KEDA_HTTP_SERVICES = {
  interceptorProxy: { name: "keda-add-ons-http-interceptor-proxy", port: 8080 },
  externalScaler: { name: "keda-add-ons-http-external-scaler", port: 9090 },
} as const;

/** The DCGM exporter's metrics port (dcgm-exporter chart, `metrics`). */
export const DCGM_METRICS_PORT = 9400;

/** Loki's HTTP port (`http-metrics`), where the agent pushes and Grafana queries. */
export const LOKI_HTTP_PORT = 3100;

/** The ports the API server calls: prometheus-operator's webhooks, CloudNativePG's. */
export const WEBHOOK_PORTS = { prometheusOperator: 10250, cnpg: 9443 } as const;

/** kube-prometheus-stack cuts `<release>-kube-prometheus` to 26 characters (_helpers.tpl). */
const kpsBase = (release: string) => `${release}-kube-prometheus`.slice(0, 26).replace(/-$/, "");

/**
 * CloudNativePG instance pods of a `Cluster` (cloudnative-pg v1.28.0 pkg/specs/pods.go,
 * pkg/utils/labels_annotations.go): the operator reaches each on its status port 8000.
 */
export function postgresInstances(cluster: string, namespace: string): PodFootprint {
  return {
    name: `${cluster} (CloudNativePG instances)`,
    namespace,
    labels: {
      "cnpg.io/cluster": cluster,
      "cnpg.io/podRole": "instance",
      "app.kubernetes.io/name": "postgresql",
      "app.kubernetes.io/instance": cluster,
      "app.kubernetes.io/component": "database",
      "app.kubernetes.io/managed-by": "cloudnative-pg",
    },
    ports: [
      { name: "postgresql", port: 5432 },
      { name: "metrics", port: 9187 },
      { name: "status", port: 8000 },
    ],
    apiServer: true,
    source: "cloudnative-pg v1.28.0 pkg/specs/pods.go",
  };
}

export const CHART_FOOTPRINTS: Readonly<Record<string, (r: ChartRelease) => PodFootprint[]>> = {
  // prometheus-community/helm-charts kube-prometheus-stack-78.2.1 (operator v0.86.0, grafana
  // chart 10.1.0).
  "kube-prometheus-stack": ({ release, namespace }): PodFootprint[] => {
    const base = kpsBase(release);
    const source = "kube-prometheus-stack 78.2.1";
    return [
      {
        name: `${base}-prometheus`,
        namespace,
        labels: {
          ...PROMETHEUS_POD_LABEL,
          "app.kubernetes.io/instance": `${base}-prometheus`,
          "operator.prometheus.io/name": `${base}-prometheus`,
          prometheus: `${base}-prometheus`,
        },
        ports: [
          { name: "http-web", port: 9090 },
          { name: "reloader-web", port: 8080 },
        ],
        apiServer: true,
        source: `${source}; prometheus-operator v0.86.0 pkg/prometheus/server`,
      },
      {
        name: `${base}-alertmanager`,
        namespace,
        labels: {
          "app.kubernetes.io/name": "alertmanager",
          "app.kubernetes.io/instance": `${base}-alertmanager`,
          alertmanager: `${base}-alertmanager`,
        },
        ports: [
          { name: "http-web", port: 9093 },
          { name: "mesh-tcp", port: 9094 },
          { name: "mesh-udp", port: 9094, protocol: "UDP" },
        ],
        source: `${source}; prometheus-operator v0.86.0 pkg/alertmanager`,
      },
      {
        // It serves the admission webhooks itself (TLS on 10250; failurePolicy Ignore).
        name: `${base}-operator`,
        namespace,
        labels: {
          app: "kube-prometheus-stack-operator",
          ...POD_SELECTORS.prometheusOperator(release),
          release,
        },
        ports: [{ name: "https", port: WEBHOOK_PORTS.prometheusOperator }],
        apiServer: true,
        webhookPorts: [WEBHOOK_PORTS.prometheusOperator],
        source: `${source} templates/prometheus-operator`,
      },
      ...(["create", "patch"] as const).map((job): PodFootprint => ({
        name: `${base}-admission-${job}`,
        namespace,
        labels: {
          app: `kube-prometheus-stack-admission-${job}`,
          "app.kubernetes.io/name": "kube-prometheus-stack-prometheus-operator",
          "app.kubernetes.io/component": "prometheus-operator-webhook",
          "app.kubernetes.io/instance": release,
        },
        ports: [],
        apiServer: true,
        source: `${source} templates/prometheus-operator/admission-webhooks/job-patch`,
      })),
      {
        name: `${release}-kube-state-metrics`,
        namespace,
        labels: {
          "app.kubernetes.io/name": "kube-state-metrics",
          "app.kubernetes.io/instance": release,
        },
        ports: [{ name: "http", port: 8080 }],
        apiServer: true,
        source: `${source} (kube-state-metrics subchart)`,
      },
      {
        // The dashboard and datasource sidecars watch ConfigMaps and Secrets.
        name: `${release}-grafana`,
        namespace,
        labels: { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": release },
        ports: [
          { name: "grafana", port: 3000 },
          { name: "gossip-tcp", port: 9094 },
        ],
        apiServer: true,
        source: "grafana/helm-charts grafana-10.1.0 charts/grafana/templates/_pod.tpl",
      },
    ];
  },
  // grafana/loki helm-loki-6.30.1 production/helm/loki, SingleBinary (the rules sidecar watches
  // ConfigMaps).
  loki: ({ release, namespace }) => [
    {
      name: release.includes("loki") ? release : `${release}-loki`,
      namespace,
      labels: { ...POD_SELECTORS.loki(release), "app.kubernetes.io/component": "single-binary" },
      ports: [
        { name: "http-metrics", port: LOKI_HTTP_PORT },
        { name: "grpc", port: 9095 },
        { name: "http-memberlist", port: 7946 },
      ],
      apiServer: true,
      source: "grafana/loki helm-loki-6.30.1 production/helm/loki single-binary",
    },
  ],
  // grafana/alloy helm-chart/0.12.0 operations/helm/charts/alloy (a DaemonSet).
  alloy: ({ release, namespace }) => [
    {
      name: `${release}-alloy`,
      namespace,
      labels: POD_SELECTORS.alloy(release),
      ports: [{ name: "http-metrics", port: 12345 }],
      apiServer: true,
      source: "grafana/alloy helm-chart/0.12.0",
    },
  ],
  // cloudnative-pg/charts cloudnative-pg-v0.27.0 (operator 1.28.0): every webhook has
  // failurePolicy Fail, so a Cluster cannot be written unless the API server reaches 9443.
  "cloudnative-pg": ({ release, namespace }) => [
    {
      name: `${release}-cloudnative-pg`,
      namespace,
      labels: POD_SELECTORS.cnpgOperator(release),
      ports: [
        { name: "metrics", port: 8080 },
        { name: "webhook-server", port: WEBHOOK_PORTS.cnpg },
      ],
      apiServer: true,
      webhookPorts: [WEBHOOK_PORTS.cnpg],
      source: "cloudnative-pg/charts cloudnative-pg-v0.27.0",
    },
  ],
  // NVIDIA/dcgm-exporter 4.5.3-4.8.2 deployment/templates (a DaemonSet; its ServiceMonitor
  // scrapes `metrics`).
  "dcgm-exporter": ({ release, namespace }) => [
    {
      name: `${release}-dcgm-exporter`,
      namespace,
      labels: {
        "app.kubernetes.io/name": "dcgm-exporter",
        "app.kubernetes.io/instance": release,
        "app.kubernetes.io/component": "dcgm-exporter",
      },
      ports: [{ name: "metrics", port: DCGM_METRICS_PORT }],
      source: "NVIDIA/dcgm-exporter 4.5.3-4.8.2 deployment/templates/daemonset.yaml",
    },
  ],
  // kedacore/charts v2.20.2 keda/templates (manager, metrics-server, webhooks): the API server
  // calls the external metrics API (6443, the v1beta1.external.metrics.k8s.io APIService) and the
  // admission webhooks (9443); the metrics adapter asks the operator over gRPC (9666).
  keda: ({ release, namespace }) => {
    const source = "kedacore/charts v2.20.2 keda/templates";
    return [
      {
        name: "keda-operator",
        namespace,
        labels: { app: "keda-operator", ...POD_SELECTORS.kedaOperator(release) },
        ports: [
          { name: "metrics", port: 8080 },
          { name: "grpc", port: 9666 },
        ],
        apiServer: true,
        source,
      },
      {
        name: "keda-operator-metrics-apiserver",
        namespace,
        labels: {
          app: "keda-operator-metrics-apiserver",
          "app.kubernetes.io/name": "keda-operator-metrics-apiserver",
          "app.kubernetes.io/instance": release,
        },
        ports: [
          { name: "https", port: 6443 },
          { name: "metrics", port: 8080 },
        ],
        apiServer: true,
        webhookPorts: [6443],
        source,
      },
      {
        name: "keda-admission-webhooks",
        namespace,
        labels: {
          app: "keda-admission-webhooks",
          "app.kubernetes.io/name": "keda-admission-webhooks",
          "app.kubernetes.io/instance": release,
        },
        ports: [{ name: "http", port: 9443 }],
        apiServer: true,
        webhookPorts: [9443],
        source,
      },
    ];
  },
  // kedacore/charts http-add-on/ at c4b92e9 (v0.15.0) templates: the interceptor proxies to the
  // routes' Services and watches routes and EndpointSlices; the scaler serves KEDA's gRPC.
  "keda-add-ons-http": ({ release, namespace }) => {
    const source = "kedacore/charts http-add-on c4b92e9 (v0.15.0) templates";
    const labels = (component: string) => ({
      "app.kubernetes.io/component": component,
      "app.kubernetes.io/name": "http-add-on",
      "app.kubernetes.io/instance": release,
    });
    return [
      {
        name: KEDA_HTTP_SERVICES.interceptorProxy.name,
        namespace,
        labels: POD_SELECTORS.interceptor(release),
        ports: [
          { name: "proxy", port: KEDA_HTTP_SERVICES.interceptorProxy.port },
          { name: "admin", port: 9090 },
        ],
        apiServer: true,
        source,
      },
      {
        name: KEDA_HTTP_SERVICES.externalScaler.name,
        namespace,
        labels: labels("scaler"),
        ports: [
          { name: "grpc", port: KEDA_HTTP_SERVICES.externalScaler.port },
          { name: "metrics", port: 2223 },
        ],
        apiServer: true,
        source,
      },
      {
        name: "keda-add-ons-http-operator",
        namespace,
        labels: labels("operator"),
        ports: [{ name: "metrics", port: 8443 }],
        apiServer: true,
        source,
      },
    ];
  },
  // kubernetes-sigs/metrics-server metrics-server-helm-chart-3.13.0: the API server calls it
  // through the v1beta1.metrics.k8s.io APIService; it scrapes every kubelet.
  "metrics-server": ({ release, namespace }) => [
    {
      name: `${release}-metrics-server`,
      namespace,
      labels: { "app.kubernetes.io/name": "metrics-server", "app.kubernetes.io/instance": release },
      ports: [{ name: "https", port: 10250 }],
      apiServer: true,
      webhookPorts: [10250],
      source: "kubernetes-sigs/metrics-server metrics-server-helm-chart-3.13.0",
    },
  ],
};
