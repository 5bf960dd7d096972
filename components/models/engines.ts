import type { Model, ModelEngine } from "../config";

/**
 * What each serving engine needs: its pinned images, port, the routes of its probes and metrics,
 * how it is told which model to serve, and where its model cache lives. All four speak the
 * OpenAI API; readiness uses the engine's model list, which answers only once a model is loaded.
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
  /** The OpenAI model list: ready means "model loaded and served". */
  readonly readinessPath: string;
  readonly livenessPath: string;
  /** Prometheus metrics route, when the engine exports metrics. */
  readonly metricsPath: string | undefined;
  /** Where the cache volume is mounted. */
  readonly cacheMountPath: string;
  /** Engines that write caches below $HOME need a writable root filesystem. */
  readonly readOnlyRootFilesystem: boolean;
  /** Default requests when the stack gives none. */
  readonly defaultCpu: number;
  readonly defaultMemoryMiB: number;
  /** Which model sources the engine can serve. */
  readonly sources: readonly ("huggingFace" | "oci" | "ollama")[];
}

export const VLLM_VERSION = "v0.11.0";
export const OLLAMA_VERSION = "0.12.6";
export const LLAMACPP_BUILD = "b7010";
export const MODEL_RUNNER_VERSION = "v1.2.6";

export const ENGINES: Readonly<Record<ModelEngine, EngineSpec>> = {
  vllm: {
    cpuImage: undefined,
    gpuImage: `vllm/vllm-openai:${VLLM_VERSION}`,
    port: 8000,
    apiBase: "/v1",
    startupPath: "/health",
    readinessPath: "/v1/models",
    livenessPath: "/health",
    metricsPath: "/metrics",
    cacheMountPath: "/models",
    readOnlyRootFilesystem: false,
    defaultCpu: 4,
    defaultMemoryMiB: 24576,
    sources: ["huggingFace"],
  },
  ollama: {
    cpuImage: `ollama/ollama:${OLLAMA_VERSION}`,
    gpuImage: `ollama/ollama:${OLLAMA_VERSION}`,
    port: 11434,
    apiBase: "/v1",
    startupPath: "/",
    readinessPath: "/v1/models",
    livenessPath: "/",
    metricsPath: undefined,
    cacheMountPath: "/models",
    readOnlyRootFilesystem: false,
    defaultCpu: 2,
    defaultMemoryMiB: 8192,
    sources: ["ollama"],
  },
  llamacpp: {
    cpuImage: `ghcr.io/ggml-org/llama.cpp:server-${LLAMACPP_BUILD}`,
    gpuImage: `ghcr.io/ggml-org/llama.cpp:server-cuda-${LLAMACPP_BUILD}`,
    port: 8080,
    apiBase: "/v1",
    startupPath: "/health",
    readinessPath: "/v1/models",
    livenessPath: "/health",
    metricsPath: "/metrics",
    cacheMountPath: "/models",
    readOnlyRootFilesystem: true,
    defaultCpu: 2,
    defaultMemoryMiB: 4096,
    sources: ["huggingFace"],
  },
  "docker-model-runner": {
    cpuImage: `docker/model-runner:${MODEL_RUNNER_VERSION}`,
    gpuImage: `docker/model-runner:${MODEL_RUNNER_VERSION}-cuda`,
    port: 12434,
    apiBase: "/engines/v1",
    startupPath: "/",
    readinessPath: "/engines/v1/models",
    livenessPath: "/",
    metricsPath: undefined,
    cacheMountPath: "/models",
    readOnlyRootFilesystem: false,
    defaultCpu: 2,
    defaultMemoryMiB: 8192,
    sources: ["oci", "huggingFace"],
  },
};

/** Image used to pre-pull Hugging Face weights into the cache volume. */
export const PREPULL_PYTHON_IMAGE = "python:3.12-slim-bookworm";
export const HUGGINGFACE_HUB_VERSION = "0.35.3";
/** Image used to ask Docker Model Runner to pull an OCI model. */
export const CURL_IMAGE = "curlimages/curl:8.16.0";

/** The source kind a model names. */
export function sourceKind(m: Model): "huggingFace" | "oci" | "ollama" {
  if (m.source.huggingFace !== undefined) return "huggingFace";
  if (m.source.oci !== undefined) return "oci";
  return "ollama";
}

