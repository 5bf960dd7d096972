import { createHash } from "node:crypto";
import { RUNTIMES, RUNTIME_NAMES } from "../catalog/runtimes";

/**
 * An Image Factory schematic: the customisation baked into a Talos node image.
 *
 * Schematics are public (anyone who knows the ID can fetch it from the factory), so they must never
 * carry secrets: machine configuration and credentials travel through cloud-init instead.
 */
export interface Schematic {
  /** Official system extensions, e.g. `siderolabs/qemu-guest-agent`. Order is significant. */
  readonly officialExtensions: readonly string[];
  /**
   * Extra kernel command-line arguments (a leading `-` removes a default argument).
   * @default [] - none
   */
  readonly extraKernelArgs?: readonly string[];
}

/** Which runtime extensions a node image carries (the RuntimeClass handlers it can serve). */
export interface RuntimeFeatures {
  /** gVisor (`siderolabs/gvisor`, RuntimeClass handler `runsc`). */
  readonly gvisor: boolean;
  /** Kata Containers (`siderolabs/kata-containers`, handler `kata`; needs nested virtualisation). */
  readonly kata: boolean;
  /** NVIDIA open kernel modules and container toolkit (handler `nvidia`). */
  readonly nvidia: boolean;
}

/** Everything that decides the extension list of a node image. */
export interface ImageFeatures extends RuntimeFeatures {
  /** QEMU guest agent, so Proxmox can read IPs and shut the VM down cleanly. */
  readonly guestAgent: boolean;
}

/** The official extension names this project uses (runtime extensions from the catalog). */
export const OfficialExtension = {
  qemuGuestAgent: "siderolabs/qemu-guest-agent",
  gvisor: RUNTIMES.gvisor.extensions[0]!,
  kataContainers: RUNTIMES.kata.extensions[0]!,
  nvidiaOpenGpuKernelModules: RUNTIMES.nvidia.extensions[0]!,
  nvidiaContainerToolkit: RUNTIMES.nvidia.extensions[1]!,
} as const;
export type OfficialExtension = (typeof OfficialExtension)[keyof typeof OfficialExtension];

/** Host of the public Image Factory. */
export const IMAGE_FACTORY_HOST = "factory.talos.dev";

const EXTENSION_NAME = /^[a-z0-9][a-z0-9._-]*\/[a-z0-9][a-z0-9._-]*$/;
// Only arguments the factory's YAML encoder writes as plain scalars are accepted: anything that
// would be quoted (spaces, `#`, a trailing `:`, YAML 1.1 booleans such as `on`/`off`, …) would make
// our text, and so the ID, differ from the factory's.
const KERNEL_ARG = /^-?[A-Za-z_][A-Za-z0-9_.,=/+:@-]*$/;
const YAML_RESERVED = /^(?:y|yes|n|no|true|false|on|off|null)$/i;
const SCHEMATIC_ID = /^[0-9a-f]{64}$/;
const TALOS_VERSION = /^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?$/;

/** Every problem of a schematic, each naming the field, the value and what is allowed. */
export function schematicProblems(s: Schematic): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  s.officialExtensions.forEach((name, i) => {
    const field = `officialExtensions[${i}]`;
    if (!EXTENSION_NAME.test(name)) {
      problems.push(
        `${field}: ${JSON.stringify(name)} is not an extension name; expected <org>/<name> in lower case, e.g. siderolabs/qemu-guest-agent`,
      );
    } else if (seen.has(name)) {
      // The factory keeps duplicates, so they would silently give a different schematic ID.
      problems.push(`${field}: ${JSON.stringify(name)} is listed twice; list each extension once`);
    }
    seen.add(name);
  });
  (s.extraKernelArgs ?? []).forEach((arg, i) => {
    if (!KERNEL_ARG.test(arg) || arg.endsWith(":") || YAML_RESERVED.test(arg.replace(/^-/, ""))) {
      problems.push(
        `extraKernelArgs[${i}]: ${JSON.stringify(arg)} is not allowed; expected one argument without spaces, such as console=ttyS0,115200 or -talos.halt_if_installed`,
      );
    }
  });
  return problems;
}

