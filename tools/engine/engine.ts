/**
 * A small deployment engine: the two gRPC services a Pulumi program talks to (ResourceMonitor
 * and Engine, from the protos and stubs that ship in `@pulumi/pulumi`), answering the way the
 * Pulumi engine does for a stack that has no state yet. It exists to run the program exactly as
 * `pulumi preview` and `pulumi up` do (through the SDK's own `cmd/run`, over gRPC) and record what
 * the program asks for, so tests can hold the offline plan to it.
 *
 * What it answers (the engine's behaviour it stands in for, pkg/resource/deploy in
 * pulumi/pulumi):
 * - preview (`dryRun`): a new resource's outputs are its inputs, and its id is unknown (empty);
 *   the SDK turns every output the answer leaves out into an unknown, as in a real preview.
 * - update: a new resource gets an id and its inputs plus the provider's computed outputs, which
 *   come from the same deterministic placeholders as the offline plan's (no provider runs here).
 * Invokes, reads and calls have no provider to answer them and fail the program.
 */
import { createRequire } from "node:module";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import type { Registration } from "../plan/monitor";
import { registrationOf, resourceUrn } from "../plan/monitor";
import { computedOutputs } from "../plan/placeholders";

/* eslint-disable @typescript-eslint/no-explicit-any -- the services speak generated protobuf. */
/* eslint-disable @typescript-eslint/no-require-imports -- the SDK's generated stubs are CommonJS. */

// The SDK's generated stubs and the protobuf runtime they were generated with.
const sdkRequire = createRequire(require.resolve("@pulumi/pulumi/package.json"));
const resourceGrpc = require("@pulumi/pulumi/proto/resource_grpc_pb");
const resourcePb = require("@pulumi/pulumi/proto/resource_pb");
const engineGrpc = require("@pulumi/pulumi/proto/engine_grpc_pb");
const enginePb = require("@pulumi/pulumi/proto/engine_pb");
const { Empty } = sdkRequire("google-protobuf/google/protobuf/empty_pb");
const { Struct } = sdkRequire("google-protobuf/google/protobuf/struct_pb");

/** What the engine of a current Pulumi CLI supports: the SDK asks before the program runs. */
const FEATURES: Readonly<Record<string, number>> = {
  secrets: resourcePb.ResourceMonitorFeature.RESOURCE_MONITOR_FEATURE_SECRETS,
  resourceReferences:
    resourcePb.ResourceMonitorFeature.RESOURCE_MONITOR_FEATURE_RESOURCE_REFERENCES,
  outputValues: resourcePb.ResourceMonitorFeature.RESOURCE_MONITOR_FEATURE_OUTPUT_VALUES,
  aliasSpecs: resourcePb.ResourceMonitorFeature.RESOURCE_MONITOR_FEATURE_ALIAS_SPECS,
  deletedWith: resourcePb.ResourceMonitorFeature.RESOURCE_MONITOR_FEATURE_DELETED_WITH,
  replaceWith: resourcePb.ResourceMonitorFeature.RESOURCE_MONITOR_FEATURE_REPLACE_WITH,
  transforms: resourcePb.ResourceMonitorFeature.RESOURCE_MONITOR_FEATURE_TRANSFORMS,
  invokeTransforms: resourcePb.ResourceMonitorFeature.RESOURCE_MONITOR_FEATURE_INVOKE_TRANSFORMS,
  parameterization: resourcePb.ResourceMonitorFeature.RESOURCE_MONITOR_FEATURE_PARAMETERIZATION,
  resourceHooks: resourcePb.ResourceMonitorFeature.RESOURCE_MONITOR_FEATURE_RESOURCE_HOOKS,
  errorHooks: resourcePb.ResourceMonitorFeature.RESOURCE_MONITOR_FEATURE_ERROR_HOOKS,
};

/** Severities of `Engine.Log`, by their proto number. */
const SEVERITY = ["debug", "info", "warning", "error"] as const;

export interface LogEntry {
  readonly severity: (typeof SEVERITY)[number];
  readonly message: string;
  readonly urn: string;
}

export interface EngineOptions {
  readonly project: string;
  readonly stack: string;
  readonly organization?: string;
  /** A preview (`pulumi preview`, or the preview step of `pulumi up`) rather than an update. */
  readonly dryRun: boolean;
}

export class Engine {
  readonly registrations: Registration[] = [];
  readonly logs: LogEntry[] = [];
  /** Outputs a component (or the stack) registered, in wire form, by URN. */
  readonly outputs = new Map<string, Record<string, unknown>>();
  /** Requests the engine refused (invokes, reads, calls): each one fails the program. */
  readonly refused: string[] = [];
  rootUrn = "";
  /** When each registration arrived (process.hrtime.bigint), in order. */
  readonly arrivals: bigint[] = [];
  private readonly server = new grpc.Server();
  private readonly ids = new Map<string, string>();

