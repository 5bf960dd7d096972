import type { ResourceValidationPolicy } from "@pulumi/policy";
import { resourcePolicy } from "./util";

/**
 * Cluster add-ons come from Helm charts and manifest files; like images, they are pinned, so that
 * the same program deploys the same software until someone changes a version on purpose.
 */

const HELM_TYPES = ["kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"];

/** An exact chart version: SemVer 2 with an optional leading `v`, no range operators. */
const EXACT_VERSION = /^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

export const helmChartPinned = resourcePolicy({
  name: "helm-chart-pinned",
  description: "Helm charts are installed at an exact chart version, never the newest or a range.",
  enforcementLevel: "mandatory",
  types: HELM_TYPES,
  check: (props, report) => {
    const chart = typeof props["chart"] === "string" ? props["chart"] : "(unnamed)";
    const version: unknown = props["version"];
    if (version === undefined || version === null || version === "") {
      report(`chart "${chart}" has no version: pin an exact chart version`);
    } else if (typeof version !== "string" || !EXACT_VERSION.test(version)) {
      report(
        `chart "${chart}" version ${JSON.stringify(version)} is not an exact version: pin one`,
      );
    }
  },
});

/** Path segments of a URL that name a moving reference rather than a release. */
const MOVING_REF = /\/(main|master|HEAD|latest)(?=\/|$)/;

/** The files a Pulumi YAML resource reads: `file` (ConfigFile) or `files` (ConfigGroup). */
function filesOf(props: Record<string, unknown>): string[] {
  const files = [props["file"], ...(Array.isArray(props["files"]) ? props["files"] : [])];
  return files.filter((f): f is string => typeof f === "string");
}

export const manifestUrlPinned = resourcePolicy({
  name: "manifest-url-pinned",
  description:
    "Manifests fetched from a URL name a release tag or commit, never a branch or `latest`.",
  enforcementLevel: "mandatory",
  types: [
    "kubernetes:yaml/v2:ConfigFile",
    "kubernetes:yaml/v2:ConfigGroup",
    "kubernetes:yaml:ConfigFile",
    "kubernetes:yaml:ConfigGroup",
  ],
  check: (props, report) => {
    for (const file of filesOf(props)) {
      if (!/^https?:\/\//i.test(file)) continue;
      const path = file.replace(/^https?:\/\/[^/]*/i, "").replace(/[?#].*$/, "");
      const moving = MOVING_REF.exec(path)?.[1];
      if (moving !== undefined) {
        report(`manifest ${file} follows the moving reference "${moving}": pin a release tag`);
      }
    }
  },
});

/**
 * Components the Kubernetes provider constructs itself (`Construct`): it renders and reads the
 * cluster while the program registers them, so they fail when the cluster cannot be reached, as
 * in the first preview of a stack whose cluster does not exist yet, and in the preview step of
 * its first `pulumi up` (pulumi/pulumi-kubernetes#3027). Custom resources whose provider
 * configuration is unknown preview fine.
 */
export const PROVIDER_CONSTRUCTED_COMPONENTS = [
  "kubernetes:yaml/v2:ConfigFile",
  "kubernetes:yaml/v2:ConfigGroup",
  "kubernetes:helm.sh/v4:Chart",
  "kubernetes:kustomize/v2:Directory",
] as const;

export const noProviderConstructedComponents = resourcePolicy({
  name: "k8s-no-provider-constructed-components",
  description:
    "Nothing needs a reachable cluster during preview: no component the Kubernetes provider constructs (yaml/v2, helm.sh/v4, kustomize/v2).",
  enforcementLevel: "mandatory",
  types: PROVIDER_CONSTRUCTED_COMPONENTS,
  check: (_props, report, args) => {
    report(
      `${args.type} is constructed by the Kubernetes provider, which must reach the cluster while the program runs: the preview of a new stack fails. Declare the objects as resources of the program or install a helm.sh/v3 Release`,
    );
  },
});

export const addonPolicies: ResourceValidationPolicy[] = [
  helmChartPinned,
  manifestUrlPinned,
  noProviderConstructedComponents,
];
