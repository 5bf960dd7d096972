/**
 * Talos releases and the Kubernetes versions each supports, read from siderolabs/talos:
 * pkg/machinery/compatibility/talosNNN/talosNNN.go (the range a Talos minor accepts: minimum
 * inclusive, maximum exclusive; `KubernetesVersion.SupportedWith` enforces it in machine-config
 * validation and in `talosctl upgrade-k8s`), `MinimumHostUpgradeVersion` (the oldest running
 * release the installer of that minor upgrades from, cmd/installer/pkg/install/preflight.go) and
 * pkg/machinery/constants/constants.go `DefaultKubernetesVersion` at each minor's newest tag.
 */

export interface TalosMinor {
  /** `1.13`. */
  readonly minor: string;
  /** The oldest and newest Kubernetes minor it runs, e.g. `1.31` and `1.36`. */
  readonly kubernetes: { readonly min: string; readonly max: string };
  /**
   * The Kubernetes release it ships as the default (`talosctl upgrade-k8s` without `--to`).
   * @default - not recorded (minors the project no longer deploys)
   */
  readonly defaultKubernetes?: string;
  /** The oldest Talos minor whose nodes its installer upgrades. */
  readonly upgradesFrom: string;
  /** Where the row was read. */
  readonly source: string;
}

/** Every Talos minor the project knows, oldest first. */
export const TALOS_MINORS: readonly TalosMinor[] = [
  {
    minor: "1.10",
    kubernetes: { min: "1.28", max: "1.33" },
    upgradesFrom: "1.8",
    source: "siderolabs/talos v1.13.9 pkg/machinery/compatibility/talos110/talos110.go",
  },
  {
    minor: "1.11",
    kubernetes: { min: "1.29", max: "1.34" },
    upgradesFrom: "1.9",
    source: "siderolabs/talos v1.13.9 pkg/machinery/compatibility/talos111/talos111.go",
  },
  {
    minor: "1.12",
    kubernetes: { min: "1.30", max: "1.35" },
    upgradesFrom: "1.10",
    source: "siderolabs/talos v1.13.9 pkg/machinery/compatibility/talos112/talos112.go",
  },
  {
    minor: "1.13",
    kubernetes: { min: "1.31", max: "1.36" },
    defaultKubernetes: "1.36.3",
    upgradesFrom: "1.11",
    source:
      "siderolabs/talos v1.13.9 pkg/machinery/compatibility/talos113/talos113.go, constants.go",
  },
  {
    minor: "1.14",
    kubernetes: { min: "1.32", max: "1.37" },
    // v1.14.0 shipped 1.37.0; the v1.14.7 release (2026-11-24) lists kubelet v1.37.1.
    defaultKubernetes: "1.37.1",
    upgradesFrom: "1.12",
    source:
      "siderolabs/talos v1.14.0-rc.1 pkg/machinery/compatibility/talos114/talos114.go; v1.14.7 release notes",
  },
];

/**
 * The machine-configuration contracts the renderer writes, by Talos minor
 * (pkg/machinery/config/contract.go: every 1.14 gate is `Greater(TalosVersion1_13)`):
 * - `1.13`: one v1alpha1 document carries the machine and cluster settings; networking is in
 *   documents of its own.
 * - `1.14`: the Kubernetes, discovery, sysctl and kernel-module settings move to documents of their
 *   own (KubeletConfig, KubeAPIServerConfig, SysctlConfig, ...); v1alpha1 keeps the machine
 *   identity, tokens, CAs and etcd.
 */
export const CONFIG_CONTRACTS = ["1.13", "1.14"] as const;
export type ConfigContract = (typeof CONFIG_CONTRACTS)[number];

/** The contract a Talos release reads its machine config by, or undefined for other minors. */
export function configContract(talosVersion: string): ConfigContract | undefined {
  const key = minorKey(talosVersion);
  return CONFIG_CONTRACTS.find((c) => c === key);
}

/** Major, minor and patch of `v1.13.9` (patch 0 when absent), or undefined. */
export const versionParts = (v: string): [number, number, number] | undefined => {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(v);
  return m === null ? undefined : [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
};
const minorKey = (v: string) => {
  const p = versionParts(v);
  return p === undefined ? undefined : `${p[0]}.${p[1]}`;
};
const cmpMinor = (a: string, b: string) => {
  const [x, y] = [versionParts(a)!, versionParts(b)!];
  return x[0] - y[0] || x[1] - y[1];
};

/** The table row of a Talos release (`v1.13.9`), if the project knows its minor. */
export function talosMinor(version: string): TalosMinor | undefined {
  const key = minorKey(version);
  return TALOS_MINORS.find((m) => m.minor === key);
}

/** Why a Kubernetes version cannot run on a Talos release, or undefined when it can. */
export function kubernetesSupportProblem(
  talosVersion: string,
  kubernetesVersion: string,
): string | undefined {
  const row = talosMinor(talosVersion);
  if (row === undefined || versionParts(kubernetesVersion) === undefined) return undefined;
  const k = minorKey(kubernetesVersion)!;
  if (cmpMinor(k, row.kubernetes.min) < 0 || cmpMinor(k, row.kubernetes.max) > 0) {
    return `Talos ${row.minor} runs Kubernetes ${row.kubernetes.min} to ${row.kubernetes.max}${row.defaultKubernetes !== undefined ? ` (its default is v${row.defaultKubernetes})` : ""}; got ${kubernetesVersion}`;
  }
  return undefined;
}

/**
 * Why a running cluster cannot move from one Talos release to another in one change, or
 * undefined. Stricter than the installer (which takes 1.12 to 1.14 in one step): one minor at a
 * time, so that each minor's own migrations run on the way.
 */
export function talosUpgradeProblem(from: string, to: string): string | undefined {
  const [a, b] = [versionParts(from), versionParts(to)];
  if (a === undefined || b === undefined) return undefined;
  if (a[0] !== b[0]) return `Talos ${from} → ${to}: a major version change is not supported`;
  const step = b[1] - a[1];
  if (step < 0) {
    return `Talos ${from} → ${to}: a downgrade of the minor version is not a supported day-2 change`;
  }
  if (step > 1) {
    const next = `v${a[0]}.${a[1] + 1}`;
    return `Talos ${from} → ${to} skips a minor: upgrade to the newest ${next}.x first, then to ${to}`;
  }
  const row = talosMinor(to);
  if (step === 1 && row !== undefined && cmpMinor(`${a[0]}.${a[1]}`, row.upgradesFrom) < 0) {
    return `Talos ${to}'s installer upgrades nodes from ${row.upgradesFrom} on; got ${from}`;
  }
  return undefined;
}
