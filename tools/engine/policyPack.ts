/**
 * The policy pack started the way the Pulumi CLI starts it (through the Node.js language host's
 * `RunPlugin`, sdk/nodejs/cmd/pulumi-language-nodejs in pulumi/pulumi) and called the way the
 * engine calls it (pkg/resource/deploy/step_generator.go: `Analyze` for every resource with its
 * inputs, then `AnalyzeStack` once with all of them):
 *
 *   node <@pulumi/pulumi/cmd/run-policy-pack> <engine address> <pack directory>
 *
 * from the pack directory, with PULUMI_NODEJS_TYPESCRIPT (the SDK's ts-node, type checking on),
 * the stack's project, stack, organization and dry-run flag, and PULUMI_CONFIG. The pack prints
 * its gRPC port as its first line on stdout. Properties go over the wire as the engine marshals
 * them: secrets and unknowns keep their signatures, and `@pulumi/policy` unwraps secrets before
 * a policy runs.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import type { Registration } from "../plan/monitor";
import { REPO_ROOT } from "../plan/run";
import { SDK_DIR } from "./engine";

/* eslint-disable @typescript-eslint/no-explicit-any -- the analyzer speaks generated protobuf. */
/* eslint-disable @typescript-eslint/no-require-imports -- the SDK's generated stubs are CommonJS. */
const sdkRequire = createRequire(require.resolve("@pulumi/pulumi/package.json"));
const analyzerGrpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
const analyzerPb = require("@pulumi/pulumi/proto/analyzer_pb");
const { Empty } = sdkRequire("google-protobuf/google/protobuf/empty_pb");
const { Struct } = sdkRequire("google-protobuf/google/protobuf/struct_pb");

/** A diagnostic as the engine receives it from the pack. */
export interface Diagnostic {
  readonly policy: string;
  readonly level: "advisory" | "mandatory" | "disabled" | "remediate";
  readonly urn: string;
  readonly message: string;
  readonly description: string;
}

const LEVELS = ["advisory", "mandatory", "disabled", "remediate"] as const;

export interface PolicyPackOptions {
  readonly project: string;
  readonly stack: string;
  readonly dryRun: boolean;
  /** The pack's directory; @default policies/ of the repository */
  readonly packDir?: string;
  /** Extra environment for the pack process (e.g. HOMEBREW_ENVIRONMENT). */
  readonly env?: Readonly<Record<string, string>>;
  /** @default 180000 (the pack type-checks itself as it loads) */
  readonly timeoutMs?: number;
}

/** A running policy pack and a client of its Analyzer service. */
export class PolicyPack {
  private constructor(
    private readonly child: ChildProcess,
    private readonly client: any,
    readonly stderr: () => string,
  ) {}

