/**
 * What the Pulumi CLI's Node.js language host does to run this program, without the CLI: the
 * same command line, environment and working directory (sdk/nodejs/cmd/pulumi-language-nodejs
 * in pulumi/pulumi, `Run`), against the small engine beside this file.
 *
 *   node <runtime.options.nodeargs...> <@pulumi/pulumi/cmd/run> --monitor ADDR --engine ADDR
 *     --organization ORG --project PROJECT --root-directory DIR --stack STACK --pwd DIR
 *     [--dry-run] --parallel N <main from Pulumi.yaml, or ".">
 *
 * with PULUMI_CONFIG (every key renamed `<namespace>:config:<name>`, as the host does for older
 * SDKs, values as strings), PULUMI_CONFIG_SECRET_KEYS (the keys, not renamed),
 * PULUMI_NODEJS_TYPESCRIPT=true unless `runtime.options.typescript` is false, and
 * PULUMI_NODEJS_TSCONFIG_PATH when `runtime.options.tsconfig` is set. The host's sync-invoke
 * pipes (`--sync`) are left out: the SDK no longer opens them.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as shellParse } from "shell-quote";
import * as YAML from "yaml";
import type { Registration } from "../plan/monitor";
import { PROJECT, REPO_ROOT, readStackFile } from "../plan/run";
import { Engine, SDK_DIR, type LogEntry } from "./engine";

/** The `runtime.options` of Pulumi.yaml that change how the program is started. */
export interface RuntimeOptions {
  readonly typescript: boolean;
  readonly nodeargs: readonly string[];
  readonly tsconfig?: string;
}

export interface Project {
  readonly name: string;
  readonly main: string;
  readonly runtime: RuntimeOptions;
}

/** Pulumi.yaml of a project directory, read as the CLI reads it. */
export function readProject(dir = REPO_ROOT): Project {
  const doc = YAML.parse(readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) as {
    name: string;
    main?: string;
    runtime: string | { name: string; options?: Record<string, unknown> };
  };
  const options = typeof doc.runtime === "object" ? (doc.runtime.options ?? {}) : {};
  const nodeargs = typeof options["nodeargs"] === "string" ? options["nodeargs"] : "";
  return {
    name: doc.name,
    main: doc.main ?? ".",
    runtime: {
      // The host's default: TypeScript through the SDK's ts-node unless told otherwise.
      typescript: options["typescript"] !== false,
      nodeargs: splitArgs(nodeargs),
      ...(typeof options["tsconfig"] === "string" ? { tsconfig: options["tsconfig"] } : {}),
    },
  };
}

/** Splits `nodeargs` the way a shell splits words (the host uses a shell-word splitter too). */
export function splitArgs(text: string): string[] {
  return shellParse(text).map((part) => {
    if (typeof part !== "string") {
      throw new Error(`runtime.options.nodeargs: ${JSON.stringify(part)} is not a plain argument`);
    }
    return part;
  });
}

export interface LaunchOptions {
  readonly stack: string;
  /** The stack's config file; @default stacks/Pulumi.<stack>.yaml */
  readonly configFile?: string;
  readonly dryRun: boolean;
  /** The project directory (Pulumi.yaml, package.json); @default the repository */
  readonly projectDir?: string;
  /** Extra environment for the program process. */
  readonly env?: Readonly<Record<string, string>>;
  /** Runtime options instead of Pulumi.yaml's (to compare loaders). */
  readonly runtime?: RuntimeOptions;
  /** @default 120000 */
  readonly timeoutMs?: number;
}

export interface Launch {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  readonly cwd: string;
}

/** The process the language host starts for a stack, given the engine's address. */
export function languageHostLaunch(
  opts: LaunchOptions,
  monitor: string,
  engine: string,
  project = readProject(opts.projectDir),
): Launch {
  const dir = opts.projectDir ?? REPO_ROOT;
  const file = opts.configFile ?? path.join(dir, "stacks", `Pulumi.${opts.stack}.yaml`);
  const { config, secretKeys } = readStackFile(file, project.name);
  const renamed: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    const at = key.indexOf(":");
    renamed[`${key.slice(0, at)}:config:${key.slice(at + 1)}`] = value;
  }
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ...opts.env,
    PULUMI_CONFIG: JSON.stringify(renamed),
    PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(secretKeys),
  };
  delete env["PULUMI_NODEJS_TYPESCRIPT"];
  delete env["PULUMI_NODEJS_TSCONFIG_PATH"];
  if (project.runtime.typescript) env["PULUMI_NODEJS_TYPESCRIPT"] = "true";
  if (project.runtime.tsconfig !== undefined) {
    env["PULUMI_NODEJS_TSCONFIG_PATH"] = project.runtime.tsconfig;
  }
  const args = [
    ...project.runtime.nodeargs,
    path.join(SDK_DIR, "cmd", "run"),
    ...["--monitor", monitor, "--engine", engine],
    ...["--organization", "organization", "--project", project.name],
    ...["--root-directory", dir, "--stack", opts.stack, "--pwd", dir],
    ...(opts.dryRun ? ["--dry-run"] : []),
    ...["--parallel", "48"],
    project.main,
  ];
  return { command: process.execPath, args, env, cwd: dir };
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly registrations: readonly Registration[];
  readonly stackOutputs: Record<string, unknown>;
  readonly logs: readonly LogEntry[];
  /** Requests the engine had no answer for (invokes, reads, calls). */
  readonly refused: readonly string[];
  /** Wall time from starting the process to its exit. */
  readonly ms: number;
  /**
   * Wall time from starting the process to the first registration after the stack's (the SDK
   * registers the stack, then loads the program): start-up and program load.
   */
  readonly loadMs: number;
}

/**
 * Runs the program for a stack the way `pulumi preview` (`dryRun`) or `pulumi up` does, against
 * the in-repository engine, and returns what it registered.
 */
export async function runUnderPulumi(opts: LaunchOptions): Promise<RunResult> {
  const engine = new Engine({ project: PROJECT, stack: opts.stack, dryRun: opts.dryRun });
  const address = await engine.start();
  try {
    const project = readProject(opts.projectDir);
    const launch = languageHostLaunch(
      opts,
      address,
      address,
      opts.runtime !== undefined ? { ...project, runtime: opts.runtime } : project,
    );
    const started = process.hrtime.bigint();
    const { code, stdout, stderr } = await new Promise<{
      code: number | null;
      stdout: string;
      stderr: string;
    }>((resolve, reject) => {
      const child = spawn(launch.command, launch.args, {
        cwd: launch.cwd,
        env: launch.env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      // A program whose engine has gone never finishes: it must not outlive this process.
      const orphan = () => child.kill("SIGKILL");
      process.once("exit", orphan);
      child.on("close", () => process.off("exit", orphan));
      let out = "";
      let err = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
      child.on("error", reject);
      child.on("close", (c) => {
        clearTimeout(timer);
        resolve({ code: c, stdout: out, stderr: err });
      });
    });
    return {
      code,
      stdout,
      stderr,
      registrations: engine.registrations,
      stackOutputs: engine.stackOutputs,
      logs: engine.logs,
      refused: engine.refused,
      ms: Number(process.hrtime.bigint() - started) / 1e6,
      loadMs: Number((engine.arrivals[1] ?? engine.arrivals[0] ?? started) - started) / 1e6,
    };
  } finally {
    await engine.stop();
  }
}
