import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { apiServerEgressPolicy, dnsEgressPolicy, type ApiServerEndpoints } from "./baseline";
import { exemptionMetadata } from "./podDefaults";
import { IMAGES, imageRef } from "../catalog/images";
import { MANIFESTS, manifestUrl } from "../catalog/manifests";

/**
 * The kubelet serving-certificate approver (alex1989hu/kubelet-serving-cert-approver), declared
 * as objects this program owns. Upstream publishes it as one manifest
 * (`deploy/standalone-install.yaml` at the release tag); installing that file through the
 * Kubernetes provider's `yaml/v2:ConfigFile` makes the provider read the cluster while the
 * program registers it, which fails the preview of a stack whose cluster does not exist yet
 * (pulumi/pulumi-kubernetes#3027). The objects below are that file's, field for field; a test
 * compares them with the released file.
 */
export const KUBELET_SERVING_CERT_APPROVER = {
  version: MANIFESTS.kubeletServingCertApprover.version,
  image: imageRef(IMAGES.kubeletServingCertApprover),
  namespace: "kubelet-serving-cert-approver",
  /** The released manifest the objects are rendered from (documentation and the test). */
  manifest: manifestUrl(MANIFESTS.kubeletServingCertApprover),
} as const;

const NAME = "kubelet-serving-cert-approver";
const labels = {
  "app.kubernetes.io/instance": NAME,
  "app.kubernetes.io/name": NAME,
};

/** One Kubernetes object of the approver, as plain data. */
export interface ApproverObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels: Record<string, string>;
  };
  readonly [field: string]: unknown;
}

/** The objects of the upstream release, in the order of its manifest. */
export function approverObjects(): ApproverObject[] {
  const ns = KUBELET_SERVING_CERT_APPROVER.namespace;
  const subject = { kind: "ServiceAccount", name: NAME, namespace: ns };
  return [
    {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        labels: {
          ...labels,
          "pod-security.kubernetes.io/audit": "restricted",
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/warn": "restricted",
        },
        name: ns,
      },
    },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { labels, name: NAME, namespace: ns } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { labels, name: `certificates:${NAME}` },
      rules: [
        {
          apiGroups: ["certificates.k8s.io"],
          resources: ["certificatesigningrequests"],
          verbs: ["get", "list", "watch"],
        },
        {
          apiGroups: ["certificates.k8s.io"],
          resources: ["certificatesigningrequests/approval"],
          verbs: ["update"],
        },
        {
          apiGroups: ["authorization.k8s.io"],
          resources: ["subjectaccessreviews"],
          verbs: ["create"],
        },
        {
          apiGroups: ["certificates.k8s.io"],
          resourceNames: ["kubernetes.io/kubelet-serving"],
          resources: ["signers"],
          verbs: ["approve"],
        },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { labels, name: `events:${NAME}` },
      rules: [{ apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { labels, name: `events:${NAME}`, namespace: "default" },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: `events:${NAME}`,
      },
      subjects: [subject],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { labels, name: NAME },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: `certificates:${NAME}`,
      },
      subjects: [subject],
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { labels, name: NAME, namespace: ns },
      spec: {
        ports: [{ name: "metrics", port: 9090, protocol: "TCP", targetPort: "metrics" }],
        selector: labels,
      },
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {
        labels,
        name: NAME,
        namespace: ns,
        ...exemptionMetadata({ images: [KUBELET_SERVING_CERT_APPROVER.image] }),
      },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            affinity: {
              nodeAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  {
                    preference: {
                      matchExpressions: [
                        { key: "node-role.kubernetes.io/control-plane", operator: "DoesNotExist" },
                      ],
                    },
                    weight: 100,
                  },
                ],
              },
            },
            containers: [
              {
                args: ["serve"],
                env: [
                  {
                    name: "NAMESPACE",
                    valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } },
                  },
                ],
                image: KUBELET_SERVING_CERT_APPROVER.image,
                imagePullPolicy: "Always",
                livenessProbe: {
                  httpGet: { path: "/healthz", port: "health" },
                  initialDelaySeconds: 6,
                },
                name: "cert-approver",
                ports: [
                  { containerPort: 8080, name: "health" },
                  { containerPort: 9090, name: "metrics" },
                ],
                readinessProbe: {
                  httpGet: { path: "/readyz", port: "health" },
                  initialDelaySeconds: 3,
                },
                resources: {
                  limits: { cpu: "250m", memory: "32Mi" },
                  requests: { cpu: "10m", memory: "16Mi" },
                },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  capabilities: { drop: ["ALL"] },
                  privileged: false,
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: true,
                },
              },
            ],
            priorityClassName: "system-cluster-critical",
            securityContext: {
              fsGroup: 65534,
              runAsGroup: 65534,
              runAsUser: 65534,
              seccompProfile: { type: "RuntimeDefault" },
            },
            serviceAccountName: NAME,
            tolerations: [
              {
                effect: "NoSchedule",
                key: "node.cloudprovider.kubernetes.io/uninitialized",
                operator: "Exists",
              },
              { effect: "NoSchedule", key: "node-role.kubernetes.io/master", operator: "Exists" },
              {
                effect: "NoSchedule",
                key: "node-role.kubernetes.io/control-plane",
                operator: "Exists",
              },
            ],
          },
        },
      },
    },
  ];
}

