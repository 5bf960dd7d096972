import { ENGINES } from "../catalog/engines";
import { PACKAGES } from "../catalog/images";
import type { ModelSpec } from "./spec";

/** The source kind a model names. */
export function sourceKind(m: ModelSpec): "huggingFace" | "oci" | "ollama" {
  if (m.source.huggingFace !== undefined) return "huggingFace";
  if (m.source.oci !== undefined) return "oci";
  return "ollama";
}

/** Problems of a model against its engine's table; each names the model. */
export function engineProblems(m: ModelSpec): string[] {
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
export function engineArgs(m: ModelSpec): string[] {
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
export function engineEnv(m: ModelSpec): { name: string; value: string }[] {
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
export function prepullScript(m: ModelSpec): string | undefined {
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
      `pip install --quiet --no-cache-dir --target /tmp/py huggingface_hub==${PACKAGES.huggingFaceHub}`,
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
