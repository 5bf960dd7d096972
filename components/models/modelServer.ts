import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  appLabels,
  containerSecurityContext,
  exemptionMetadata,
  podSecurityContext,
} from "../kubernetes/podDefaults";
import { runtimeClassName, type Toleration } from "../kubernetes/runtimes";
import { ENGINES } from "../catalog/engines";
import { IMAGES, imageRef } from "../catalog/images";
import { COLD_START_ANNOTATION, METRICS_LABEL, NVIDIA_GPU_PRESENT_LABEL } from "../catalog/labels";
import {
  TRANSFER_HPA_ANNOTATION,
  interceptorRouteSpec,
  scaledObjectSpec,
  startupBudgetSeconds,
  wakeRouteName,
  type ScalingContext,
} from "./autoscaling";
import { engineArgs, engineEnv, prepullScript, sourceKind } from "./engines";
import type { ModelSpec } from "./spec";

/** The label Prometheus selects model servers by. */
export const MODEL_SERVER_COMPONENT = "model-server";

export interface ModelServerArgs {
  /** The model and how it is served. */
  readonly model: ModelSpec;
  /**
   * The RuntimeClass the server runs with (`runtimeClassName(...)` against the pools' runtimes).
   * @default - none (runc)
   */
  readonly runtimeClassName?: string;
  /** Namespace of the model servers. */
  readonly namespace: pulumi.Input<string>;
  /** The StorageClass of the model-cache volumes (the stack's default class). */
  readonly storageClass: string;
  /**
   * Hugging Face token for gated models (a secret).
   * @default - anonymous downloads
   */
  readonly huggingFaceToken?: pulumi.Input<string>;
  /**
   * API key clients must send as a Bearer token (a secret).
   * @default - no key
   */
  readonly apiKey?: pulumi.Input<string>;
  /** What the autoscaler reads (Prometheus, the wake scaler) and the namespace's name. */
  readonly scaling: ScalingContext;
  /**
   * Where a model whose minimum is 0 is woken: the name the gateway dials (an ExternalName
   * Service to the HTTP add-on's interceptor) and how long a request is held.
   * @default - required when `model.minReplicas` is 0
   */
  readonly wake?: {
    /** The interceptor's in-cluster name (`<service>.<namespace>.svc.cluster.local`). */
    readonly interceptor: string;
    readonly timeoutSeconds: number;
    readonly requestTimeoutSeconds: number;
  };
}

/** The Service a model scaled to zero is reached by through the interceptor. */
export const wakeServiceName = (m: Pick<ModelSpec, "name">): string => `${m.name}-wake`;

/** The port the interceptor's proxy serves (http-add-on chart `interceptor.proxy.port`). */
export const INTERCEPTOR_PROXY_PORT = 8080;

/**
 * The `runtimeClassName` argument of a model's server: its runtime (nvidia with GPUs, runc
 * otherwise, unless it names one), which some worker pool must offer.
 */
export function runtimeClassFor(
  m: Pick<ModelSpec, "name" | "gpus" | "runtime">,
  cluster: Parameters<typeof runtimeClassName>[2],
): { runtimeClassName?: string } {
  const runtime = m.runtime ?? (m.gpus > 0 ? "nvidia" : "runc");
  const name = runtimeClassName(`model "${m.name}"`, runtime, cluster);
  return name !== undefined ? { runtimeClassName: name } : {};
}

/** Resources of one replica: requests equal limits for memory; GPUs only as limits. */
export function modelResources(m: ModelSpec) {
  const e = ENGINES[m.engine];
  const cpu = m.cpu ?? e.defaultCpu;
  const memory = `${m.memoryMiB ?? e.defaultMemoryMiB}Mi`;
  return {
    requests: { cpu: String(cpu), memory },
    limits: {
      memory,
      ...(m.gpus > 0 ? { "nvidia.com/gpu": String(m.gpus) } : {}),
    },
  };
}

/**
 * Probes: a long startup (weights download and load), readiness on the model list. The kubelet
 * sends no API key, so with a key set every probe uses a path the engine serves without one
 * (`EngineSpec.servesWithoutKey`): the model list is behind the key on vLLM and llama.cpp, and
 * a probe there would never pass.
 */
