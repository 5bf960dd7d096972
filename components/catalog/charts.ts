/**
 * Every Helm chart the platform installs, at an exact version. Each version has a `renovate:`
 * comment above it: Renovate's custom manager (renovate.json) reads these and proposes updates
 * as pull requests, which get the plan comment like any change.
 */
export interface ChartPin {
  readonly chart: string;
  readonly repo: string;
  readonly version: string;
}

export const CHARTS = {
  kubePrometheusStack: {
    chart: "kube-prometheus-stack",
    repo: "https://prometheus-community.github.io/helm-charts",
    // renovate: datasource=helm depName=kube-prometheus-stack registryUrl=https://prometheus-community.github.io/helm-charts
    version: "78.2.1",
  },
  loki: {
    chart: "loki",
    repo: "https://grafana.github.io/helm-charts",
    // renovate: datasource=helm depName=loki registryUrl=https://grafana.github.io/helm-charts
    version: "6.30.1",
  },
  alloy: {
    chart: "alloy",
    repo: "https://grafana.github.io/helm-charts",
    // renovate: datasource=helm depName=alloy registryUrl=https://grafana.github.io/helm-charts
    version: "0.12.0",
  },
  nvidiaDevicePlugin: {
    chart: "nvidia-device-plugin",
    repo: "https://nvidia.github.io/k8s-device-plugin",
    // renovate: datasource=helm depName=nvidia-device-plugin registryUrl=https://nvidia.github.io/k8s-device-plugin
    version: "0.17.1",
  },
  /** NVIDIA's GPU metrics exporter (NVIDIA/dcgm-exporter deployment/, tag 4.5.3-4.8.2). */
  dcgmExporter: {
    chart: "dcgm-exporter",
    repo: "https://nvidia.github.io/dcgm-exporter/helm-charts",
    // renovate: datasource=helm depName=dcgm-exporter registryUrl=https://nvidia.github.io/dcgm-exporter/helm-charts
    version: "4.8.2",
  },
  metricsServer: {
    chart: "metrics-server",
    repo: "https://kubernetes-sigs.github.io/metrics-server/",
    // renovate: datasource=helm depName=metrics-server registryUrl=https://kubernetes-sigs.github.io/metrics-server/
    version: "3.13.0",
  },
  cloudnativePg: {
    chart: "cloudnative-pg",
    repo: "https://cloudnative-pg.github.io/charts",
    // renovate: datasource=helm depName=cloudnative-pg registryUrl=https://cloudnative-pg.github.io/charts
    version: "0.27.0",
  },
} as const satisfies Record<string, ChartPin>;
