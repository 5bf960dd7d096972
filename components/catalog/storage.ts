import { CHARTS, type ChartPin } from "./charts";

/** What a volume provisioner the platform installs offers, read from its source at its pin. */
export interface StorageDriver {
  /** The `provisioner` of its StorageClasses (the CSI driver name, or the provisioner's own). */
  readonly provisioner: string;
  /** The StorageClass the platform creates for it. */
  readonly className: string;
  /** The chart that runs it. */
  readonly chart: ChartPin;
  /** The access modes its volumes support. */
  readonly accessModes: readonly string[];
  /**
   * Whether a volume lives on one node or host, so that the claim must wait for its pod to be
   * scheduled before it is provisioned (`volumeBindingMode: WaitForFirstConsumer`).
   */
  readonly topologyBound: boolean;
}

export const STORAGE_DRIVERS = {
  // proxmox-csi-plugin v0.19.1: the driver name is fixed (charts/proxmox-csi-plugin/values.yaml
  // `provisionerName`); pkg/csi/node.go offers only single-node access modes (a disk is attached
  // to one VM); a disk is on one Proxmox host, named by the node's topology.kubernetes.io/zone.
  "proxmox-csi": {
    provisioner: "csi.proxmox.sinextra.dev",
    className: "proxmox",
    chart: CHARTS.proxmoxCsi,
    accessModes: ["ReadWriteOnce", "ReadWriteOncePod"],
    topologyBound: true,
  },
  // local-path-provisioner v0.0.37: the chart names its provisioner after the release unless
  // storageClass.provisionerName is set (templates/_helpers.tpl); a node path volume supports
  // only ReadWriteOnce and ReadWriteOncePod (provisioner.go).
  "local-path": {
    provisioner: "rancher.io/local-path",
    className: "local-path",
    chart: CHARTS.localPath,
    accessModes: ["ReadWriteOnce", "ReadWriteOncePod"],
    topologyBound: true,
  },
} as const satisfies Record<string, StorageDriver>;

export type StorageProvisioner = keyof typeof STORAGE_DRIVERS;

/**
 * The Proxmox privileges the CSI plugin's token needs (proxmox-csi-plugin docs/install.md at
 * v0.19.1: the role it creates with `pveum role add CSI`).
 */
export const PROXMOX_CSI_PRIVILEGES = [
  "Datastore.Allocate",
  "Datastore.AllocateSpace",
  "Datastore.Audit",
  "VM.Audit",
  "VM.Config.Disk",
] as const;

/**
 * Where a local-path volume lives on a Talos node: a `UserVolumeConfig` of type directory named
 * after the provisioner is mounted at /var/mnt/<name> and propagated into the kubelet
 * (Talos user volumes, v1.12 and later), so no kubelet extra mount is needed.
 */
export const LOCAL_PATH_VOLUME = "local-path-provisioner";
export const LOCAL_PATH_DIR = `/var/mnt/${LOCAL_PATH_VOLUME}`;

/** The annotation that makes a StorageClass the default for claims that name none. */
export const DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class";

/** What a node's machine config carries for the cluster's volume provisioner. */
export type NodeStorage =
  | { readonly provisioner: "proxmox-csi"; readonly region: string }
  | { readonly provisioner: "local-path" };
