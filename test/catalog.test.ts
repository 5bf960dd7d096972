import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  CHARTS,
  IMAGES,
  MANIFESTS,
  PACKAGES,
  byTagReason,
  imageRef,
  type ChartPin,
  type ImagePin,
} from "../components/catalog";
import { REPO_ROOT } from "./helpers/cli";
import { WORKLOADS, containersOf } from "../policies/rules/util";
import { SHIPPED_STACKS, planOf } from "./helpers/plans";

/**
 * The catalog is the one place pins live, and Renovate finds every one of them: its custom
 * managers (renovate.json) are applied here the way Renovate applies them (each match string, a
 * global regular expression with named groups, over every file a pattern selects).
 */
interface Dep {
  readonly datasource?: string;
  readonly depName?: string;
  readonly currentValue?: string;
  readonly currentDigest?: string;
  readonly registryUrl?: string;
  readonly versioning?: string;
  readonly file: string;
}

const renovate = JSON.parse(readFileSync(path.join(REPO_ROOT, "renovate.json"), "utf8")) as {
  customManagers: {
    customType: string;
    managerFilePatterns: string[];
    matchStrings: string[];
    datasourceTemplate?: string;
    depNameTemplate?: string;
  }[];
};

function repoFiles(dir = REPO_ROOT, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (["node_modules", ".git", "bin"].includes(e.name)) return [];
    const rel = prefix === "" ? e.name : `${prefix}/${e.name}`;
    return e.isDirectory() ? repoFiles(path.join(dir, e.name), rel) : [rel];
  });
}

function extract(): Dep[] {
  const files = repoFiles();
  const deps: Dep[] = [];
  for (const m of renovate.customManagers) {
    expect(m.customType).toBe("regex");
    // Renovate writes a regular expression pattern between slashes.
    const patterns = m.managerFilePatterns.map((p) => new RegExp(p.replace(/^\/(.*)\/$/, "$1")));
    for (const file of files.filter((f) => patterns.some((p) => p.test(f)))) {
      const text = readFileSync(path.join(REPO_ROOT, file), "utf8");
      for (const s of m.matchStrings) {
        for (const match of text.matchAll(new RegExp(s, "g"))) {
          const g = match.groups ?? {};
          deps.push({
            datasource: g["datasource"] ?? m.datasourceTemplate,
            depName: g["depName"] ?? m.depNameTemplate,
            currentValue: g["currentValue"],
            ...(g["currentDigest"] !== undefined ? { currentDigest: g["currentDigest"] } : {}),
            ...(g["registryUrl"] !== undefined ? { registryUrl: g["registryUrl"] } : {}),
            ...(g["versioning"] !== undefined ? { versioning: g["versioning"] } : {}),
            file,
          });
        }
      }
    }
  }
  return deps;
}

describe("Renovate finds every pin", () => {
  const deps = extract();
  const found = (want: Partial<Dep>) =>
    deps.filter((d) => Object.entries(want).every(([k, v]) => d[k as keyof Dep] === v));

  it("every chart, with its repository", () => {
    for (const c of Object.values(CHARTS) as readonly ChartPin[]) {
      // An OCI chart is an artifact of its registry: Renovate reads its tags as an image's.
      const want = c.repo.startsWith("oci://")
        ? {
            datasource: "docker",
            depName: `${c.repo.replace(/^oci:\/\//, "")}/${c.chart}`,
            currentValue: c.version,
          }
        : { datasource: "helm", depName: c.chart, currentValue: c.version, registryUrl: c.repo };
      expect(found(want), c.chart).toHaveLength(1);
    }
  });

  it("every image tag, and tags that are not versions say how to read them", () => {
    for (const i of Object.values(IMAGES)) {
      const d = found({ datasource: "docker", depName: i.repository, currentValue: i.tag });
      expect(d, imageRef(i)).toHaveLength(1);
      if (d[0]!.versioning !== undefined) {
        const pattern = new RegExp(d[0]!.versioning.replace(/^regex:/, ""));
        expect(pattern.test(i.tag), `${imageRef(i)} ${d[0]!.versioning}`).toBe(true);
      }
    }
  });

  it("every image digest, with the tag it belongs to", () => {
    for (const i of Object.values(IMAGES) as readonly ImagePin[]) {
      const d = found({ datasource: "docker", depName: i.repository, currentValue: i.tag });
      expect(d[0]?.currentDigest, imageRef(i)).toBe(i.digest);
    }
  });

  it("every manifest release and package", () => {
    for (const m of Object.values(MANIFESTS)) {
      expect(
        found({ datasource: "github-releases", depName: m.repository, currentValue: m.version }),
      ).toHaveLength(1);
    }
    expect(
      found({
        datasource: "pypi",
        depName: "huggingface_hub",
        currentValue: PACKAGES.huggingFaceHub,
      }),
    ).toHaveLength(1);
  });

  it("the Talos and Kubernetes version of every stack", () => {
    for (const stack of SHIPPED_STACKS) {
      const file = `stacks/Pulumi.${stack}.yaml`;
      const text = readFileSync(path.join(REPO_ROOT, file), "utf8");
      const talos = /\n\s+talosVersion: (\S+)\n/.exec(text)![1];
      const k8s = /\n\s+kubernetesVersion: (\S+)\n/.exec(text)![1];
      expect(found({ file, depName: "siderolabs/talos", currentValue: talos })).toHaveLength(1);
      expect(found({ file, depName: "kubernetes/kubernetes", currentValue: k8s })).toHaveLength(1);
    }
  });

  it("the scanners of the pull-request workflow", () => {
    const file = ".github/workflows/pull-request.yml";
    expect(found({ file, datasource: "github-releases", depName: "aquasecurity/trivy" })).toEqual([
      expect.objectContaining({ currentValue: "v0.74.0" }),
    ]);
    expect(found({ file, datasource: "pypi", depName: "zizmor" })).toEqual([
      expect.objectContaining({ currentValue: "1.29.0" }),
    ]);
    expect(found({ file, datasource: "github-releases", depName: "helm/helm" })).toEqual([
      expect.objectContaining({ currentValue: "v3.20.2" }),
    ]);
  });

  it("nothing it finds is not a pin of the catalog, a stack or a workflow (no stale annotation)", () => {
    const known =
      Object.keys(CHARTS).length +
      Object.keys(IMAGES).length +
      Object.keys(MANIFESTS).length +
      Object.keys(PACKAGES).length +
      2 * SHIPPED_STACKS.length +
      3;
    expect(deps).toHaveLength(known);
  });
});

