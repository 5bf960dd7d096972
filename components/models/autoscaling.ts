import { ENGINES } from "../catalog/engines";
import type { ModelSpec } from "./spec";

/**
 * How a model server scales: a KEDA ScaledObject (keda.sh/v1alpha1, KEDA v2.20.2) on what
 * saturates an inference server, the engine's own queue and KV-cache gauges read from Prometheus,
 * with CPU only for engines that export no such metric. A model whose minimum is 0 is woken by the
 * HTTP add-on's interceptor, which counts the requests it holds for the model and pushes "active"
 * to KEDA (the `external-push` trigger), so the first request starts a replica.
 */

/** The annotation by which a ScaledObject takes over an existing HPA (KEDA v2.20.2). */
export const TRANSFER_HPA_ANNOTATION = "scaledobject.keda.sh/transfer-hpa-ownership";

/** The label the model PodMonitor copies from each pod onto its series (`podTargetLabels`). */
export const SERIES_INSTANCE_LABEL = "app_kubernetes_io_instance";

/** Seconds a model keeps its last replica after its last request before it scales to zero. */
export const SCALE_TO_ZERO_AFTER_SECONDS = 900;

/**
 * In-flight requests per replica the interceptor's count adds replicas at, for models that scale
 * to zero: far above the queue target, so the engine's queue decides and this count wakes.
 */
export const WAKE_CONCURRENCY_TARGET = 100;

export interface ScalingContext {
  /** Namespace of the model servers (the `namespace` label of their series). */
  readonly namespace: string;
  /**
   * Prometheus's base URL, when the stack runs it (KEDA's scaler adds `/api/v1/query`).
   * @default - no Prometheus: every model scales on CPU
   */
  readonly prometheus?: string;
  /**
   * The HTTP add-on's external scaler (`host:port`), for models whose minimum is 0.
   * @default - none: a minimum of 0 is refused
   */
  readonly wakeScaler?: string;
}

/** A KEDA trigger as the ScaledObject CRD takes it: metadata values are strings. */
export interface Trigger {
  readonly type: "prometheus" | "cpu" | "external-push";
  readonly name: string;
  readonly metricType?: "AverageValue" | "Value" | "Utilization";
  readonly metadata: Readonly<Record<string, string>>;
}

/** The seconds the startup probe gives a model to load (the stack's `startupTimeoutSeconds`). */
export const startupBudgetSeconds = (
  m: Pick<ModelSpec, "gpus" | "startupTimeoutSeconds">,
): number => m.startupTimeoutSeconds ?? (m.gpus > 0 ? 1800 : 600);

/** The name of a model's InterceptorRoute (what the `external-push` trigger names). */
export const wakeRouteName = (m: Pick<ModelSpec, "name">): string => m.name;

/** The PromQL selector of one model's series. */
export const seriesSelector = (m: Pick<ModelSpec, "name">, namespace: string): string =>
  `{namespace="${namespace}",${SERIES_INSTANCE_LABEL}="${m.name}"}`;

/** What the autoscaler of a model reads, in the order of the ScaledObject's triggers. */
export function scalingTriggers(m: ModelSpec, ctx: ScalingContext): Trigger[] {
  const e = ENGINES[m.engine];
  const triggers: Trigger[] = [];
  const sel = seriesSelector(m, ctx.namespace);
  if (e.saturation !== undefined && ctx.prometheus !== undefined) {
    // AverageValue: the HPA keeps sum(waiting) / replicas at the target
    // (pkg/scalers/prometheus_scaler.go; a query must return one series, hence sum).
    triggers.push({
      type: "prometheus",
      name: "queue",
      metricType: "AverageValue",
      metadata: {
        serverAddress: ctx.prometheus,
        query: `sum(${e.saturation.waiting}${sel})`,
        threshold: String(m.targetWaitingRequests),
        // Requests waiting mean the model is busy; none waiting is not a reason to wake it.
        activationThreshold: "0",
      },
    });
    if (e.saturation.kvCacheUsage !== undefined) {
      // Value: the HPA compares the replicas' mean use itself with the target.
      triggers.push({
        type: "prometheus",
        name: "kv-cache",
        metricType: "Value",
        metadata: {
          serverAddress: ctx.prometheus,
          query: `avg(${e.saturation.kvCacheUsage}${sel})`,
          threshold: String(m.targetKvCacheUsage / 100),
          activationThreshold: "0",
        },
      });
    }
  } else {
    triggers.push({
      type: "cpu",
      name: "cpu",
      metricType: "Utilization",
      metadata: { value: String(m.targetCpuUtilization) },
    });
  }
  if (m.minReplicas === 0) {
    if (ctx.wakeScaler === undefined) {
      throw new Error(`model "${m.name}" scales to zero, but nothing wakes it`);
    }
    triggers.push({
      type: "external-push",
      name: "wake",
      metadata: { scalerAddress: ctx.wakeScaler, interceptorRoute: wakeRouteName(m) },
    });
  }
  return triggers;
}

/** The ScaledObject of a model's StatefulSet; the HPA KEDA makes of it is named after the model. */
export function scaledObjectSpec(m: ModelSpec, ctx: ScalingContext) {
  return {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "StatefulSet", name: m.name },
    minReplicaCount: m.minReplicas,
    maxReplicaCount: m.maxReplicas,
    pollingInterval: 15,
    // From the last active trigger to zero replicas (only with a minimum of 0).
    cooldownPeriod: SCALE_TO_ZERO_AFTER_SECONDS,
    // A new model's first replica downloads and loads the weights before it may sleep: KEDA
    // would otherwise scale it to zero at once (initialCooldownPeriod defaults to 0).
    ...(m.minReplicas === 0
      ? { initialCooldownPeriod: startupBudgetSeconds(m) + SCALE_TO_ZERO_AFTER_SECONDS }
      : {}),
    advanced: {
      horizontalPodAutoscalerConfig: {
        name: m.name,
        // Loading weights takes minutes: scale down slowly so replicas are not churned.
        behavior: { scaleDown: { stabilizationWindowSeconds: 900 } },
      },
    },
    triggers: scalingTriggers(m, ctx).map((t) => ({ ...t })),
  };
}

/**
 * The InterceptorRoute (http.keda.sh/v1beta1, http-add-on v0.15.0) that holds requests for a model
 * scaled to zero: requests whose Host is the model's wake name go to its Service once it has a
 * ready endpoint, or get 504 after `wakeTimeoutSeconds` (interceptor/middleware/endpoint_resolver.go).
 * The interceptor dials the Service port's number (interceptor/middleware/routing.go).
 */
export function interceptorRouteSpec(
  m: ModelSpec,
  wakeHost: string,
  wakeTimeoutSeconds: number,
  requestTimeoutSeconds: number,
) {
  return {
    target: { service: m.name, port: ENGINES[m.engine].port },
    rules: [{ hosts: [wakeHost] }],
    scalingMetric: { concurrency: { targetValue: WAKE_CONCURRENCY_TARGET } },
    timeouts: {
      readiness: `${wakeTimeoutSeconds}s`,
      // Streams last as long as a generation: the gateway's timeout bounds them, not this hop's.
      request: `${requestTimeoutSeconds}s`,
      responseHeader: `${requestTimeoutSeconds}s`,
    },
  };
}
