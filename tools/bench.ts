/**
 * `npm run bench`: times the offline plan of each shipped stack and of generated large stacks
 * against the floor, the same number of bare resource registrations on the same mock runtime in
 * the same process. Prints per-resource cost and the ratio to the floor, and writes the table to
 * docs/benchmarks.md. Figures are medians of several runs after a warm-up.
 *
 *   npm run bench [-- --runs N] [-- --quick]
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { planFile } from "./plan/batch";
import { REPO_ROOT, evaluate } from "./plan/run";

export interface BenchSize {
  readonly hosts: number;
  readonly nodes: number;
  readonly redirects: number;
  readonly models: number;
}

/** A valid stack config of the given size (what a large operator's stack could look like). */
export function generatedStack(size: BenchSize): Record<string, unknown> {
  const gpuHosts = Math.max(1, Math.floor(size.hosts / 5));
  const hosts = Array.from({ length: size.hosts }, (_, i) => ({
    name: `pve-${i + 1}`,
    cpuCores: 256,
    memoryMiB: 2_097_152,
    ...(i < gpuHosts ? { gpus: 8, gpuMapping: "gpus" } : {}),
  }));
  const controlPlanes = 3;
  const gpuNodes = Math.max(1, Math.floor(size.nodes / 10));
  const workers = Math.max(1, size.nodes - controlPlanes - gpuNodes);
  // 10.0.0.0/16 holds 65k addresses: room for 200 nodes and more.
  const ip = (n: number) => `10.60.${Math.floor(n / 250)}.${(n % 250) + 2}`;
  let next = 20;
  const node = (name: string) => ({ name, ip: ip(next++) });
  const models = Array.from({ length: size.models }, (_, i) =>
    i % 2 === 0
      ? {
          name: `gpu-model-${i}`,
          engine: "vllm",
          source: { huggingFace: `org/model-${i}` },
          gpus: 1,
          maxReplicas: 2,
          hostname: `m${i}.bench.example`,
        }
      : {
          name: `cpu-model-${i}`,
          engine: "llamacpp",
          source: { huggingFace: `org/model-${i}-GGUF`, file: `model-${i}.gguf` },
        },
  );
  const redirects = Array.from({ length: size.redirects }, (_, i) => ({
    source: `https://old.bench.example/page-${i}`,
    target: `https://www.bench.example/page-${i}`,
    status: 301,
  }));
  return {
    "homebrew-dev:environment": "prod",
    "homebrew-dev:proxmox": { endpoint: "https://pve.bench.example:8006/", hosts },
    "homebrew-dev:cluster": {
      name: "bench",
      talosVersion: "v1.13.9",
      kubernetesVersion: "v1.35.2",
      network: { subnet: "10.60.0.0/16", gateway: "10.60.0.1", vip: "10.60.0.10" },
      controlPlane: { nodes: Array.from({ length: controlPlanes }, (_, i) => node(`cp-${i + 1}`)) },
      workerPools: [
        {
          name: "general",
          nodes: Array.from({ length: workers }, (_, i) => node(`worker-${i + 1}`)),
          runtimes: ["gvisor", "kata"],
        },
        {
          name: "gpu",
          nodes: Array.from({ length: gpuNodes }, (_, i) => node(`gpu-${i + 1}`)),
          gpusPerNode: 2,
          hosts: hosts.slice(0, gpuHosts).map((h) => h.name),
          runtimes: ["nvidia"],
        },
      ],
    },
    "homebrew-dev:models": models,
    "homebrew-dev:edge": {
      accountId: "0123456789abcdef0123456789abcdef",
      plan: "enterprise",
      zone: { name: "bench.example" },
      redirects,
    },
  };
}

export const SIZES: readonly (BenchSize & { readonly label: string })[] = [
  { label: "S", hosts: 3, nodes: 10, redirects: 100, models: 1 },
  { label: "M", hosts: 10, nodes: 50, redirects: 1000, models: 10 },
  { label: "L", hosts: 25, nodes: 100, redirects: 5000, models: 25 },
  { label: "XL", hosts: 50, nodes: 200, redirects: 10000, models: 50 },
];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

