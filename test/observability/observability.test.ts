import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config";
import { clientPolicy } from "../../components/data/data";
import {
  alertRules,
  grafanaExposure,
  lokiValues,
  monitoringValues,
} from "../../components/observability/observability";
import { runPlanCli } from "../helpers/cli";
import { planOf } from "../helpers/plans";
import { baselineViolations, isBuiltIn, podSpecOf, validateK8s } from "../helpers/k8s";

type Obj = Record<string, any>;
// The stack's observability section, and what the component gets of it (with the stack's class).
const observabilitySection = {
  enabled: true,
  retentionDays: 30,
  storageGiB: 200,
  grafanaHostname: "grafana.example.com",
};
const observability = { ...observabilitySection, storageClass: "proxmox" };

describe("observability values", () => {
  it("sets retention and storage from the stack", () => {
    const v = monitoringValues(observability);
    expect(v.prometheus.prometheusSpec.retention).toBe("30d");
    expect(
      v.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage,
    ).toBe("200Gi");
    expect(v.nodeExporter.enabled).toBe(false);
    // Talos's control-plane components listen on loopback: not scraped, not alerted on.
    for (const c of ["kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy"] as const) {
      expect(v[c].enabled, c).toBe(false);
    }
    // Grafana reads the logs too.
    expect(v.grafana.additionalDataSources).toEqual([
      { name: "Loki", type: "loki", uid: "loki", access: "proxy", url: "http://loki:3100" },
    ]);
    const loki = lokiValues(observability);
    expect(loki.loki.limits_config.retention_period).toBe("720h");
    expect(loki.singleBinary.persistence.size).toBe("200Gi");
    // Every volume names the stack's class: Prometheus, Alertmanager, Grafana and Loki.
    expect(v.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.storageClassName).toBe(
      "proxmox",
    );
    expect(v.alertmanager.alertmanagerSpec.storage.volumeClaimTemplate.spec.storageClassName).toBe(
      "proxmox",
    );
    expect(v.grafana.persistence.storageClassName).toBe("proxmox");
    expect(loki.singleBinary.persistence.storageClass).toBe("proxmox");
  });

  it("has the alerts that matter here, each only where its metrics are exported", () => {
    const names = (gpuExporter: boolean, vllm: boolean) =>
      alertRules({ gpuExporter, vllm }).flatMap((g) => g.rules.map((r) => r.alert));
    expect(names(true, true)).toEqual([
      "NodeNotReady",
      "VolumeFillingUp",
      "GpuMemoryHigh",
      "ModelServerErrors",
      "ModelServerSlow",
      "ClientCertificateExpiring",
    ]);
    expect(names(false, false)).toEqual([
      "NodeNotReady",
      "VolumeFillingUp",
      "ClientCertificateExpiring",
    ]);
  });

  it("exposes Grafana only with a hostname", () => {
    const platform = parseStackConfig({
      environment: "dev",
      proxmox: {
        endpoint: "https://pve:8006/",
        hosts: [{ name: "pve", cpuCores: 8, memoryMiB: 32768 }],
      },
      cluster: {
        name: "c",
        talosVersion: "v1.13.9",
        kubernetesVersion: "v1.35.2",
        network: { subnet: "10.0.0.0/24", gateway: "10.0.0.1", vip: "10.0.0.10" },
        controlPlane: { nodes: [{ name: "cp", ip: "10.0.0.11" }] },
      },
      platform: { observability: observabilitySection },
    }).platform;
    expect(grafanaExposure(platform, "observability")).toEqual({
      hostname: "grafana.example.com",
      service: "http://monitoring-grafana.observability.svc.cluster.local:80",
    });
    expect(
      grafanaExposure(
        { ...platform, observability: { ...platform.observability, grafanaHostname: undefined } },
        "o",
      ),
    ).toBeUndefined();
  });
});

describe("data service network policies", () => {
  it("admit only the declared clients, on the service port", () => {
    expect(clientPolicy("valkey", "data", { app: "valkey" }, 6379, ["web", "apps"])).toEqual({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "allow-clients-valkey", namespace: "data" },
      spec: {
        podSelector: { matchLabels: { app: "valkey" } },
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [
              { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "apps" } } },
              { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "web" } } },
            ],
            ports: [{ protocol: "TCP", port: 6379 }],
          },
        ],
      },
    });
  });
});

