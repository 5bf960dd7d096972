import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ENGINES, ENGINE_NAMES } from "../../components/catalog/engines";
import {
  GATEWAY_PORT,
  gatewayConfig,
  gatewayRoute,
  servedModelName,
} from "../../components/models/gateway";
import type { ModelSpec } from "../../components/models/spec";
import { baselineViolations, validateK8s } from "../helpers/k8s";
import { planOf } from "../helpers/plans";

type Obj = Record<string, any>;

const model = (over: Partial<ModelSpec> & Pick<ModelSpec, "name" | "engine" | "source">) =>
  ({
    gpus: 0,
    minReplicas: 1,
    maxReplicas: 1,
    targetWaitingRequests: 2,
    targetKvCacheUsage: 85,
    targetCpuUtilization: 75,
    cacheGiB: 20,
    ...over,
  }) as ModelSpec;

const MODELS: Readonly<Record<(typeof ENGINE_NAMES)[number], ModelSpec>> = {
  vllm: model({ name: "llm", engine: "vllm", source: { huggingFace: "org/llm" }, gpus: 1 }),
  ollama: model({ name: "chat", engine: "ollama", source: { ollama: "qwen2.5:7b" } }),
  llamacpp: model({
    name: "tiny",
    engine: "llamacpp",
    source: { huggingFace: "org/tiny-GGUF", file: "t.gguf" },
    minReplicas: 0,
  }),
  "docker-model-runner": model({
    name: "dmr",
    engine: "docker-model-runner",
    source: { oci: "ai/smollm2:360M-Q4_K_M" },
  }),
};

describe("the gateway's route to each engine", () => {
  it("names the provider and the model as the server knows it, at the engine's OpenAI base", () => {
    expect(ENGINE_NAMES.map((e) => gatewayRoute(MODELS[e], "models"))).toEqual([
      {
        modelName: "llm",
        model: "hosted_vllm/llm",
        apiBase: "http://llm.models.svc.cluster.local:8000/v1",
        sendsKey: true,
      },
      {
        // Ollama serves the model by its own tag.
        modelName: "chat",
        model: "openai/qwen2.5:7b",
        apiBase: "http://chat.models.svc.cluster.local:11434/v1",
        sendsKey: false,
      },
      {
        // Scaled to zero: through its wake name, on the interceptor's port.
        modelName: "tiny",
        model: "openai/tiny",
        apiBase: "http://tiny-wake.models.svc.cluster.local:8080/v1",
        sendsKey: true,
      },
      {
        // Docker Model Runner's base path stays behind the gateway.
        modelName: "dmr",
        model: "openai/ai/smollm2:360M-Q4_K_M",
        apiBase: "http://dmr.models.svc.cluster.local:12434/engines/v1",
        sendsKey: false,
      },
    ]);
    for (const e of ENGINE_NAMES) {
      expect(gatewayRoute(MODELS[e], "models").apiBase.endsWith(ENGINES[e].apiBase)).toBe(true);
    }
    expect(
      servedModelName(
        model({ name: "hf", engine: "docker-model-runner", source: { huggingFace: "org/m-GGUF" } }),
      ),
    ).toBe("hf.co/org/m-GGUF");
  });

  it("takes both keys from the environment, never in the config, and retries nothing", () => {
    const config = gatewayConfig(
      ENGINE_NAMES.map((e) => gatewayRoute(MODELS[e], "models")),
      { requestTimeoutSeconds: 600 },
    );
    expect(config.general_settings).toEqual({ master_key: "os.environ/LITELLM_MASTER_KEY" });
    expect(config.model_list.map((r) => r.litellm_params.api_key)).toEqual([
      "os.environ/MODEL_API_KEY",
      "no-key",
      "os.environ/MODEL_API_KEY",
      "no-key",
    ]);
    expect(config.model_list.every((r) => r.litellm_params.timeout === 600)).toBe(true);
    expect(config.router_settings).toEqual({ num_retries: 0, timeout: 600 });
  });
});

describe("the gateway in the shipped prod stack", () => {
  it("lists every model of the stack, which /v1/models answers with", async () => {
    const plan = await planOf("prod");
    const cm = plan.resources.find((r) => r.type === "kubernetes:core/v1:ConfigMap")!;
    const config = parse((cm.inputs as Obj)["data"]["config.yaml"]);
    expect(config.model_list.map((r: Obj) => r.model_name)).toEqual([
      "qwen-7b",
      "embed",
      "qwen-coder",
      "tiny-cpu",
    ]);
    // Named after its content (a changed route is a new ConfigMap, and rolls the pods).
    expect((cm.inputs as Obj)["metadata"].name).toMatch(/^model-gateway-[0-9a-f]{10}$/);
    expect(JSON.stringify(cm.inputs)).not.toContain("sk-");
  });

  it("runs the proxy as nobody with a read-only root, the key from its Secret, probes without it", async () => {
    const plan = await planOf("prod");
    const one = (type: string, name: string) =>
      plan.resources.find((r) => r.type === type && r.name === name)!.inputs as Obj;
    const deployment = one("kubernetes:apps/v1:Deployment", "model-gateway-deployment");
    const pod = deployment["spec"].template.spec;
    const c = pod.containers[0];
    expect(c.image).toBe("ghcr.io/berriai/litellm-non_root:v1.110.4");
    expect(c.args).toEqual([
      "--config",
      "/etc/litellm/config.yaml",
      "--port",
      String(GATEWAY_PORT),
      "--num_workers",
      "1",
    ]);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534 });
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true });
    expect(c.env).toEqual([
      {
        name: "LITELLM_MASTER_KEY",
        valueFrom: { secretKeyRef: { name: "model-gateway-key", key: "api-key" } },
      },
      {
        name: "MODEL_API_KEY",
        valueFrom: { secretKeyRef: { name: "model-gateway-key", key: "api-key" } },
      },
    ]);
    // The proxy's public routes (litellm/proxy/_types.py LiteLLMRoutes.public_routes).
    expect([c.startupProbe, c.readinessProbe, c.livenessProbe].map((p) => p.httpGet.path)).toEqual([
      "/health/liveliness",
      "/health/readiness",
      "/health/liveliness",
    ]);
    expect(one("kubernetes:core/v1:Secret", "model-gateway-key")["stringData"]).toBe("[secret]");
    expect(one("kubernetes:core/v1:Service", "model-gateway-service")["spec"].ports).toEqual([
      { name: "http", port: GATEWAY_PORT, targetPort: "http", protocol: "TCP" },
    ]);
    expect(baselineViolations(pod)).toEqual([]);
    for (const [type, name] of [
      ["kubernetes:apps/v1:Deployment", "model-gateway-deployment"],
      ["kubernetes:core/v1:Service", "model-gateway-service"],
      ["kubernetes:policy/v1:PodDisruptionBudget", "model-gateway-pdb"],
    ] as const) {
      expect(await validateK8s(type, one(type, name)), name).toBeUndefined();
    }
    // One public name: the tunnel sends it to the gateway.
    const routes = plan.resources.find((r) => r.name === "edge-tunnel-routes")!.inputs as Obj;
    expect(routes["config"].ingresses).toContainEqual({
      hostname: "ai.homebrew.example",
      service: `http://model-gateway.models.svc.cluster.local:${GATEWAY_PORT}`,
    });
  });
});
