import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import {
  IMAGE_FACTORY_HOST,
  factoryImageUrl,
  installerImage,
  normalizeTalosVersion,
  renderSchematicYaml,
  schematicId,
  type Schematic,
} from "./schematic";

/** Where a host keeps downloaded images. */
export interface ImageHost {
  readonly name: string;
  readonly datastoreId: string;
}

export interface TalosImageArgs {
  /** The extensions baked into the image. Decides the schematic id. */
  readonly schematic: Schematic;
  /** Talos release, e.g. `v1.13.9`. */
  readonly talosVersion: string;
  /** Proxmox hosts that need the image: it is downloaded once per host. */
  readonly hosts: readonly ImageHost[];
}

/** The file name of a downloaded image; carries the schematic and version so they never mix. */
export function imageFileName(id: string, talosVersion: string): string {
  return `talos-${id.slice(0, 12)}-${normalizeTalosVersion(talosVersion)}-nocloud-amd64.img`;
}

/**
 * The shell script that registers a schematic and checks the factory computed the same id as
 * we did locally (a mismatch means our canonical YAML drifted from the factory's).
 */
export function registerSchematicScript(id: string): string {
  return [
    "set -eu",
    `response=$(curl -fsS --retry 3 -X POST --data-binary @- https://${IMAGE_FACTORY_HOST}/schematics)`,
    'case "$response" in',
    `  *'"id":"${id}"'*) echo "schematic ${id} registered" ;;`,
    `  *) echo "the Image Factory answered $response; expected the id ${id}" >&2; exit 1 ;;`,
    "esac",
  ].join("\n");
}

/**
 * A Talos node image for one schematic and version: the schematic registered with the Image
 * Factory, and the `nocloud-amd64.raw.gz` image downloaded (decompressed) onto each host.
 */
export class TalosImage extends pulumi.ComponentResource {
  /** The schematic id, computed locally. */
  public readonly schematicId: string;
  /** The nocloud installer image for `machine.install.image` and upgrades. */
  public readonly installerImage: string;
  /** The downloaded image's file id (`<datastore>:iso/<file>`) per host name. */
  public readonly fileIds: Readonly<Record<string, pulumi.Output<string>>>;

  constructor(name: string, args: TalosImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homebrew-dev:talos:Image", name, {}, opts);
    const version = normalizeTalosVersion(args.talosVersion);
    const id = schematicId(args.schematic);
    this.schematicId = id;
    this.installerImage = installerImage(id, version);

    // The factory serves only schematics it has been told about: an idempotent POST through
    // `curl`, before any host downloads the image.
    const registration = new command.local.Command(
      `${name}-schematic`,
      {
        create: registerSchematicScript(id),
        stdin: renderSchematicYaml(args.schematic),
      },
      { parent: this },
    );

    const fileIds: Record<string, pulumi.Output<string>> = {};
    for (const host of args.hosts) {
      const file = new proxmoxve.download.File(
        `${name}-${host.name}`,
        {
          nodeName: host.name,
          datastoreId: host.datastoreId,
          // Proxmox imports disk images from the iso content type; it cannot decompress xz,
          // so the factory's gzip image is fetched and unpacked by Proxmox.
          contentType: "iso",
          url: factoryImageUrl(id, version),
          fileName: imageFileName(id, version),
          decompressionAlgorithm: "gz",
          overwrite: false,
        },
        { parent: this, dependsOn: [registration] },
      );
      fileIds[host.name] = file.id;
    }
    this.fileIds = fileIds;
    this.registerOutputs({ schematicId: id, installerImage: this.installerImage });
  }
}
