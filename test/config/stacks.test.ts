import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { describe, expect, it } from "vitest";
import { stackSchemaValidator } from "../helpers/stackSchema";
import type { StackConfig } from "../../components/config";
import { readStackFile } from "../../tools/plan/run";
import { REPO_ROOT } from "../helpers/cli";
import { shippedStack as stack } from "../helpers/stacks";

const nodes = (c: StackConfig) => [
  ...c.cluster.controlPlane.nodes,
  ...c.cluster.workerPools.flatMap((p) => p.nodes),
];

describe("shipped stacks", () => {
  it("dev: one Proxmox host, one control plane, one worker, no GPU", () => {
    const c = stack("dev");
    expect(c.environment).toBe("dev");
    expect(c.proxmox.hosts).toHaveLength(1);
    expect(c.cluster.controlPlane.nodes).toHaveLength(1);
    expect(c.cluster.workerPools.flatMap((p) => p.nodes)).toHaveLength(1);
    expect(c.proxmox.hosts.every((h) => h.gpus === 0)).toBe(true);
    expect(c.cluster.workerPools.every((p) => p.gpusPerNode === 0)).toBe(true);
    expect(c.models.every((m) => m.gpus === 0)).toBe(true);
  });

  it("staging: three control planes and two workers", () => {
    const c = stack("staging");
    expect(c.environment).toBe("staging");
    expect(c.cluster.controlPlane.nodes).toHaveLength(3);
    expect(c.cluster.workerPools.flatMap((p) => p.nodes)).toHaveLength(2);
  });

  it("prod: three hosts, three control planes, a worker pool and a GPU pool, models, edge", () => {
    const c = stack("prod");
    expect(c.environment).toBe("prod");
    expect(c.proxmox.hosts).toHaveLength(3);
    expect(c.cluster.controlPlane.nodes).toHaveLength(3);
    expect(c.cluster.controlPlane.protect).toBe(true);
    const gpuPools = c.cluster.workerPools.filter((p) => p.gpusPerNode > 0);
    const cpuPools = c.cluster.workerPools.filter((p) => p.gpusPerNode === 0);
    expect(gpuPools.length).toBeGreaterThanOrEqual(1);
    expect(cpuPools.length).toBeGreaterThanOrEqual(1);
    expect(gpuPools.every((p) => p.runtimes.includes("nvidia"))).toBe(true);
    expect(c.models.length).toBeGreaterThanOrEqual(3);
    expect(c.models.some((m) => m.gpus > 0)).toBe(true);
    expect(c.edge?.records.length).toBeGreaterThanOrEqual(24);
    expect(c.edge?.redirects.length).toBeGreaterThanOrEqual(24);
  });

  it.each(["dev", "staging", "prod"])("%s: different networks, clusters and endpoints", (name) => {
    const c = stack(name);
    const others = ["dev", "staging", "prod"].filter((n) => n !== name).map(stack);
    for (const o of others) {
      expect(o.cluster.network.subnet).not.toBe(c.cluster.network.subnet);
      expect(o.cluster.name).not.toBe(c.cluster.name);
    }
    expect(new Set(nodes(c).map((n) => n.ip)).size).toBe(nodes(c).length);
  });

  it.each(["dev", "staging", "prod"])("%s: holds no secret and no secure value", (name) => {
    const text = readFileSync(path.join(REPO_ROOT, "stacks", `Pulumi.${name}.yaml`), "utf8");
    const values = text
      .split("\n")
      .filter((line) => !line.trimStart().startsWith("#"))
      .join("\n");
    expect(values).not.toMatch(/\bsecure:|token|password|apikey|BEGIN [A-Z ]*PRIVATE KEY/i);
    expect(readStackFile(path.join(REPO_ROOT, "stacks", `Pulumi.${name}.yaml`)).secretKeys).toEqual(
      [],
    );
  });

  it.each(["dev", "staging", "prod"])("%s: names the editor schema and passes it", (name) => {
    const file = path.join(REPO_ROOT, "stacks", `Pulumi.${name}.yaml`);
    const text = readFileSync(file, "utf8");
    expect(text.split("\n")[0]).toBe("# yaml-language-server: $schema=../docs/stack.schema.json");
    const schema = JSON.parse(
      readFileSync(path.join(REPO_ROOT, "docs", "stack.schema.json"), "utf8"),
    );
    const validate = stackSchemaValidator(schema);
    expect(validate(YAML.parse(text)), JSON.stringify(validate.errors)).toBe(true);
  });
});
