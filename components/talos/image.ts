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
  /** Proxmox hosts that need the image, in the stack's host order. */
  readonly hosts: readonly ImageHost[];
  /**
   * Every host of the stack in stack order: on a shared datastore the first of them downloads.
   * @default - the hosts that need the image
   */
  readonly allHosts?: readonly ImageHost[];
  /**
   * Datastores every host sees as one (CephFS, NFS): a file there exists once.
   * @default []
   */
  readonly sharedDatastores?: readonly string[];
}

/** Where one copy of an image is downloaded: by which host, and under which resource name suffix. */
export interface ImageDownload {
  /** The downloading host and its datastore. */
  readonly from: ImageHost;
  /** The host, or the shared datastore, the download is named after. */
  readonly key: string;
  /** On a shared datastore: the host whose own download this one was before (its alias). */
  readonly was?: string;
}

/**
 * The download that serves each host needing the image: its own; on a shared datastore, one made
 * by the first host of the stack on that datastore (whichever hosts run nodes, so that moving
 * nodes never moves it), which takes over the download of the first host needing it (the one it
 * had before the datastore was declared shared). Pure.
 */
export function imageDownloads(
  hosts: readonly ImageHost[],
  sharedDatastores: readonly string[] = [],
  allHosts: readonly ImageHost[] = hosts,
): Record<string, ImageDownload> {
  const out: Record<string, ImageDownload> = {};
  for (const h of hosts) {
    if (!sharedDatastores.includes(h.datastoreId)) {
      out[h.name] = { from: h, key: h.name };
      continue;
    }
    const first = allHosts.find((a) => a.datastoreId === h.datastoreId) ?? h;
    const was = hosts.find((a) => a.datastoreId === h.datastoreId) ?? h;
    out[h.name] = { from: first, key: h.datastoreId, was: was.name };
  }
  return out;
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
  public readonly fileIds: Readonly<Record<string, string>>;
  /** The download each host's VMs wait for, per host name. */
  public readonly downloads: Readonly<Record<string, pulumi.Resource>>;

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

    const fileName = imageFileName(id, version);
    const fileIds: Record<string, string> = {};
    const downloads: Record<string, pulumi.Resource> = {};
    const byKey = new Map<string, proxmoxve.download.File>();
    const plan = imageDownloads(args.hosts, args.sharedDatastores, args.allHosts);
    for (const [hostName, { from, key, was }] of Object.entries(plan)) {
      let file = byKey.get(key);
      if (file === undefined) {
        file = new proxmoxve.download.File(
          `${name}-${key}`,
          {
            nodeName: from.name,
            datastoreId: from.datastoreId,
            // Proxmox imports disk images from the iso content type; it cannot decompress xz,
            // so the factory's gzip image is fetched and unpacked by Proxmox.
            contentType: "iso",
            url: factoryImageUrl(id, version),
            fileName,
            decompressionAlgorithm: "gz",
            overwrite: false,
          },
          // A replacement that keeps the file name (another downloading host on a shared
          // datastore) must delete first: create would find the file, and the old delete would
          // remove the new one. VMs are made from a copy and do not need the file afterwards.
          {
            parent: this,
            dependsOn: [registration],
            deleteBeforeReplace: true,
            // On a shared datastore: the download its first host had before shared datastores
            // were declared (the same file).
            ...(was !== undefined ? { aliases: [{ name: `${name}-${was}` }] } : {}),
          },
        );
        byKey.set(key, file);
      }
      fileIds[hostName] = `${from.datastoreId}:iso/${fileName}`;
      downloads[hostName] = file;
    }
    this.downloads = downloads;
    this.fileIds = fileIds;
    this.registerOutputs({ schematicId: id, installerImage: this.installerImage });
  }
}
