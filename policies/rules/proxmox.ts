import type { ResourceValidationPolicy } from "@pulumi/policy";
import { resourcePolicy } from "./util";

const VM = ["proxmoxve:index/vmLegacy:VmLegacy"];

/** CPU types with the instructions Talos needs (x86-64-v2 or better). */
export const TALOS_CPU_TYPES = [
  "host",
  "x86-64-v2",
  "x86-64-v2-AES",
  "x86-64-v3",
  "x86-64-v4",
  "max",
];

export const talosCpuType = resourcePolicy({
  name: "proxmox-cpu-type-boots-talos",
  description: "VMs use a CPU type Talos can boot (host or x86-64-v2 and later; not qemu64).",
  enforcementLevel: "mandatory",
  types: VM,
  check: (props, report) => {
    const type = props["cpu"]?.type;
    if (type === undefined)
      report("the CPU type is the provider default qemu64, which cannot boot Talos");
    else if (!TALOS_CPU_TYPES.includes(type))
      report(`CPU type ${type} cannot boot Talos; use host`);
  },
});

export const protectControlPlanes = resourcePolicy({
  name: "proxmox-protect-control-planes",
  description: "Control-plane VMs are protected: deleting one drops an etcd member.",
  enforcementLevel: "advisory",
  types: VM,
  check: (props, report, args) => {
    const tags = Array.isArray(props["tags"]) ? props["tags"] : [];
    // A retiring control plane is unprotected on purpose: the next change removes it.
    if (
      tags.includes("controlplane") &&
      !tags.includes("retiring") &&
      args.opts?.protect !== true
    ) {
      report(`control-plane VM ${props["name"] ?? args.name} is not protected`);
    }
  },
});

export const destroyDefaults = resourcePolicy({
  name: "proxmox-destructive-destroy",
  description:
    "VMs do not purge backups and replication jobs or delete unreferenced disks on destroy.",
  enforcementLevel: "advisory",
  types: VM,
  check: (props, report) => {
    if (props["purgeOnDestroy"] === true)
      report("purgeOnDestroy also deletes the VM's backups and replication jobs");
    if (props["deleteUnreferencedDisksOnDestroy"] === true) {
      report("deleteUnreferencedDisksOnDestroy deletes disks no longer attached, data included");
    }
  },
});

export const guestAgent = resourcePolicy({
  name: "proxmox-guest-agent",
  description: "VMs enable the QEMU guest agent (clean shutdowns, addresses in the UI).",
  enforcementLevel: "advisory",
  types: VM,
  check: (props, report) => {
    if (props["agent"]?.enabled !== true) report("the QEMU guest agent is not enabled");
  },
});

export const noBallooning = resourcePolicy({
  name: "proxmox-no-memory-ballooning",
  description: "Talos runs no balloon driver: VMs get dedicated memory (floating 0).",
  enforcementLevel: "advisory",
  types: VM,
  check: (props, report) => {
    const floating = props["memory"]?.floating;
    if (floating !== undefined && floating !== 0)
      report(`memory ballooning is on (floating ${floating} MiB)`);
  },
});

export const proxmoxPolicies: ResourceValidationPolicy[] = [
  talosCpuType,
  protectControlPlanes,
  destroyDefaults,
  guestAgent,
  noBallooning,
];
