/**
 * The `talosctl` scripts the cluster runs through `@pulumi/command`. Pure: they take addresses
 * and return shell text; credentials arrive in environment variables (secrets), never in the
 * script itself, so they do not show in plans or logs.
 */

/** Environment variable carrying the talosconfig text. */
export const TALOSCONFIG_ENV = "HOMEBREW_TALOSCONFIG";
/** Environment variable carrying a node's machine config text. */
export const MACHINE_CONFIG_ENV = "HOMEBREW_MACHINE_CONFIG";

const withTalosconfig = [
  "set -eu",
  "cfg=$(mktemp)",
  "trap 'rm -f \"$cfg\"' EXIT",
  `printf '%s' "$${TALOSCONFIG_ENV}" > "$cfg"`,
];

/** Waits until a node answers on the Talos API (the VM has booted its config). */
function waitForApi(ip: string, minutes: number): string[] {
  return [
    `deadline=$(( $(date +%s) + ${minutes * 60} ))`,
    `until talosctl --talosconfig "$cfg" --endpoints ${ip} --nodes ${ip} version >/dev/null 2>&1; do`,
    `  if [ "$(date +%s)" -ge "$deadline" ]; then echo "node ${ip}: Talos API not up after ${minutes} minutes" >&2; exit 1; fi`,
    "  sleep 10",
    "done",
  ];
}

/**
 * Bootstraps etcd on the first control plane, by its own address: the VIP only exists once etcd
 * runs. Bootstrapping is once per cluster; an "already bootstrapped" answer counts as done, so a
 * retried deployment does not fail.
 */
export function bootstrapScript(firstControlPlaneIp: string): string {
  return [
    ...withTalosconfig,
    ...waitForApi(firstControlPlaneIp, 20),
    `if ! out=$(talosctl --talosconfig "$cfg" --endpoints ${firstControlPlaneIp} --nodes ${firstControlPlaneIp} bootstrap 2>&1); then`,
    '  case "$out" in *AlreadyExists*|*"already bootstrapped"*) echo "etcd already bootstrapped" ;; *) echo "$out" >&2; exit 1 ;; esac',
    "fi",
  ].join("\n");
}

/**
 * Waits until the cluster reports healthy: etcd, control plane, every member ready. Members are
 * discovered rather than listed, so adding or removing a worker does not change this step.
 */
export function healthScript(args: {
  readonly firstControlPlaneIp: string;
  readonly timeoutMinutes?: number;
}): string {
  const ip = args.firstControlPlaneIp;
  return [
    ...withTalosconfig,
    `talosctl --talosconfig "$cfg" --endpoints ${ip} --nodes ${ip} health --wait-timeout ${args.timeoutMinutes ?? 20}m`,
  ].join("\n");
}

/**
 * Day-2 steps take the talosconfig from the environment of `pulumi up` (talosctl reads
 * `TALOSCONFIG` itself), never as an input: an input change re-runs a command, so a renewed admin
 * certificate would re-run every upgrade, a rolling reboot of the whole cluster. The deploy
 * workflow writes the stack's `talosconfig` output to a file before `pulumi up`.
 */
const requireTalosconfig = `: "\${TALOSCONFIG:?day-2 steps use the talosconfig of the machine running pulumi up: pulumi stack output --show-secrets talosconfig > talosconfig; export TALOSCONFIG=$PWD/talosconfig}"`;

/**
 * The node a day-2 step acts on (`--nodes`) and its cluster (`--context`: the talosconfig's
 * context is the cluster's name, so another cluster's talosconfig fails instead of acting). It
 * connects through the endpoints of the talosconfig: every control plane, among which talosctl
 * fails over while one reboots. Only control planes serve the kubeconfig talosctl fetches to
 * drain a node (cmd/talosctl/cmd/talos/upgrade.go, v1.13.9), so a worker is never its own
 * endpoint. No other node's address is in a step's script: a change of the control-plane set
 * re-runs nothing.
 */
export interface NodeTarget {
  readonly ip: string;
  readonly controlPlane: boolean;
  /** The Kubernetes node name (the hostname). */
  readonly name: string;
  /** The cluster's name: the talosconfig's context. */
  readonly cluster: string;
}

const talosctl = (t: Pick<NodeTarget, "cluster">, node?: string) =>
  `talosctl --context ${t.cluster}${node !== undefined ? ` --nodes ${node}` : ""}`;