  constructor(private readonly opts: EngineOptions) {
    const unimplemented = (what: string) => (call: any, callback: any) => {
      this.refused.push(`${what} ${call.request?.getTok?.() ?? ""}`.trim());
      callback({ code: grpc.status.UNIMPLEMENTED, details: `this engine does not ${what}` });
    };
    this.server.addService(resourceGrpc.ResourceMonitorService, {
      supportsFeature: (call: any, callback: any) => {
        const res = new resourcePb.SupportsFeatureResponse();
        res.setHassupport(Object.hasOwn(FEATURES, call.request.getId()));
        callback(null, res);
      },
      getDeploymentInfo: (_call: any, callback: any) => {
        const info = new resourcePb.DeploymentInfo();
        info.setProject(opts.project);
        info.setStack(opts.stack);
        info.setOrganization(opts.organization ?? "organization");
        info.setDryrun(opts.dryRun);
        info.setSupportedfeaturesList(Object.values(FEATURES));
        callback(null, info);
      },
      registerResource: (call: any, callback: any) => {
        try {
          callback(null, this.register(call.request));
        } catch (err) {
          callback({ code: grpc.status.INVALID_ARGUMENT, details: (err as Error).message });
        }
      },
      registerResourceOutputs: (call: any, callback: any) => {
        this.outputs.set(call.request.getUrn(), call.request.getOutputs()?.toJavaScript() ?? {});
        callback(null, new Empty());
      },
      registerPackage: (call: any, callback: any) => {
        const res = new resourcePb.RegisterPackageResponse();
        res.setRef(`${call.request.getName()}@${call.request.getVersion()}`);
        callback(null, res);
      },
      signalAndWaitForShutdown: (_call: any, callback: any) => callback(null, new Empty()),
      invoke: unimplemented("answer invokes"),
      call: unimplemented("answer method calls"),
      readResource: unimplemented("read resources"),
      existsResource: unimplemented("look resources up"),
      registerStackTransform: unimplemented("run stack transforms"),
      registerStackInvokeTransform: unimplemented("run invoke transforms"),
      registerResourceHook: unimplemented("run resource hooks"),
      registerErrorHook: unimplemented("run error hooks"),
    });
    this.server.addService(engineGrpc.EngineService, {
      log: (call: any, callback: any) => {
        const req = call.request;
        this.logs.push({
          severity: SEVERITY[req.getSeverity()] ?? "info",
          message: req.getMessage(),
          urn: req.getUrn(),
        });
        callback(null, new Empty());
      },
      getRootResource: (_call: any, callback: any) => {
        const res = new enginePb.GetRootResourceResponse();
        res.setUrn(this.rootUrn);
        callback(null, res);
      },
      setRootResource: (call: any, callback: any) => {
        this.rootUrn = call.request.getUrn();
        callback(null, new enginePb.SetRootResourceResponse());
      },
      requirePulumiVersion: (_call: any, callback: any) => callback(null, new Empty()),
      startDebugging: unimplemented("attach debuggers"),
    });
  }

  /** Listens on a free loopback port; resolves to the address the program is given. */
  start(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(`127.0.0.1:${port}`),
      );
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }

  /** The stack's own outputs, in wire form. */
  get stackOutputs(): Record<string, unknown> {
    const stack = this.registrations.find((r) => r.type === "pulumi:pulumi:Stack");
    return (stack !== undefined ? this.outputs.get(stack.urn) : undefined) ?? {};
  }

  private register(req: any): unknown {
    const urn = resourceUrn(
      this.opts.stack,
      this.opts.project,
      req.getParent(),
      req.getType(),
      req.getName(),
    );
    if (this.ids.has(urn)) throw new Error(`duplicate resource URN ${urn}`);
    const inputs: Record<string, unknown> = req.getObject()?.toJavaScript() ?? {};
    this.registrations.push(registrationOf(req, urn, inputs));
    this.arrivals.push(process.hrtime.bigint());
    const res = new resourcePb.RegisterResourceResponse();
    res.setUrn(urn);
    if (!req.getCustom()) {
      // A component's outputs are whatever it registers later; the engine echoes nothing.
      this.ids.set(urn, "");
      return res;
    }
    const importId: string = req.getImportid();
    if (this.opts.dryRun && importId === "") {
      // A create in preview: the id is not known, nor is any output the provider computes.
      this.ids.set(urn, "");
      res.setId("");
      res.setObject(Struct.fromJavaScript(inputs));
      return res;
    }
    const id = importId !== "" ? importId : `${req.getName()}-id`;
    this.ids.set(urn, id);
    res.setId(id);
    res.setObject(
      Struct.fromJavaScript({
        ...inputs,
        ...computedOutputs(req.getType(), req.getName(), inputs),
      }),
    );
    return res;
  }
}

/** The directory of `@pulumi/pulumi` in this project. */
export const SDK_DIR = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
