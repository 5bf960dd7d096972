import { describe, expect, it } from "vitest";
import { planEditedStack } from "../helpers/stacks";

/** Every option a component has that a stack may set reaches its resources from the stack file. */
describe("stack options reach the resources", () => {
  it("connector replicas, admin certificate validity, health path, model startup and scaling targets", async () => {
    const res = await planEditedStack(
      "prod",
      (doc) => {
        doc.setIn(["config", "homebrew-dev:platform", "ingress", "replicas"], 3);
        doc.setIn(["config", "homebrew-dev:cluster", "adminCertValidityHours"], 24);
        doc.setIn(["config", "homebrew-dev:builds", "images", 0, "healthPath"], "/ready");
        doc.setIn(["config", "homebrew-dev:builds", "images", 0, "buildArgs"], {
          NODE_ENV: "prod",
        });
        doc.setIn(["config", "homebrew-dev:models", 0, "startupTimeoutSeconds"], 900);
        doc.setIn(["config", "homebrew-dev:models", 0, "targetWaitingRequests"], 5);
        doc.setIn(["config", "homebrew-dev:models", 0, "targetKvCacheUsage"], 70);
        doc.setIn(["config", "homebrew-dev:models", 2, "targetCpuUtilization"], 60);
        doc.setIn(["config", "homebrew-dev:models", 3, "coldStartSeconds"], 12);
        doc.setIn(["config", "homebrew-dev:modelGateway", "wakeTimeoutSeconds"], 45);
        doc.setIn(["config", "homebrew-dev:modelGateway", "requestTimeoutSeconds"], 300);
        doc.setIn(["config", "homebrew-dev:modelGateway", "replicas"], 3);
      },
      ["--json"],
    );
    expect(res.stderr).toBe("");
    const resources: { type: string; name: string; inputs: Record<string, any> }[] = JSON.parse(
      res.stdout,
    ).resources;
    const one = (type: string, name: string) => {
      const r = resources.find((x) => x.type === type && x.name === name);
      expect(r, `${type} ${name}`).toBeDefined();
      return r!.inputs;
    };
    expect(one("kubernetes:apps/v1:Deployment", "platform-ingress-cloudflared").spec.replicas).toBe(
      3,
    );
    const certs = resources.filter(
      (r) => r.type === "tls:index/locallySignedCert:LocallySignedCert",
    );
    expect(certs.length).toBeGreaterThan(0);
    for (const c of certs) expect(c.inputs["validityPeriodHours"]).toBe(24);
    const app = one("kubernetes:apps/v1:Deployment", "app-hello-api-deployment");
    expect(app.spec.template.spec.containers[0].readinessProbe.httpGet.path).toBe("/ready");
    expect(app.spec.template.spec.containers[0].livenessProbe.httpGet.path).toBe("/ready");
    expect(one("docker-build:index:Image", "image-hello-api-image").buildArgs).toMatchObject({
      NODE_ENV: "prod",
    });
    // prod's first model, qwen-7b.
    const server = one("kubernetes:apps/v1:StatefulSet", "model-qwen-7b-server");
    const startup = server.spec.template.spec.containers[0].startupProbe;
    expect(startup.failureThreshold * startup.periodSeconds).toBeGreaterThanOrEqual(900);
    expect(startup.failureThreshold * startup.periodSeconds).toBeLessThan(1800);
    // vLLM scales on its queue and KV cache, Ollama (no metrics) on CPU.
    const triggers = (model: string) =>
      one("kubernetes:keda.sh/v1alpha1:ScaledObject", `model-${model}-scaler`).spec.triggers;
    expect(
      triggers("qwen-7b").map((t: any) => [t.name, t.metricType, t.metadata.threshold]),
    ).toEqual([
      ["queue", "AverageValue", "5"],
      ["kv-cache", "Value", "0.7"],
    ]);
    expect(triggers("qwen-coder")).toEqual([
      { type: "cpu", name: "cpu", metricType: "Utilization", metadata: { value: "60" } },
    ]);
    // The wake route of tiny-cpu holds for the gateway's wake timeout and carries the measurement.
    const route = one(
      "kubernetes:http.keda.sh/v1beta1:InterceptorRoute",
      "model-tiny-cpu-wake-route",
    );
    expect(route.metadata.annotations).toEqual({ "homebrew-dev.io/cold-start-seconds": "12" });
    expect(route.spec.timeouts).toEqual({
      readiness: "45s",
      request: "300s",
      responseHeader: "300s",
    });
    expect(one("kubernetes:apps/v1:Deployment", "model-gateway-deployment").spec.replicas).toBe(3);
    const config = one("kubernetes:core/v1:ConfigMap", "model-gateway-config").data["config.yaml"];
    expect(config).toContain("request_timeout: 300");
  });
});

describe("build secrets", () => {
  it("reach the image build a stack names them for, as secrets", async () => {
    const edit = (doc: import("yaml").Document) => {
      doc.setIn(["config", "homebrew-dev:buildSecrets"], {
        npmrc: { secure: "v1:ZmFrZQ==:ZmFrZQ==" },
      });
      doc.setIn(["config", "homebrew-dev:builds", "images", 0, "secrets"], ["npmrc"]);
    };
    const image = (res: { stdout: string }) =>
      (JSON.parse(res.stdout).resources as { type: string; inputs: any }[]).find(
        (r) => r.type === "docker-build:index:Image",
      )!;
    const masked = await planEditedStack("prod", edit, ["--json"]);
    expect(masked.stderr).toBe("");
    expect(image(masked).inputs.secrets).toBe("[secret]");
    // Revealed, the build gets the secret by its id (the offline plan cannot decrypt the value).
    const shown = await planEditedStack("prod", edit, ["--json", "--show-secrets"]);
    expect(image(shown).inputs.secrets).toEqual({ npmrc: "[secret]" });
  });

  it("an image naming a build secret the stack does not have is refused at its key", async () => {
    const res = await planEditedStack("prod", (doc) => {
      doc.setIn(["config", "homebrew-dev:builds", "images", 0, "secrets"], ["npmrc"]);
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      "error: invalid stack configuration (1 problem):\n" +
        "  - homebrew-dev:builds.images[0].secrets[0]: no build secret \"npmrc\" in homebrew-dev:buildSecrets (set it with `pulumi config set --secret --path 'homebrew-dev:buildSecrets.npmrc' <value>`)\n",
    );
  });

  it("build secrets in plain text are refused: they must be set with --secret", async () => {
    const res = await planEditedStack("prod", (doc) => {
      doc.setIn(["config", "homebrew-dev:buildSecrets"], { npmrc: "plain" });
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      "homebrew-dev:buildSecrets: must be a secret (set it with `pulumi config set --secret homebrew-dev:buildSecrets <value>`)",
    );
  });
});
