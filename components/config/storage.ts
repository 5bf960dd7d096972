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

/**
 * The stack's storage with its defaults: the Proxmox CSI plugin where there is more than one
 * Proxmox host (a node-local directory would pin a claim to one VM, and a VM moved to another host
 * would lose it), local-path on a single host; volumes on the datastore the hosts' VM disks use.
 */
export function resolveStorage(config: Pick<StackConfig, "proxmox" | "platform">): {
  storage: ResolvedStorage | undefined;
  problems: StorageProblem[];
} {
  const s = config.platform.storage;
  const provisioner: StorageProvisioner =
    s.provisioner ?? (config.proxmox.hosts.length > 1 ? "proxmox-csi" : "local-path");
  const problems: StorageProblem[] = [];
  let datastore: string | undefined;
  if (provisioner === "proxmox-csi") {
    const datastores = [...new Set(config.proxmox.hosts.map((h) => h.diskDatastore))].sort();
    datastore = s.datastore ?? (datastores.length === 1 ? datastores[0] : undefined);
    if (datastore === undefined) {
      problems.push({
        path: ["platform", "storage", "datastore"],
        message: `required with proxmox-csi when the hosts' disk datastores differ (${datastores.join(", ")}): one StorageClass names one Proxmox datastore`,
      });
    }
  } else if (s.datastore !== undefined) {
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
  if (problems.length > 0) return { storage: undefined, problems };
  return {
    storage: {
      provisioner,
      className: STORAGE_DRIVERS[provisioner].className,
      reclaimPolicy: s.reclaimPolicy,
      ...(datastore !== undefined ? { datastore } : {}),
      region: s.region,
    },
    problems,
  };
}
