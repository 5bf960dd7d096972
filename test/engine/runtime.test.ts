import * as path from "node:path";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import { readProject, runUnderPulumi, type RunResult } from "../../tools/engine/languageHost";
import type { Registration } from "../../tools/plan/monitor";
import { REPO_ROOT } from "../helpers/cli";
import { SHIPPED_STACKS, evaluationOf } from "../helpers/plans";

/**
 * The guarantee that the offline plan tells the truth about `pulumi up`: the program is started
 * the way the Pulumi CLI's language host starts it (the SDK's own `cmd/run`, Pulumi.yaml's
 * runtime options, config in PULUMI_CONFIG), it talks gRPC to the engine in tools/engine, and what
 * it registers is compared with the offline plan of the same stack.
 */

// Two programs at a time (CI has two cores); every run starts as the file loads.
let running = 0;
const waiting: (() => void)[] = [];
async function limited<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= 2) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}
/**
 * Every stack runs as an update (the strictest comparison: every input). The preview of a stack
 * that does not exist yet runs for the stacks that together have every resource type any
 * shipped stack has (a test below keeps that true); what could only fail in a preview, a
 * component the provider constructs, is refused for every stack by a mandatory policy.
 */
const PREVIEW_STACKS = ["prod", "staging"];
const runs = new Map<string, Promise<RunResult>>();
const start = (stack: string, dryRun: boolean) =>
  runs.set(
    `${stack}:${dryRun}`,
    limited(() => runUnderPulumi({ stack, dryRun })),
  );
for (const stack of PREVIEW_STACKS) start(stack, true);
for (const stack of SHIPPED_STACKS) start(stack, false);
const run = (stack: string, dryRun: boolean) => runs.get(`${stack}:${dryRun}`)!;
// No program outlives the file, whichever tests ran.
afterAll(() => Promise.allSettled(runs.values()));

/** What identifies a registration and its options, whatever its inputs' values. */
const identity = (r: Registration) => ({
  urn: r.urn,
  type: r.type,
  name: r.name,
  custom: r.custom,
  parent: r.parent,
  provider: r.provider.slice(0, r.provider.lastIndexOf("::")),
  dependsOn: [...new Set(r.dependsOn)].sort(),
  // Which inputs take which resources' outputs: what the lifecycle analysis cascades along.
  propertyDependencies: r.propertyDependencies,
  protect: r.protect,
  deleteBeforeReplace: r.deleteBeforeReplace,
  ignoreChanges: r.ignoreChanges,
  replaceOnChanges: r.replaceOnChanges,
  retainOnDelete: r.retainOnDelete,
  additionalSecretOutputs: r.additionalSecretOutputs,
});
const byUrn = (a: { urn: string }, b: { urn: string }) => (a.urn < b.urn ? -1 : 1);

/** Everything the program printed or logged above debug level: a clean run has none. */
const noise = (r: RunResult) => [
  ...r.logs.filter((l) => l.severity !== "debug").map((l) => `${l.severity}: ${l.message}`),
  ...r.refused.map((what) => `refused: ${what}`),
  ...(r.stderr.trim() !== "" ? [`stderr: ${r.stderr.trim()}`] : []),
];

describe("the project is started as the language host starts it", () => {
  it("reads Pulumi.yaml's runtime options: tsx as the loader, no ts-node", () => {
    expect(readProject()).toEqual({
      name: "homebrew-dev",
      main: "index.ts",
      runtime: { typescript: false, nodeargs: ["--import", "tsx"] },
    });
  });
});

describe.each(SHIPPED_STACKS)("stack %s under Pulumi's own runtime", (stack) => {
  it("`pulumi up` registers exactly what the offline plan registers, inputs and outputs", async () => {
    const [real, offline] = await Promise.all([run(stack, false), evaluationOf(stack)]);
    expect(noise(real)).toEqual([]);
    expect(real.code).toBe(0);
    // Every field of every registration: type, name, parent, provider, options, dependencies,
    // and the inputs in wire form, where secrets keep their marking.
    expect([...real.registrations].sort(byUrn)).toEqual([...offline.registrations].sort(byUrn));
    expect(real.stackOutputs).toEqual(offline.outputs);
  });
});

describe.each(PREVIEW_STACKS)("stack %s under Pulumi's own runtime, as a preview", (stack) => {
  it("`pulumi preview` of a stack that does not exist yet completes with the same resources", async () => {
    const [real, offline] = await Promise.all([run(stack, true), evaluationOf(stack)]);
    expect(noise(real)).toEqual([]);
    expect(real.code).toBe(0);
    // Values computed by other resources (ids, the kubeconfig) are unknown in a preview, so only
    // what identifies each resource is compared.
    expect(real.registrations.map(identity).sort(byUrn)).toEqual(
      offline.registrations.map(identity).sort(byUrn),
    );
  });
});

