import { STORAGE_DRIVERS, type StorageProvisioner } from "../catalog/storage";
import type { StackConfig } from "./schema";

/** The stack's storage, every default resolved. */
export interface ResolvedStorage {
  readonly provisioner: StorageProvisioner;
  /** The default StorageClass every claim of the platform names. */
  readonly className: string;
  readonly reclaimPolicy: "Delete" | "Retain";
  /** The Proxmox Datastore volumes are created on (proxmox-csi). */
  readonly datastore?: string;
  /** The Proxmox cluster's name in the CSI plugin's configuration and the nodes' labels. */
  readonly region: string;
}

/** The problems of a stack's storage section, each at its key path. */
export interface StorageProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** The provisioner and datastore a storage section comes to, before any check. */
function chosen(config: Pick<StackConfig, "proxmox" | "platform">) {
  const s = config.platform.storage;
  const provisioner: StorageProvisioner =
    s.provisioner ?? (config.proxmox.hosts.length > 1 ? "proxmox-csi" : "local-path");
  const datastores = [...new Set(config.proxmox.hosts.map((h) => h.diskDatastore))].sort();
  const datastore =
    provisioner === "proxmox-csi"
      ? (s.datastore ?? (datastores.length === 1 ? datastores[0] : undefined))
      : undefined;
  return { provisioner, datastores, datastore };
}

/** The problems of a stack's storage section (a cross-field rule of the stack file). */
export function storageProblems(
  config: Pick<StackConfig, "proxmox" | "platform">,
): StorageProblem[] {
  const { provisioner, datastores, datastore } = chosen(config);
  const problems: StorageProblem[] = [];
  if (provisioner === "proxmox-csi" && datastore === undefined) {
    problems.push({
      path: ["platform", "storage", "datastore"],
      message: `required with proxmox-csi when the hosts' disk datastores differ (${datastores.join(", ")}): one StorageClass names one Proxmox datastore`,
    });
  }
  if (provisioner === "local-path" && config.platform.storage.datastore !== undefined) {
    problems.push({
      path: ["platform", "storage", "datastore"],
      message: "has no effect with local-path: volumes are directories of the node",
    });
  }
  // Volume-snapshot backups need a driver with dependable snapshots: local-path has none, and the
  // Proxmox CSI plugin's (v0.19.1, docs/volumesnapshot.md) are experimental full copies that need
  // root@pam's password instead of a token and are refused on shared storage.
  if (config.platform.postgres.backupVolumeSnapshotClass !== undefined) {
    problems.push({
      path: ["platform", "postgres", "backupVolumeSnapshotClass"],
      message: `${provisioner} volumes cannot be snapshotted dependably (local-path has no snapshots; the Proxmox CSI plugin's are experimental full copies that need root@pam's password): volume-snapshot backups would never complete`,
    });
  }
  return problems;
}

/**
 * The stack's storage with its defaults: the Proxmox CSI plugin where there is more than one
 * Proxmox host (a node-local directory would pin a claim to one VM, and a VM moved to another host
 * would lose it), local-path on a single host; volumes on the datastore the hosts' VM disks use.
 * The stack is validated first (`storageProblems`).
 */
export function resolveStorage(config: Pick<StackConfig, "proxmox" | "platform">): ResolvedStorage {
  const { provisioner, datastore } = chosen(config);
  const s = config.platform.storage;
  if (provisioner === "proxmox-csi" && datastore === undefined) {
    throw new Error("resolveStorage: the stack's storage was not validated (no datastore)");
  }
  return {
    provisioner,
    className: STORAGE_DRIVERS[provisioner].className,
    reclaimPolicy: s.reclaimPolicy,
    ...(datastore !== undefined ? { datastore } : {}),
    region: s.region,
  };
}
