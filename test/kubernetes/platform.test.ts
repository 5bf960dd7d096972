import * as YAML from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import {
  networkPolicies,
  namespaceManifest,
  NON_PUBLIC_RANGES,
} from "../../components/kubernetes/baseline";
import { hasStackTrace, runPlanCli } from "../helpers/cli";
import { planEditedStack } from "../helpers/stacks";
import { baselineViolations, isBuiltIn, podSpecOf, validateK8s } from "../helpers/k8s";

interface Resource {
  urn: string;
  type: string;
  name: string;
  dependsOn: string[];
  inputs: Record<string, any>;
}

const opts = { ingressNamespace: "ingress", monitoringNamespace: "observability" };

describe("zero-trust baseline of a tier", () => {
  it("labels the namespace with the tier's Pod Security level, restricted for audit and warn", () => {
    expect(
      namespaceManifest({ name: "models", podSecurity: "baseline" }).metadata.labels,
    ).toMatchObject({
      "pod-security.kubernetes.io/enforce": "baseline",
      "pod-security.kubernetes.io/audit": "restricted",
      "pod-security.kubernetes.io/warn": "restricted",
    });
  });

  it("denies everything, then allows DNS, the namespace itself and Prometheus", () => {
    const names = networkPolicies({ name: "apps", podSecurity: "restricted" }, opts).map(
      (p) => p.metadata.name,
    );
    expect(names).toEqual([
      "default-deny",
      "allow-dns",
      "allow-same-namespace",
      "allow-prometheus-scrape",
    ]);
    const deny = networkPolicies({ name: "apps", podSecurity: "restricted" }, opts)[0]!;
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
  });

  it("adds what a tier declares: from the ingress, to the internet (public only), to the cluster", () => {
    const policies = networkPolicies(
      {
        name: "ingress",
        podSecurity: "restricted",
        internetEgress: true,
        clusterEgress: true,
        fromIngress: true,
      },
      opts,
    );
    expect(policies.map((p) => p.metadata.name)).toEqual([
      "default-deny",
      "allow-dns",
      "allow-same-namespace",
      "allow-prometheus-scrape",
      "allow-internet-egress",
      "allow-cluster-egress",
    ]);
    const internet = policies.find((p) => p.metadata.name === "allow-internet-egress")!;
    expect(internet.spec.egress).toEqual([
      {
        to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [...NON_PUBLIC_RANGES] } }],
        ports: [{ protocol: "TCP", port: 443 }],
      },
    ]);
    const fromIngress = networkPolicies(
      { name: "apps", podSecurity: "restricted", fromIngress: true },
      opts,
    );
    expect(fromIngress.find((p) => p.metadata.name === "allow-from-ingress")?.spec.ingress).toEqual(
      [
        {
          from: [
            { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress" } } },
          ],
        },
      ],
    );
  });
});

describe("the Kubernetes platform in the prod plan", () => {
  let resources: Resource[];
  beforeAll(async () => {
    // With --show-secrets so Secret objects carry their (placeholder) data for schema checks.
    const res = await runPlanCli(["prod", "--json", "--show-secrets"]);
    expect(res.code).toBe(0);
    resources = JSON.parse(res.stdout).resources;
  });
  const k8s = () => resources.filter((r) => isBuiltIn(r.type));

  it("plans a RuntimeClass per declared runtime", () => {
    const classes = resources.filter((r) => r.type === "kubernetes:node.k8s.io/v1:RuntimeClass");
    expect(classes.map((c) => [c.inputs["metadata"].name, c.inputs["handler"]]).sort()).toEqual([
      ["gvisor", "runsc"],
      ["kata", "kata"],
      ["nvidia", "nvidia"],
    ]);
  });

  it("gives every namespace it creates Pod Security labels and a default-deny policy", () => {
    const namespaces = resources.filter((r) => r.type === "kubernetes:core/v1:Namespace");
    expect(namespaces.map((n) => n.inputs["metadata"].name).sort()).toEqual([
      "apps",
      "data",
      "ingress",
      "kubelet-serving-cert-approver",
      "models",
      "observability",
    ]);
    const policies = resources.filter(
      (r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    );
    for (const ns of namespaces) {
      const name = ns.inputs["metadata"].name;
      expect(["baseline", "restricted"]).toContain(
        ns.inputs["metadata"].labels["pod-security.kubernetes.io/enforce"],
      );
      const deny = policies.find(
        (p) =>
          p.inputs["metadata"].namespace === name && p.inputs["metadata"].name === "default-deny",
      );
      expect(deny?.inputs["spec"]).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    }
  });

  it("installs the NVIDIA device plugin, pinned, only on GPU nodes", () => {
    const plugin = resources.find(
      (r) =>
        r.type === "kubernetes:helm.sh/v3:Release" && r.inputs["chart"] === "nvidia-device-plugin",
    );
    expect(plugin?.inputs).toMatchObject({
      chart: "nvidia-device-plugin",
      version: "0.17.1",
      namespace: "kube-system",
      values: { runtimeClassName: "nvidia", nodeSelector: { "nvidia.com/gpu.present": "true" } },
    });
  });

  it("every Kubernetes object validates against the Kubernetes schema", async () => {
    expect(k8s().length).toBeGreaterThan(30);
    for (const r of k8s()) {
      expect(await validateK8s(r.type, r.inputs), r.urn).toBeUndefined();
    }
  });

  /** `namespace/name` of every service account a RoleBinding or ClusterRoleBinding names. */
  const boundAccounts = () =>
    new Set(
      resources
        .filter((r) =>
          /^kubernetes:rbac.authorization.k8s.io\/v1:(Cluster)?RoleBinding$/.test(r.type),
        )
        .flatMap(
          (r) =>
            (r.inputs["subjects"] ?? []) as { kind: string; name: string; namespace: string }[],
        )
        .filter((s) => s.kind === "ServiceAccount")
        .map((s) => `${s.namespace}/${s.name}`),
    );

  it("every pod spec outside kube-system passes Pod Security baseline, and restricted where enforced", () => {
    const workloads = k8s().filter((r) => podSpecOf(r.inputs["kind"], r.inputs) !== undefined);
    expect(workloads.length).toBeGreaterThan(0);
    for (const w of workloads) {
      expect(w.inputs["metadata"].namespace).not.toBe("kube-system");
      const spec = podSpecOf(w.inputs["kind"], w.inputs)!;
      expect(baselineViolations(spec), w.urn).toEqual([]);
      // The API token only where the pod's service account is granted something to call.
      const account = `${w.inputs["metadata"].namespace}/${spec.serviceAccountName ?? "default"}`;
      if (boundAccounts().has(account)) {
        expect(spec.automountServiceAccountToken, w.urn).not.toBe(false);
      } else {
        expect(spec.automountServiceAccountToken, w.urn).toBe(false);
      }
      expect(spec.securityContext).toMatchObject({ seccompProfile: { type: "RuntimeDefault" } });
      const restricted = ["ingress", "apps", "kubelet-serving-cert-approver"].includes(
        w.inputs["metadata"].namespace,
      );
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"] },
          ...(restricted ? { readOnlyRootFilesystem: true } : {}),
        });
        // Non-root, for the pod or for each of its containers.
        expect(spec.securityContext.runAsNonRoot ?? c.securityContext.runAsNonRoot, w.urn).toBe(
          true,
        );
        // Pinned: a tag that is not `latest`, or a digest.
        expect(c.image).toMatch(/^[^@]+:(?!latest$)[^:/]+$|@sha256:[0-9a-f]{64}$/);
      }
    }
  });

  it("routes the one way in through a Cloudflare Tunnel with a catch-all", () => {
    const routes = resources.find(
      (r) =>
        r.type ===
        "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig",
    );
    const ingresses = routes?.inputs["config"].ingresses;
    expect(ingresses.at(-1)).toEqual({ service: "http_status:404" });
  });
});

