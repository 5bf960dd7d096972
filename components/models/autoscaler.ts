import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS, releaseChart } from "../catalog/charts";
import { KEDA_HTTP_SERVICES, RELEASES } from "../catalog/footprints";

export interface ModelAutoscalerArgs {
  /**
   * Install KEDA's HTTP add-on, whose interceptor holds and wakes requests for models scaled to
   * zero.
   * @default false
   */
  readonly wake?: boolean;
  /**
   * Replicas of the interceptor and of the add-on's scaler (the wake path of every model).
   * @default 2
   */
  readonly wakeReplicas?: number;
}

/** Where KEDA's operator reaches the add-on's external scaler (`host:port`). */
export const wakeScalerAddress = (namespace: string): string =>
  `${KEDA_HTTP_SERVICES.externalScaler.name}.${namespace}:${KEDA_HTTP_SERVICES.externalScaler.port}`;

/** The interceptor proxy's in-cluster name, what a model's wake name resolves to. */
export const interceptorHost = (namespace: string): string =>
  `${KEDA_HTTP_SERVICES.interceptorProxy.name}.${namespace}.svc.cluster.local`;

/**
 * KEDA (kube-system, like every add-on the API server aggregates: it serves the external metrics
 * API the model servers' HPAs read) and, when a model scales to zero, its HTTP add-on. The
 * ScaledObjects and InterceptorRoutes of the models depend on `ready`.
 */
export class ModelAutoscaler extends pulumi.ComponentResource {
  public readonly namespace = "kube-system";
  /** The releases whose CRDs and webhooks the models' scaling objects need. */
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: ModelAutoscalerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homebrew-dev:models:Autoscaler", name, {}, opts);
    const keda = new k8s.helm.v3.Release(
      `${name}-keda`,
      {
        name: RELEASES.keda,
        ...releaseChart(CHARTS.keda),
        namespace: this.namespace,
        // kedacore/charts v2.20.2 keda/values.yaml: the operator, the metrics adapter and the
        // admission webhooks (which refuse a second autoscaler on one workload) are on by default.
        values: { webhooks: { enabled: true }, metricsServer: { enabled: true } },
      },
      { parent: this },
    );
    this.ready = [keda];
    if (args.wake === true) {
      const replicas = args.wakeReplicas ?? 2;
      this.ready.push(
        new k8s.helm.v3.Release(
          `${name}-http-add-on`,
          {
            name: RELEASES.kedaHttp,
            ...releaseChart(CHARTS.kedaHttpAddOn),
            namespace: this.namespace,
            // http-add-on/values.yaml at c4b92e9: the chart scales its interceptor with a
            // ScaledObject of its own (3 to 50 by default) and runs 3 scalers; the requests it
            // holds and the time it holds them are set per route (InterceptorRoute timeouts).
            values: {
              interceptor: { replicas: { min: replicas, max: Math.max(replicas, 10) } },
              scaler: { replicas },
            },
          },
          { parent: this, dependsOn: [keda] },
        ),
      );
    }
    this.registerOutputs({});
  }
}
