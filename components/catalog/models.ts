/**
 * What a model needs of a GPU, for the models the shipped stacks serve, read from each
 * repository's `config.json` and its weights on Hugging Face (the parameter count is the sum of
 * the checkpoint's tensors: `model.safetensors.index.json`'s `total_size` divided by the bytes of
 * its dtype). A model outside this table is served but its GPU memory is not checked (the plan
 * says so).
 */
export interface ModelFacts {
  /** Parameters of the checkpoint. */
  readonly parameters: number;
  /** `torch_dtype` of config.json. */
  readonly dtype: "bfloat16" | "float16" | "float32";
  /** `num_hidden_layers`. */
  readonly layers: number;
  /** `num_key_value_heads` (grouped-query attention); `num_attention_heads` where absent. */
  readonly kvHeads: number;
  /** `head_dim`, or `hidden_size / num_attention_heads`. */
  readonly headDim: number;
  /** The longest context the model is configured for (`max_position_embeddings`, no rope scaling). */
  readonly maxContext: number;
  /**
   * Whether the model attends causally and so keeps a KV cache; an encoder (an embedding model
   * such as XLM-RoBERTa) keeps none.
   */
  readonly kvCache: boolean;
}

export const MODEL_FACTS: Readonly<Record<string, ModelFacts>> = {
  // huggingface.co/Qwen/Qwen2.5-7B-Instruct: config.json (Qwen2ForCausalLM, hidden_size 3584,
  // 28 heads, 4 KV heads, 28 layers, max_position_embeddings 32768, bfloat16, no rope_scaling);
  // model.safetensors.index.json total_size 15231233024 bytes.
  "Qwen/Qwen2.5-7B-Instruct": {
    parameters: 7_615_616_512,
    dtype: "bfloat16",
    layers: 28,
    kvHeads: 4,
    headDim: 128,
    maxContext: 32_768,
    kvCache: true,
  },
  // huggingface.co/BAAI/bge-m3: config.json (XLMRobertaModel, hidden_size 1024, 16 heads,
  // 24 layers, max_position_embeddings 8194, float32); 567754752 parameters (2.27 GB in float32).
  "BAAI/bge-m3": {
    parameters: 567_754_752,
    dtype: "float32",
    layers: 24,
    kvHeads: 16,
    headDim: 64,
    maxContext: 8_194,
    kvCache: false,
  },
};

/**
 * vLLM's `--gpu-memory-utilization` default: the share of each GPU's memory vLLM takes for the
 * weights, activations and KV cache (vllm/config/cache.py at v0.11.0, `gpu_memory_utilization:
 * float = 0.9`). The platform does not set the flag.
 */
export const VLLM_GPU_MEMORY_UTILIZATION = 0.9;

/**
 * The bytes per value vLLM keeps a checkpoint's weights and KV cache in with `--dtype auto` (its
 * default) on a CUDA GPU: the config's 16-bit dtype, and a float32 checkpoint downcast to 16 bits
 * (vllm/config/model.py `_resolve_auto_dtype` at v0.11.0: "Downcast for float32 models").
 */
export const VLLM_AUTO_DTYPE_BYTES = 2;

/** Bytes of KV cache one token takes: keys and values of every layer, in the model's dtype. */
export const kvBytesPerToken = (f: ModelFacts): number =>
  f.kvCache ? 2 * f.layers * f.kvHeads * f.headDim * VLLM_AUTO_DTYPE_BYTES : 0;

/**
 * What vLLM needs at least to start with a context length on `gpus` GPUs of `gpuMemoryGiB` each:
 * the weights plus one sequence of the full context in the KV cache (vLLM v0.11.0 refuses to start
 * otherwise: vllm/v1/core/kv_cache_utils.py `check_enough_kv_cache_memory`), against the share of
 * GPU memory it takes. Activations and the CUDA graphs come on top, so a shortfall here is certain
 * and a fit is necessary, not sufficient.
 */
export function vllmMemory(
  f: ModelFacts,
  contextLength: number,
  gpus: number,
  gpuMemoryGiB: number,
): { readonly neededGiB: number; readonly weightsGiB: number; readonly availableGiB: number } {
  const GiB = 1024 ** 3;
  const weights = f.parameters * VLLM_AUTO_DTYPE_BYTES;
  const kv = kvBytesPerToken(f) * contextLength;
  return {
    neededGiB: (weights + kv) / GiB,
    weightsGiB: weights / GiB,
    availableGiB: gpus * gpuMemoryGiB * VLLM_GPU_MEMORY_UTILIZATION,
  };
}