describe("a workload asking for a runtime no pool offers", () => {
  it("fails the plan with a message naming it", async () => {
    const res = await planEditedStack("dev", (doc) =>
      doc.setIn(["config", "homebrew-dev:models", 0, "runtime"], "kata"),
    );
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      "error: invalid stack configuration (1 problem):\n" +
        '  - homebrew-dev:models[0].runtime: model "qwen-small" asks for the kata runtime, but no worker pool offers it (offered: gvisor)\n',
    );
    expect(hasStackTrace(res.stderr)).toBe(false);
  });
});

describe("metrics-server and kubelet serving certificates", () => {
  const machineConfigs = (resources: Resource[]) =>
    resources
      .filter((r) => r.type === "proxmoxve:index/fileLegacy:FileLegacy")
      .map((r) => YAML.parseAllDocuments(r.inputs["sourceRaw"].data).map((d) => d.toJS()));

  it("prod installs pinned metrics-server after the approver, and kubelets rotate serving certs", async () => {
    const res = await runPlanCli(["prod", "--json", "--show-secrets"]);
    expect(res.code).toBe(0);
    const resources: Resource[] = JSON.parse(res.stdout).resources;
    const approver = resources.filter(
      (r) =>
        r.type === "kubernetes:apps/v1:Deployment" &&
        r.inputs["metadata"].namespace === "kubelet-serving-cert-approver",
    );
    expect(approver).toHaveLength(1);
    expect(approver[0]!.inputs["spec"].template.spec.containers[0].image).toBe(
      "ghcr.io/alex1989hu/kubelet-serving-cert-approver:0.11.0",
    );
    const release = resources.find((r) => r.name === "platform-metrics-server");
    expect(release?.type).toBe("kubernetes:helm.sh/v3:Release");
    expect(release?.inputs).toMatchObject({
      chart: "metrics-server",
      version: "3.13.0",
      namespace: "kube-system",
      repositoryOpts: { repo: "https://kubernetes-sigs.github.io/metrics-server/" },
    });
    expect(release?.dependsOn).toEqual([approver[0]!.urn]);
    // The kubelets' certificates are verified, never skipped.
    expect(JSON.stringify(release?.inputs)).not.toContain("insecure");

    const configs = machineConfigs(resources);
    expect(configs).toHaveLength(resources.filter((r) => r.type.endsWith("VmLegacy")).length);
    for (const docs of configs) {
      // Contract 1.14: the kubelet's flags are in its own document.
      expect(docs.find((d: { kind?: string }) => d.kind === "KubeletConfig").extraArgs).toEqual({
        "rotate-server-certificates": "true",
      });
    }
  });

  it("switched off, neither metrics-server, the approver nor the kubelet flag is planned", async () => {
    const res = await planEditedStack(
      "dev",
      (doc) => doc.setIn(["config", "homebrew-dev:platform", "metricsServer"], { enabled: false }),
      ["--json", "--show-secrets"],
    );
    expect(res.code).toBe(0);
    const resources: Resource[] = JSON.parse(res.stdout).resources;
    expect(resources.filter((r) => /metrics-server|approver/.test(r.name))).toEqual([]);
    for (const docs of machineConfigs(resources)) {
      const kubelet = docs.find((d: { kind?: string }) => d.kind === "KubeletConfig");
      expect(kubelet.image).toMatch(/^ghcr\.io\/siderolabs\/kubelet:v1\./);
      expect(kubelet.extraArgs).toBeUndefined();
    }
  });
});