/** Waits until etcd on a control plane answers and the cluster reports healthy. */
function etcdGate(t: NodeTarget, minutes: number): string[] {
  return [
    `deadline=$(( $(date +%s) + ${minutes * 60} ))`,
    `until ${talosctl(t, t.ip)} etcd status >/dev/null 2>&1; do`,
    `  if [ "$(date +%s)" -ge "$deadline" ]; then echo "etcd on ${t.ip} not healthy after ${minutes} minutes" >&2; exit 1; fi`,
    "  sleep 10",
    "done",
    // `health` checks from one control plane (server-side, cmd/talosctl/cmd/talos/health.go).
    `${talosctl(t, t.ip)} health --wait-timeout ${minutes}m`,
  ];
}

/**
 * Applies a changed machine config to a running node (mode auto: Talos reboots only when the
 * change needs it; a config equal to the running one changes nothing). The first boot takes the
 * config from cloud-init, so creation does nothing.
 */
export function applyConfigScript(t: NodeTarget): string {
  return [
    "set -eu",
    requireTalosconfig,
    "mc=$(mktemp)",
    "trap 'rm -f \"$mc\"' EXIT",
    `printf '%s' "$${MACHINE_CONFIG_ENV}" > "$mc"`,
    `${talosctl(t, t.ip)} apply-config --file "$mc" --mode auto`,
  ].join("\n");
}

/** Timeouts of a node upgrade, explicit rather than talosctl's defaults. */
export const UPGRADE_TIMEOUTS = { drainMinutes: 10, upgradeMinutes: 30, healthMinutes: 15 };

/** What a node upgrade installs: the installer image and what it is made of. */
export interface UpgradeTarget {
  readonly installerImage: string;
  readonly schematicId: string;
  /** `v1.13.9`. */
  readonly talosVersion: string;
}

/**
 * Upgrades a node to an installer image through a control-plane endpoint: cordon and drain
 * (talosctl does both, with the kubeconfig the endpoint serves), install, reboot, wait until the
 * node is Ready again and uncordon it (`--wait`). A node already running the target (its Talos
 * tag, and the schematic the Image Factory records as the extension `schematic`:
 * siderolabs/image-factory internal/artifacts/schematic.go) is left alone, so the step can run
 * again safely. A control plane goes only when etcd and the cluster are healthy, and the next
 * step waits until its etcd member answers again (the upgrade path of Talos 1.13 checks no
 * quorum itself).
 */
export function upgradeScript(t: NodeTarget, to: UpgradeTarget): string {
  const { drainMinutes, upgradeMinutes, healthMinutes } = UPGRADE_TIMEOUTS;
  return [
    "set -eu",
    requireTalosconfig,
    // Only the server's tag counts: the client section carries talosctl's own.
    `if ${talosctl(t, t.ip)} version | sed -n '/^Server:/,$p' | grep -q 'Tag:[[:space:]]*${to.talosVersion}$' \\`,
    `  && ${talosctl(t, t.ip)} get extensions | grep -qF ${to.schematicId}; then`,
    `  echo "${t.name} already runs ${to.installerImage}"`,
    // An earlier run that failed after its drain left the node cordoned: let it take pods again.
    "  dir=$(mktemp -d)",
    "  trap 'rm -rf \"$dir\"' EXIT",
    ...kubeconfigFrom(t, []).map((l) => `  ${l}`),
    `  kubectl --kubeconfig "$kc" uncordon ${t.name}`,
    "  exit 0",
    "fi",
    ...(t.controlPlane ? etcdGate(t, healthMinutes) : []),
    `${talosctl(t, t.ip)} upgrade --image ${to.installerImage} --wait=true --drain=true --drain-timeout=${drainMinutes}m --timeout=${upgradeMinutes}m`,
    ...(t.controlPlane ? etcdGate(t, healthMinutes) : []),
  ].join("\n");
}

/**
 * Upgrades Kubernetes the way Talos does it (`talosctl upgrade-k8s`, against one control plane:
 * the talosconfig's default node): checks the path and removed APIs, pre-pulls images, then the
 * control-plane components one node at a time, kube-proxy, each kubelet, and the bootstrap
 * manifests, waiting for every step to be healthy. It moves one minor at a time (the plan diff
 * refuses more); to the version the cluster already runs it changes nothing.
 */