describe("observability and data services per environment", () => {
  const plans: Record<string, Obj[]> = {};
  beforeAll(async () => {
    for (const s of ["dev", "staging", "prod"]) {
      plans[s] = JSON.parse((await runPlanCli([s, "--json", "--show-secrets"])).stdout).resources;
    }
  });
  const has = (stack: string, type: string, name?: string) =>
    plans[stack]!.some(
      (r) =>
        r.type === type &&
        (name === undefined || r.inputs.metadata?.name === name || r.inputs.name === name),
    );

  it("prod plans the observability stack and the three data services", () => {
    for (const release of ["monitoring", "loki"])
      expect(has("prod", "kubernetes:helm.sh/v3:Release", release)).toBe(true);
    expect(has("prod", "kubernetes:monitoring.coreos.com/v1:PrometheusRule")).toBe(true);
    expect(has("prod", "kubernetes:monitoring.coreos.com/v1:PodMonitor", "model-servers")).toBe(
      true,
    );
    expect(has("prod", "kubernetes:postgresql.cnpg.io/v1:Cluster", "postgres")).toBe(true);
    expect(has("prod", "kubernetes:apps/v1:StatefulSet", "valkey")).toBe(true);
    expect(has("prod", "kubernetes:apps/v1:StatefulSet", "rabbitmq")).toBe(true);
  });

  it("switches per environment: dev has no data services, staging no RabbitMQ", () => {
    expect(has("dev", "kubernetes:postgresql.cnpg.io/v1:Cluster")).toBe(false);
    expect(has("dev", "kubernetes:apps/v1:StatefulSet", "valkey")).toBe(false);
    expect(has("dev", "kubernetes:helm.sh/v3:Release", "monitoring")).toBe(true);
    expect(has("staging", "kubernetes:postgresql.cnpg.io/v1:Cluster")).toBe(true);
    expect(has("staging", "kubernetes:apps/v1:StatefulSet", "valkey")).toBe(true);
    expect(has("staging", "kubernetes:apps/v1:StatefulSet", "rabbitmq")).toBe(false);
  });

  it("protects the volumes in prod and keeps claims when a StatefulSet goes", async () => {
    const json = JSON.parse((await runPlanCli(["prod", "--json"])).stdout).resources as Obj[];
    const stateful = json.filter((r) =>
      ["data-postgres", "data-valkey", "data-rabbitmq"].includes(r.name),
    );
    expect(stateful.map((r) => [r.name, r.protect]).sort()).toEqual([
      ["data-postgres", true],
      ["data-rabbitmq", true],
      ["data-valkey", true],
    ]);
    const staging = JSON.parse((await runPlanCli(["staging", "--json"])).stdout).resources as Obj[];
    expect(staging.find((r) => r.name === "data-valkey")?.protect).toBe(false);
    const valkey = stateful.find((r) => r.name === "data-valkey")!;
    expect(valkey.inputs.spec.persistentVolumeClaimRetentionPolicy).toEqual({
      whenDeleted: "Retain",
      whenScaled: "Retain",
    });
  });

  it("keeps credentials in Secrets, referenced, never literal", async () => {
    const json = JSON.parse((await runPlanCli(["prod", "--json"])).stdout).resources as Obj[];
    const secret = json.find(
      (r) =>
        r.type === "kubernetes:core/v1:Secret" && r.inputs.metadata.name === "valkey-credentials",
    );
    expect(secret?.inputs.stringData).toBe("[secret]");
    const valkey = json.find((r) => r.name === "data-valkey")!;
    expect(valkey.inputs.spec.template.spec.containers[0].env).toEqual([
      {
        name: "VALKEY_PASSWORD",
        valueFrom: { secretKeyRef: { key: "password", name: "valkey-credentials" } },
      },
    ]);
  });

  it("routes Grafana's hostname through the tunnel", () => {
    const routes = plans["prod"]!.find((r) => r.type.endsWith("ZeroTrustTunnelCloudflaredConfig"))!
      .inputs.config.ingresses;
    expect(routes).toContainEqual({
      hostname: "grafana.homebrew.example",
      service: "http://monitoring-grafana.observability.svc.cluster.local:80",
    });
  });

  it("every built-in object validates and every pod passes Pod Security baseline", async () => {
    for (const r of plans["prod"]!.filter(
      (x) => isBuiltIn(x.type) && ["data", "observability"].includes(x.inputs.metadata?.namespace),
    )) {
      expect(await validateK8s(r.type, r.inputs), r.urn).toBeUndefined();
      const spec = podSpecOf(r.inputs.kind, r.inputs);
      if (spec) expect(baselineViolations(spec), r.urn).toEqual([]);
    }
  });
});

describe("the log agent", () => {
  it("reads only its own node's pods (so each log is shipped once), under a fixed release name, and reports no usage", async () => {
    const plan = await planOf("prod");
    const agent = plan.resources.find((r) => r.inputs["chart"] === "alloy")!;
    expect(agent.inputs["name"]).toBe("log-agent");
    expect(agent.inputs["namespace"]).toBe("kube-system");
    const alloy = (
      agent.inputs["values"] as {
        alloy: { enableReporting: boolean; configMap: { content: string } };
      }
    ).alloy;
    expect(alloy.enableReporting).toBe(false);
    expect(alloy.configMap.content).toContain('field = "spec.nodeName=" + sys.env("HOSTNAME")');
    expect(alloy.configMap.content).toContain(
      "http://loki.observability.svc.cluster.local:3100/loki/api/v1/push",
    );
  });
});
