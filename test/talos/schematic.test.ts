import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  extensionsFor,
  factoryImageUrl,
  installerImage,
  normalizeTalosVersion,
  OfficialExtension,
  renderSchematicYaml,
  schematicId,
  validateSchematic,
  type ImageFeatures,
  type Schematic,
} from "../../components/talos/schematic";

const EMPTY_ID = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";
const QEMU_GUEST_AGENT_ID = "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515";

const none: ImageFeatures = { guestAgent: false, gvisor: false, kata: false, nvidia: false };

function thrownMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  return "did not throw";
}

describe("schematicId", () => {
  it.each([
    ["no customisation", { officialExtensions: [] }, EMPTY_ID],
    [
      "qemu-guest-agent only",
      { officialExtensions: ["siderolabs/qemu-guest-agent"] },
      QEMU_GUEST_AGENT_ID,
    ],
    // The factory's own test vector for kernel arguments.
    [
      "extra kernel args only",
      { officialExtensions: [], extraKernelArgs: ["noapic", "nolapic"] },
      "9cba8e32753f91a16c1837ab8abf356af021706ef284aef07380780177d9a06c",
    ],
    ["empty kernel-arg list", { officialExtensions: [], extraKernelArgs: [] }, EMPTY_ID],
  ] satisfies [string, Schematic, string][])("matches the Image Factory for %s", (_, s, id) => {
    expect(schematicId(s)).toBe(id);
  });

  it("is the sha256 of the canonical YAML", () => {
    const s: Schematic = { officialExtensions: ["siderolabs/gvisor"], extraKernelArgs: ["a=b"] };
    expect(schematicId(s)).toBe(createHash("sha256").update(renderSchematicYaml(s)).digest("hex"));
  });

  it("has 64 hex characters and changes whenever the extension list changes", () => {
    const name = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,11}\/[a-z0-9][a-z0-9-]{0,23}$/);
    fc.assert(
      fc.property(fc.uniqueArray(name, { maxLength: 8 }), name, (names, extra) => {
        const id = schematicId({ officialExtensions: names });
        expect(id).toMatch(/^[0-9a-f]{64}$/);
        if (!names.includes(extra)) {
          expect(schematicId({ officialExtensions: [...names, extra] })).not.toBe(id);
        }
        if (names.length > 0) {
          expect(schematicId({ officialExtensions: names.slice(1) })).not.toBe(id);
        }
        const reversed = [...names].reverse();
        if (reversed.join() !== names.join()) {
          // Order is part of the identity: the factory hashes the list as sent.
          expect(schematicId({ officialExtensions: reversed })).not.toBe(id);
        }
      }),
    );
  });
});

describe("renderSchematicYaml", () => {
  it("writes customization: {} when nothing is customised", () => {
    expect(renderSchematicYaml({ officialExtensions: [] })).toBe("customization: {}\n");
  });

  it("writes 4-space indentation, kernel args before extensions, given order kept", () => {
    expect(
      renderSchematicYaml({
        officialExtensions: ["siderolabs/qemu-guest-agent", "siderolabs/gvisor"],
        extraKernelArgs: ["console=ttyS0,115200", "-talos.halt_if_installed"],
      }),
    ).toBe(
      [
        "customization:",
        "    extraKernelArgs:",
        "        - console=ttyS0,115200",
        "        - -talos.halt_if_installed",
        "    systemExtensions:",
        "        officialExtensions:",
        "            - siderolabs/qemu-guest-agent",
        "            - siderolabs/gvisor",
        "",
      ].join("\n"),
    );
  });

  it.each([
    [
      "an extension name is not <org>/<name>",
      { officialExtensions: ["qemu-guest-agent"] },
      'officialExtensions[0]: "qemu-guest-agent" is not an extension name; expected <org>/<name> in lower case, e.g. siderolabs/qemu-guest-agent',
    ],
    [
      "an extension is listed twice",
      { officialExtensions: ["siderolabs/gvisor", "siderolabs/gvisor"] },
      'officialExtensions[1]: "siderolabs/gvisor" is listed twice; list each extension once',
    ],
    [
      "a kernel argument would need YAML quoting",
      { officialExtensions: [], extraKernelArgs: ["quiet splash"] },
      'extraKernelArgs[0]: "quiet splash" is not allowed; expected one argument without spaces, such as console=ttyS0,115200 or -talos.halt_if_installed',
    ],
  ] satisfies [string, Schematic, string][])("fails when %s", (_, s, message) => {
    expect(thrownMessage(() => renderSchematicYaml(s))).toBe(`invalid schematic:\n  - ${message}`);
  });

  it("reports every problem at once", () => {
    expect(
      thrownMessage(() =>
        validateSchematic({ officialExtensions: ["Bad"], extraKernelArgs: ["off"] }),
      ),
    ).toBe(
      [
        "invalid schematic:",
        '  - officialExtensions[0]: "Bad" is not an extension name; expected <org>/<name> in lower case, e.g. siderolabs/qemu-guest-agent',
        '  - extraKernelArgs[0]: "off" is not allowed; expected one argument without spaces, such as console=ttyS0,115200 or -talos.halt_if_installed',
      ].join("\n"),
    );
  });
});

