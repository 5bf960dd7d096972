import { describe, expect, it } from "vitest";
import { endpointFindings, flowFindings, requiredFlows } from "../../tools/plan/flows";
import type { Plan } from "../../tools/plan/render";
import { SHIPPED_STACKS, planOf } from "../helpers/plans";

/**
 * The flows the platform needs to come up (tools/plan/flows.ts) against the stacks'
 * NetworkPolicies: the shipped stacks allow every one, and taking away the policy that allows a
 * kind of flow is found, naming the flow.
 */
describe.each(SHIPPED_STACKS)("stack %s: the flows the platform needs", (stack) => {
  it("are all allowed by its NetworkPolicies", async () => {
    const plan = await planOf(stack);
    expect(requiredFlows(plan).length).toBeGreaterThan(50);
    expect(flowFindings(plan).map((f) => f.message)).toEqual([]);
  });
});

describe("each kind of flow, blocked once", () => {
  const without = (plan: Plan, name: string): Plan => ({
    ...plan,
    resources: plan.resources.filter((r) => r.name !== name),
  });
  const blocked = async (policy: string) =>
    [
      ...new Set(
        flowFindings(without(await planOf("prod"), policy)).map(
          (f) => `${f.flow.why}: ${f.flow.from} → ${f.flow.to}`,
        ),
      ),
    ].sort();

  it("the cluster DNS", async () => {
    expect(await blocked("platform-baseline-netpol-apps-allow-dns")).toEqual([
      "cluster DNS: apps/hello-api → kube-system/coredns",
    ]);
  });

  it("Prometheus to its targets and the kubelets", async () => {
    const found = await blocked("platform-baseline-netpol-observability-allow-prometheus-egress");
    expect(found).toContain(
      "scrape (PodMonitor models/model-servers): observability/monitoring-kube-prometheus-prometheus → models/qwen-7b",
    );
    expect(found).toContain(
      "scrape (CloudNativePG PodMonitor): observability/monitoring-kube-prometheus-prometheus → data/postgres (CloudNativePG instances)",
    );
    expect(found).toContain(
      "scrape (kubelet and cAdvisor): observability/monitoring-kube-prometheus-prometheus → 10.50.0.31",
    );
  });

  it("the log agent to the log store", async () => {
    expect(await blocked("platform-baseline-netpol-observability-allow-log-agent")).toEqual([
      "log shipping: kube-system/log-agent-alloy → observability/loki",
    ]);
  });

  it("the tunnel to an exposed service", async () => {
    expect(await blocked("platform-baseline-netpol-apps-allow-from-ingress")).toEqual([
      "exposed name hello.homebrew.example: ingress/cloudflared → apps/hello-api",
    ]);
  });

  it("declared clients to the data services (the data tier admits them; their egress must let them out)", async () => {
    expect(await blocked("platform-baseline-netpol-apps-allow-to-postgres")).toEqual([
      "declared client (data/allow-clients-postgres): apps/hello-api → data/postgres (CloudNativePG instances)",
    ]);
  });

  it("operators to the API server, and the API server to their webhooks", async () => {
    expect(await blocked("platform-baseline-netpol-data-allow-apiserver-egress")).toEqual([
      "Kubernetes API (Service): data/cnpg-cloudnative-pg → 10.96.0.1",
      "Kubernetes API (Service): data/postgres (CloudNativePG instances) → 10.96.0.1",
      "Kubernetes API (control plane): data/cnpg-cloudnative-pg → 10.50.0.11",
      "Kubernetes API (control plane): data/cnpg-cloudnative-pg → 10.50.0.12",
      "Kubernetes API (control plane): data/cnpg-cloudnative-pg → 10.50.0.13",
      "Kubernetes API (control plane): data/postgres (CloudNativePG instances) → 10.50.0.11",
      "Kubernetes API (control plane): data/postgres (CloudNativePG instances) → 10.50.0.12",
      "Kubernetes API (control plane): data/postgres (CloudNativePG instances) → 10.50.0.13",
    ]);
    expect(
      await blocked("platform-baseline-netpol-data-allow-apiserver-to-cloudnative-pg"),
    ).toEqual([
      "admission webhook, called by the API server: 10.50.0.11 → data/cnpg-cloudnative-pg",
      "admission webhook, called by the API server: 10.50.0.12 → data/cnpg-cloudnative-pg",
      "admission webhook, called by the API server: 10.50.0.13 → data/cnpg-cloudnative-pg",
    ]);
  });
});

describe.each(SHIPPED_STACKS)("stack %s: endpoints", (stack) => {
  it("every probe, Service, monitor and route names a port and pods that are there", async () => {
    expect(endpointFindings(await planOf(stack)).map((f) => f.message)).toEqual([]);
  });
});

describe("each endpoint rule, broken once", () => {
  const edit = async (f: (inputs: Record<string, any>, name: string) => void) => {
    const plan = await planOf("prod");
    const resources = plan.resources.map((r) => {
      const inputs = structuredClone(r.inputs);
      f(inputs, r.name);
      return { ...r, inputs };
    });
    return endpointFindings({ ...plan, resources }).map((x) => x.message);
  };

  it("a probe naming a port the container does not declare", async () => {
    expect(
      await edit((i, name) => {
        if (name === "app-hello-api-deployment")
          i.spec.template.spec.containers[0].readinessProbe.httpGet.port = "web";
      }),
    ).toContainEqual(
      expect.stringMatching(
        /the readinessProbe of container .* names port "web", which the container does not declare/,
      ),
    );
  });

  it("a Service that selects nothing, or sends to a port nobody serves", async () => {
    const found = await edit((i, name) => {
      if (name === "data-valkey-service") i.spec.selector = { "app.kubernetes.io/name": "nobody" };
      if (name === "data-rabbitmq-service") i.spec.ports[0].targetPort = "amqp";
    });
    expect(found).toContain("Service data/valkey selects no pod");
    expect(found).toContain(
      'Service data/rabbitmq sends port 5672 to "amqp", which data/rabbitmq does not serve',
    );
  });

  it("a tunnel route to a Service the stack does not have", async () => {
    expect(
      await edit((i, name) => {
        if (name === "edge-tunnel-routes")
          i.config.ingresses.find(
            (x: { hostname: string }) => x.hostname === "embed.homebrew.example",
          ).service = "http://ghost.models.svc.cluster.local:8000";
      }),
    ).toContain(
      "the tunnel sends embed.homebrew.example to http://ghost.models.svc.cluster.local:8000, a Service the stack does not have",
    );
  });
});
