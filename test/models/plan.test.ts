import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, runPlanCli } from "../helpers/cli";

type Obj = Record<string, any>;
const resources = async (stack: string, extra: string[] = []): Promise<Obj[]> => {
  const res = await runPlanCli([stack, "--json", ...extra]);
  expect(res.stderr).toBe("");
  return JSON.parse(res.stdout).resources;
};

describe("model serving in the shipped stacks", () => {
  it("prod plans GPU models with the nvidia runtime, a GPU limit, probes, an autoscaler and a PDB", async () => {
    const r = await resources("prod");
    const sets = r.filter((x) => x.type === "kubernetes:apps/v1:StatefulSet");
    const gpu = sets.filter((s) => s.inputs.spec.template.spec.runtimeClassName === "nvidia");
    expect(gpu.length).toBeGreaterThanOrEqual(1);
    for (const s of gpu) {
      const c = s.inputs.spec.template.spec.containers[0];
      expect(Number(c.resources.limits["nvidia.com/gpu"])).toBeGreaterThanOrEqual(1);
      expect(c.startupProbe.failureThreshold * c.startupProbe.periodSeconds).toBeGreaterThanOrEqual(
        1800,
      );
      // Every server checks the key (the stack's or a generated one), and vLLM answers its model
      // list only with it: readiness is /health, which answers only once the model is loaded (the
      // API server listens only then).
      expect(c.readinessProbe.httpGet.path).toBe("/health");
      expect(c.env.find((e: Obj) => e.name === "VLLM_API_KEY").valueFrom.secretKeyRef.key).toBe(
        "API_KEY",
      );
      const name = s.inputs.metadata.name;
      expect(
        r.some(
          (x) =>
            x.type === "kubernetes:keda.sh/v1alpha1:ScaledObject" &&
            x.inputs.metadata.name === name &&
            x.inputs.spec.scaleTargetRef.kind === "StatefulSet",
        ),
      ).toBe(true);
      expect(
        r.some(
          (x) =>
            x.type === "kubernetes:policy/v1:PodDisruptionBudget" &&
            x.inputs.metadata.name === name,
        ),
      ).toBe(true);
    }
  });

  it("dev plans a CPU model without GPU requests", async () => {
    const sets = (await resources("dev")).filter(
      (x) => x.type === "kubernetes:apps/v1:StatefulSet",
    );
    expect(sets.map((s) => s.inputs.metadata.name)).toEqual(["qwen-small"]);
    const spec = sets[0]!.inputs.spec.template.spec;
    expect(JSON.stringify(spec)).not.toContain("nvidia");
    expect(spec.containers[0].image).toBe("ghcr.io/ggml-org/llama.cpp:server-b7010");
  });
});

describe("model credentials", () => {
  const dev = readFileSync(path.join(REPO_ROOT, "stacks", "Pulumi.dev.yaml"), "utf8");
  const dir = mkdtempSync(path.join(tmpdir(), "creds-"));
  const plan = async (extra: string) => {
    const file = path.join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, `${dev}${extra}`);
    return await runPlanCli(["dev", "--config", file, "--json"]);
  };

  it("a token in plain text is refused: it must be set with --secret", async () => {
    const res = await plan("  homebrew-dev:huggingFaceToken: hf_plaintext\n");
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      "error: invalid stack configuration (1 problem):\n" +
        "  - homebrew-dev:huggingFaceToken: must be a secret (set it with `pulumi config set --secret homebrew-dev:huggingFaceToken <value>`)\n",
    );
  });

  it("a secret token reaches the model server only through a Kubernetes Secret", async () => {
    const res = await plan("  homebrew-dev:modelApiKey:\n    secure: v1:ZmFrZQ==:ZmFrZQ==\n");
    expect(res.code).toBe(0);
    const r: Obj[] = JSON.parse(res.stdout).resources;
    const secret = r.find(
      (x) => x.type === "kubernetes:core/v1:Secret" && x.name === "model-qwen-small-credentials",
    );
    expect(secret?.inputs.stringData).toBe("[secret]");
    const env = r.find((x) => x.type === "kubernetes:apps/v1:StatefulSet")!.inputs.spec.template
      .spec.containers[0].env;
    expect(env).toContainEqual({
      name: "LLAMA_API_KEY",
      valueFrom: { secretKeyRef: { key: "API_KEY", name: "qwen-small-credentials" } },
    });
  });
});
