/**
 * The images a plan deploys, read from its JSON (`npm run plan -- <stack> --json`): every
 * container, init container and ephemeral container of every workload, so the list a pull request
 * scans never drifts from what the stacks run. An image whose reference is not known before the
 * deployment is listed apart. The images the stack builds are not in a registry before the
 * deployment (the plan stands in a digest for theirs): they are scanned at their source, the build
 * context (`trivy fs`).
 */
import { parseImage } from "../../policies/rules/images";
import { containersOf, WORKLOADS } from "../../policies/rules/util";
import { rec } from "../plan/analysis";

export interface PlanImages {
  /** Scannable references, sorted, each once. */
  readonly images: readonly string[];
  /**
   * The images the stacks build (docker-build Image resources), by repository, with their build
   * context: not in a registry before the deployment, so scanned at their source.
   */
  readonly built: readonly { readonly repository: string; readonly context: string }[];
  /** Where each reference is used (`stack: resource/container`). */
  readonly usedBy: Readonly<Record<string, readonly string[]>>;
  /** Workloads whose image is only known after the build. */
  readonly unknown: readonly string[];
}

interface PlanJson {
  readonly stack?: string;
  readonly resources?: readonly {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, unknown>;
  }[];
}

/** Whether a value is a placeholder of the offline plan (`[unknown]`, `[secret]`). */
const placeholder = (v: string) => /\[(unknown|secret)\]/.test(v);

const repositoryOf = (ref: string) => parseImage(ref).repository;

export function planImages(plans: readonly PlanJson[]): PlanImages {
  const usedBy = new Map<string, string[]>();
  const unknown: string[] = [];
  const built = new Map<string, string>();
  for (const plan of plans) {
    for (const r of (plan.resources ?? []).filter((x) => x.type === "docker-build:index:Image")) {
      const context = rec(r.inputs["context"])["location"];
      for (const tag of Array.isArray(r.inputs["tags"]) ? r.inputs["tags"] : []) {
        if (typeof tag === "string" && typeof context === "string") {
          built.set(repositoryOf(tag), context);
        }
      }
    }
  }
  for (const plan of plans) {
    for (const r of plan.resources ?? []) {
      const spec = WORKLOADS[r.type]?.(r.inputs);
      for (const { c } of containersOf(spec)) {
        const image = c["image"];
        const where = `${plan.stack ?? "?"}: ${r.name}/${String(c["name"])}`;
        if (typeof image !== "string" || placeholder(image)) {
          unknown.push(where);
          continue;
        }
        // The plan stands in a digest for one the stack builds: it names no real image.
        if (built.has(repositoryOf(image))) continue;
        usedBy.set(image, [...(usedBy.get(image) ?? []), where]);
      }
    }
  }
  const images = [...usedBy.keys()].sort();
  return {
    images,
    built: [...built]
      .map(([repository, context]) => ({ repository, context }))
      .sort((a, b) => a.repository.localeCompare(b.repository)),
    usedBy: Object.fromEntries(images.map((i) => [i, usedBy.get(i)!])),
    unknown: unknown.sort(),
  };
}

/**
 * The container images of rendered manifests (the charts the plans install, `helm template`d by
 * the workflow): every `image` of a workload's containers, by the same reading as the plan's.
 */
export function manifestImages(docs: readonly unknown[]): string[] {
  const kinds: Record<string, string> = {
    Pod: "kubernetes:core/v1:Pod",
    Deployment: "kubernetes:apps/v1:Deployment",
    StatefulSet: "kubernetes:apps/v1:StatefulSet",
    DaemonSet: "kubernetes:apps/v1:DaemonSet",
    ReplicaSet: "kubernetes:apps/v1:ReplicaSet",
    Job: "kubernetes:batch/v1:Job",
    CronJob: "kubernetes:batch/v1:CronJob",
  };
  const out = new Set<string>();
  for (const doc of docs) {
    const type = kinds[String(rec(doc)["kind"])];
    if (type === undefined) continue;
    for (const { c } of containersOf(WORKLOADS[type]!(rec(doc)))) {
      if (typeof c["image"] === "string" && !placeholder(c["image"])) out.add(c["image"]);
    }
  }
  return [...out].sort();
}

/** The Helm releases of the plans: what `helm template` needs to render each. */
export function planCharts(plans: readonly PlanJson[]): {
  readonly id: string;
  readonly release: string;
  readonly chart: string;
  readonly version: string;
  readonly repo: string | undefined;
  readonly namespace: string;
  readonly values: Record<string, unknown>;
}[] {
  return plans.flatMap((plan) =>
    (plan.resources ?? [])
      .filter((r) => r.type === "kubernetes:helm.sh/v3:Release")
      .map((r) => {
        const repo = rec(r.inputs["repositoryOpts"])["repo"];
        return {
          id: `${plan.stack ?? "stack"}-${r.name}`,
          release: typeof r.inputs["name"] === "string" ? r.inputs["name"] : r.name,
          chart: String(r.inputs["chart"]),
          version: String(r.inputs["version"]),
          repo: typeof repo === "string" ? repo : undefined,
          namespace: typeof r.inputs["namespace"] === "string" ? r.inputs["namespace"] : "default",
          values: rec(r.inputs["values"]),
        };
      }),
  );
}