  static async start(opts: PolicyPackOptions): Promise<PolicyPack> {
    const packDir = opts.packDir ?? path.join(REPO_ROOT, "policies");
    const child = spawn(
      process.execPath,
      [path.join(SDK_DIR, "cmd", "run-policy-pack"), "127.0.0.1:0", packDir],
      {
        cwd: packDir,
        env: {
          ...(process.env as Record<string, string>),
          ...opts.env,
          PULUMI_NODEJS_TYPESCRIPT: "true",
          PULUMI_NODEJS_ORGANIZATION: "organization",
          PULUMI_NODEJS_PROJECT: opts.project,
          PULUMI_NODEJS_STACK: opts.stack,
          PULUMI_NODEJS_DRY_RUN: String(opts.dryRun),
          PULUMI_CONFIG: "{}",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const orphan = () => child.kill("SIGKILL");
    process.once("exit", orphan);
    child.on("close", () => process.off("exit", orphan));
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const port = await new Promise<string>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`the policy pack printed no port in time:\n${stderr}`));
      }, opts.timeoutMs ?? 180_000);
      child.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const line = /^(\d+)\s*$/m.exec(out);
        if (line) {
          clearTimeout(timer);
          resolve(line[1]!);
        }
      });
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the policy pack exited with ${code} before serving:\n${out}${stderr}`));
      });
    });
    const client = new analyzerGrpc.AnalyzerClient(
      `127.0.0.1:${port}`,
      grpc.credentials.createInsecure(),
    );
    return new PolicyPack(child, client, () => stderr);
  }

  private call<T>(method: string, req: unknown): Promise<T> {
    return new Promise((resolve, reject) =>
      this.client[method](req, (err: unknown, res: T) => (err ? reject(err) : resolve(res))),
    );
  }

  /** The pack's name and policies with their levels (GetAnalyzerInfo). */
  async info(): Promise<{ name: string; policies: { name: string; level: string }[] }> {
    const res: any = await this.call("getAnalyzerInfo", new Empty());
    return {
      name: res.getName(),
      policies: res.getPoliciesList().map((p: any) => ({
        name: p.getName(),
        level: LEVELS[p.getEnforcementlevel()] ?? "advisory",
      })),
    };
  }

  /**
   * What the engine sends for a preview or update of these registrations: `Analyze` for each
   * resource (inputs, options, parent, provider), then one `AnalyzeStack`.
   */
  async analyze(registrations: readonly Registration[]): Promise<Diagnostic[]> {
    const byUrn = new Map(registrations.map((r) => [r.urn, r]));
    const options = (r: Registration) => {
      const o = new analyzerPb.AnalyzerResourceOptions();
      o.setProtect(r.protect);
      o.setIgnorechangesList([...r.ignoreChanges]);
      o.setDeletebeforereplace(r.deleteBeforeReplace);
      o.setAdditionalsecretoutputsList([...r.additionalSecretOutputs]);
      o.setParent(r.parent);
      return o;
    };
    const provider = (r: Registration) => {
      const ref = r.provider;
      if (ref === "") return undefined;
      const p = byUrn.get(ref.slice(0, ref.lastIndexOf("::")));
      if (p === undefined) return undefined;
      const res = new analyzerPb.AnalyzerProviderResource();
      res.setType(p.type);
      res.setUrn(p.urn);
      res.setName(p.name);
      res.setProperties(Struct.fromJavaScript(p.inputs));
      return res;
    };
    const diagnostics: Diagnostic[] = [];
    const collect = (res: any, urn: string) => {
      for (const d of res.getDiagnosticsList()) {
        diagnostics.push({
          policy: d.getPolicyname(),
          level: LEVELS[d.getEnforcementlevel()] ?? "advisory",
          // The engine files a resource policy's diagnostic under the resource analyzed.
          urn: d.getUrn() !== "" ? d.getUrn() : urn,
          message: d.getMessage(),
          description: d.getDescription(),
        });
      }
    };
    // What AnalyzeRequest and the stack's AnalyzerResource share: the resource, its inputs, its
    // options and its provider.
    const describe = <T extends Record<string, (v: any) => unknown>>(
      msg: T,
      r: Registration,
    ): T => {
      msg["setType"]!(r.type);
      msg["setUrn"]!(r.urn);
      msg["setName"]!(r.name);
      msg["setProperties"]!(Struct.fromJavaScript(r.inputs));
      msg["setOptions"]!(options(r));
      const p = provider(r);
      if (p !== undefined) msg["setProvider"]!(p);
      return msg;
    };
    for (const r of registrations) {
      collect(await this.call("analyze", describe(new analyzerPb.AnalyzeRequest(), r)), r.urn);
    }
    const stack = new analyzerPb.AnalyzeStackRequest();
    stack.setResourcesList(
      registrations.map((r) => {
        const res = describe(new analyzerPb.AnalyzerResource(), r);
        res.setParent(r.parent);
        res.setDependenciesList([...new Set(r.dependsOn)]);
        return res;
      }),
    );
    collect(await this.call("analyzeStack", stack), "");
    return diagnostics;
  }

  stop(): Promise<void> {
    this.client.close();
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) return resolve();
      this.child.once("exit", () => resolve());
      this.child.kill("SIGTERM");
    });
  }
}