/** Throws once, listing every problem, when the schematic cannot be rendered canonically. */
export function validateSchematic(s: Schematic): void {
  const problems = schematicProblems(s);
  if (problems.length > 0) {
    throw new Error(`invalid schematic:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/**
 * The Image Factory's canonical YAML of a schematic: the exact bytes whose sha256 is the ID.
 *
 * It mirrors the factory's Go encoder: 4-space indentation, sequences indented under their key,
 * the field order of its struct (`extraKernelArgs` before `systemExtensions`), empty fields
 * omitted, `customization: {}` when nothing is customised, and a trailing newline. Extension order
 * is kept as given: the factory hashes the list as sent.
 */
export function renderSchematicYaml(s: Schematic): string {
  validateSchematic(s);
  const kernelArgs = s.extraKernelArgs ?? [];
  const lines: string[] = [];
  if (kernelArgs.length > 0) {
    lines.push("    extraKernelArgs:", ...kernelArgs.map((arg) => `        - ${arg}`));
  }
  if (s.officialExtensions.length > 0) {
    lines.push(
      "    systemExtensions:",
      "        officialExtensions:",
      ...s.officialExtensions.map((name) => `            - ${name}`),
    );
  }
  return lines.length === 0 ? "customization: {}\n" : `customization:\n${lines.join("\n")}\n`;
}

/** The schematic ID the Image Factory will answer for `POST /schematics` with this schematic. */
export function schematicId(s: Schematic): string {
  return createHash("sha256").update(renderSchematicYaml(s), "utf8").digest("hex");
}

/**
 * The official extensions a node image needs for the given features, sorted byte-wise.
 *
 * Sorted because the factory's own web wizard sorts the extensions it puts in a schematic: a
 * node image chosen there with the same boxes ticked gets the same ID, and the order never depends
 * on which flags happen to be evaluated first.
 */
export function extensionsFor(features: ImageFeatures): readonly string[] {
  const names: string[] = [];
  if (features.guestAgent) names.push(OfficialExtension.qemuGuestAgent);
  // NVIDIA's kernel modules and userspace toolkit only work as a pair of the same driver branch:
  // the catalog lists both.
  for (const name of RUNTIME_NAMES) if (features[name]) names.push(...RUNTIMES[name].extensions);
  return names.sort(compareBytes);
}

function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `v1.13.9` from `v1.13.9` or `1.13.9`; throws on anything else. */
export function normalizeTalosVersion(talosVersion: string): string {
  const match = TALOS_VERSION.exec(talosVersion);
  if (!match) {
    throw new Error(
      `talosVersion: ${JSON.stringify(talosVersion)} is not a Talos release; expected vX.Y.Z such as v1.13.9`,
    );
  }
  return talosVersion.startsWith("v") ? talosVersion : `v${talosVersion}`;
}

function checkSchematicId(id: string): void {
  if (!SCHEMATIC_ID.test(id)) {
    throw new Error(
      `schematicId: ${JSON.stringify(id)} is not a schematic ID; expected 64 lower-case hex characters`,
    );
  }
}

/**
 * The nocloud disk image for Proxmox. gzip rather than the factory's default xz, because Proxmox
 * can only decompress gz (download with `decompressionAlgorithm: "gz"`).
 */
export function factoryImageUrl(id: string, talosVersion: string): string {
  checkSchematicId(id);
  const version = normalizeTalosVersion(talosVersion);
  return `https://${IMAGE_FACTORY_HOST}/image/${id}/${version}/nocloud-amd64.raw.gz`;
}

/**
 * The installer image for `machine.install.image`. The nocloud flavour, because the installed
 * system has to keep the nocloud platform (and with it the cloud-init static addresses) it booted
 * with.
 */
export function installerImage(id: string, talosVersion: string): string {
  checkSchematicId(id);
  const version = normalizeTalosVersion(talosVersion);
  return `${IMAGE_FACTORY_HOST}/nocloud-installer/${id}:${version}`;
}
