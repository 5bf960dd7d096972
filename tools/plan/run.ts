import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { getStore, waitForRPCs, withoutLeakDetection } from "./internals";
import * as YAML from "yaml";
import { lifecycleFacts, type LifecycleFacts } from "../../components/catalog/lifecycle";
import { UNREADABLE_SECRET } from "../../components/config/schema";
import { RecordingMonitor, type Registration } from "./monitor";
import { call, hasComputedOutputs, newResource } from "./placeholders";

export const PROJECT = "homebrew-dev";
export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** A problem with what the user gave the plan (exit code 1): shown without a stack trace. */
export class PlanInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PlanInputError";
  }
}

/** The raw outcome of evaluating the program: what was registered, and the stack outputs. */
export interface Evaluation {
  readonly project: string;
  readonly stack: string;
  readonly registrations: readonly Registration[];
  /** Serialized stack outputs (secrets still marked). */
  readonly outputs: Record<string, unknown>;
  /** What the lifecycle analysis needs of the stack's config. */
  readonly facts: LifecycleFacts;
}

export interface EvaluateOptions {
  readonly stack: string;
  /** A stack config file to use instead of `stacks/Pulumi.<stack>.yaml`. */
  readonly configFile?: string;
  /** Loads the program; @default - requires the repository's index.ts */
  readonly program?: () => unknown;
  /**
   * Answer registrations of types without computed outputs with their own inputs, skipping the
   * mock's serialization round trip (the answer is the same; tests compare both).
   * @default true, unless HOMEBREW_PLAN_MOCK_ROUND_TRIP=1
   */
  readonly echoInputs?: boolean;
}

const STACK_FILE_KEYS = new Set([
  "config",
  "encryptionsalt",
  "secretsprovider",
  "encryptedkey",
  "environment",
]);

/** Stack names that have a file in stacks/. */
export function knownStacks(root = REPO_ROOT): string[] {
  const dir = path.join(root, "stacks");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/** The config map and secret keys of a stack file, as the Pulumi CLI hands them to a program. */
export interface StackFileConfig {
  readonly config: Record<string, string>;
  readonly secretKeys: readonly string[];
}

/**
 * Reads a Pulumi stack file the way the CLI does: keys without a namespace belong to the
 * project, structured values are passed as JSON, `secure:` values (which only the CLI can
 * decrypt) become the placeholder text "[secret]" and mark their key secret.
 */
export function readStackFile(file: string, project = PROJECT): StackFileConfig {
  const shown = path.relative(process.cwd(), file) || file;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new PlanInputError(`${shown}: cannot read the file (${(err as Error).message})`);
  }
  const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => `  - ${e.message.split("\n")[0]}`);
    throw new PlanInputError(`${shown}: not valid YAML:\n${lines.join("\n")}`);
  }
  const top: unknown = doc.toJS();
  if (top === null || top === undefined) return { config: {}, secretKeys: [] };
  if (typeof top !== "object" || Array.isArray(top)) {
    throw new PlanInputError(`${shown}: expected a mapping with a "config" key at the top level`);
  }
  const unknown = Object.keys(top).filter((k) => !STACK_FILE_KEYS.has(k));
  if (unknown.length > 0) {
    throw new PlanInputError(
      `${shown}: unknown top-level key${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")} (a stack file has config, secretsprovider, encryptedkey, encryptionsalt, environment)`,
    );
  }
  const rawConfig = (top as Record<string, unknown>)["config"] ?? {};
  if (typeof rawConfig !== "object" || rawConfig === null || Array.isArray(rawConfig)) {
    throw new PlanInputError(`${shown}: "config" must be a mapping of config keys to values`);
  }
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [rawKey, value] of Object.entries(rawConfig)) {
    const key = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
    const { value: plain, secret } = stripSecure(value);
    if (secret) secretKeys.push(key);
    config[key] = typeof plain === "string" ? plain : JSON.stringify(plain);
  }
  return { config, secretKeys };
}

function isSecure(v: unknown): boolean {
  return (
    typeof v === "object" &&
    v !== null &&
    !Array.isArray(v) &&
    Object.keys(v).length === 1 &&
    typeof (v as Record<string, unknown>)["secure"] === "string"
  );
}

function stripSecure(v: unknown): { value: unknown; secret: boolean } {
  if (isSecure(v)) return { value: UNREADABLE_SECRET, secret: true };
  if (Array.isArray(v)) {
    const parts = v.map(stripSecure);
    return { value: parts.map((p) => p.value), secret: parts.some((p) => p.secret) };
  }
  if (typeof v === "object" && v !== null) {
    let secret = false;
    const out: Record<string, unknown> = {};
    for (const [k, inner] of Object.entries(v)) {
      const p = stripSecure(inner);
      out[k] = p.value;
      secret ||= p.secret;
    }
    return { value: out, secret };
  }
  return { value: v, secret: false };
}

