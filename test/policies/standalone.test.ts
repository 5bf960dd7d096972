import { cpSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/cli";

/**
 * The pack is published and run on its own (`pulumi policy publish`, `--policy-pack DIR`): the
 * CLI installs policies/package.json and loads the pack with ts-node from that folder, so
 * nothing in it may reach outside policies/.
 */
describe("the policy pack stands on its own", () => {
  const source = path.join(REPO_ROOT, "policies");

  it("compiles from a copy of policies/ alone, with its own tsconfig and dependencies", () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), "pack-")), "policies");
    cpSync(source, dir, {
      recursive: true,
      filter: (f) => !/[/\\](node_modules|bin)$/.test(f),
    });
    // What `npm install` in the pack folder provides: the packages policies/package.json names.
    symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
    const configFile = path.join(dir, "tsconfig.json");
    const read = ts.readConfigFile(configFile, (f) => ts.sys.readFile(f));
    expect(read.error).toBeUndefined();
    const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, dir);
    expect(parsed.errors).toEqual([]);
    const program = ts.createProgram({
      rootNames: parsed.fileNames,
      options: { ...parsed.options, noEmit: true },
    });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    expect(problems).toEqual([]);
    // Every source file the compiler read is the copy's own or a package's.
    const outside = program
      .getSourceFiles()
      .map((f) => f.fileName)
      .filter((f) => !f.startsWith(dir) && !f.includes("/node_modules/"));
    expect(outside).toEqual([]);
  });

  it.each(["tsconfig.json", "policies/tsconfig.json"])(
    "%s sets rootDir with outDir (else TypeScript 6 under ts-node stops with TS5011)",
    (file) => {
      const read = ts.readConfigFile(path.join(REPO_ROOT, file), (f) => ts.sys.readFile(f));
      const options = read.config.compilerOptions;
      expect(read.config.extends).toBeUndefined();
      if (options.outDir !== undefined) expect(options.rootDir).toBe(".");
    },
  );

  it("declares every package its modules import", () => {
    const manifest = JSON.parse(readFileSync(path.join(source, "package.json"), "utf8"));
    const declared = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.devDependencies ?? {}),
    ]);
    const files = ts.sys.readDirectory(source, [".ts"], ["node_modules", "bin"]);
    const imported = new Set<string>();
    for (const f of files) {
      for (const m of readFileSync(f, "utf8").matchAll(/from "([^"]+)"/g)) {
        const spec = m[1]!;
        if (spec.startsWith(".") || spec.startsWith("node:")) continue;
        imported.add(
          spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!,
        );
      }
    }
    expect([...imported].filter((p) => !declared.has(p))).toEqual([]);
    // The Node types and the compiler the pack's tsconfig and ts-node load.
    expect(declared.has("@types/node")).toBe(true);
    expect(declared.has("typescript")).toBe(true);
  });
});
