/**
 * Every container image the platform runs that is not built by the program itself, by
 * repository and tag. Each tag has a `renovate:` comment above it (see charts.ts); tags that are
 * not plain versions say how Renovate reads them (`versioning=`).
 */
export interface ImagePin {
  readonly repository: string;
  readonly tag: string;
}

/** `repository:tag` of a pin. */
export const imageRef = (pin: ImagePin): string => `${pin.repository}:${pin.tag}`;

export const IMAGES = {
  cloudflared: {
    repository: "cloudflare/cloudflared",
    // renovate: datasource=docker depName=cloudflare/cloudflared
    tag: "2025.10.1",
  },
  kubeletServingCertApprover: {
    repository: "ghcr.io/alex1989hu/kubelet-serving-cert-approver",
    // renovate: datasource=docker depName=ghcr.io/alex1989hu/kubelet-serving-cert-approver
    tag: "0.11.0",
  },
  valkey: {
    repository: "valkey/valkey",
    // renovate: datasource=docker depName=valkey/valkey
    tag: "8.1.4",
  },
  rabbitmq: {
    repository: "rabbitmq",
    // renovate: datasource=docker depName=rabbitmq
    tag: "4.1.4",
  },
  vllm: {
    repository: "vllm/vllm-openai",
    // renovate: datasource=docker depName=vllm/vllm-openai
    tag: "v0.11.0",
  },
  ollama: {
    repository: "ollama/ollama",
    // renovate: datasource=docker depName=ollama/ollama
    tag: "0.12.6",
  },
  llamacpp: {
    repository: "ghcr.io/ggml-org/llama.cpp",
    // renovate: datasource=docker depName=ghcr.io/ggml-org/llama.cpp versioning=regex:^server-b(?<major>\d+)$
    tag: "server-b7010",
  },
  llamacppCuda: {
    repository: "ghcr.io/ggml-org/llama.cpp",
    // renovate: datasource=docker depName=ghcr.io/ggml-org/llama.cpp versioning=regex:^server-cuda-b(?<major>\d+)$
    tag: "server-cuda-b7010",
  },
  modelRunner: {
    repository: "docker/model-runner",
    // renovate: datasource=docker depName=docker/model-runner
    tag: "v1.2.6",
  },
  modelRunnerCuda: {
    repository: "docker/model-runner",
    // renovate: datasource=docker depName=docker/model-runner
    tag: "v1.2.6-cuda",
  },
  /** Pre-pulls Hugging Face weights into a model's cache volume. */
  prepullPython: {
    repository: "python",
    // renovate: datasource=docker depName=python
    tag: "3.12-slim-bookworm",
  },
  /** Asks Docker Model Runner to pull an OCI model. */
  curl: {
    repository: "curlimages/curl",
    // renovate: datasource=docker depName=curlimages/curl
    tag: "8.16.0",
  },
} as const satisfies Record<string, ImagePin>;

/** Packages installed into pinned images at run time. */
export const PACKAGES = {
  // renovate: datasource=pypi depName=huggingface_hub
  huggingFaceHub: "0.35.3",
} as const;