export function modelProbes(m: ModelSpec, startupTimeoutSeconds: number, apiKey = false) {
  const e = ENGINES[m.engine];
  const period = 10;
  const open = (path: string) =>
    !apiKey || e.servesWithoutKey === undefined || e.servesWithoutKey(path) ? path : e.livenessPath;
  const probes = {
    startupProbe: {
      httpGet: { path: open(e.startupPath), port: "http" },
      periodSeconds: period,
      failureThreshold: Math.ceil(startupTimeoutSeconds / period),
    },
    readinessProbe: {
      httpGet: { path: open(e.readinessPath), port: "http" },
      periodSeconds: period,
      failureThreshold: 3,
    },
    livenessProbe: {
      httpGet: { path: open(e.livenessPath), port: "http" },
      periodSeconds: 20,
      failureThreshold: 3,
      timeoutSeconds: 5,
    },
  };
  for (const probe of Object.values(probes)) {
    const path = probe.httpGet.path;
    if (apiKey && e.servesWithoutKey !== undefined && !e.servesWithoutKey(path)) {
      throw new Error(
        `${m.engine} answers ${path} only with the API key: the kubelet's probe could never pass`,
      );
    }
  }
  return probes;
}

/** The in-cluster URL of a model's OpenAI API. */
export function modelServiceUrl(m: ModelSpec, namespace: string): string {
  const e = ENGINES[m.engine];
  return `http://${m.name}.${namespace}.svc.cluster.local:${e.port}`;
}

/**
 * One model behind an OpenAI-compatible API: a StatefulSet (each replica keeps its own model cache
 * volume), an init step that pre-pulls the weights, probes that wait for the model, GPU scheduling
 * through the `nvidia` RuntimeClass, a Service, a PodDisruptionBudget and an autoscaler.
 */
export class ModelServer extends pulumi.ComponentResource {
  public readonly serviceName: string;
  public readonly port: number;
  /** The OpenAI base URL inside the cluster. */
  public readonly url: pulumi.Output<string>;

