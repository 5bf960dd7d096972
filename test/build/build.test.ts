import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { beforeAll, describe, expect, it } from "vitest";
import { ContainerImage, imageNaming } from "../../components/build/image";
import { ServiceApp } from "../../components/kubernetes/serviceApp";
import { REPO_ROOT, runPlanCli } from "../helpers/cli";
import { baselineViolations, validateK8s } from "../helpers/k8s";
import { recordResources, resolve } from "../helpers/mocks";

const rec = recordResources({ stack: "build" });
type Obj = Record<string, any>;
const isSecret = (v: unknown) =>
  typeof v === "object" && v !== null && (v as Obj)[specialSigKey] === specialSecretSig;

describe("image naming", () => {
  it("tags with the source revision and caches next to the image", () => {
    expect(imageNaming({ name: "api", registry: "ghcr.io/acme/", revision: "3f2a1c0" })).toEqual({
      repository: "ghcr.io/acme/api",
      tags: ["ghcr.io/acme/api:3f2a1c0"],
      cacheRef: "ghcr.io/acme/api:buildcache",
    });
  });

  it("refuses latest and revisions that are not tags", () => {
    expect(() =>
      imageNaming({ name: "api", registry: "ghcr.io/acme", revision: "latest" }),
    ).toThrow(
      'image api: revision "latest" is not a usable tag (a source revision such as a commit id; never "latest")',
    );
    expect(() => imageNaming({ name: "api", registry: "ghcr.io/acme", revision: "a b" })).toThrow(
      'image api: revision "a b" is not a usable tag',
    );
  });
});

describe("ContainerImage and ServiceApp", () => {
  let image: ContainerImage;
  beforeAll(async () => {
    rec.reset();
    image = new ContainerImage("image-api", {
      name: "api",
      registry: "ghcr.io/acme",
      context: "apps/api",
      target: "runtime",
      platforms: ["linux/amd64", "linux/arm64"],
      revision: "3f2a1c0",
      secrets: { npmrc: "//registry/:_authToken=not-real" },
      registryAuth: { username: "bot", password: pulumi.secret("not-a-real-password") },
    });
    new ServiceApp("app-api", { name: "api", namespace: "apps", image: image.ref, replicas: 3 });
    await resolve(image.ref);
    await new Promise((r) => setTimeout(r, 50));
  });
  const built = () =>
    rec.registrations.find((r) => r.type === "docker-build:index:Image")!.inputs as Obj;

  it("builds the target stage for the platforms, with a registry cache in mode max", () => {
    expect(built()).toMatchObject({
      context: { location: "apps/api" },
      dockerfile: { location: "apps/api/Dockerfile" },
      target: "runtime",
      platforms: ["linux/amd64", "linux/arm64"],
      push: true,
      cacheFrom: [{ registry: { ref: "ghcr.io/acme/api:buildcache" } }],
      cacheTo: [{ registry: { ref: "ghcr.io/acme/api:buildcache", mode: "max" } }],
      buildOnPreview: false,
    });
  });

  it("tags with the revision, never latest", () => {
    expect(built()["tags"]).toEqual(["ghcr.io/acme/api:3f2a1c0"]);
    expect(JSON.stringify(built()["tags"])).not.toContain("latest");
  });

  it("keeps build secrets and registry passwords secret", () => {
    // The SDK may mark the whole map or list secret, or just the value: either way the text
    // is inside a secret.
    const secretly = (v: Obj | undefined, leaf: (x: Obj) => unknown) =>
      isSecret(v) || (v !== undefined && isSecret(leaf(v)));
    expect(secretly(built()["secrets"], (x) => x["npmrc"])).toBe(true);
    expect(secretly(built()["registries"], (x) => x[0]?.password)).toBe(true);
  });

  it("runs the workload by the image's digest", async () => {
    const { value } = await resolve(image.ref);
    expect(value).toMatch(/^ghcr\.io\/acme\/api@sha256:[0-9a-f]{64}$/);
    const deployment = rec.registrations.find((r) => r.type === "kubernetes:apps/v1:Deployment")!
      .inputs as Obj;
    expect(deployment["spec"].template.spec.containers[0].image).toBe(value);
  });

  it("deploys with secure defaults, a Service and a disruption budget, all schema-valid", async () => {
    const objects = rec.registrations.filter((r) => r.type.startsWith("kubernetes:"));
    expect(objects.map((o) => o.type).sort()).toEqual([
      "kubernetes:apps/v1:Deployment",
      "kubernetes:core/v1:Service",
      "kubernetes:policy/v1:PodDisruptionBudget",
    ]);
    for (const o of objects) expect(await validateK8s(o.type, o.inputs), o.name).toBeUndefined();
    const deployment = objects.find((o) => o.type === "kubernetes:apps/v1:Deployment")!;
    const spec = (deployment.inputs as Obj)["spec"].template.spec;
    expect(baselineViolations(spec)).toEqual([]);
    expect(spec.containers[0].securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
    });
  });
});

describe("the example service", () => {
  const dockerfile = readFileSync(path.join(REPO_ROOT, "apps", "hello-api", "Dockerfile"), "utf8");
  const froms = dockerfile.split("\n").filter((l) => /^FROM /i.test(l));

  it("is a multi-stage build whose runtime stage runs as non-root", () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    expect(froms.at(-1)).toMatch(/ AS runtime$/);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf("FROM "));
    expect(runtime).toMatch(/^USER 65532:65532$/m);
    expect(runtime).toContain("COPY --from=build");
    for (const f of froms) expect(f).not.toMatch(/:latest\b|^FROM [^:@\s]+( |$)/);
  });

  it("answers /healthz", async () => {
    const { server } = (await import(path.join(REPO_ROOT, "apps", "hello-api", "server.mjs"))) as {
      server: import("node:http").Server;
    };
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: "ok" });
      expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).toBe(404);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe("builds in the prod plan", () => {
  it("plans an image with a registry cache and no latest tag, consumed by digest", async () => {
    const plan = JSON.parse((await runPlanCli(["prod", "--json"])).stdout);
    const images = plan.resources.filter((r: Obj) => r.type === "docker-build:index:Image");
    expect(images.length).toBeGreaterThanOrEqual(1);
    for (const i of images) {
      expect(i.inputs.cacheTo[0].registry.mode).toBe("max");
      expect(i.inputs.cacheFrom[0].registry.ref).toMatch(/:buildcache$/);
      for (const t of i.inputs.tags) expect(t).not.toMatch(/:latest$/);
    }
    const app = plan.resources.find(
      (r: Obj) =>
        r.type === "kubernetes:apps/v1:Deployment" && r.inputs.metadata.name === "hello-api",
    );
    expect(app.inputs.spec.template.spec.containers[0].image).toBe(
      plan.outputs.imageRefs["hello-api"],
    );
    expect(plan.outputs.imageRefs["hello-api"]).toMatch(
      /^ghcr\.io\/homebrew-dev\/hello-api@sha256:[0-9a-f]{64}$/,
    );
  });
});
