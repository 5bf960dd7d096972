import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import * as YAML from "yaml";
import { describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig } from "../../components/config";
import { planFile, type BatchResult } from "../../tools/plan/batch";
import { REPO_ROOT } from "../helpers/cli";
import { serialized } from "../helpers/plans";

/**
 * Config fuzzing: mutants of the shipped stack files (types swapped, keys removed, numbers out
 * of range, strings malformed) must either plan or fail with exit 1 and a message naming a key.
 * Nothing may crash.
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = (string | number)[];

const STACKS = ["dev", "staging", "prod"];
// Each stack file is read once; mutants are made from a copy of its parsed config.
const docs = new Map<string, { config: Record<string, Json> }>();
const stackDoc = (name: string) => {
  let doc = docs.get(name);
  if (doc === undefined) {
    doc = YAML.parse(readFileSync(path.join(REPO_ROOT, "stacks", `Pulumi.${name}.yaml`), "utf8"));
    docs.set(name, doc!);
  }
  return doc!;
};

/** Every path below `config` to a value. */
function paths(value: Json, prefix: Path = []): Path[] {
  const out: Path[] = prefix.length > 0 ? [prefix] : [];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  }
  return out;
}

const MUTATIONS = [
  "remove",
  "to-string",
  "to-number",
  "to-negative",
  "to-huge",
  "to-float",
  "to-null",
  "to-array",
  "to-object",
  "empty-string",
  "bad-ip",
  "unicode",
  "long-string",
] as const;
type Mutation = (typeof MUTATIONS)[number];

function mutated(value: Json, m: Mutation): Json | undefined {
  switch (m) {
    case "remove":
      return undefined;
    case "to-string":
      return JSON.stringify(value ?? "x");
    case "to-number":
      return 42;
    case "to-negative":
      return -1;
    case "to-huge":
      return 1e21;
    case "to-float":
      return 2.5;
    case "to-null":
      return null;
    case "to-array":
      return [value];
    case "to-object":
      return { value };
    case "empty-string":
      return "";
    case "bad-ip":
      return "10.0.0.999";
    case "unicode":
      return "💥\u0000ä";
    case "long-string":
      return "x".repeat(5000);
    default: {
      const never: never = m;
      return never;
    }
  }
}

function applyMutation(config: Record<string, Json>, at: Path, m: Mutation): Record<string, Json> {
  const copy = structuredClone(config);
  let node: any = copy;
  for (const key of at.slice(0, -1)) node = node[key];
  const last = at[at.length - 1]!;
  const next = mutated(node[last], m);
  if (next === undefined) {
    if (Array.isArray(node)) node.splice(last as number, 1);
    else delete node[last];
  } else node[last] = next;
  return copy;
}

const mutant = fc
  .record({
    stack: fc.constantFrom(...STACKS),
    pick: fc.nat(),
    mutation: fc.constantFrom(...MUTATIONS),
  })
  .map(({ stack, pick, mutation }) => {
    const { config } = stackDoc(stack);
    const all = paths(config as Json);
    const at = all[pick % all.length]!;
    return { stack, at, mutation, config: applyMutation(config, at, mutation) };
  });

/** The raw object the program validates: config keys without the namespace. */
function rawConfig(config: Record<string, Json>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(config).map(([k, v]) => [k.replace(/^homebrew-dev:/, ""), v]),
  );
}

describe("config fuzzing", () => {
  it("the validator never throws anything but a ConfigError naming key paths", () => {
    fc.assert(
      fc.property(mutant, ({ config }) => {
        try {
          parseStackConfig(rawConfig(config));
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
          for (const p of (err as ConfigError).problems) expect(p).toMatch(/^homebrew-dev:/);
        }
      }),
      { numRuns: 1500, seed: 20261122 },
    );
  });

  it("every mutant plans (exit 0) or fails with exit 1 naming a key; none crashes", async () => {
    const samples = fc.sample(mutant, { numRuns: 60, seed: 424242 });
    const dir = mkdtempSync(path.join(tmpdir(), "fuzz-"));
    const files = samples.map((s, i) => {
      const file = path.join(dir, `${i}-${s.stack}.yaml`);
      writeFileSync(file, YAML.stringify({ config: s.config }));
      return file;
    });
    // In this process, one plan after the other, as `tools/plan/batch.ts` plans them.
    const lines: BatchResult[] = [];
    for (const file of files) lines.push(await serialized(() => planFile(file, "fuzz")));
    expect(lines).toHaveLength(samples.length);
    let planned = 0;
    let rejected = 0;
    lines.forEach((line, i) => {
      const where = `${samples[i]!.stack} ${samples[i]!.mutation} ${JSON.stringify(samples[i]!.at)}`;
      expect(line.code, `${where}: ${line.code !== 0 ? line.message : ""}`).not.toBe("crash");
      if (line.code === 1) {
        rejected++;
        expect(line.message, where).toMatch(/homebrew-dev:[a-zA-Z]/);
        expect(line.message, where).not.toMatch(/^\s+at |TypeError|ReferenceError/m);
      } else planned++;
    });
    // Both outcomes occur, so the test exercises both paths.
    expect(planned).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
  });
});