  constructor(name: string, args: ModelServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homebrew-dev:models:ModelServer", name, {}, opts);
    const m = args.model;
    const e = ENGINES[m.engine];
    const gpu = m.gpus > 0;
    // The stack's `models[].startupTimeoutSeconds`: weights take longer to load onto GPUs.
    const startupTimeoutSeconds = startupBudgetSeconds(m);
    const runtimeClass = args.runtimeClassName;
    const parent = { parent: this };
    const { labels, selector } = appLabels({
      name: m.name,
      instance: m.name,
      component: MODEL_SERVER_COMPONENT,
    });
    const meta = { namespace: args.namespace, labels };
    this.serviceName = m.name;
    this.port = e.port;

    const secretData: Record<string, pulumi.Input<string>> = {};
    if (args.huggingFaceToken !== undefined) secretData["HF_TOKEN"] = args.huggingFaceToken;
    if (args.apiKey !== undefined) secretData["API_KEY"] = args.apiKey;
    const secret =
      Object.keys(secretData).length > 0
        ? new k8s.core.v1.Secret(
            `${name}-credentials`,
            {
              metadata: { ...meta, name: `${m.name}-credentials` },
              type: "Opaque",
              stringData: pulumi.secret(secretData),
            },
            parent,
          )
        : undefined;
    const fromSecret = (envName: string, key: string) =>
      secret !== undefined && secretData[key] !== undefined
        ? // By its plain name, waiting for it (below): a replaced Secret replaces nothing.
          [{ name: envName, valueFrom: { secretKeyRef: { name: `${m.name}-credentials`, key } } }]
        : [];
    const apiKeyEnv = {
      vllm: "VLLM_API_KEY",
      llamacpp: "LLAMA_API_KEY",
      ollama: undefined,
      "docker-model-runner": undefined,
    }[m.engine];

    const cache = { name: "cache", mountPath: e.cacheMountPath };
    const scratch = [
      { name: "tmp", emptyDir: {} },
      // PyTorch and NCCL use shared memory between workers; the default 64Mi is far too small.
      ...(m.engine === "vllm"
        ? [{ name: "shm", emptyDir: { medium: "Memory", sizeLimit: "8Gi" } }]
        : []),
    ];
    const mounts = [
      cache,
      { name: "tmp", mountPath: "/tmp" },
      ...(m.engine === "vllm" ? [{ name: "shm", mountPath: "/dev/shm" }] : []),
    ];
    const security = containerSecurityContext({
      readOnlyRootFilesystem: e.writableRoot === undefined,
    });
    const image = gpu ? e.gpuImage : e.cpuImage!;

    const script = prepullScript(m);
    const prepullImage = sourceKind(m) === "ollama" ? image : imageRef(IMAGES.prepullPython);
    const initContainers =
      script !== undefined
        ? [
            {
              name: "prepull",
              image: prepullImage,
              command: ["sh", "-c", script],
              // The downloader's cache is the server's (vLLM's environment already names it):
              // one entry per name, as server-side apply merges env by name.
              env: [
                ...engineEnv(m).filter((v) => v.name !== "HF_HOME"),
                { name: "HF_HOME", value: `${e.cacheMountPath}/hf` },
                ...fromSecret("HF_TOKEN", "HF_TOKEN"),
              ],
              volumeMounts: [cache, { name: "tmp", mountPath: "/tmp" }],
              resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "2Gi" } },
              // It writes only below HOME (/tmp), /tmp (pip --target) and the cache volume.
              securityContext: containerSecurityContext(),
            },
          ]
        : [];

    const tolerations: Toleration[] = gpu
      ? [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]
      : [];
    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { ...meta, name: m.name },
        spec: {
          selector,
          ports: [{ name: "http", port: e.port, targetPort: "http", protocol: "TCP" }],
        },
      },
      parent,
    );
    const statefulSet = new k8s.apps.v1.StatefulSet(
      `${name}-server`,
      {
        metadata: {
          ...meta,
          name: m.name,
          ...exemptionMetadata({
            images: [image, ...(script !== undefined ? [prepullImage] : [])],
            writableRoot: e.writableRoot,
          }),
        },
        spec: {
          serviceName: m.name,
          // No replica count: the autoscaler owns it (a count here would be reset by every
          // `pulumi up`); a new StatefulSet starts with one replica.
          podManagementPolicy: "Parallel",
          selector: { matchLabels: selector },
          template: {
            metadata: {
              labels: {
                ...labels,
                ...(e.metricsPath !== undefined ? { [METRICS_LABEL]: "true" } : {}),
              },
              annotations:
                e.metricsPath !== undefined
                  ? {
                      "prometheus.io/scrape": "true",
                      "prometheus.io/path": e.metricsPath,
                      "prometheus.io/port": String(e.port),
                    }
                  : {},
            },
            spec: {
              automountServiceAccountToken: false,
              securityContext: podSecurityContext({
                runAsUser: 1000,
                runAsGroup: 1000,
                fsGroup: 1000,
              }),
              ...(runtimeClass !== undefined ? { runtimeClassName: runtimeClass } : {}),
              ...(gpu ? { nodeSelector: { [NVIDIA_GPU_PRESENT_LABEL]: "true" }, tolerations } : {}),
              terminationGracePeriodSeconds: 60,
              initContainers,
              containers: [
                {
                  name: "server",
                  image,
                  args: engineArgs(m),
                  env: [
                    ...engineEnv(m),
                    ...fromSecret("HF_TOKEN", "HF_TOKEN"),
                    ...(apiKeyEnv !== undefined ? fromSecret(apiKeyEnv, "API_KEY") : []),
                  ],
                  ports: [{ name: "http", containerPort: e.port, protocol: "TCP" }],
                  ...modelProbes(m, startupTimeoutSeconds, args.apiKey !== undefined),
                  resources: modelResources(m),
                  volumeMounts: mounts,
                  securityContext: security,
                },
              ],
              volumes: scratch,
            },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: "cache", labels },
              spec: {
                storageClassName: args.storageClass,
                accessModes: ["ReadWriteOnce"],
                resources: { requests: { storage: `${m.cacheGiB}Gi` } },
              },
            },
          ],
        },
      },
      { parent: this, dependsOn: [service, ...(secret !== undefined ? [secret] : [])] },
    );

    // Docker Model Runner pulls OCI models through its own API: ask it once the server is up.
    if (m.engine === "docker-model-runner") {
      const ref = m.source.oci ?? `hf.co/${m.source.huggingFace!}`;
      new k8s.batch.v1.Job(
        `${name}-prepull`,
        {
          metadata: {
            ...meta,
            name: `${m.name}-prepull`,
            ...exemptionMetadata({ images: [imageRef(IMAGES.curl)] }),
          },
          spec: {
            backoffLimit: 20,
            ttlSecondsAfterFinished: 86400,
            template: {
              // Not the server's labels: its Service and PodMonitor select by those, and would
              // send requests and scrapes to this pod, which serves nothing.
              metadata: {
                labels: appLabels({
                  name: `${m.name}-prepull`,
                  instance: m.name,
                  component: "model-prepull",
                }).labels,
              },
              spec: {
                restartPolicy: "OnFailure",
                automountServiceAccountToken: false,
                securityContext: podSecurityContext(),
                containers: [
                  {
                    name: "prepull",
                    image: imageRef(IMAGES.curl),
                    args: [
                      "-fsS",
                      "--retry",
                      "30",
                      "--retry-connrefused",
                      "--retry-delay",
                      "10",
                      "-X",
                      "POST",
                      `http://${m.name}:${e.port}/models/create`,
                      "-d",
                      JSON.stringify({ from: ref }),
                    ],
                    resources: {
                      requests: { cpu: "10m", memory: "16Mi" },
                      limits: { memory: "64Mi" },
                    },
                    securityContext: containerSecurityContext(),
                  },
                ],
              },
            },
          },
        },
        { parent: this, dependsOn: [statefulSet] },
      );
    }

    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      {
        metadata: { ...meta, name: m.name },
        // Drains and upgrades take one replica at a time, never the whole model at once.
        spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
      },
      parent,
    );
    // A model scaled to zero is reached through the interceptor, which holds the request until a
    // replica is ready: the wake name resolves to the interceptor, and the interceptor routes by
    // the Host the gateway sends (the wake name; the port is ignored).
    const wakeRoute =
      m.minReplicas === 0
        ? (() => {
            if (args.wake === undefined) {
              throw new Error(`model "${m.name}" scales to zero, but nothing wakes it`);
            }
            new k8s.core.v1.Service(
              `${name}-wake`,
              {
                metadata: { ...meta, name: wakeServiceName(m) },
                spec: { type: "ExternalName", externalName: args.wake.interceptor },
              },
              parent,
            );
            return new k8s.apiextensions.CustomResource(
              `${name}-wake-route`,
              {
                apiVersion: "http.keda.sh/v1beta1",
                kind: "InterceptorRoute",
                metadata: {
                  ...meta,
                  name: wakeRouteName(m),
                  ...(m.coldStartSeconds !== undefined
                    ? { annotations: { [COLD_START_ANNOTATION]: String(m.coldStartSeconds) } }
                    : {}),
                },
                spec: interceptorRouteSpec(
                  m,
                  `${wakeServiceName(m)}.${args.scaling.namespace}.svc.cluster.local`,
                  args.wake.timeoutSeconds,
                  args.wake.requestTimeoutSeconds,
                ),
              },
              { parent: this, dependsOn: [service] },
            );
          })()
        : undefined;
    // KEDA reads the route when it sets the ScaledObject up: the route comes first.
    new k8s.apiextensions.CustomResource(
      `${name}-scaler`,
      {
        apiVersion: "keda.sh/v1alpha1",
        kind: "ScaledObject",
        // Its HPA keeps the name the model's HPA had before KEDA, and takes that one over: KEDA's
        // webhook refuses a ScaledObject for a workload another HPA scales, and `pulumi up`
        // deletes the old HPA only after it creates this (scaledobject_webhook.go verifyHpas).
        metadata: {
          ...meta,
          name: m.name,
          annotations: { [TRANSFER_HPA_ANNOTATION]: "true" },
        },
        spec: scaledObjectSpec(m, args.scaling),
      },
      { parent: this, dependsOn: [statefulSet, ...(wakeRoute !== undefined ? [wakeRoute] : [])] },
    );
    this.url = pulumi.interpolate`http://${m.name}.${args.namespace}.svc.cluster.local:${e.port}${e.apiBase}`;
    this.registerOutputs({ url: this.url });
  }
}
