import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import { ENGINES } from "../catalog/engines";
import { IMAGES, imageRef } from "../catalog/images";
import {
  appLabels,
  containerSecurityContext,
  exemptionMetadata,
  podSecurityContext,
} from "../kubernetes/podDefaults";
import { INTERCEPTOR_PROXY_PORT, modelServiceUrl, wakeServiceName } from "./modelServer";
import type { ModelSpec } from "./spec";

/**
 * The model gateway: LiteLLM's proxy (BerriAI/litellm v1.110.4) in front of every model server of
 * the stack, one OpenAI-compatible `/v1` that routes by the request's `model`. Facts it relies on,
 * read at that release (docs/adr/0020-model-gateway-and-autoscaling.md has the references):
 * - `model_list[].litellm_params.api_base` is the engine's OpenAI base (it ends in `/v1`, or
 *   Docker Model Runner's `/engines/v1`); the proxy appends `/chat/completions`, `/completions`,
 *   `/embeddings` itself. `hosted_vllm/` talks to vLLM, `openai/` to any OpenAI-compatible server
 *   (it requires some `api_key`); the proxy sends the name after the prefix as the `model`. vLLM's
 *   own guide to LiteLLM (docs/deployment/frameworks/litellm.md) uses `hosted_vllm/` with an
 *   `api_base` ending in `/v1`, for chat and for embeddings.
 * - `/v1/models` lists every `model_name` of the config without calling a backend.
 * - `general_settings.master_key` is the one key clients send (`Authorization: Bearer`); with no
 *   database no other key is valid. The `/health/liveliness` and `/health/readiness` routes answer
 *   without it.
 * - The image runs as `nobody` (65534); with no database it writes only below `/tmp` and its
 *   cache directory (`XDG_CACHE_HOME=/app/.cache`).
 */

/** Name of the gateway's Deployment and Service, and the stem of its ConfigMap's. */
export const GATEWAY_NAME = "model-gateway";
/** The proxy's port (`--port`). */
export const GATEWAY_PORT = 4000;
/** Where the config is mounted. */
const CONFIG_DIR = "/etc/litellm";
/** The label component of the gateway's pods. */
export const GATEWAY_COMPONENT = "model-gateway";

/** How the gateway reaches one model. */
export interface GatewayRoute {
  /** The `model` clients send. */
  readonly modelName: string;
  /** LiteLLM's provider and the name the server knows the model by. */
  readonly model: string;
  /** The server's OpenAI base URL (through the interceptor for a model scaled to zero). */
  readonly apiBase: string;
  /** Whether the server checks the API key (then the gateway sends it). */
  readonly sendsKey: boolean;
}

/** The name an engine's server knows a model by (what the gateway puts in `model`). */
export function servedModelName(m: ModelSpec): string {
  switch (m.engine) {
    case "vllm": // --served-model-name
    case "llamacpp": // --alias
      return m.name;
    case "ollama":
      return m.source.ollama!;
    case "docker-model-runner":
      return m.source.oci ?? `hf.co/${m.source.huggingFace!}`;
    default: {
      const never: never = m.engine;
      throw new Error(`unknown engine ${String(never)}`);
    }
  }
}

/** Whether an engine checks the Bearer key (vLLM's VLLM_API_KEY, llama.cpp's LLAMA_API_KEY). */
export const checksKey = (engine: ModelSpec["engine"]): boolean =>
  ENGINES[engine].servesWithoutKey !== undefined;

/** The gateway's route to a model, directly or, for a model scaled to zero, through the wake name. */
export function gatewayRoute(m: ModelSpec, namespace: string): GatewayRoute {
  const e = ENGINES[m.engine];
  const base =
    m.minReplicas === 0
      ? `http://${wakeServiceName(m)}.${namespace}.svc.cluster.local:${INTERCEPTOR_PROXY_PORT}`
      : modelServiceUrl(m, namespace);
  const provider = m.engine === "vllm" ? "hosted_vllm" : "openai";
  return {
    modelName: m.name,
    model: `${provider}/${servedModelName(m)}`,
    apiBase: `${base}${e.apiBase}`,
    sendsKey: checksKey(m.engine),
  };
}

export interface GatewaySettings {
  /** Seconds the gateway waits for a server's whole answer (a held wake included). */
  readonly requestTimeoutSeconds: number;
}

/**
 * The proxy's config.yaml: a route per model, the master key and the backends' key from the
 * environment (`os.environ/NAME`, never the values), no retries of a request a server has taken.
 */
export function gatewayConfig(routes: readonly GatewayRoute[], settings: GatewaySettings) {
  return {
    model_list: routes.map((r) => ({
      model_name: r.modelName,
      litellm_params: {
        model: r.model,
        api_base: r.apiBase,
        // `openai/` needs a key even for servers that check none; they ignore the header.
        api_key: r.sendsKey ? "os.environ/MODEL_API_KEY" : "no-key",
        timeout: settings.requestTimeoutSeconds,
      },
    })),
    general_settings: { master_key: "os.environ/LITELLM_MASTER_KEY" },
    litellm_settings: { request_timeout: settings.requestTimeoutSeconds },
    // A generation is not idempotent and a server that is down is down for minutes: no retries.
    router_settings: { num_retries: 0, timeout: settings.requestTimeoutSeconds },
  };
}