/** Messages of errors the runtime reported while the program ran. */
function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Evaluates the real program for a stack on the SDK's mock runtime and returns every
 * registration. Throws `PlanInputError` for a bad stack file or config and for program errors.
 */
export async function evaluate(opts: EvaluateOptions): Promise<Evaluation> {
  const file =
    opts.configFile !== undefined
      ? path.resolve(opts.configFile)
      : path.join(REPO_ROOT, "stacks", `Pulumi.${opts.stack}.yaml`);
  if (opts.configFile === undefined && !existsSync(file)) {
    const stacks = knownStacks();
    throw new PlanInputError(
      `no stack file stacks/Pulumi.${opts.stack}.yaml (stacks: ${stacks.join(", ") || "none"})`,
    );
  }
  const { config, secretKeys } = readStackFile(file);

  const monitor = new RecordingMonitor(
    { newResource, call },
    PROJECT,
    opts.stack,
    (opts.echoInputs ?? process.env["HOMEBREW_PLAN_MOCK_ROUND_TRIP"] !== "1")
      ? (type) => !hasComputedOutputs(type)
      : () => false,
  );
  await pulumi.runtime.setMocks({ newResource, call }, PROJECT, opts.stack, false);
  const store = getStore();
  store.settings.monitor = monitor;
  pulumi.runtime.setAllConfig(config, [...secretKeys]);

  // Errors raised inside the SDK's own promises (a failed registration, a throwing apply) surface
  // as unhandled rejections; collect them so the plan fails with their message.
  const asyncErrors: unknown[] = [];
  // The SDK records a stack trace for every promise it creates (to report leaks), and with
  // source maps on, formatting those traces is most of a plan's time. The plan never prints a
  // stack trace, so it captures none unless HOMEBREW_PLAN_STACK_TRACES=1 asks for them (which
  // also keeps the SDK's promise leak detector on).
  const stackTraceLimit = Error.stackTraceLimit;
  const keepTraces = process.env["HOMEBREW_PLAN_STACK_TRACES"] === "1";
  const sourceMaps = process.sourceMapsEnabled;
  // The SDK also records each resource's source position: a full stack trace per resource,
  // parsed line by line and turned into file URLs, which grows with the depth of the component
  // tree. The engine shows it in error messages; the plan never uses it.
  const resourceClass = pulumi.Resource as unknown as { stackTrace: (skip: number) => unknown[] };
  const stackTrace = resourceClass.stackTrace;
  if (!keepTraces) {
    Error.stackTraceLimit = 0;
    process.setSourceMapsEnabled(false);
    resourceClass.stackTrace = () => [];
  }
  const onRejection = (err: unknown) => asyncErrors.push(err);
  process.on("unhandledRejection", onRejection);
  try {
    const program =
      opts.program ??
      (() => {
        // Loaded afresh, so that a second evaluation in one process runs the program again
        // rather than finding it in the module cache (components are stateless modules).
        const main = path.join(REPO_ROOT, "index.ts");
        delete require.cache[main];
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program is CommonJS, as under `pulumi up`.
        return require(main) as unknown;
      });
    const run = async () => {
      await pulumi.runtime.runInPulumiStack(async () => {
        const exported = (await program()) as Record<string, unknown> | undefined;
        if (exported === undefined || exported === null) return undefined;
        return Object.fromEntries(Object.entries(exported).filter(([k]) => k !== "__esModule"));
      });
      await waitForRPCs();
    };
    await (keepTraces ? run() : withoutLeakDetection(run));
  } catch (err) {
    asyncErrors.unshift(err);
  } finally {
    // A failed program rejects several of the SDK's promises with the same error; let them all
    // arrive before the handler goes, so none reaches Node's default handler (a stack trace).
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    process.off("unhandledRejection", onRejection);
    Error.stackTraceLimit = stackTraceLimit;
    if (!keepTraces) {
      process.setSourceMapsEnabled(sourceMaps);
      resourceClass.stackTrace = stackTrace;
    }
  }
  if (asyncErrors.length > 0) {
    const messages = [...new Set(asyncErrors.map(errorMessage))];
    throw new PlanInputError(messages.join("\n"));
  }
  const stackUrn = monitor.registrations.find((r) => r.type === "pulumi:pulumi:Stack")?.urn;
  return {
    project: PROJECT,
    stack: opts.stack,
    registrations: monitor.registrations,
    outputs: (stackUrn !== undefined ? monitor.outputs.get(stackUrn) : undefined) ?? {},
    facts: lifecycleFacts(config),
  };
}
