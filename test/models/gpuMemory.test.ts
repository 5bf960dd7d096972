import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  kvBytesPerToken,
  MODEL_FACTS,
  VLLM_GPU_MEMORY_UTILIZATION,
  vllmMemory,
} from "../../components/catalog/models";

const qwen = MODEL_FACTS["Qwen/Qwen2.5-7B-Instruct"]!;
const bge = MODEL_FACTS["BAAI/bge-m3"]!;

describe("what vLLM needs of a GPU", () => {
  it("takes the KV cache of a token from the model's layers, KV heads and head size", () => {
    // Keys and values × 28 layers × 4 KV heads × 128 × 2 bytes.
    expect(kvBytesPerToken(qwen)).toBe(57_344);
    // The checkpoint's parameters in bfloat16 are model.safetensors.index.json's total_size.
    expect(qwen.parameters * 2).toBe(15_231_233_024);
    // An encoder keeps no KV cache: its context costs no GPU memory beyond the activations.
    expect(kvBytesPerToken(bge)).toBe(0);
    expect(vllmMemory(bge, 8192, 1, 24).neededGiB).toBeCloseTo(1.06, 2);
  });

  it("prod's chat model fits one 24 GiB GPU at its whole 32k window", () => {
    const m = vllmMemory(qwen, qwen.maxContext, 1, 24);
    expect(m.availableGiB).toBeCloseTo(21.6, 5);
    expect(m.neededGiB).toBeCloseTo(15.94, 2);
  });

  it("needs more with a longer context, and a second GPU doubles what vLLM takes", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.values(MODEL_FACTS)),
        fc.integer({ min: 256, max: 1 << 20 }),
        fc.integer({ min: 1, max: 1 << 20 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 192 }),
        (f, context, more, gpus, gib) => {
          const a = vllmMemory(f, context, gpus, gib);
          const b = vllmMemory(f, context + more, gpus, gib);
          expect(b.neededGiB).toBeGreaterThanOrEqual(a.neededGiB);
          expect(b.neededGiB > a.neededGiB).toBe(f.kvCache);
          expect(vllmMemory(f, context, gpus + 1, gib).availableGiB).toBeCloseTo(
            a.availableGiB + gib * VLLM_GPU_MEMORY_UTILIZATION,
            6,
          );
          expect(a.neededGiB).toBeGreaterThanOrEqual(a.weightsGiB);
        },
      ),
    );
  });
});