/**
 * The Pulumi resource key of an object: kind and name, plus the namespace when it is not the
 * approver's own (the events RoleBinding lives in `default`). Colons, which RBAC names use, are
 * kept out of resource names.
 */
export function approverObjectKey(o: ApproverObject): string {
  const ns =
    o.metadata.namespace !== undefined &&
    o.metadata.namespace !== KUBELET_SERVING_CERT_APPROVER.namespace
      ? `${o.metadata.namespace}-`
      : "";
  return `${o.kind.toLowerCase()}-${ns}${o.metadata.name.replace(/:/g, "-")}`;
}

export interface KubeletServingCertApproverArgs {
  /** Where the Kubernetes API server listens: the approver's only egress. */
  readonly apiServer: ApiServerEndpoints;
}

/**
 * The approver with the zero-trust baseline of every namespace of ours: the upstream objects,
 * then a default-deny NetworkPolicy for its namespace and one egress allowance to the Kubernetes
 * API server (it watches and approves CSRs; nothing calls into it but the kubelet's probes, which
 * NetworkPolicies do not filter).
 */
export class KubeletServingCertApprover extends pulumi.ComponentResource {
  /** The approver's Deployment: what depends on approved serving certificates waits for it. */
  public readonly deployment: k8s.apps.v1.Deployment;

  constructor(
    name: string,
    args: KubeletServingCertApproverArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("homebrew-dev:kubernetes:KubeletServingCertApprover", name, {}, opts);
    const objects = approverObjects();
    const ns = KUBELET_SERVING_CERT_APPROVER.namespace;
    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace-${ns}`,
      objects[0] as unknown as k8s.core.v1.NamespaceArgs,
      { parent: this },
    );
    const inNamespace = { parent: this, dependsOn: [namespace] };
    const denyAll = new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol-default-deny`,
      {
        metadata: { name: "default-deny", namespace: ns, labels },
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
      },
      inNamespace,
    );
    const dns = dnsEgressPolicy(ns);
    new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol-${dns.metadata.name}`,
      { ...dns, metadata: { ...dns.metadata, labels } },
      inNamespace,
    );
    const apiEgress = apiServerEgressPolicy(ns, args.apiServer);
    const allowApi = new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol-${apiEgress.metadata.name}`,
      { ...apiEgress, metadata: { ...apiEgress.metadata, labels } },
      inNamespace,
    );
    let deployment: k8s.apps.v1.Deployment | undefined;
    for (const o of objects.slice(1)) {
      const key = `${name}-${approverObjectKey(o)}`;
      switch (o.kind) {
        case "ServiceAccount":
          new k8s.core.v1.ServiceAccount(
            key,
            o as unknown as k8s.core.v1.ServiceAccountArgs,
            inNamespace,
          );
          break;
        case "ClusterRole":
          new k8s.rbac.v1.ClusterRole(key, o as unknown as k8s.rbac.v1.ClusterRoleArgs, {
            parent: this,
          });
          break;
        case "RoleBinding":
          new k8s.rbac.v1.RoleBinding(key, o as unknown as k8s.rbac.v1.RoleBindingArgs, {
            parent: this,
          });
          break;
        case "ClusterRoleBinding":
          new k8s.rbac.v1.ClusterRoleBinding(
            key,
            o as unknown as k8s.rbac.v1.ClusterRoleBindingArgs,
            {
              parent: this,
            },
          );
          break;
        case "Service":
          new k8s.core.v1.Service(key, o as unknown as k8s.core.v1.ServiceArgs, inNamespace);
          break;
        case "Deployment":
          deployment = new k8s.apps.v1.Deployment(key, o as unknown as k8s.apps.v1.DeploymentArgs, {
            parent: this,
            // Started only once its traffic is allowed; otherwise it crash-loops until then.
            dependsOn: [namespace, denyAll, allowApi],
          });
          break;
        default:
          throw new Error(`the approver has no resource type for kind ${o.kind}`);
      }
    }
    if (deployment === undefined) throw new Error("the approver's objects have no Deployment");
    this.deployment = deployment;
    this.registerOutputs({});
  }
}
