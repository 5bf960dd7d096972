/**
 * Well-known labels: the Kubernetes recommended labels every object of ours carries, the node
 * labels RuntimeClasses and device plugins select by, and the Pod Security admission labels.
 */

/** `app.kubernetes.io/part-of` and `managed-by` of every object the program creates. */
export const PART_OF_LABELS = {
  "app.kubernetes.io/part-of": "homebrew-dev",
  "app.kubernetes.io/managed-by": "pulumi",
} as const;

/** Prefix of the node labels that say which sandboxed or GPU runtime a node offers. */
export const RUNTIME_LABEL_PREFIX = "homebrew-dev.io/runtime.";

/** The label the NVIDIA device plugin selects GPU nodes by (its chart's default node selector). */
export const NVIDIA_GPU_PRESENT_LABEL = "nvidia.com/gpu.present";

/** Pod Security admission labels of a namespace (kubernetes.io/docs/concepts/security/pod-security-admission). */
export const POD_SECURITY_LABEL = {
  enforce: "pod-security.kubernetes.io/enforce",
  enforceVersion: "pod-security.kubernetes.io/enforce-version",
  audit: "pod-security.kubernetes.io/audit",
  auditVersion: "pod-security.kubernetes.io/audit-version",
  warn: "pod-security.kubernetes.io/warn",
  warnVersion: "pod-security.kubernetes.io/warn-version",
} as const;

/** The label Kubernetes sets on every namespace with its own name (NetworkPolicy selectors). */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

/** The well-known topology labels of a node: its region and zone (kubernetes.io/docs/reference/labels-annotations-taints). */
export const TOPOLOGY_REGION_LABEL = "topology.kubernetes.io/region";
export const TOPOLOGY_ZONE_LABEL = "topology.kubernetes.io/zone";

/** Pods that export Prometheus metrics where the model PodMonitor scrapes them (`/metrics`). */
export const METRICS_LABEL = "homebrew-dev.io/metrics";

/** A model route's measured cold start in seconds (`models[].coldStartSeconds`), for the plan. */
export const COLD_START_ANNOTATION = "homebrew-dev.io/cold-start-seconds";
