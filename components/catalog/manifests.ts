/**
 * Upstream releases whose manifests the program declares as its own objects (never read from a
 * URL at deploy time: that needs a reachable cluster during preview). Each version has a
 * `renovate:` comment; an update means rendering the objects from the new release and updating
 * the copy the tests compare them with (test/fixtures/upstream/).
 */
export interface ManifestPin {
  readonly repository: string;
  /** The release manifest's path in the repository. */
  readonly path: string;
  readonly version: string;
}

/** Where a pinned manifest can be read, at its tag. */
export const manifestUrl = (pin: ManifestPin): string =>
  `https://github.com/${pin.repository}/blob/${pin.version}/${pin.path}`;

export const MANIFESTS = {
  kubeletServingCertApprover: {
    repository: "alex1989hu/kubelet-serving-cert-approver",
    path: "deploy/standalone-install.yaml",
    // renovate: datasource=github-releases depName=alex1989hu/kubelet-serving-cert-approver
    version: "v0.11.0",
  },
} as const satisfies Record<string, ManifestPin>;
