import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import { releaseChart } from "../catalog/charts";
import { IMAGES } from "../catalog/images";
import {
  DEFAULT_CLASS_ANNOTATION,
  LOCAL_PATH_DIR,
  PROXMOX_CSI_PRIVILEGES,
  STORAGE_DRIVERS,
} from "../catalog/storage";
import type { ResolvedStorage } from "../config/storage";
import type { NodeStorage } from "../catalog/storage";

/** What each node's machine config carries for the storage. */
export function nodeStorage(storage: ResolvedStorage): NodeStorage {
  return storage.provisioner === "proxmox-csi"
    ? { provisioner: "proxmox-csi", region: storage.region }
    : { provisioner: "local-path" };
}

/** The StorageClass of the stack: the default, waiting for the pod before it provisions. */
export function storageClassSpec(storage: ResolvedStorage) {
  const driver = STORAGE_DRIVERS[storage.provisioner];
  return {
    metadata: {
      name: storage.className,
      annotations: { [DEFAULT_CLASS_ANNOTATION]: "true" },
    },
    provisioner: driver.provisioner,
    reclaimPolicy: storage.reclaimPolicy,
    // A volume lives on one host (proxmox-csi) or node (local-path): provisioned where the
    // scheduler puts its pod, never first and somewhere the pod cannot follow.
    volumeBindingMode: "WaitForFirstConsumer",
    ...(storage.provisioner === "proxmox-csi"
      ? {
          allowVolumeExpansion: true,
          parameters: { storage: storage.datastore!, "csi.storage.k8s.io/fstype": "ext4" },
        }
      : { allowVolumeExpansion: false }),
  };
}

/**
 * The CSI plugin's configuration file (proxmox-csi-plugin pkg/config/config.go at v0.19.1): one
 * Proxmox cluster, its API URL, a token (never a password: token and password exclude each other)
 * and the region name the nodes' labels carry.
 */
export function proxmoxCsiConfig(args: {
  endpoint: string;
  insecure: boolean;
  region: string;
  tokenId: string;
  tokenSecret: string;
}): string {
  return stringify({
    clusters: [
      {
        url: new URL("api2/json", args.endpoint).toString(),
        insecure: args.insecure,
        token_id: args.tokenId,
        token_secret: args.tokenSecret,
        region: args.region,
      },
    ],
  });
}

/** The user and token id the CSI plugin acts as on Proxmox. */
export const PROXMOX_CSI_USER = "homebrew-dev-csi@pve";
export const PROXMOX_CSI_TOKEN = "csi";

/**
 * The Proxmox identity of the CSI plugin: a role with only the privileges the plugin documents, a
 * `pve` user holding it on `/`, and an API token of that user without privilege separation (it
 * has the user's privileges, which are the role's). The token's secret is a Pulumi secret; the
 * provider returns it on creation only.
 */
export class ProxmoxCsiAccess extends pulumi.ComponentResource {
  public readonly tokenId: string;
  public readonly tokenSecret: pulumi.Output<string>;

  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("homebrew-dev:proxmox:CsiAccess", name, {}, opts);
    const parent = { parent: this };
    const role = new proxmoxve.RoleLegacy(
      `${name}-role`,
      { roleId: "HomebrewDevCSI", privileges: [...PROXMOX_CSI_PRIVILEGES] },
      parent,
    );
    const user = new proxmoxve.UserLegacy(
      `${name}-user`,
      { userId: PROXMOX_CSI_USER, comment: "homebrew-dev: the Proxmox CSI plugin", enabled: true },
      parent,
    );
    new proxmoxve.Acl(
      `${name}-acl`,
      { path: "/", roleId: role.roleId, userId: user.userId, propagate: true },
      parent,
    );
    const token = new proxmoxve.user.Token(
      `${name}-token`,
      {
        userId: user.userId,
        tokenName: PROXMOX_CSI_TOKEN,
        privilegesSeparation: false,
        comment: "homebrew-dev: the Proxmox CSI plugin",
      },
      parent,
    );
    this.tokenId = `${PROXMOX_CSI_USER}!${PROXMOX_CSI_TOKEN}`;
    // The value is the token's secret, or `<user>!<token>=<secret>`: the secret is after the "=".
    // The provider returns it only when it creates the token (an imported token has none).
    this.tokenSecret = pulumi.secret(
      token.value.apply((v: string | undefined) => (v ?? "").replace(/^.*=/, "")),
    );
    this.registerOutputs({ tokenId: this.tokenId });
  }
}

