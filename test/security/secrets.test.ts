import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { computedOutputs } from "../../tools/plan/placeholders";
import { runPlanCli } from "../helpers/cli";

/**
 * The offline plan must print nothing readable that is secret unless asked to. The generated
 * secrets have deterministic placeholder values in the plan, so the scan knows exactly what to
 * look for: every random secret, in plain and in base64, plus key material of any kind.
 */

interface Resource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

const RANDOM_TYPES = [
  "random:index/randomBytes:RandomBytes",
  "random:index/randomString:RandomString",
  "random:index/randomPassword:RandomPassword",
];

/** The values a leak would show: each generated secret, raw and base64-encoded. */
function generatedSecrets(resources: Resource[]): string[] {
  const values: string[] = [];
  for (const r of resources.filter((x) => RANDOM_TYPES.includes(x.type))) {
    const out = computedOutputs(r.type, r.name, r.inputs);
    for (const key of ["base64", "hex", "result"]) {
      const v = out[key];
      if (typeof v === "string" && v.length >= 6) {
        values.push(v);
        if (v.length >= 12) values.push(Buffer.from(v).toString("base64").slice(0, 16));
      }
    }
  }
  return values;
}

const KEY_MATERIAL = [
  /-----BEGIN [A-Z ]*-----/, // PEM
  /LS0tLS1CRUdJT|0tLS0tQkVHSU|tLS0tLUJFR0lO/, // base64 of "-----BEGIN" at each alignment
  /PRIVATE KEY/,
  /eyJhIjoi/, // base64 of a tunnel token's '{"a":"'
  /\b[a-z0-9]{6}\.[a-z0-9]{16}\b/, // Talos and kubeadm token shape
];

describe.each(["dev", "staging", "prod"])("secrets scan of the %s plan", (stack) => {
  let text: string;
  let json: string;
  let markdown: string;
  let shown: string;
  let secrets: string[];
  beforeAll(async () => {
    text = (await runPlanCli([stack])).stdout;
    json = (await runPlanCli([stack, "--json"])).stdout;
    // A comparison against an empty plan: every resource, with all its inputs, in the comment.
    const empty = path.join(mkdtempSync(path.join(tmpdir(), "scan-")), "empty.json");
    writeFileSync(empty, JSON.stringify({ stack, resources: [], outputs: {}, policies: [] }));
    markdown = (await runPlanCli([stack, "--diff", empty, "--markdown"])).stdout;
    shown = (await runPlanCli([stack, "--json", "--show-secrets"])).stdout;
    secrets = generatedSecrets(JSON.parse(json).resources);
  });

  it("knows what to look for", () => {
    expect(secrets.length).toBeGreaterThanOrEqual(10);
    // The scan is not vacuous: with --show-secrets the machine configs carry these values.
    expect(secrets.filter((s) => shown.includes(s)).length).toBeGreaterThan(0);
    expect(shown).toMatch(/eyJhIjoi|[a-z0-9]{6}\.[a-z0-9]{16}/);
  });

  it("prints no generated secret, in the tree, the JSON or the pull-request comment", () => {
    expect(markdown.length).toBeGreaterThan(1000);
    for (const out of [text, json, markdown]) {
      for (const s of secrets) expect(out.includes(s), s).toBe(false);
    }
  });

  it("prints no key material or token", () => {
    for (const out of [text, json, markdown]) {
      for (const pattern of KEY_MATERIAL) expect(out).not.toMatch(pattern);
    }
  });

  it("masks credentials in outputs", () => {
    const outputs = JSON.parse(json).outputs;
    expect(outputs.kubeconfig).toBe("[secret]");
    expect(outputs.talosconfig).toBe("[secret]");
  });
});
