import * as path from "node:path";
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";

export interface ContainerImageArgs {
  /** Image repository name, appended to the registry (`<registry>/<name>`). */
  readonly name: string;
  /** Registry and namespace images are pushed to and cached in, e.g. `ghcr.io/acme`. */
  readonly registry: string;
  /** Build context directory, relative to the project. */
  readonly context: string;
  /**
   * Dockerfile, relative to the context.
   * @default Dockerfile
   */
  readonly dockerfile?: string;
  /**
   * Stage to build.
   * @default - the last stage
   */
  readonly target?: string;
  /**
   * Platforms to build for.
   * @default ["linux/amd64"]
   */
  readonly platforms?: readonly ("linux/amd64" | "linux/arm64")[];
  /** The source revision the image is built from; its tag. Never `latest`. */
  readonly revision: string;
  /**
   * Build arguments (plain, visible in the image history: never put secrets here).
   * @default {}
   */
  readonly buildArgs?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * BuildKit secrets, mounted during `RUN --mount=type=secret` and never stored in a layer.
   * @default {}
   */
  readonly secrets?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * Registry credentials.
   * @default - the Docker credentials of the machine running pulumi
   */
  readonly registryAuth?: { readonly username: string; readonly password: pulumi.Input<string> };
  /**
   * Build during `pulumi preview` too.
   * @default false
   */
  readonly buildOnPreview?: boolean;
}

/** The image repository, tags and cache reference of a build. Pure; rejects moving tags. */
export function imageNaming(args: Pick<ContainerImageArgs, "name" | "registry" | "revision">) {
  const revision = args.revision.trim();
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(revision) || revision === "latest") {
    throw new Error(
      `image ${args.name}: revision ${JSON.stringify(args.revision)} is not a usable tag (a source revision such as a commit id; never "latest")`,
    );
  }
  const repository = `${args.registry.replace(/\/$/, "")}/${args.name}`;
  return {
    repository,
    tags: [`${repository}:${revision}`],
    cacheRef: `${repository}:buildcache`,
  };
}

/**
 * A container image built with BuildKit (multi-stage target, platforms), pushed to the registry
 * with a registry cache (mode max, so intermediate stages are cached too) and tagged with the
 * source revision. Workloads use `ref`, the digest reference, so a rebuild rolls them.
 */
export class ContainerImage extends pulumi.ComponentResource {
  public readonly repository: string;
  /** `<repository>@sha256:...`: what workloads run. */
  public readonly ref: pulumi.Output<string>;
  public readonly digest: pulumi.Output<string>;

  constructor(name: string, args: ContainerImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homebrew-dev:build:Image", name, {}, opts);
    const naming = imageNaming(args);
    this.repository = naming.repository;
    const context = args.context;
    const secrets = Object.fromEntries(
      Object.entries(args.secrets ?? {}).map(([k, v]) => [k, pulumi.secret(v)]),
    );
    const image = new dockerBuild.Image(
      `${name}-image`,
      {
        context: { location: context },
        dockerfile: { location: path.posix.join(context, args.dockerfile ?? "Dockerfile") },
        ...(args.target !== undefined ? { target: args.target } : {}),
        platforms: [...(args.platforms ?? ["linux/amd64"])],
        buildArgs: { ...(args.buildArgs ?? {}), SOURCE_REVISION: args.revision },
        secrets,
        push: true,
        tags: naming.tags,
        cacheFrom: [{ registry: { ref: naming.cacheRef } }],
        cacheTo: [
          {
            registry: {
              ref: naming.cacheRef,
              mode: "max",
              imageManifest: true,
              ociMediaTypes: true,
            },
          },
        ],
        buildOnPreview: args.buildOnPreview ?? false,
        ...(args.registryAuth !== undefined
          ? {
              registries: [
                {
                  address: naming.repository.split("/")[0]!,
                  username: args.registryAuth.username,
                  password: pulumi.secret(args.registryAuth.password),
                },
              ],
            }
          : {}),
        labels: {
          "org.opencontainers.image.revision": args.revision,
          "org.opencontainers.image.source": context,
        },
      },
      { parent: this },
    );
    this.digest = image.digest;
    this.ref = pulumi.interpolate`${naming.repository}@${image.digest}`;
    this.registerOutputs({ ref: this.ref, digest: this.digest });
  }
}