export function upgradeKubernetesScript(
  t: Pick<NodeTarget, "cluster">,
  kubernetesVersion: string,
): string {
  return [
    "set -eu",
    requireTalosconfig,
    `${talosctl(t)} upgrade-k8s --to ${kubernetesVersion.replace(/^v/, "")} --pre-pull-images=true --upgrade-kubelet=true`,
  ].join("\n");
}

/** Makes `$kc` a kubeconfig: `KUBECONFIG` when set, else one fetched from a control plane. */
function kubeconfigFrom(
  t: Pick<NodeTarget, "cluster">,
  controlPlanes: readonly string[],
): string[] {
  const nodes = controlPlanes.length > 0 ? ` --nodes ${controlPlanes[0]}` : "";
  return [
    'if [ -n "${KUBECONFIG:-}" ]; then kc=$KUBECONFIG; else',
    `  kc=$dir/kubeconfig; ${talosctl(t)}${nodes} kubeconfig "$kc" --force`,
    "fi",
  ];
}

/**
 * What removing a node runs before its VM goes, each part safe to run again:
 * - the node must answer under its own hostname (not another node that took its address): it is
 *   cordoned and drained, then reset gracefully (a control plane leaves etcd first; the node
 *   powers off);
 * - a node that does not answer is an error, not a guess: an expired certificate or a network
 *   fault looks the same as a dead node. When it is gone for good, `HOMEBREW_NODE_GONE=<name>`
 *   says so, and a control plane is then removed from etcd through another one (`etcd
 *   remove-member`, by the member id `etcd members` shows for its hostname);
 * - its Node object is deleted.
 * Kubernetes is reached with `KUBECONFIG` when set, else with a kubeconfig from another control
 * plane (`controlPlanes`: the others, tried in turn). `HOMEBREW_NODE_REMOVAL=skip` tears a cluster
 * down without any of it.
 */
export function removeNodeScript(t: NodeTarget, controlPlanes: readonly string[]): string {
  const { drainMinutes } = UPGRADE_TIMEOUTS;
  const others = controlPlanes.filter((ip) => ip !== t.ip);
  const kubectl = 'kubectl --kubeconfig "$kc"';
  return [
    "set -eu",
    'if [ "${HOMEBREW_NODE_REMOVAL:-}" = skip ]; then echo "node removal skipped"; exit 0; fi',
    requireTalosconfig,
    "dir=$(mktemp -d)",
    "trap 'rm -rf \"$dir\"' EXIT",
    ...kubeconfigFrom(t, others),
    `if [ "\${HOMEBREW_NODE_GONE:-}" = ${t.name} ]; then`,
    `  echo "${t.name} is gone: not drained, not reset"`,
    ...(t.controlPlane
      ? [
          // Through the other control planes in turn; the member id is the column before the
          // hostname, with or without a NODE column.
          "  id=; found=",
          `  for cp in ${others.join(" ")}; do`,
          `    if members=$(${talosctl(t)} --nodes "$cp" etcd members); then found=1; break; fi`,
          "  done",
          `  if [ -z "$found" ]; then echo "no other control plane answers: cannot remove ${t.name} from etcd" >&2; exit 1; fi`,
          `  id=$(printf '%s\\n' "$members" | awk '{ for (i = 2; i <= NF; i++) if ($i == "${t.name}") print $(i - 1) }')`,
          `  if [ -n "$id" ]; then ${talosctl(t)} --nodes "$cp" etcd remove-member "$id"; else echo "${t.name} is no etcd member any more"; fi`,
        ]
      : []),
    "else",
    `  if ! host=$(${talosctl(t, t.ip)} get hostname --output='jsonpath={.spec.hostname}'); then`,
    `    echo "${t.name} (${t.ip}) does not answer; if it is gone for good, set HOMEBREW_NODE_GONE=${t.name} and run again" >&2`,
    "    exit 1",
    "  fi",
    `  if [ "$host" != ${t.name} ]; then`,
    `    echo "${t.ip} answers as $host, not ${t.name}: not reset" >&2`,
    "    exit 1",
    "  fi",
    `  ${kubectl} cordon ${t.name}`,
    `  ${kubectl} drain ${t.name} --ignore-daemonsets --delete-emptydir-data --timeout=${drainMinutes}m`,
    `  ${talosctl(t, t.ip)} reset --graceful=true --reboot=false --wait=true --timeout=15m`,
    "fi",
    `${kubectl} delete node ${t.name} --ignore-not-found --timeout=2m`,
  ].join("\n");
}

/** What a day-2 step runs when it is first created: nothing but a note. */
export const RECORD_ONLY = "echo recorded";
