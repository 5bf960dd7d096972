import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig, type StackConfig } from "../../components/config";
import { ENGINES } from "../../components/catalog/engines";
import { ENGINE_FLAGS } from "../../components/catalog/cli";
import { engineArgs } from "../../components/models/engines";
import { ModelServer, modelProbes, runtimeClassFor } from "../../components/models/modelServer";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import * as pulumi from "@pulumi/pulumi";
import { recordResources, resolve } from "../helpers/mocks";
import {
  baselineViolations,
  interceptorRouteProblems,
  isBuiltIn,
  validateK8s,
} from "../helpers/k8s";

const rec = recordResources({ stack: "models" });

function stack(models: unknown[]): StackConfig {
  return parseStackConfig({
    environment: "prod",
    proxmox: {
      endpoint: "https://pve1:8006/",
      hosts: [
        { name: "pve1", cpuCores: 64, memoryMiB: 262144 },
        { name: "pve2", cpuCores: 64, memoryMiB: 262144, gpus: 2, gpuMapping: "gpus" },
      ],
    },
    cluster: {
      name: "lab",
      talosVersion: "v1.13.9",
      kubernetesVersion: "v1.35.2",
      network: { subnet: "10.0.0.0/24", gateway: "10.0.0.1", vip: "10.0.0.10" },
      controlPlane: { nodes: [{ name: "cp-1", ip: "10.0.0.11" }] },
      workerPools: [
        { name: "general", nodes: [{ name: "w-1", ip: "10.0.0.21" }], runtimes: ["gvisor"] },
        {
          name: "gpu",
          nodes: [{ name: "g-1", ip: "10.0.0.31" }],
          gpusPerNode: 2,
          gpuMemoryGiB: 24,
          hosts: ["pve2"],
          runtimes: ["nvidia"],
          taints: [{ key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" }],
        },
      ],
    },
    models,
  });
}

const config = stack([
  {
    name: "llm",
    engine: "vllm",
    source: { huggingFace: "org/llm-8b" },
    gpus: 2,
    minReplicas: 1,
    maxReplicas: 3,
    contextLength: 8192,
  },
  { name: "chat", engine: "ollama", source: { ollama: "qwen2.5:7b" }, gpus: 1 },
  {
    name: "tiny",
    engine: "llamacpp",
    source: { huggingFace: "org/tiny-GGUF", file: "tiny-q4.gguf" },
    runtime: "gvisor",
    minReplicas: 0,
    maxReplicas: 2,
    coldStartSeconds: 20,
  },
  { name: "dmr", engine: "docker-model-runner", source: { oci: "ai/smollm2:360M-Q4_K_M" } },
]);

type Obj = Record<string, any>;
const byName = (type: string, name: string) =>
  rec.registrations.find((r) => r.type === type && r.name === name)!;
const statefulSet = (model: string): Obj =>
  byName("kubernetes:apps/v1:StatefulSet", `model-${model}-server`).inputs;
const podSpec = (model: string): Obj => statefulSet(model)["spec"].template.spec;
const server = (model: string): Obj => podSpec(model)["containers"][0];
const isSecret = (v: unknown) =>
  typeof v === "object" && v !== null && (v as Obj)[specialSigKey] === specialSecretSig;

describe("probes and the API key", () => {
  it("use the model list without a key, and only paths the engine serves without one with a key", () => {
    const vllm = config.models.find((m) => m.engine === "vllm")!;
    expect(modelProbes(vllm, 600).readinessProbe.httpGet.path).toBe("/v1/models");
    expect(modelProbes(vllm, 600, true).readinessProbe.httpGet.path).toBe("/health");
    expect(ENGINES.vllm.servesWithoutKey!("/v1/models")).toBe(false);
    expect(ENGINES.llamacpp.servesWithoutKey!("/v1/models")).toBe(true);
    expect(ENGINES.llamacpp.servesWithoutKey!("/v1/chat/completions")).toBe(false);
    expect(ENGINES.ollama.servesWithoutKey).toBeUndefined();
  });
});

describe("ModelServer per engine", () => {
  beforeAll(async () => {
    rec.reset();
    const servers = config.models.map(
      (model) =>
        new ModelServer(`model-${model.name}`, {
          model,
          storageClass: "proxmox",
          ...runtimeClassFor(model, config.cluster),
          namespace: "models",
          huggingFaceToken: pulumi.secret("hf_not_a_real_token"),
          apiKey: pulumi.secret("not-a-real-key"),
          scaling: {
            namespace: "models",
            prometheus: "http://prometheus.observability.svc.cluster.local:9090",
            wakeScaler: "keda-add-ons-http-external-scaler.kube-system:9090",
          },
          ...(model.minReplicas === 0
            ? {
                wake: {
                  interceptor: "keda-add-ons-http-interceptor-proxy.kube-system.svc.cluster.local",
                  timeoutSeconds: 90,
                  requestTimeoutSeconds: 600,
                },
              }
            : {}),
        }),
    );
    for (const s of servers) await resolve(s.url);
    await new Promise((r) => setTimeout(r, 50));
  });

  it("creates a StatefulSet, Service, PDB and ScaledObject per model, plus credentials", () => {
    for (const m of ["llm", "chat", "tiny", "dmr"]) {
      for (const [type, suffix] of [
        ["kubernetes:apps/v1:StatefulSet", "server"],
        ["kubernetes:core/v1:Service", "service"],
        ["kubernetes:policy/v1:PodDisruptionBudget", "pdb"],
        ["kubernetes:keda.sh/v1alpha1:ScaledObject", "scaler"],
        ["kubernetes:core/v1:Secret", "credentials"],
      ] as const) {
        expect(byName(type, `model-${m}-${suffix}`), `${m} ${suffix}`).toBeDefined();
      }
    }
    // KEDA makes the HPA: a second one on the same StatefulSet would be refused by its webhook.
    expect(
      rec.registrations.filter(
        (r) => r.type === "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
      ),
    ).toEqual([]);
    // Only the model scaled to zero has a wake route and name.
    expect(
      rec.registrations
        .filter((r) => r.type === "kubernetes:http.keda.sh/v1beta1:InterceptorRoute")
        .map((r) => r.name),
    ).toEqual(["model-tiny-wake-route"]);
    expect(
      rec.registrations.filter((r) => r.type === "kubernetes:batch/v1:Job").map((r) => r.name),
    ).toEqual(["model-dmr-prepull"]);
  });

  it("pins each engine's image, GPU builds for GPU models", () => {
    expect(server("llm")["image"]).toBe("vllm/vllm-openai:v0.11.0");
    expect(server("chat")["image"]).toBe("ollama/ollama:0.12.6");
    expect(server("tiny")["image"]).toBe("ghcr.io/ggml-org/llama.cpp:server-b7010");
    expect(server("dmr")["image"]).toBe("docker/model-runner:v1.2.6");
    for (const m of ["llm", "chat", "tiny", "dmr"])
      expect(server(m)["image"]).not.toMatch(/:latest$/);
  });

  it("schedules GPU models on the nvidia runtime with a GPU limit", () => {
    expect(podSpec("llm")["runtimeClassName"]).toBe("nvidia");
    expect(server("llm")["resources"].limits["nvidia.com/gpu"]).toBe("2");
    expect(podSpec("llm")["nodeSelector"]).toEqual({ "nvidia.com/gpu.present": "true" });
    expect(server("llm")["args"]).toEqual([
      "--model",
      "org/llm-8b",
      "--served-model-name",
      "llm",
      "--host",
      "0.0.0.0",
      "--port",
      "8000",
      "--tensor-parallel-size",
      "2",
      "--max-model-len",
      "8192",
    ]);
    expect(podSpec("chat")["runtimeClassName"]).toBe("nvidia");
  });

  it("serves CPU models without GPU requests, on the runtime they ask for", () => {
    expect(server("tiny")["resources"]).toEqual({
      requests: { cpu: "2", memory: "4096Mi" },
      limits: { memory: "4096Mi" },
    });
    expect(podSpec("tiny")["runtimeClassName"]).toBe("gvisor");
    expect(podSpec("dmr")["runtimeClassName"]).toBeUndefined();
    expect(JSON.stringify(podSpec("dmr"))).not.toContain("nvidia.com/gpu");
  });

  it("waits for the weights with a long startup probe and is ready only when the model is", () => {
    expect(server("llm")["startupProbe"]).toEqual({
      httpGet: { path: "/health", port: "http" },
      periodSeconds: 10,
      failureThreshold: 180,
    });
    expect(server("tiny")["startupProbe"].failureThreshold).toBe(60);
    // These servers have an API key: vLLM answers the model list only with it, and the kubelet
    // sends none, so it is ready on its health path; llama.cpp is ready on /health anyway (its
    // model list answers while the model loads); Ollama and Docker Model Runner take no key.
    expect(server("llm")["readinessProbe"].httpGet.path).toBe("/health");
    expect(server("chat")["readinessProbe"].httpGet.path).toBe("/v1/models");
    expect(server("tiny")["readinessProbe"].httpGet.path).toBe("/health");
    expect(server("dmr")["readinessProbe"].httpGet.path).toBe("/engines/v1/models");
    for (const m of ["llm", "tiny"]) {
      const e = ENGINES[m === "llm" ? "vllm" : "llamacpp"];
      for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
        expect(e.servesWithoutKey!(server(m)[probe].httpGet.path), `${m} ${probe}`).toBe(true);
      }
    }
    for (const m of ["llm", "chat", "tiny", "dmr"])
      expect(server(m)["livenessProbe"]).toBeDefined();
  });

  it("pre-pulls the weights into the cache volume", () => {
    const init = (m: string) => podSpec(m)["initContainers"];
    expect(init("llm")[0].command[2]).toContain(
      'snapshot_download("org/llm-8b", cache_dir="/models/hf/hub")',
    );
    expect(init("tiny")[0].command[2]).toContain(
      'hf_hub_download("org/tiny-GGUF", "tiny-q4.gguf", local_dir="/models/gguf")',
    );
    expect(init("chat")[0].command[2]).toContain("ollama pull qwen2.5:7b");
    expect(init("dmr")).toEqual([]);
    const job = byName("kubernetes:batch/v1:Job", "model-dmr-prepull").inputs as Obj;
    expect(job["spec"].template.spec.containers[0].args).toContain(
      '{"from":"ai/smollm2:360M-Q4_K_M"}',
    );
    expect(statefulSet("llm")["spec"].volumeClaimTemplates[0].spec.resources.requests.storage).toBe(
      "20Gi",
    );
  });

  it("autoscales between the model's replica bounds and keeps a disruption budget", async () => {
    const so = (m: string) =>
      byName("kubernetes:keda.sh/v1alpha1:ScaledObject", `model-${m}-scaler`).inputs as Obj;
    expect(so("llm")["spec"]).toMatchObject({
      minReplicaCount: 1,
      maxReplicaCount: 3,
      scaleTargetRef: { apiVersion: "apps/v1", kind: "StatefulSet", name: "llm" },
    });
    // The autoscaler owns the replica count: the StatefulSet states none.
    expect(statefulSet("llm")["spec"].replicas).toBeUndefined();
    for (const m of ["llm", "chat", "tiny", "dmr"]) {
      const { ScaledObject } = await import("@kubernetes-models/keda/keda.sh/v1alpha1");
      expect(() => new ScaledObject(so(m) as never).validate(), m).not.toThrow();
    }
    // What saturates each engine: vLLM's queue and KV cache, llama.cpp's and Docker Model
    // Runner's deferred requests, CPU for Ollama (no metrics); the model at zero is woken too.
    const kinds = (m: string) =>
      (so(m)["spec"].triggers as Obj[]).map((t) => `${t["type"]}:${t["name"]}`);
    expect(kinds("llm")).toEqual(["prometheus:queue", "prometheus:kv-cache"]);
    expect(kinds("chat")).toEqual(["cpu:cpu"]);
    expect(kinds("tiny")).toEqual(["prometheus:queue", "external-push:wake"]);
    expect(kinds("dmr")).toEqual(["prometheus:queue"]);
    expect((so("llm")["spec"].triggers as Obj[]).map((t) => t["metadata"].query)).toEqual([
      'sum(vllm:num_requests_waiting{namespace="models",app_kubernetes_io_instance="llm"})',
      'avg(vllm:kv_cache_usage_perc{namespace="models",app_kubernetes_io_instance="llm"})',
    ]);
    expect((so("tiny")["spec"].triggers as Obj[])[1]!["metadata"]).toEqual({
      scalerAddress: "keda-add-ons-http-external-scaler.kube-system:9090",
      interceptorRoute: "tiny",
    });
    // The first replica of a model that sleeps loads its weights before it may sleep.
    expect(so("tiny")["spec"]).toMatchObject({ minReplicaCount: 0, initialCooldownPeriod: 1500 });
    expect(so("llm")["spec"].initialCooldownPeriod).toBeUndefined();
    const pdb = byName("kubernetes:policy/v1:PodDisruptionBudget", "model-llm-pdb").inputs as Obj;
    expect(pdb["spec"]).toEqual({
      maxUnavailable: 1,
      selector: {
        matchLabels: { "app.kubernetes.io/name": "llm", "app.kubernetes.io/instance": "llm" },
      },
    });
  });

  it("passes tokens from a secret, never as literals", () => {
    const secret = byName("kubernetes:core/v1:Secret", "model-llm-credentials").inputs as Obj;
    expect(isSecret(secret["stringData"])).toBe(true);
    const env = server("llm")["env"] as Obj[];
    expect(env.find((e) => e.name === "VLLM_API_KEY")?.valueFrom.secretKeyRef.key).toBe("API_KEY");
    expect(env.find((e) => e.name === "HF_TOKEN")?.valueFrom.secretKeyRef.key).toBe("HF_TOKEN");
    expect(
      JSON.stringify(rec.registrations.filter((r) => r.type !== "kubernetes:core/v1:Secret")),
    ).not.toContain("not-a-real-key");
  });

  it("wakes a model scaled to zero through the interceptor: a wake name and a route holding for the gateway", () => {
    const wake = byName("kubernetes:core/v1:Service", "model-tiny-wake").inputs as Obj;
    expect(wake["metadata"].name).toBe("tiny-wake");
    expect(wake["spec"]).toEqual({
      type: "ExternalName",
      externalName: "keda-add-ons-http-interceptor-proxy.kube-system.svc.cluster.local",
    });
    const route = byName(
      "kubernetes:http.keda.sh/v1beta1:InterceptorRoute",
      "model-tiny-wake-route",
    ).inputs as Obj;
    expect(route["metadata"].annotations).toEqual({ "homebrew-dev.io/cold-start-seconds": "20" });
    expect(route["spec"]).toEqual({
      // The interceptor dials the Service port's number (interceptor/middleware/routing.go).
      target: { service: "tiny", port: ENGINES.llamacpp.port },
      rules: [{ hosts: ["tiny-wake.models.svc.cluster.local"] }],
      scalingMetric: { concurrency: { targetValue: 100 } },
      timeouts: { readiness: "90s", request: "600s", responseHeader: "600s" },
    });
    expect(interceptorRouteProblems(route["spec"])).toEqual([]);
    // The validator refuses what the CRD refuses.
    expect(
      interceptorRouteProblems({
        target: { service: "x", port: 1, portName: "http" },
        scalingMetric: {},
      }),
    ).toEqual([
      "spec.target: exactly one of 'port' or 'portName' must be set",
      "spec.scalingMetric: at least one of 'concurrency' or 'requestRate' must be set",
    ]);
  });

  it("labels model servers for scraping and exposes metrics where the engine has them", () => {
    expect(statefulSet("llm")["spec"].template.metadata.labels["app.kubernetes.io/component"]).toBe(
      "model-server",
    );
    expect(statefulSet("llm")["spec"].template.metadata.annotations["prometheus.io/path"]).toBe(
      ENGINES.vllm.metricsPath,
    );
  });

  it("every object validates against the Kubernetes schema and every pod passes baseline", async () => {
    const objects = rec.registrations.filter(
      (r) => isBuiltIn(r.type) && r.type !== "kubernetes:core/v1:Secret",
    );
    // Per model a StatefulSet, Service and PDB; Docker Model Runner's pull Job; tiny's wake name.
    expect(objects.length).toBe(14);
    for (const o of objects) expect(await validateK8s(o.type, o.inputs), o.name).toBeUndefined();
    for (const m of ["llm", "chat", "tiny", "dmr"]) {
      expect(baselineViolations(podSpec(m))).toEqual([]);
      expect(podSpec(m)["securityContext"]).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(server(m)["securityContext"]).toMatchObject({
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
      });
    }
  });
});

describe("model errors name the model", () => {
  const problems = (models: unknown[]) => {
    try {
      stack(models);
      return [];
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).problems;
    }
  };

  it("vLLM without a GPU", () => {
    expect(problems([{ name: "x", engine: "vllm", source: { huggingFace: "a/b" } }])).toEqual([
      'homebrew-dev:models[0].engine: model "x": the vllm engine needs a GPU (set gpus >= 1)',
    ]);
  });

  it("an engine that cannot serve the source", () => {
    expect(problems([{ name: "x", engine: "ollama", source: { huggingFace: "a/b" } }])).toEqual([
      'homebrew-dev:models[0].engine: model "x": the ollama engine serves ollama models, not huggingFace',
    ]);
  });

  it("llama.cpp without a GGUF file", () => {
    expect(problems([{ name: "x", engine: "llamacpp", source: { huggingFace: "a/b" } }])).toEqual([
      'homebrew-dev:models[0].engine: model "x": llama.cpp serves one GGUF file; set source.file',
    ]);
  });

  it("more GPUs than a GPU node has", () => {
    expect(
      problems([{ name: "big", engine: "vllm", source: { huggingFace: "a/b" }, gpus: 4 }]),
    ).toEqual([
      'homebrew-dev:models[0].gpus: model "big" asks for 4 GPU per replica but the largest GPU node has 2',
    ]);
  });

  it("an unknown engine", () => {
    expect(problems([{ name: "x", engine: "tgi", source: { huggingFace: "a/b" } }])).toEqual([
      'homebrew-dev:models[0].engine: expected one of "vllm", "ollama", "llamacpp", "docker-model-runner" (got "tgi")',
    ]);
  });

  it("a runtime no pool provides", () => {
    expect(
      problems([
        {
          name: "x",
          engine: "llamacpp",
          source: { huggingFace: "a/b", file: "f.gguf" },
          runtime: "kata",
        },
      ]),
    ).toEqual([
      'homebrew-dev:models[0].runtime: model "x" asks for the kata runtime, but no worker pool offers it (offered: gvisor, nvidia)',
    ]);
  });
});

describe("each engine's start-up arguments", () => {
  it("use only flags its pinned image accepts, each with its value, and no positional argument", () => {
    for (const m of config.models) {
      if (m.engine !== "vllm" && m.engine !== "llamacpp") continue;
      const flags = ENGINE_FLAGS[m.engine];
      const args = engineArgs(m);
      for (let i = 0; i < args.length; i++) {
        const arg = args[i]!;
        expect(arg, `${m.name}: ${args.join(" ")}`).toMatch(/^--[a-z-]+$/);
        const kind = flags[arg.slice(2)];
        expect(kind, `${m.name}: ${arg}`).toBeDefined();
        if (kind !== "boolean") {
          expect(args[i + 1], `${m.name}: ${arg} needs a value`).toBeDefined();
          expect(args[i + 1]!.startsWith("--"), `${m.name}: ${arg} needs a value`).toBe(false);
          i++;
        }
      }
    }
  });
});
