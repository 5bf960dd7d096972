import { byTagReason } from "../catalog/images";
import { PART_OF_LABELS } from "../catalog/labels";
import { exemptionAnnotations } from "../../policies/lib/exemptions";
/**
 * Secure pod defaults that pass Pod Security "restricted": non-root, read-only root filesystem,
 * no privilege escalation, every capability dropped, the runtime's default seccomp profile, and
 * no service-account token unless the workload needs the API. Each default can be overridden.
 */

export interface PodSecurityOverrides {
  /**
   * UID the containers run as.
   * @default 65532 (the conventional "nonroot" user of distroless images)
   */
  readonly runAsUser?: number;
  /** @default 65532 */
  readonly runAsGroup?: number;
  /**
   * Group owning mounted volumes.
   * @default 65532
   */
  readonly fsGroup?: number;
  /**
   * Mount the root filesystem read-only; writable paths come from emptyDir volumes.
   * @default true
   */
  readonly readOnlyRootFilesystem?: boolean;
  /**
   * Mount a service-account token (only for workloads that call the Kubernetes API).
   * @default false
   */
  readonly automountServiceAccountToken?: boolean;
}

export function podSecurityContext(o: PodSecurityOverrides = {}) {
  return {
    runAsNonRoot: true,
    runAsUser: o.runAsUser ?? 65532,
    runAsGroup: o.runAsGroup ?? 65532,
    fsGroup: o.fsGroup ?? 65532,
    seccompProfile: { type: "RuntimeDefault" as const },
  };
}

export function containerSecurityContext(o: PodSecurityOverrides = {}) {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: o.readOnlyRootFilesystem ?? true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" as const },
  };
}

/** The pod-level fields of a secure pod spec (merge the containers in). */
export function securePodFields(o: PodSecurityOverrides = {}) {
  return {
    automountServiceAccountToken: o.automountServiceAccountToken ?? false,
    securityContext: podSecurityContext(o),
  };
}

/** The recommended labels of an app, and the subset used as its selector. */
export function appLabels(args: {
  readonly name: string;
  readonly instance: string;
  readonly component: string;
}): { labels: Record<string, string>; selector: Record<string, string> } {
  const selector = {
    "app.kubernetes.io/name": args.name,
    "app.kubernetes.io/instance": args.instance,
  };
  return {
    selector,
    labels: {
      ...selector,
      "app.kubernetes.io/component": args.component,
      ...PART_OF_LABELS,
    },
  };
}

/**
 * The exemption annotations of a workload (policies/lib/exemptions.ts): from
 * `image-digest-preferred` for the catalog images it runs by tag, with the catalog's reason, and
 * from `k8s-read-only-root-filesystem` when a container needs a writable root, with the reason
 * given. An empty object when the workload meets both rules.
 */
export function workloadExemptions(args: {
  readonly images: readonly string[];
  readonly writableRoot?: string | undefined;
}): Record<string, string> {
  return exemptionAnnotations({
    "image-digest-preferred": byTagReason(args.images),
    "k8s-read-only-root-filesystem": args.writableRoot,
  });
}

/** `{ annotations }` of a workload's exemptions, or nothing when it has none (for metadata). */
export function exemptionMetadata(args: Parameters<typeof workloadExemptions>[0]): {
  annotations?: Record<string, string>;
} {
  const annotations = workloadExemptions(args);
  return Object.keys(annotations).length > 0 ? { annotations } : {};
}
