import { createHash } from "node:crypto";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";

export interface TalosVmArgs {
  /** Proxmox host (node name) the VM runs on. */
  readonly host: string;
  /** VM name and Talos hostname. */
  readonly hostname: string;
  readonly cpuCores: number;
  readonly memoryMiB: number;
  readonly diskGiB: number;
  /** Datastore of the boot disk and the cloud-init drive. */
  readonly diskDatastore: string;
  /** Datastore with the snippets content type for the user-data file. */
  readonly snippetDatastore: string;
  /**
   * The downloaded Talos image (`<datastore>:iso/<file>`) the boot disk is made from: a plain
   * string, so that replacing the download (delete first) does not replace the VM with it.
   */
  readonly imageFileId: string;
  /** The resource that downloads the image (the VM waits for it). @default - none */
  readonly imageDownload?: pulumi.Resource;
  /** The Talos machine config, delivered as cloud-init user-data. Made secret here. */
  readonly machineConfig: pulumi.Input<string>;
  /** Linux bridge of the NIC. */
  readonly bridge: string;
  /**
   * VLAN tag of the NIC.
   * @default - untagged
   */
  readonly vlanId?: number;
  /**
   * GPUs passed through from a Proxmox PCI resource mapping.
   * @default - none
   */
  readonly gpus?: { readonly mapping: string; readonly count: number };
  /**
   * The image has the QEMU guest agent extension: enable the agent device.
   * @default true
   */
  readonly guestAgent?: boolean;
  /**
   * Extra Proxmox tags.
   * @default []
   */
  readonly tags?: readonly string[];
  /**
   * Protect the VM itself from deletion and replacement. Only the VM: its user-data snippet is a
   * first-boot file that is rewritten with every config change.
   * @default false
   */
  readonly protect?: boolean;
}

/** The file name of a node's user-data snippet: one per hostname, stable across changes. */
export function userDataFileName(hostname: string): string {
  return `${hostname}.talos.yaml`;
}

/**
 * A locally administered, unicast MAC address derived from a seed: the same node keeps its MAC
 * (and so its DHCP reservations and switch entries) when its VM is replaced.
 */
export function macAddressFor(seed: string): string {
  const bytes = createHash("sha256").update(seed).digest().subarray(0, 6);
  // Bit 1 of the first octet: locally administered; bit 0 clear: unicast.
  bytes[0] = (bytes[0]! & 0xfc) | 0x02;
  return [...bytes]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join(":")
    .toUpperCase();
}

/** The PCI passthrough entries of a VM: one device per GPU, all from one resource mapping. */
export function gpuPassthrough(gpus: {
  readonly mapping: string;
  readonly count: number;
}): proxmoxve.types.input.VmLegacyHostpci[] {
  return Array.from({ length: gpus.count }, (_, i) => ({
    device: `hostpci${i}`,
    mapping: gpus.mapping,
    pcie: true,
    rombar: true,
  }));
}

/**
 * Properties a running Talos VM must not be replaced for: the user-data (after first boot the
 * machine config changes through the Talos API) and the image the boot disk was made from
 * (upgrades go through `talosctl upgrade`). Changing either would otherwise replace the VM.
 */
export const TALOS_VM_IGNORE_CHANGES = ["initialization", "disks[0].fileId"] as const;

/**
 * One Talos Linux VM on Proxmox: the machine config as a cloud-init snippet, and a VM with the
 * settings Talos needs (CPU type host, q35, VirtIO SCSI, no ballooning, guest agent).
 */
export class TalosVm extends pulumi.ComponentResource {
  public readonly vmId: pulumi.Output<number>;
  public readonly macAddress: string;

  constructor(name: string, args: TalosVmArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homebrew-dev:proxmox:TalosVm", name, {}, opts);
    const guestAgent = args.guestAgent ?? true;
    // Derived from the hostname: stable across replacements (see `macAddressFor`).
    const macAddress = macAddressFor(args.hostname);
    const tags = [...(args.tags ?? [])].sort();
    this.macAddress = macAddress;

    // User-data that does not start with #cloud-config is taken by Talos as its machine config.
    // Every change of the config rewrites the file under the same name, which the provider can
    // only do as a replacement: delete first, or the old resource's delete would remove the file
    // the new one just wrote (both are the volume `<datastore>:snippets/<file>`).
    const fileName = userDataFileName(args.hostname);
    const userData = new proxmoxve.FileLegacy(
      `${name}-user-data`,
      {
        nodeName: args.host,
        datastoreId: args.snippetDatastore,
        contentType: "snippets",
        sourceRaw: {
          data: pulumi.secret(args.machineConfig),
          fileName,
        },
      },
      { parent: this, deleteBeforeReplace: true },
    );

    const vm = new proxmoxve.VmLegacy(
      name,
      {
        nodeName: args.host,
        name: args.hostname,
        description: "Talos Linux node, managed by homebrew-dev",
        tags,
        onBoot: true,
        started: true,
        machine: "q35",
        // The provider default (qemu64) lacks the instructions Talos needs to boot.
        cpu: { type: "host", cores: args.cpuCores, sockets: 1 },
        // Talos does not run the balloon driver: floating 0 turns ballooning off.
        memory: { dedicated: args.memoryMiB, floating: 0 },
        scsiHardware: "virtio-scsi-pci",
        operatingSystem: { type: "l26" },
        agent: { enabled: guestAgent, trim: guestAgent },
        disks: [
          {
            interface: "scsi0",
            datastoreId: args.diskDatastore,
            fileId: args.imageFileId,
            fileFormat: "raw",
            size: args.diskGiB,
            discard: "on",
            ssd: true,
          },
        ],
        networkDevices: [
          {
            bridge: args.bridge,
            model: "virtio",
            macAddress,
            ...(args.vlanId !== undefined ? { vlanId: args.vlanId } : {}),
          },
        ],
        // The volume id as a plain string, not the snippet's id output: when a resource is
        // replaced delete-first, the engine re-diffs every dependent whose inputs take its
        // outputs, with those inputs unknown (pulumi/pulumi step_generator.go,
        // calculateDependentReplacements); a plain value keeps the VM out of that.
        initialization: {
          datastoreId: args.diskDatastore,
          type: "nocloud",
          userDataFileId: `${args.snippetDatastore}:snippets/${fileName}`,
        },
        hostpcis: args.gpus !== undefined ? gpuPassthrough(args.gpus) : [],
        serialDevices: [{ device: "socket" }],
        stopOnDestroy: true,
        // A new host is a live migration, not a new VM (which would be a new, empty Talos
        // node); PCI passthrough cannot migrate, so a GPU node is replaced instead.
        migrate: args.gpus === undefined,
      },
      {
        parent: this,
        ignoreChanges: [...TALOS_VM_IGNORE_CHANGES],
        protect: args.protect ?? false,
        dependsOn: [userData, ...(args.imageDownload !== undefined ? [args.imageDownload] : [])],
      },
    );
    this.vmId = vm.vmId;
    this.registerOutputs({ vmId: this.vmId, macAddress });
  }
}