/** Problems of a model against its engine's table; each names the model. */
export function engineProblems(m: Model): string[] {
  const e = ENGINES[m.engine];
  const problems: string[] = [];
  const kind = sourceKind(m);
  if (!e.sources.includes(kind)) {
    problems.push(
      `model "${m.name}": the ${m.engine} engine serves ${e.sources.join(" or ")} models, not ${kind}`,
    );
  }
  if (m.gpus === 0 && e.cpuImage === undefined) {
    problems.push(`model "${m.name}": the ${m.engine} engine needs a GPU (set gpus >= 1)`);
  }
  if (m.engine === "llamacpp" && kind === "huggingFace" && m.source.file === undefined) {
    problems.push(`model "${m.name}": llama.cpp serves one GGUF file; set source.file`);
  }
  return problems;
}

/** The server's command-line arguments. */
export function engineArgs(m: Model): string[] {
  const e = ENGINES[m.engine];
  switch (m.engine) {
    case "vllm":
      return [
        "--model",
        m.source.huggingFace!,
        "--served-model-name",
        m.name,
        "--host",
        "0.0.0.0",
        "--port",
        String(e.port),
        ...(m.gpus > 1 ? ["--tensor-parallel-size", String(m.gpus)] : []),
        ...(m.contextLength !== undefined ? ["--max-model-len", String(m.contextLength)] : []),
      ];
    case "llamacpp":
      return [
        "--host",
        "0.0.0.0",
        "--port",
        String(e.port),
        "--model",
        `${e.cacheMountPath}/gguf/${m.source.file!}`,
        "--alias",
        m.name,
        "--metrics",
        ...(m.gpus > 0 ? ["--n-gpu-layers", "999"] : []),
        ...(m.contextLength !== undefined ? ["--ctx-size", String(m.contextLength)] : []),
      ];
    case "ollama":
    case "docker-model-runner":
      return [];
    default: {
      const never: never = m.engine;
      throw new Error(`unknown engine ${String(never)}`);
    }
  }
}

/** Environment of the server container (secrets are added by the component). */
export function engineEnv(m: Model): { name: string; value: string }[] {
  const e = ENGINES[m.engine];
  const common = [{ name: "HOME", value: "/tmp" }];
  switch (m.engine) {
    case "vllm":
      return [...common, { name: "HF_HOME", value: `${e.cacheMountPath}/hf` }];
    case "llamacpp":
      return common;
    case "ollama":
      return [
        ...common,
        { name: "OLLAMA_HOST", value: `0.0.0.0:${e.port}` },
        { name: "OLLAMA_MODELS", value: e.cacheMountPath },
      ];
    case "docker-model-runner":
      return [
        ...common,
        { name: "MODEL_RUNNER_PORT", value: String(e.port) },
        { name: "MODELS_PATH", value: e.cacheMountPath },
      ];
    default: {
      const never: never = m.engine;
      throw new Error(`unknown engine ${String(never)}`);
    }
  }
}

/**
 * The pre-pull script for an init container: weights land in the cache volume before the server
 * starts, so a restart or a new replica on the same volume does not download them again.
 */
export function prepullScript(m: Model): string | undefined {
  const e = ENGINES[m.engine];
  const kind = sourceKind(m);
  if (kind === "huggingFace" && m.engine !== "docker-model-runner") {
    const repo = JSON.stringify(m.source.huggingFace);
    const download =
      m.engine === "llamacpp"
        ? `hf_hub_download(${repo}, ${JSON.stringify(m.source.file)}, local_dir="${e.cacheMountPath}/gguf")`
        : `snapshot_download(${repo}, cache_dir="${e.cacheMountPath}/hf/hub")`;
    return [
      "set -eu",
      `pip install --quiet --no-cache-dir --target /tmp/py huggingface_hub==${HUGGINGFACE_HUB_VERSION}`,
      `PYTHONPATH=/tmp/py python -c 'from huggingface_hub import hf_hub_download, snapshot_download; ${download}'`,
    ].join("\n");
  }
  if (kind === "ollama") {
    return [
      "set -eu",
      "ollama serve & server=$!",
      "until ollama list >/dev/null 2>&1; do sleep 1; done",
      `ollama pull ${m.source.ollama!}`,
      'kill "$server"',
    ].join("\n");
  }
  return undefined;
}
