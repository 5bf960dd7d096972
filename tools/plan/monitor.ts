import { MockMonitor, type Mocks } from "@pulumi/pulumi/runtime/mocks";

/** One resource registration as the engine would see it, in its wire (serialized) form. */
export interface Registration {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly parent: string;
  /** Provider reference `urn::id`, empty for the default provider. */
  readonly provider: string;
  readonly dependsOn: readonly string[];
  readonly protect: boolean;
  readonly deleteBeforeReplace: boolean;
  readonly ignoreChanges: readonly string[];
  readonly replaceOnChanges: readonly string[];
  readonly retainOnDelete: boolean;
  readonly additionalSecretOutputs: readonly string[];
  /** Serialized inputs: secrets, unknowns and resource references keep their signatures. */
  readonly inputs: Record<string, unknown>;
}

export interface Invocation {
  readonly token: string;
  readonly args: Record<string, unknown>;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- the monitor speaks generated protobuf. */

/**
 * The SDK's mock monitor, also recording what the mock API leaves out (parent, dependencies,
 * provider reference, protect, replacement options) and the serialized inputs and stack outputs,
 * where secrets are still marked as such.
 */
export class RecordingMonitor extends MockMonitor {
  readonly registrations: Registration[] = [];
  readonly invocations: Invocation[] = [];
  /** Serialized outputs registered by component resources (and the stack), by URN. */
  readonly outputs = new Map<string, Record<string, unknown>>();

  constructor(
    mocks: Mocks,
    private readonly project: string,
    private readonly stack: string,
  ) {
    super(mocks);
    // The engine leaves the root stack out of a child's qualified type
    // (`urn:pulumi:dev::homebrew-dev::pulumi:providers:proxmoxve::proxmox`); the SDK's mock
    // monitor does not. Plans should carry the URNs a real deployment has.
    (this as any).newUrn = (parent: string, type: string, name: string): string => {
      const qualifiedParent = parent ? (parent.split("::")[2] ?? "") : "";
      const qualified =
        parent && qualifiedParent !== "pulumi:pulumi:Stack" ? `${qualifiedParent}$${type}` : type;
      return `urn:pulumi:${this.stack}::${this.project}::${qualified}::${name}`;
    };
  }

  override async registerResource(req: any, callback: (err: any, res: any) => void) {
    await super.registerResource(req, (err: any, res: any) => {
      if (!err) {
        this.registrations.push({
          urn: res.getUrn(),
          type: req.getType(),
          name: req.getName(),
          custom: req.getCustom(),
          parent: req.getParent(),
          provider: req.getProvider(),
          dependsOn: [...req.getDependenciesList()],
          protect: req.getProtect() === true,
          deleteBeforeReplace: req.getDeletebeforereplace() === true,
          ignoreChanges: [...req.getIgnorechangesList()],
          replaceOnChanges: [...req.getReplaceonchangesList()],
          retainOnDelete: req.getRetainondelete() === true,
          additionalSecretOutputs: [...req.getAdditionalsecretoutputsList()],
          inputs: req.getObject()?.toJavaScript() ?? {},
        });
      }
      callback(err, res);
    });
  }

  override async invoke(req: any, callback: (err: any, res: any) => void) {
    this.invocations.push({ token: req.getTok(), args: req.getArgs()?.toJavaScript() ?? {} });
    await super.invoke(req, callback);
  }

  override registerResourceOutputs(req: any, callback: (err: any, res: any) => void) {
    this.outputs.set(req.getUrn(), req.getOutputs()?.toJavaScript() ?? {});
    super.registerResourceOutputs(req, callback);
  }
}
