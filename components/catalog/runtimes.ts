import { NVIDIA_GPU_PRESENT_LABEL, RUNTIME_LABEL_PREFIX } from "./labels";

/**
 * Container runtimes besides runc: everything the Talos side (system extensions in the node
 * image, kernel modules, sysctls, node labels) and the Kubernetes side (the RuntimeClass handler
 * and pod overhead) need, in one table, so that the two cannot drift apart.
 */
export const RUNTIME_NAMES = ["gvisor", "kata", "nvidia"] as const;
export type RuntimeName = (typeof RUNTIME_NAMES)[number];

export interface RuntimeFacts {
  /** The containerd handler the extension registers (RuntimeClass `handler`). */
  readonly handler: string;
  /** Official Talos system extensions, in the order the schematic lists them. */
  readonly extensions: readonly string[];
  /** The node label RuntimeClasses of this runtime select. */
  readonly nodeLabel: string;
  /** Further labels of nodes that offer it (device plugins select by them). */
  readonly extraNodeLabels: Readonly<Record<string, string>>;
  /** Kernel modules Talos must load, in load order. */
  readonly kernelModules: readonly string[];
  /** Kernel settings the runtime needs. */
  readonly sysctls: Readonly<Record<string, string>>;
  /** What every pod costs on top of its containers (RuntimeClass `overhead.podFixed`). */
  readonly podOverhead?: Readonly<{ cpu: string; memory: string }>;
}

export const RUNTIMES: Readonly<Record<RuntimeName, RuntimeFacts>> = {
  gvisor: {
    // siderolabs/extensions: the gvisor extension registers the `runsc` handler.
    handler: "runsc",
    extensions: ["siderolabs/gvisor"],
    nodeLabel: `${RUNTIME_LABEL_PREFIX}gvisor`,
    extraNodeLabels: {},
    kernelModules: [],
    // runsc sandboxes each pod in unprivileged user namespaces, which Talos's KSPP defaults turn
    // off (pkg/kernel/kspp/kspp.go sets user.max_user_namespaces=0); siderolabs/extensions
    // container-runtime/gvisor/README.md (release-1.14) sets 11255.
    sysctls: { "user.max_user_namespaces": "11255" },
  },
  kata: {
    handler: "kata",
    extensions: ["siderolabs/kata-containers"],
    nodeLabel: `${RUNTIME_LABEL_PREFIX}kata`,
    extraNodeLabels: {},
    // siderolabs/extensions container-runtime/kata-containers/README.md (release-1.14) asks for
    // no kernel module and no sysctl: the extension loads what its hypervisor needs.
    kernelModules: [],
    sysctls: {},
    // Each pod is a micro-VM: its guest kernel and agent.
    podOverhead: { cpu: "250m", memory: "160Mi" },
  },
  nvidia: {
    handler: "nvidia",
    extensions: [
      "siderolabs/nvidia-open-gpu-kernel-modules-production",
      "siderolabs/nvidia-container-toolkit-production",
    ],
    nodeLabel: `${RUNTIME_LABEL_PREFIX}nvidia`,
    extraNodeLabels: { [NVIDIA_GPU_PRESENT_LABEL]: "true" },
    // The extension ships the modules but Talos loads nothing it is not told to; the core module
    // first.
    kernelModules: ["nvidia", "nvidia_uvm", "nvidia_drm", "nvidia_modeset"],
    // Talos hardens the BPF JIT for everyone (2); the constant blinding stops libnvidia-container
    // from reading back the cgroup device program it extends. 1 keeps hardening for unprivileged
    // programs only.
    sysctls: { "net.core.bpf_jit_harden": "1" },
  },
};