export interface StorageArgs {
  readonly storage: ResolvedStorage;
  /** Namespace of the provisioner (kube-system: its node plugin or helper pods mount host paths). */
  readonly namespace: string;
  /** The Proxmox API (proxmox-csi). */
  readonly proxmox?: {
    readonly endpoint: string;
    readonly insecure: boolean;
    readonly tokenId: string;
    readonly tokenSecret: pulumi.Input<string>;
  };
}

/**
 * The cluster's volumes: the provisioner's chart and the default StorageClass. With proxmox-csi,
 * the plugin's configuration (the Proxmox token) is a Secret of ours that the chart mounts; its
 * node plugin runs on every node, GPU nodes included, so that every claim can attach.
 */
export class Storage extends pulumi.ComponentResource {
  public readonly className: string;
  public readonly storageClass: k8s.storage.v1.StorageClass;

  constructor(name: string, args: StorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homebrew-dev:kubernetes:Storage", name, {}, opts);
    const parent = { parent: this };
    const { storage } = args;
    const driver = STORAGE_DRIVERS[storage.provisioner];
    let release: k8s.helm.v3.Release;
    if (storage.provisioner === "proxmox-csi") {
      const proxmox = args.proxmox;
      if (proxmox === undefined) throw new Error("proxmox-csi storage needs the Proxmox API");
      const config = new k8s.core.v1.Secret(
        `${name}-proxmox-csi-config`,
        {
          metadata: { name: "proxmox-csi-config", namespace: args.namespace },
          stringData: {
            "config.yaml": pulumi.secret(
              pulumi.output(proxmox.tokenSecret).apply((tokenSecret) =>
                proxmoxCsiConfig({
                  endpoint: proxmox.endpoint,
                  insecure: proxmox.insecure,
                  region: storage.region,
                  tokenId: proxmox.tokenId,
                  tokenSecret,
                }),
              ),
            ),
          },
        },
        parent,
      );
      release = new k8s.helm.v3.Release(
        `${name}-proxmox-csi`,
        {
          ...releaseChart(driver.chart),
          name: "proxmox-csi",
          namespace: args.namespace,
          values: {
            // charts/proxmox-csi-plugin/values.yaml at v0.19.1: the controller mounts this Secret's
            // key as its config file; the class is ours (storageClass stays empty).
            existingConfigSecret: "proxmox-csi-config",
            existingConfigSecretKey: "config.yaml",
            storageClass: [],
            node: {
              // Every node, whatever its taints: a claim attaches wherever its pod runs.
              tolerations: [{ operator: "Exists" }],
            },
          },
        },
        { parent: this, dependsOn: [config] },
      );
    } else {
      release = new k8s.helm.v3.Release(
        `${name}-local-path`,
        {
          ...releaseChart(driver.chart),
          name: "local-path",
          namespace: args.namespace,
          values: {
            // deploy/chart/local-path-provisioner/values.yaml at v0.0.37: the class is ours; the
            // provisioner keeps the name the class names (the chart would derive one from the
            // release); volumes under the Talos user volume.
            storageClass: { create: false, provisionerName: driver.provisioner },
            nodePathMap: [{ node: "DEFAULT_PATH_FOR_NON_LISTED_NODES", paths: [LOCAL_PATH_DIR] }],
            // The helper pod that creates and removes volume directories, by digest (the
            // chart's helper-pod template writes `repository:tag`).
            helperImage: {
              repository: IMAGES.busybox.repository,
              tag: `${IMAGES.busybox.tag}@${IMAGES.busybox.digest}`,
            },
          },
        },
        parent,
      );
    }
    this.storageClass = new k8s.storage.v1.StorageClass(
      `${name}-class`,
      storageClassSpec(storage),
      { parent: this, dependsOn: [release] },
    );
    this.className = storage.className;
    this.registerOutputs({ className: this.className });
  }
}
