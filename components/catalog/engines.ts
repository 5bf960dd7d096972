import { IMAGES, imageRef } from "./images";

/** The model-serving engines a stack can name. */
export const ENGINE_NAMES = ["vllm", "ollama", "llamacpp", "docker-model-runner"] as const;
export type ModelEngineName = (typeof ENGINE_NAMES)[number];

/**
 * What each serving engine needs: its pinned images, port, the routes of its probes and metrics,
 * how it is told which model to serve, and where its model cache lives. All four speak the
 * OpenAI API; readiness uses the engine's model list where it answers only once a model is
 * loaded, and llama.cpp's /health, which does (its model list answers while loading).
 */
export interface EngineSpec {
  /** Pinned image for CPU-only serving, or undefined when the engine needs a GPU. */
  readonly cpuImage: string | undefined;
  /** Pinned image with CUDA for GPU serving. */
  readonly gpuImage: string;
  readonly port: number;
  /** OpenAI-compatible base path (what clients put before `/chat/completions`). */
  readonly apiBase: string;
  /** Answers 200 once the process is up and the model is loaded (startup probe). */
  readonly startupPath: string;
  /** Answers 200 only once the model is loaded and served (the model list, or llama.cpp's /health). */
  readonly readinessPath: string;
  readonly livenessPath: string;
  /**
   * Whether a path answers without the API key once one is set (the engine's own rule), or
   * undefined when the engine takes no key.
   */
  readonly servesWithoutKey: ((path: string) => boolean) | undefined;
  /** Prometheus metrics route, when the engine exports metrics. */
  readonly metricsPath: string | undefined;
  /**
   * What saturates the server, in its own metrics (gauges): the requests waiting for a slot and,
   * where the engine reports it, the KV cache's use as a fraction of 1. Undefined when the engine
   * exports neither: its autoscaler scales on CPU.
   */
  readonly saturation: { readonly waiting: string; readonly kvCacheUsage?: string } | undefined;
  /** Where the cache volume is mounted. */
  readonly cacheMountPath: string;
  /**
   * Why the engine's server needs a writable root filesystem, or undefined when it runs with a
   * read-only root (HOME and /tmp are writable emptyDirs; the cache is the volume). The reason
   * becomes the workload's exemption from `k8s-read-only-root-filesystem`.
   */
  readonly writableRoot: string | undefined;
  /** Default requests when the stack gives none. */
  readonly defaultCpu: number;
  readonly defaultMemoryMiB: number;
  /** Which model sources the engine can serve. */
  readonly sources: readonly ("huggingFace" | "oci" | "ollama")[];
}

export const ENGINES: Readonly<Record<ModelEngineName, EngineSpec>> = {
  vllm: {
    cpuImage: undefined,
    gpuImage: imageRef(IMAGES.vllm),
    port: 8000,
    apiBase: "/v1",
    startupPath: "/health",
    readinessPath: "/v1/models",
    livenessPath: "/health",
    // vllm/entrypoints/openai/api_server.py AuthenticationMiddleware at v0.11.0: only paths
    // below /v1 need the key (/health and /metrics answer without it).
    servesWithoutKey: (path) => !path.startsWith("/v1"),
    metricsPath: "/metrics",
    // vllm/v1/metrics/loggers.py PrometheusStatLogger at v0.11.0: gauges labelled model_name and
    // engine; the KV cache's use is kv_cache_usage_perc (a fraction despite its name; the older
    // gpu_cache_usage_perc is hidden from 0.11 and removed in 0.12).
    saturation: { waiting: "vllm:num_requests_waiting", kvCacheUsage: "vllm:kv_cache_usage_perc" },
    cacheMountPath: "/models",
    writableRoot:
      "vLLM and the kernel libraries it loads (PyTorch's compiler, Triton, FlashInfer) build and cache kernels at start-up; the paths they write are not all documented, so a read-only root is not claimed for this image",
    defaultCpu: 4,
    defaultMemoryMiB: 24576,
    sources: ["huggingFace"],
  },
  ollama: {
    cpuImage: imageRef(IMAGES.ollama),
    gpuImage: imageRef(IMAGES.ollama),
    port: 11434,
    apiBase: "/v1",
    startupPath: "/",
    readinessPath: "/v1/models",
    livenessPath: "/",
    servesWithoutKey: undefined,
    // server/routes.go at v0.12.6 has no metrics route, and nothing of the server exports
    // Prometheus metrics: its autoscaler scales on CPU.
    metricsPath: undefined,
    saturation: undefined,
    cacheMountPath: "/models",
    // The server writes its key pair below $HOME/.ollama (cmd/cmd.go, initializeKeypair) and
    // models below OLLAMA_MODELS: HOME is /tmp and OLLAMA_MODELS the cache volume.
    writableRoot: undefined,
    defaultCpu: 2,
    defaultMemoryMiB: 8192,
    sources: ["ollama"],
  },
  llamacpp: {
    cpuImage: imageRef(IMAGES.llamacpp),
    gpuImage: imageRef(IMAGES.llamacppCuda),
    port: 8080,
    apiBase: "/v1",
    startupPath: "/health",
    // llama-server answers its model list while the model still loads, and /health with 503
    // until it is loaded (tools/server/server.cpp at b7010): readiness is /health.
    readinessPath: "/health",
    livenessPath: "/health",
    // tools/server/server.cpp at b7010 `public_endpoints`: these answer without the key;
    // everything else needs it.
    servesWithoutKey: (path) =>
      ["/health", "/v1/health", "/models", "/v1/models", "/api/tags"].includes(path),
    metricsPath: "/metrics",
    // tools/server/server.cpp handle_metrics at b7010 (served with --metrics): requests_deferred
    // is the requests waiting for a free slot; it reports no KV-cache use (removed upstream in
    // PR 13660) and no labels.
    saturation: { waiting: "llamacpp:requests_deferred" },
    cacheMountPath: "/models",
    writableRoot: undefined,
    defaultCpu: 2,
    defaultMemoryMiB: 4096,
    sources: ["huggingFace"],
  },
  "docker-model-runner": {
    cpuImage: imageRef(IMAGES.modelRunner),
    gpuImage: imageRef(IMAGES.modelRunnerCuda),
    port: 12434,
    apiBase: "/engines/v1",
    startupPath: "/",
    readinessPath: "/engines/v1/models",
    livenessPath: "/",
    servesWithoutKey: undefined,
    // pkg/server/server.go at v1.2.6 serves /metrics: pkg/metrics/aggregated_handler.go reads the
    // metrics of every running backend (llama.cpp runs with --metrics) and adds backend, model
    // and mode labels.
    metricsPath: "/metrics",
    saturation: { waiting: "llamacpp:requests_deferred" },
    cacheMountPath: "/models",
    writableRoot:
      "Docker Model Runner installs and manages its inference backends at run time and documents no read-only mode; a read-only root is not claimed for this image",
    defaultCpu: 2,
    defaultMemoryMiB: 8192,
    sources: ["oci", "huggingFace"],
  },
};

/**
 * Hugging Face organisations whose every model is gated: the model page asks to accept a license,
 * and downloads need the token of an account that accepted it (an anonymous download gets 401).
 * Meta publishes its Llama models this way (huggingface.co/meta-llama).
 */
export const GATED_HUGGING_FACE_ORGS = ["meta-llama"] as const;

/** Whether a Hugging Face repository (`org/name`) is gated. */
export const isGatedRepo = (repo: string): boolean =>
  (GATED_HUGGING_FACE_ORGS as readonly string[]).includes(repo.split("/")[0] ?? "");
