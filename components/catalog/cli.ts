/**
 * The command-line tools the day-2 steps run, with the flags each subcommand has at the pinned
 * version: what a step's script may pass. A flag is `boolean`, `duration` (`10m`) or `string`.
 */

export type FlagKind = "boolean" | "duration" | "string";

export interface CliCommand {
  readonly flags: Readonly<Record<string, FlagKind>>;
  /** Positional arguments it takes. */
  readonly args: number;
}

/** Flags every talosctl subcommand takes (cmd/talosctl/cmd/talos/root.go, global flags). */
export const TALOSCTL_GLOBAL_FLAGS: Readonly<Record<string, FlagKind>> = {
  talosconfig: "string",
  endpoints: "string",
  nodes: "string",
  context: "string",
  cluster: "string",
};

/**
 * talosctl subcommands at v1.13.9, the flags the scripts use read again at v1.14.0-rc.1
 * (siderolabs/talos cmd/talosctl/cmd/talos/<command>.go, each
 * command's `init()`; track.go for `--wait`, `--debug` and `--timeout`).
 */
export const TALOSCTL: Readonly<Record<string, CliCommand>> = {
  version: { flags: { client: "boolean", short: "boolean", insecure: "boolean" }, args: 0 },
  bootstrap: {
    flags: { "recover-from": "string", "recover-skip-hash-check": "boolean" },
    args: 0,
  },
  health: {
    flags: {
      "wait-timeout": "duration",
      "control-plane-nodes": "string",
      "worker-nodes": "string",
      "init-node": "string",
      "k8s-endpoint": "string",
      "run-e2e": "boolean",
      server: "boolean",
    },
    args: 0,
  },
  "apply-config": {
    flags: {
      file: "string",
      mode: "string",
      "dry-run": "boolean",
      timeout: "duration",
      "config-patch": "string",
      "cert-fingerprint": "string",
      insecure: "boolean",
    },
    args: 0,
  },
  upgrade: {
    flags: {
      image: "string",
      namespace: "string",
      "reboot-mode": "string",
      progress: "string",
      "no-reboot": "boolean",
      drain: "boolean",
      "drain-timeout": "duration",
      wait: "boolean",
      debug: "boolean",
      timeout: "duration",
      legacy: "boolean",
    },
    args: 0,
  },
  "upgrade-k8s": {
    flags: {
      from: "string",
      to: "string",
      endpoint: "string",
      "with-examples": "boolean",
      "with-docs": "boolean",
      "pre-pull-images": "boolean",
      "upgrade-kubelet": "boolean",
      "dry-run": "boolean",
      "kubelet-image": "string",
      "apiserver-image": "string",
      "controller-manager-image": "string",
      "scheduler-image": "string",
      "proxy-image": "string",
      "manifests-force": "boolean",
      "manifests-no-prune": "boolean",
      "manifests-inventory-policy": "string",
      "manifests-reconcile-timeout": "duration",
    },
    args: 0,
  },
  reset: {
    flags: {
      graceful: "boolean",
      reboot: "boolean",
      "wipe-mode": "string",
      wait: "boolean",
      debug: "boolean",
      timeout: "duration",
      "system-labels-to-wipe": "string",
      "user-disks-to-wipe": "string",
      insecure: "boolean",
    },
    args: 0,
  },
  "etcd status": { flags: {}, args: 0 },
  "etcd members": { flags: {}, args: 0 },
  "etcd remove-member": { flags: {}, args: 1 },
  get: {
    flags: { output: "string", namespace: "string", watch: "boolean", insecure: "boolean" },
    args: 2,
  },
  kubeconfig: {
    flags: { force: "boolean", "force-context-name": "string", merge: "boolean" },
    args: 1,
  },
};

/**
 * kubectl subcommands the removal step runs (kubernetes/kubectl pkg/cmd/drain/drain.go for
 * cordon and drain, pkg/cmd/delete/delete_flags.go), and the global `--kubeconfig`.
 */
export const KUBECTL_GLOBAL_FLAGS: Readonly<Record<string, FlagKind>> = { kubeconfig: "string" };
export const KUBECTL: Readonly<Record<string, CliCommand>> = {
  cordon: { flags: { "dry-run": "string", selector: "string" }, args: 1 },
  uncordon: { flags: { "dry-run": "string", selector: "string" }, args: 1 },
  drain: {
    flags: {
      "ignore-daemonsets": "boolean",
      "delete-emptydir-data": "boolean",
      force: "boolean",
      "grace-period": "string",
      timeout: "duration",
      "disable-eviction": "boolean",
      "skip-wait-for-delete-timeout": "string",
      "pod-selector": "string",
      selector: "string",
    },
    args: 1,
  },
  "delete node": {
    flags: { "ignore-not-found": "boolean", timeout: "duration", wait: "boolean" },
    args: 1,
  },
};

/**
 * The flags each model server accepts at its pinned image, every one taking a value but
 * `--metrics`. vLLM v0.11.0's `vllm-openai` image runs `python3 -m vllm.entrypoints.openai.api_server`
 * (docker/Dockerfile): `--host` and `--port` come from FrontendArgs (entrypoints/openai/cli_args.py),
 * the rest from EngineArgs (engine/arg_utils.py); a positional model name is accepted by that
 * parser but never used (the server then loads its default model), so the model is `--model`.
 * llama.cpp b7010's server image runs `/app/llama-server` (.devops/cpu.Dockerfile); its flags are
 * in common/arg.cpp.
 */
export const ENGINE_FLAGS: Readonly<
  Record<"vllm" | "llamacpp", Readonly<Record<string, FlagKind>>>
> = {
  vllm: {
    model: "string",
    "served-model-name": "string",
    host: "string",
    port: "string",
    "tensor-parallel-size": "string",
    "max-model-len": "string",
  },
  llamacpp: {
    host: "string",
    port: "string",
    model: "string",
    alias: "string",
    metrics: "boolean",
    "n-gpu-layers": "string",
    "ctx-size": "string",
  },
};