describe("image pins", () => {
  const pins = Object.entries(IMAGES) as [string, ImagePin][];

  it("each has an index digest or says why it has none, never both", () => {
    for (const [key, pin] of pins) {
      expect([pin.digest === undefined, pin.byTag === undefined], key).not.toEqual([true, true]);
      expect([pin.digest === undefined, pin.byTag === undefined], key).not.toEqual([false, false]);
      if (pin.digest !== undefined) expect(pin.digest, key).toMatch(/^sha256:[0-9a-f]{64}$/);
      if (pin.byTag !== undefined) expect(pin.byTag.trim(), key).not.toBe("");
    }
  });

  it("a reference carries its digest, and only tag-only images give a reason", () => {
    expect(imageRef(IMAGES.rabbitmq)).toBe(
      "rabbitmq:4.1.8@sha256:13b585c6d193b7539c72b69a3b284635011e187b952e43e92d771535baff5d87",
    );
    expect(byTagReason([imageRef(IMAGES.rabbitmq), imageRef(IMAGES.prepullPython)])).toBe(
      undefined,
    );
    expect(byTagReason([imageRef(IMAGES.valkey), imageRef(IMAGES.valkey)])).toBe(
      `valkey/valkey:8.1.4: ${IMAGES.valkey.byTag}`,
    );
    // An image the catalog does not know gets no reason: its finding stands.
    expect(byTagReason(["ghcr.io/acme/app:1.0.0"])).toBe(undefined);
  });
});

describe.each(SHIPPED_STACKS)("stack %s runs only what the catalog pins", (stack) => {
  it("every chart of a Helm release is a catalog chart at its version", async () => {
    const plan = await planOf(stack);
    // A chart from a repository names it beside the chart; an OCI chart is one reference.
    const charts = (Object.values(CHARTS) as readonly ChartPin[]).map((c) =>
      c.repo.startsWith("oci://")
        ? `${c.repo}/${c.chart}@${c.version}`
        : `${c.chart}@${c.version} ${c.repo}`,
    );
    for (const r of plan.resources.filter((x) => x.type === "kubernetes:helm.sh/v3:Release")) {
      const i = r.inputs as { chart: string; version: string; repositoryOpts?: { repo: string } };
      expect(charts, r.urn).toContain(
        i.repositoryOpts === undefined
          ? `${i.chart}@${i.version}`
          : `${i.chart}@${i.version} ${i.repositoryOpts.repo}`,
      );
    }
  });

  it("every container image is a catalog image or one the program builds", async () => {
    const plan = await planOf(stack);
    const pinned = new Set(Object.values(IMAGES).map(imageRef));
    const built = plan.resources
      .filter((r) => r.type === "docker-build:index:Image")
      .map((r) => String((r.inputs["tags"] as string[])[0]).replace(/:[^:/]+$/, ""));
    const images = plan.resources.flatMap((r) =>
      containersOf(WORKLOADS[r.type]?.(r.inputs)).map(({ c }) => String(c["image"])),
    );
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) {
      const ours = built.some((b) => image.startsWith(`${b}@`) || image === "[unknown]");
      expect(pinned.has(image) || ours, image).toBe(true);
    }
  });
});