export interface ModelGatewayArgs {
  readonly models: readonly ModelSpec[];
  /** Namespace of the models (the gateway runs beside them). */
  readonly namespace: pulumi.Input<string>;
  /** The namespace's name, for the servers' in-cluster names. */
  readonly namespaceName: string;
  /** The key clients send, and the gateway sends to servers that check one (a secret). */
  readonly apiKey: pulumi.Input<string>;
  readonly replicas: number;
  readonly requestTimeoutSeconds: number;
}

/** The gateway's in-cluster OpenAI base URL. */
export const gatewayUrl = (namespace: string): string =>
  `http://${GATEWAY_NAME}.${namespace}.svc.cluster.local:${GATEWAY_PORT}`;

/**
 * One OpenAI endpoint for every model of the stack: a ConfigMap with the routes (named after its
 * content), a Secret with the key, a Deployment of the proxy (its pods roll when the routes
 * change), a Service and a PodDisruptionBudget.
 */
export class ModelGateway extends pulumi.ComponentResource {
  /** The OpenAI base URL inside the cluster (`…/v1`). */
  public readonly url: string;
  /** The Secret holding the key (`api-key`), for scrapers of the servers' metrics. */
  public readonly secretName: string;

  constructor(name: string, args: ModelGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homebrew-dev:models:ModelGateway", name, {}, opts);
    const parent = { parent: this };
    const { labels, selector } = appLabels({
      name: GATEWAY_NAME,
      instance: GATEWAY_NAME,
      component: GATEWAY_COMPONENT,
    });
    const meta = { namespace: args.namespace, labels };
    const config = stringify(
      gatewayConfig(
        args.models.map((m) => gatewayRoute(m, args.namespaceName)),
        { requestTimeoutSeconds: args.requestTimeoutSeconds },
      ),
    );
    // Named after its content: a changed route is a new ConfigMap, created before the old one is
    // deleted, and a new name in the pod template, which rolls the pods (the proxy reads its
    // config once, at start).
    const configName = `${GATEWAY_NAME}-${createHash("sha256").update(config).digest("hex").slice(0, 10)}`;
    const configMap = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      { metadata: { ...meta, name: configName }, data: { "config.yaml": config } },
      parent,
    );
    const secret = new k8s.core.v1.Secret(
      `${name}-key`,
      {
        metadata: { ...meta, name: `${GATEWAY_NAME}-key` },
        type: "Opaque",
        stringData: { "api-key": pulumi.secret(args.apiKey) },
      },
      parent,
    );
    // By plain names, waiting for them: a replaced Secret or ConfigMap replaces nothing.
    const key = { secretKeyRef: { name: `${GATEWAY_NAME}-key`, key: "api-key" } };
    const image = imageRef(IMAGES.litellm);
    const deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: {
          ...meta,
          name: GATEWAY_NAME,
          ...exemptionMetadata({ images: [image] }),
        },
        spec: {
          replicas: args.replicas,
          selector: { matchLabels: selector },
          template: {
            metadata: { labels },
            spec: {
              automountServiceAccountToken: false,
              securityContext: podSecurityContext({
                runAsUser: 65534,
                runAsGroup: 65534,
                fsGroup: 65534,
              }),
              containers: [
                {
                  name: "gateway",
                  image,
                  args: [
                    "--config",
                    `${CONFIG_DIR}/config.yaml`,
                    "--port",
                    String(GATEWAY_PORT),
                    "--num_workers",
                    "1",
                  ],
                  env: [
                    { name: "LITELLM_MASTER_KEY", valueFrom: key },
                    { name: "MODEL_API_KEY", valueFrom: key },
                  ],
                  ports: [{ name: "http", containerPort: GATEWAY_PORT, protocol: "TCP" }],
                  startupProbe: {
                    httpGet: { path: "/health/liveliness", port: "http" },
                    periodSeconds: 5,
                    failureThreshold: 60,
                  },
                  readinessProbe: {
                    httpGet: { path: "/health/readiness", port: "http" },
                    periodSeconds: 10,
                    failureThreshold: 3,
                  },
                  livenessProbe: {
                    httpGet: { path: "/health/liveliness", port: "http" },
                    periodSeconds: 20,
                    failureThreshold: 3,
                    timeoutSeconds: 5,
                  },
                  resources: {
                    requests: { cpu: "500m", memory: "1Gi" },
                    limits: { memory: "1Gi" },
                  },
                  volumeMounts: [
                    { name: "config", mountPath: CONFIG_DIR, readOnly: true },
                    { name: "tmp", mountPath: "/tmp" },
                    { name: "cache", mountPath: "/app/.cache" },
                  ],
                  securityContext: containerSecurityContext(),
                },
              ],
              volumes: [
                { name: "config", configMap: { name: configName } },
                { name: "tmp", emptyDir: {} },
                { name: "cache", emptyDir: {} },
              ],
            },
          },
        },
      },
      { parent: this, dependsOn: [configMap, secret] },
    );
    new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { ...meta, name: GATEWAY_NAME },
        spec: {
          selector,
          ports: [{ name: "http", port: GATEWAY_PORT, targetPort: "http", protocol: "TCP" }],
        },
      },
      { parent: this, dependsOn: [deployment] },
    );
    if (args.replicas > 1) {
      new k8s.policy.v1.PodDisruptionBudget(
        `${name}-pdb`,
        {
          metadata: { ...meta, name: GATEWAY_NAME },
          spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
        },
        parent,
      );
    }
    this.url = `${gatewayUrl(args.namespaceName)}/v1`;
    this.secretName = `${GATEWAY_NAME}-key`;
    this.registerOutputs({ url: this.url });
  }
}
