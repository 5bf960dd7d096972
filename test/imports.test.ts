import { readFileSync } from "node:fs";
import * as path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "./helpers/cli";

/**
 * The import graph of the program, the pack and the tools, type-only imports included, as the
 * TypeScript compiler resolves it: no cycles, and the layers import only downwards.
 */
const parsed = ts.getParsedCommandLineOfConfigFile(
  path.join(REPO_ROOT, "tsconfig.json"),
  {},
  { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
)!;
const files = parsed.fileNames
  .map((f) => path.resolve(f))
  .filter((f) => f.endsWith(".ts") && !f.includes(`${path.sep}test${path.sep}`));
const rel = (f: string) => path.relative(REPO_ROOT, f);

const graph = new Map<string, string[]>();
for (const file of files) {
  const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  const targets = info.importedFiles
    .map((i) => ts.resolveModuleName(i.fileName, file, parsed.options, ts.sys).resolvedModule)
    .filter((m) => m !== undefined && !m.isExternalLibraryImport)
    .map((m) => path.resolve(m!.resolvedFileName))
    .filter((t) => graph.has(t) || files.includes(t));
  graph.set(file, [...new Set(targets)]);
}

/** Strongly connected components with more than one module (or a module importing itself). */
function cycles(): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(rel(w));
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return found;
}

describe("imports", () => {
  it("reads the whole graph", () => {
    expect(graph.size).toBeGreaterThan(60);
  });

  it("has no cycle", () => {
    expect(cycles()).toEqual([]);
  });

  it("the catalog imports nothing of the program, and the pack nothing outside policies/", () => {
    for (const [file, targets] of graph) {
      const from = rel(file);
      for (const to of targets.map(rel)) {
        if (from.startsWith("components/catalog/")) {
          expect(to, from).toMatch(/^components\/catalog\//);
        }
        if (from.startsWith("policies/")) expect(to, from).toMatch(/^policies\//);
        if (from.startsWith("components/")) expect(to, from).not.toMatch(/^tools\//);
      }
    }
  });
});