describe("the previews cover every stack", () => {
  it("the previewed stacks together have every resource type of every shipped stack", async () => {
    const types = async (s: string) => (await evaluationOf(s)).registrations.map((r) => r.type);
    const covered = new Set((await Promise.all(PREVIEW_STACKS.map(types))).flat());
    for (const stack of SHIPPED_STACKS) {
      expect(
        [...new Set(await types(stack))].filter((t) => !covered.has(t)),
        stack,
      ).toEqual([]);
    }
  });
});

describe("type checking of the program that runs under Pulumi", () => {
  // Pulumi.yaml loads the program without type checking (docs/adr/0013-program-loader.md), so the
  // check lives here and in `npm run typecheck`: the modules the runtime loads must type-check.
  const options = () => {
    const parsed = ts.getParsedCommandLineOfConfigFile(
      path.join(REPO_ROOT, "tsconfig.json"),
      {},
      { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
    )!;
    return { ...parsed.options, noEmit: true };
  };
  const problems = (diagnostics: readonly ts.Diagnostic[]) =>
    diagnostics.map((d) => {
      const where = d.file
        ? `${path.relative(REPO_ROOT, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
        : "";
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
    });
  // One compiler host for both checks: source files parsed once (the providers' declarations
  // are most of the cost), and a switch that adds a type error to one component.
  const broken = path.join(REPO_ROOT, "components", "kubernetes", "approver.ts");
  let inject = false;
  // An incremental host: it sets each source file's version, which the build info compares.
  const host = ts.createIncrementalCompilerHost(options());
  const parsed = new Map<string, ts.SourceFile | undefined>();
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (f, lang, ...rest) => {
    if (inject && path.resolve(f) === broken) {
      const text = `${host.readFile(f)}\nexport const broken: number = "not a number";\n`;
      const file = ts.createSourceFile(f, text, lang);
      (file as { version?: string }).version = `injected-${text.length}`;
      return file;
    }
    if (!parsed.has(f)) parsed.set(f, getSourceFile(f, lang, ...rest));
    return parsed.get(f);
  };
  // The project's own program, incremental: `npm run typecheck` (which runs first in `npm test`)
  // leaves its build info behind, so files it has checked and that have not changed since are
  // not checked twice.
  const rootNames = ts.getParsedCommandLineOfConfigFile(
    path.join(REPO_ROOT, "tsconfig.json"),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
  )!.fileNames;
  const builder = () => ts.createIncrementalProgram({ rootNames, options: options(), host });
  const program = () => builder().getProgram();

  it("every module the program loads type-checks", async () => {
    await evaluationOf(SHIPPED_STACKS[0]!);
    const checked = builder();
    const clean = checked.getProgram();
    expect(
      problems([
        ...checked.getOptionsDiagnostics(),
        ...checked.getGlobalDiagnostics(),
        ...checked.getSyntacticDiagnostics(),
        // Reused from the build info for files `npm run typecheck` checked and nobody changed.
        ...checked.getSemanticDiagnostics(),
      ]),
    ).toEqual([]);
    // What the runtime loaded (tsx compiles the same files in this process) is all in the check.
    const inCheck = new Set(clean.getSourceFiles().map((f) => path.resolve(f.fileName)));
    const loaded = Object.keys(require.cache).filter(
      (f) =>
        f.startsWith(REPO_ROOT) &&
        f.endsWith(".ts") &&
        !f.includes(`${path.sep}node_modules${path.sep}`) &&
        !f.includes(`${path.sep}tools${path.sep}`) &&
        !f.includes(`${path.sep}test${path.sep}`),
    );
    expect(loaded.length).toBeGreaterThan(20);
    expect(loaded.filter((f) => !inCheck.has(f))).toEqual([]);
  });

  it("a type error in a component fails it, naming the file and line", () => {
    inject = true;
    try {
      const withError = program();
      const file = withError.getSourceFile(broken)!;
      const lines = file.text.split("\n").length - 1;
      expect(
        problems([
          ...withError.getSyntacticDiagnostics(file),
          ...withError.getSemanticDiagnostics(file),
        ]),
      ).toEqual([
        `components/kubernetes/approver.ts:${lines} Type 'string' is not assignable to type 'number'.`,
      ]);
    } finally {
      inject = false;
    }
  });
});
