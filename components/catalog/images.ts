/**
 * Every container image the platform runs that is not built by the program itself, by
 * repository, tag and, where it is recorded, digest. Each tag has a `renovate:` comment above it
 * (see charts.ts); tags that are not plain versions say how Renovate reads them (`versioning=`).
 *
 * A digest is written only when it is read from an authoritative record of the registry: for
 * Docker official images, docker-library/repo-info (`repos/<name>/remote/<tag>.md`, the index
 * digest of every platform). Renovate updates a digest together with its tag. An image without a
 * digest says why (`byTag`); the workloads that run it carry that reason as their exemption from
 * `image-digest-preferred`, so it is reviewed where it applies. To pin one, read the index digest
 * (`docker buildx imagetools inspect <repository>:<tag>`), add `digest:` and remove `byTag`.
 */
export interface ImagePin {
  readonly repository: string;
  readonly tag: string;
  /** The digest of the tag's image index (`sha256:` and 64 hex digits). */
  readonly digest?: string;
  /** Why the image is pinned by tag only (required without a digest). */
  readonly byTag?: string;
}

/** `repository:tag`, with `@digest` when the pin has one. */
export const imageRef = (pin: ImagePin): string =>
  `${pin.repository}:${pin.tag}${pin.digest !== undefined ? `@${pin.digest}` : ""}`;

/** Why an image of the catalog runs by tag, when it does. */
const NO_RECORD =
  "no published record of this tag's index digest to confirm it against (Docker official images have one in docker-library/repo-info); by tag until the digest is read from the registry";

export const IMAGES = {
  cloudflared: {
    repository: "cloudflare/cloudflared",
    // renovate: datasource=docker depName=cloudflare/cloudflared
    tag: "2025.10.1",
    byTag: NO_RECORD,
  },
  kubeletServingCertApprover: {
    repository: "ghcr.io/alex1989hu/kubelet-serving-cert-approver",
    // renovate: datasource=docker depName=ghcr.io/alex1989hu/kubelet-serving-cert-approver
    tag: "0.11.0",
    byTag: NO_RECORD,
  },
  valkey: {
    repository: "valkey/valkey",
    // renovate: datasource=docker depName=valkey/valkey
    tag: "8.1.4",
    byTag: NO_RECORD,
  },
  rabbitmq: {
    repository: "rabbitmq",
    // renovate: datasource=docker depName=rabbitmq
    tag: "4.1.8",
    // docker-library/repo-info repos/rabbitmq/remote/4.1.8.md (OCI index, 12 platforms)
    digest: "sha256:13b585c6d193b7539c72b69a3b284635011e187b952e43e92d771535baff5d87",
  },
  vllm: {
    repository: "vllm/vllm-openai",
    // renovate: datasource=docker depName=vllm/vllm-openai
    tag: "v0.11.0",
    byTag: NO_RECORD,
  },
  ollama: {
    repository: "ollama/ollama",
    // renovate: datasource=docker depName=ollama/ollama
    tag: "0.12.6",
    byTag: NO_RECORD,
  },
  llamacpp: {
    repository: "ghcr.io/ggml-org/llama.cpp",
    // renovate: datasource=docker depName=ghcr.io/ggml-org/llama.cpp versioning=regex:^server-b(?<major>\d+)$
    tag: "server-b7010",
    byTag: NO_RECORD,
  },
  llamacppCuda: {
    repository: "ghcr.io/ggml-org/llama.cpp",
    // renovate: datasource=docker depName=ghcr.io/ggml-org/llama.cpp versioning=regex:^server-cuda-b(?<major>\d+)$
    tag: "server-cuda-b7010",
    byTag: NO_RECORD,
  },
  modelRunner: {
    repository: "docker/model-runner",
    // renovate: datasource=docker depName=docker/model-runner
    tag: "v1.2.6",
    byTag: NO_RECORD,
  },
  modelRunnerCuda: {
    repository: "docker/model-runner",
    // renovate: datasource=docker depName=docker/model-runner
    tag: "v1.2.6-cuda",
    byTag: NO_RECORD,
  },
  /**
   * The model gateway: LiteLLM's proxy (BerriAI/litellm v1.110.4), the image that runs as
   * `nobody` (docker/Dockerfile.non_root: UID 65534 on its Wolfi base).
   */
  litellm: {
    repository: "ghcr.io/berriai/litellm-non_root",
    // renovate: datasource=docker depName=ghcr.io/berriai/litellm-non_root
    tag: "v1.110.4",
    byTag: NO_RECORD,
  },
  /** Pre-pulls Hugging Face weights into a model's cache volume. */
  prepullPython: {
    repository: "python",
    // renovate: datasource=docker depName=python
    tag: "3.12-slim-bookworm",
    // docker-library/repo-info repos/python/remote/3.12-slim-bookworm.md (Python 3.12.14)
    digest: "sha256:0f5b26b9518d002b6173fd61daad821fa340635ebfec5bba471013f9ca114579",
  },
  /** Asks Docker Model Runner to pull an OCI model. */
  curl: {
    repository: "curlimages/curl",
    // renovate: datasource=docker depName=curlimages/curl
    tag: "8.16.0",
    byTag: NO_RECORD,
  },
  /**
   * The local-path provisioner's helper pod, which creates and removes volume directories (its
   * chart defaults to busybox:latest).
   */
  busybox: {
    repository: "docker.io/library/busybox",
    // renovate: datasource=docker depName=docker.io/library/busybox
    tag: "1.37.0",
    // docker-library/repo-info repos/busybox/remote/1.37.0.md
    digest: "sha256:9db7b59979c38555a39def84a31fb98b5296952f9e3afd4f6f11f05b07adfab0",
  },
} as const satisfies Record<string, ImagePin>;

/**
 * The reason a set of image references runs by tag, for the workloads' exemption from
 * `image-digest-preferred`: one clause per catalog image without a digest. Images outside the
 * catalog (the stack's own) get no reason, so their findings stand.
 */
export function byTagReason(refs: readonly string[]): string | undefined {
  const pins: readonly ImagePin[] = Object.values(IMAGES);
  const reasons = [...new Set(refs)]
    .filter((ref) => !ref.includes("@"))
    .flatMap((ref) => {
      const pin = pins.find((p) => imageRef(p) === ref);
      return pin?.byTag !== undefined ? [`${ref}: ${pin.byTag}`] : [];
    });
  return reasons.length > 0 ? reasons.sort().join("; ") : undefined;
}

/** Packages installed into pinned images at run time. */
export const PACKAGES = {
  // renovate: datasource=pypi depName=huggingface_hub
  huggingFaceHub: "0.35.3",
} as const;
