import { readFileSync } from "node:fs";
import { EXEMPTION_PREFIX } from "../../policies/lib/exemptions";
import * as path from "node:path";
import * as YAML from "yaml";
import { describe, expect, it } from "vitest";
import {
  KUBELET_SERVING_CERT_APPROVER,
  approverObjectKey,
  approverObjects,
} from "../../components/kubernetes/approver";
import { apiServerEndpoints } from "../../components/kubernetes/platform";
import { PROVIDER_CONSTRUCTED_COMPONENTS } from "../../policies/rules/addons";
import { REPO_ROOT } from "../helpers/cli";
import { validateK8s } from "../helpers/k8s";
import { SHIPPED_STACKS, planOf } from "../helpers/plans";

const UPSTREAM = path.join(
  REPO_ROOT,
  "test/fixtures/upstream/kubelet-serving-cert-approver-v0.11.0-standalone-install.yaml",
);

describe("the kubelet serving-certificate approver", () => {
  it("declares exactly the objects of the upstream release, in its order", () => {
    const upstream = YAML.parseAllDocuments(readFileSync(UPSTREAM, "utf8")).map((d) => d.toJS());
    // Ours add only exemption annotations (policies/lib/exemptions.ts), the Deployment's one.
    const added: string[] = [];
    const ours = approverObjects().map((o) => {
      const { annotations, ...metadata } = o.metadata as { annotations?: Record<string, string> };
      if (annotations === undefined) return o;
      for (const key of Object.keys(annotations)) {
        expect(key.startsWith(EXEMPTION_PREFIX), key).toBe(true);
        added.push(`${o.kind} ${key}`);
      }
      return { ...o, metadata };
    });
    expect(ours).toEqual(upstream);
    expect(added).toEqual([`Deployment ${EXEMPTION_PREFIX}image-digest-preferred`]);
    expect(KUBELET_SERVING_CERT_APPROVER.image).toBe(
      upstream.find((o) => o.kind === "Deployment").spec.template.spec.containers[0].image,
    );
  });

  it("gives every object a distinct resource key without colons", () => {
    const keys = approverObjects().map(approverObjectKey);
    expect(keys).toEqual([
      "namespace-kubelet-serving-cert-approver",
      "serviceaccount-kubelet-serving-cert-approver",
      "clusterrole-certificates-kubelet-serving-cert-approver",
      "clusterrole-events-kubelet-serving-cert-approver",
      "rolebinding-default-events-kubelet-serving-cert-approver",
      "clusterrolebinding-kubelet-serving-cert-approver",
      "service-kubelet-serving-cert-approver",
      "deployment-kubelet-serving-cert-approver",
    ]);
  });

  it("reaches the API server at the kubernetes Service and the control planes' own addresses", () => {
    expect(
      apiServerEndpoints({
        controlPlane: { nodes: [{ ip: "10.0.0.12" }, { ip: "10.0.0.11" }] },
      } as never),
    ).toEqual({ serviceIp: "10.96.0.1", controlPlaneIps: ["10.0.0.12", "10.0.0.11"], port: 6443 });
  });
});

describe.each(SHIPPED_STACKS)(
  "stack %s: nothing needs a reachable cluster during preview",
  (stack) => {
    it("registers no component the Kubernetes provider constructs, and the pack agrees", async () => {
      const plan = await planOf(stack);
      const constructed = plan.resources.filter((r) =>
        (PROVIDER_CONSTRUCTED_COMPONENTS as readonly string[]).includes(r.type),
      );
      expect(constructed.map((r) => r.urn)).toEqual([]);
      expect(
        plan.policies.filter((p) => p.policy === "k8s-no-provider-constructed-components"),
      ).toEqual([]);
    });

    it("gives the approver's namespace a default-deny policy, and egress to DNS and the API server only", async () => {
      const plan = await planOf(stack);
      const ns = KUBELET_SERVING_CERT_APPROVER.namespace;
      const mine = plan.resources.filter(
        (r) => r.parent !== "" && r.parent.endsWith("::platform-kubelet-serving-cert-approver"),
      );
      expect(mine.length).toBe(11);
      const policies = mine
        .filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy")
        .map((r) => r.inputs as { metadata: { name: string; namespace: string }; spec: unknown });
      expect(policies.map((p) => [p.metadata.namespace, p.metadata.name])).toEqual([
        [ns, "allow-apiserver-egress"],
        [ns, "allow-dns"],
        [ns, "default-deny"],
      ]);
      const controlPlaneIps = plan.resources
        .filter((r) => r.type === "proxmoxve:index/vmLegacy:VmLegacy")
        .filter((r) => (r.inputs["tags"] as string[]).includes("controlplane")).length;
      const egress = (policies[0]!.spec as { egress: { to: unknown[]; ports: unknown[] }[] })
        .egress;
      expect(egress[0]).toEqual({
        to: [{ ipBlock: { cidr: "10.96.0.1/32" } }],
        ports: [{ protocol: "TCP", port: 443 }],
      });
      expect(egress[1]!.to).toHaveLength(controlPlaneIps);
      expect(egress[1]!.ports).toEqual([{ protocol: "TCP", port: 6443 }]);
      for (const r of mine.filter((r) => r.type.startsWith("kubernetes:"))) {
        expect(await validateK8s(r.type, r.inputs)).toBeUndefined();
      }
      // The pack passes every object of the approver; its image runs by tag, as its exemption says.
      const urns = new Set(mine.map((r) => r.urn));
      expect(plan.policies.filter((p) => urns.has(p.urn))).toEqual([]);
      expect(plan.exemptions.filter((e) => urns.has(e.urn)).map((e) => e.policy)).toEqual([
        "image-digest-preferred",
      ]);
      // metrics-server starts once the approver runs: until then no kubelet has a certificate it
      // can verify.
      const metrics = plan.resources.find((r) => r.name === "platform-metrics-server");
      const deployment = mine.find((r) => r.type === "kubernetes:apps/v1:Deployment");
      expect(metrics?.dependsOn).toEqual([deployment!.urn]);
    });
  },
);