async function time(fn: () => Promise<unknown>, runs: number): Promise<number> {
  await fn(); // warm-up: module loading and JIT are not the plan's cost
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(samples);
}

/** A resource with nothing but its registration. */
class Bare extends pulumi.CustomResource {
  constructor(name: string, props: Record<string, unknown>) {
    super("bench:index:Bare", name, props);
  }
}

/** The floor: `n` bare registrations through the same evaluation on the mock runtime. */
async function floor(n: number, file: string): Promise<void> {
  await evaluate({
    stack: "floor",
    configFile: file,
    program: () => {
      for (let i = 0; i < n; i++) {
        new Bare(`r${i}`, { index: i, name: `r${i}` });
      }
      return {};
    },
  });
}

interface Row {
  readonly name: string;
  readonly resources: number;
  readonly planMs: number;
  readonly floorMs: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: "string", default: "5" }, quick: { type: "boolean", default: false } },
  });
  const runs = Number(values.runs);
  const dir = mkdtempSync(path.join(tmpdir(), "bench-"));
  const cases: { name: string; file: string; stack: string }[] = ["dev", "staging", "prod"].map(
    (s) => ({ name: s, file: path.join(REPO_ROOT, "stacks", `Pulumi.${s}.yaml`), stack: s }),
  );
  for (const size of values.quick ? SIZES.slice(0, 2) : SIZES) {
    const file = path.join(dir, `${size.label}.yaml`);
    writeFileSync(file, YAML.stringify({ config: generatedStack(size) }));
    cases.push({
      name: `${size.label}: ${size.hosts} hosts, ${size.nodes} nodes, ${size.redirects} redirects, ${size.models} models`,
      file,
      stack: "bench",
    });
  }
  const rows: Row[] = [];
  for (const c of cases) {
    const first = await planFile(c.file, c.stack);
    if (first.code !== 0) throw new Error(`${c.name}: the plan failed: ${first.message}`);
    const planMs = await time(() => planFile(c.file, c.stack), runs);
    const floorMs = await time(() => floor(first.resources, c.file), runs);
    const row = { name: c.name, resources: first.resources, planMs, floorMs };
    rows.push(row);
    process.stdout.write(`${format(row)}\n`);
  }
  const table = [
    "| case | resources | plan (ms) | floor (ms) | µs per resource | ratio to floor |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.resources} | ${r.planMs.toFixed(0)} | ${r.floorMs.toFixed(0)} | ${((r.planMs * 1000) / r.resources).toFixed(0)} | ${(r.planMs / r.floorMs).toFixed(2)} |`,
    ),
  ];
  const doc = [
    "# Offline plan benchmarks",
    "",
    "<!-- Written by `npm run bench`; rerun it to refresh. -->",
    "",
    "Each figure is the median of several in-process runs after a warm-up. The floor is the same",
    "number of bare resource registrations on the same mock runtime in the same process, so the",
    "ratio is what the program itself costs on top of Pulumi's own per-resource work. Whole-process",
    "figures (Node start-up and module loading included) can be reproduced with",
    "`/usr/bin/time -v npm run -s plan -- prod --json > /dev/null`.",
    "",
    `Machine: ${cpus().length} cores, ${cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}.`,
    "",
    ...table,
    "",
  ].join("\n");
  writeFileSync(path.join(REPO_ROOT, "docs", "benchmarks.md"), doc);
  process.stdout.write(`\n${table.join("\n")}\n\nwrote docs/benchmarks.md\n`);
}

function format(r: Row): string {
  const per = ((r.planMs * 1000) / r.resources).toFixed(0);
  return `${r.name.padEnd(62)} ${String(r.resources).padStart(6)} resources  plan ${r.planMs.toFixed(0).padStart(6)} ms  floor ${r.floorMs.toFixed(0).padStart(6)} ms  ${per.padStart(5)} µs/resource  ratio ${(r.planMs / r.floorMs).toFixed(2)}`;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
