import type { ModelEngineName } from "../catalog/engines";
import type { RuntimeName } from "../catalog/runtimes";

/**
 * One model server's settings: what the model-serving components take, declared here rather than
 * borrowed from the stack schema (a stack's `models[]` entry satisfies it as it is).
 */
export interface ModelSpec {
  /** Name of the model server (its StatefulSet, Service and label). */
  readonly name: string;
  readonly engine: ModelEngineName;
  /** Exactly one of `huggingFace`, `oci` and `ollama`; `file` picks a file in a Hugging Face repo. */
  readonly source: {
    readonly huggingFace?: string | undefined;
    readonly oci?: string | undefined;
    readonly ollama?: string | undefined;
    readonly file?: string | undefined;
  };
  /** GPUs per replica; 0 for CPU serving. */
  readonly gpus: number;
  /** @default - nvidia with GPUs, runc otherwise */
  readonly runtime?: "runc" | RuntimeName | undefined;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** @default - 1800 with GPUs, 600 without */
  readonly startupTimeoutSeconds?: number | undefined;
  /** Requests waiting per replica the autoscaler keeps replicas at (engines that report a queue). */
  readonly targetWaitingRequests: number;
  /** KV-cache use in percent the autoscaler keeps replicas below (engines that report it). */
  readonly targetKvCacheUsage: number;
  /** CPU utilisation the autoscaler keeps replicas at, in percent (engines that report no queue). */
  readonly targetCpuUtilization: number;
  /** @default - unmeasured (the startup probe's budget) */
  readonly coldStartSeconds?: number | undefined;
  /** Model cache volume in GiB. */
  readonly cacheGiB: number;
  /** @default - the engine's default */
  readonly cpu?: number | undefined;
  /** @default - the engine's default */
  readonly memoryMiB?: number | undefined;
  /** @default - the engine's default */
  readonly contextLength?: number | undefined;
}