describe("extensionsFor", () => {
  it.each([
    ["nothing", none, []],
    ["the guest agent", { ...none, guestAgent: true }, ["siderolabs/qemu-guest-agent"]],
    ["gVisor", { ...none, gvisor: true }, ["siderolabs/gvisor"]],
    ["Kata", { ...none, kata: true }, ["siderolabs/kata-containers"]],
    [
      "NVIDIA (modules and toolkit together)",
      { ...none, nvidia: true },
      [
        "siderolabs/nvidia-container-toolkit-production",
        "siderolabs/nvidia-open-gpu-kernel-modules-production",
      ],
    ],
    [
      "everything",
      { guestAgent: true, gvisor: true, kata: true, nvidia: true },
      [
        "siderolabs/gvisor",
        "siderolabs/kata-containers",
        "siderolabs/nvidia-container-toolkit-production",
        "siderolabs/nvidia-open-gpu-kernel-modules-production",
        "siderolabs/qemu-guest-agent",
      ],
    ],
  ] satisfies [string, ImageFeatures, string[]][])("lists %s", (_, features, expected) => {
    expect(extensionsFor(features)).toEqual(expected);
  });

  it("is always sorted and uses only known extensions", () => {
    const known = new Set<string>(Object.values(OfficialExtension));
    fc.assert(
      fc.property(
        fc.record({
          guestAgent: fc.boolean(),
          gvisor: fc.boolean(),
          kata: fc.boolean(),
          nvidia: fc.boolean(),
        }),
        (features) => {
          const names = extensionsFor(features);
          expect([...names].sort()).toEqual(names);
          expect(names.every((n) => known.has(n))).toBe(true);
          // The same features always give the same image.
          expect(schematicId({ officialExtensions: extensionsFor({ ...features }) })).toBe(
            schematicId({ officialExtensions: names }),
          );
        },
      ),
    );
  });

  it("gives the known ID for a guest-agent-only image", () => {
    expect(schematicId({ officialExtensions: extensionsFor({ ...none, guestAgent: true }) })).toBe(
      QEMU_GUEST_AGENT_ID,
    );
  });
});

describe("image references", () => {
  it.each(["v1.13.9", "1.13.9"])("builds the nocloud disk image URL from %s", (version) => {
    expect(factoryImageUrl(QEMU_GUEST_AGENT_ID, version)).toBe(
      `https://factory.talos.dev/image/${QEMU_GUEST_AGENT_ID}/v1.13.9/nocloud-amd64.raw.gz`,
    );
  });

  it.each(["v1.13.9", "1.13.9"])("builds the nocloud installer image from %s", (version) => {
    expect(installerImage(QEMU_GUEST_AGENT_ID, version)).toBe(
      `factory.talos.dev/nocloud-installer/${QEMU_GUEST_AGENT_ID}:v1.13.9`,
    );
  });

  it("keeps pre-release suffixes", () => {
    expect(normalizeTalosVersion("v1.14.0-beta.1")).toBe("v1.14.0-beta.1");
  });

  it("fails when the Talos version is not vX.Y.Z", () => {
    expect(thrownMessage(() => installerImage(EMPTY_ID, "latest"))).toBe(
      'talosVersion: "latest" is not a Talos release; expected vX.Y.Z such as v1.13.9',
    );
  });

  it("fails when the schematic ID is not 64 hex characters", () => {
    expect(thrownMessage(() => factoryImageUrl("ce4c98", "v1.13.9"))).toBe(
      'schematicId: "ce4c98" is not a schematic ID; expected 64 lower-case hex characters',
    );
  });
});
