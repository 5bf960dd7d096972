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
  /**
   * The Proxmox CSI plugin (sergelogvinov/proxmox-csi-plugin v0.19.1, charts/proxmox-csi-plugin):
   * volumes are disks of the Proxmox host that runs the VM. Published as an OCI chart
   * (docs/install.md).
   */
  proxmoxCsi: {
    chart: "proxmox-csi-plugin",
    repo: "oci://ghcr.io/sergelogvinov/charts",
    // renovate: datasource=docker depName=ghcr.io/sergelogvinov/charts/proxmox-csi-plugin
    version: "0.5.9",
  },
  /**
   * Rancher's local-path provisioner (rancher/local-path-provisioner v0.0.37,
   * deploy/chart/local-path-provisioner): volumes are directories of the node. Its release
   * workflow (.github/workflows/helm-release.yml) pushes the chart to this OCI repository, versioned
   * as the tag without its "v".
   */
  localPath: {
    chart: "local-path-provisioner",
    repo: "oci://ghcr.io/rancher/local-path-provisioner/charts",
    // renovate: datasource=docker depName=ghcr.io/rancher/local-path-provisioner/charts/local-path-provisioner
    version: "0.0.37",
  },
  /**
   * KEDA, the event-driven autoscaler (kedacore/charts v2.20.2, keda/; KEDA v2.20.2): it scales the
   * model servers on their queue metrics through the external metrics API it serves.
   */
  keda: {
    chart: "keda",
    repo: "https://kedacore.github.io/charts",
    // renovate: datasource=helm depName=keda registryUrl=https://kedacore.github.io/charts
    version: "2.20.2",
  },
  /**
   * KEDA's HTTP add-on (kedacore/charts http-add-on/ at the v0.15.0 release commit c4b92e9;
   * kedacore/http-add-on v0.15.0): its interceptor holds a request for a model scaled to zero
   * until a replica is ready, and wakes it.
   */
  kedaHttpAddOn: {
    chart: "keda-add-ons-http",
    repo: "https://kedacore.github.io/charts",
    // renovate: datasource=helm depName=keda-add-ons-http registryUrl=https://kedacore.github.io/charts
    version: "0.15.0",
  },
} as const satisfies Record<string, ChartPin>;

/** A pin's chart as a Helm release takes it: from its repository, or as an OCI reference. */
export function releaseChart(pin: ChartPin): {
  chart: string;
  version: string;
  repositoryOpts?: { repo: string };
} {
  return pin.repo.startsWith("oci://")
    ? { chart: `${pin.repo}/${pin.chart}`, version: pin.version }
    : { chart: pin.chart, version: pin.version, repositoryOpts: { repo: pin.repo } };
}
