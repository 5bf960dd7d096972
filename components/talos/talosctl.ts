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
 * Applies a changed machine config to a running node (mode auto: Talos reboots only when the
 * change needs it). The first boot takes the config from cloud-init, so creation does nothing.
 */
export function applyConfigScript(ip: string): string {
  return [
    ...withTalosconfig,
    "mc=$(mktemp)",
    'trap \'rm -f "$cfg" "$mc"\' EXIT',
    `printf '%s' "$${MACHINE_CONFIG_ENV}" > "$mc"`,
    `talosctl --talosconfig "$cfg" --endpoints ${ip} --nodes ${ip} apply-config --file "$mc" --mode auto`,
  ].join("\n");
}

/** Upgrades a node to an installer image and waits for it to come back. */
export function upgradeScript(ip: string, installerImage: string): string {
  return [
    ...withTalosconfig,
    `talosctl --talosconfig "$cfg" --endpoints ${ip} --nodes ${ip} upgrade --image ${installerImage} --wait`,
  ].join("\n");
}

/** What a day-2 step runs when it is first created: nothing but a note. */
export const RECORD_ONLY = "echo recorded";
