import { MockMonitor, type Mocks } from "@pulumi/pulumi/runtime/mocks";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import * as resproto from "@pulumi/pulumi/proto/resource_pb";

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
  /**
   * Input properties that take another resource's outputs, with the URNs they come from: what the
   * engine reads to find dependents a delete-before-replace replaces as well.
   */
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
  readonly protect: boolean;
  readonly deleteBeforeReplace: boolean;
  readonly ignoreChanges: readonly string[];
  readonly replaceOnChanges: readonly string[];
  readonly retainOnDelete: boolean;
  readonly additionalSecretOutputs: readonly string[];
  /**
   * Earlier identities of the resource (its `aliases` option), as the engine receives them: a URN,
   * or the parts that differ (name, type, parent URN or no parent, stack, project).
   */
  readonly aliases: readonly Record<string, string | boolean>[];
  /** Serialized inputs: secrets, unknowns and resource references keep their signatures. */
  readonly inputs: Record<string, unknown>;
}

export interface Invocation {
  readonly token: string;
  readonly args: Record<string, unknown>;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- the monitor speaks generated protobuf. */

/**
 * The URN the engine gives a resource: the parent's qualified type joined with `$`, except that
 * the root stack is left out (`urn:pulumi:dev::homebrew-dev::pulumi:providers:proxmoxve::proxmox`).
 */
export function resourceUrn(
  stack: string,
  project: string,
  parent: string,
  type: string,
  name: string,
): string {
  const qualifiedParent = parent ? (parent.split("::")[2] ?? "") : "";
  const qualified =
    parent && qualifiedParent !== "pulumi:pulumi:Stack" ? `${qualifiedParent}$${type}` : type;
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

/** An `Alias` message as plain data: only the parts it sets. */
function aliasOf(alias: any): Record<string, string | boolean> {
  if (alias.hasUrn()) return { urn: alias.getUrn() };
  const spec = alias.getSpec();
  const out: Record<string, string | boolean> = {};
  for (const [key, value] of [
    ["name", spec.getName()],
    ["type", spec.getType()],
    ["stack", spec.getStack()],
    ["project", spec.getProject()],
  ] as const) {
    if (value !== "") out[key] = value;
  }
  if (spec.hasParenturn()) out["parentUrn"] = spec.getParenturn();
  if (spec.hasNoparent()) out["noParent"] = spec.getNoparent();
  return out;
}

/** The non-empty property dependencies of a request, properties and URNs sorted. */
function propertyDependenciesOf(req: any): Record<string, string[]> {
  const entries: [string, string[]][] = [];
  req.getPropertydependenciesMap().forEach((deps: any, key: string) => {
    const urns = [...new Set<string>(deps.getUrnsList())].sort();
    if (urns.length > 0) entries.push([key, urns]);
  });
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The registration a `RegisterResourceRequest` asks for, with the URN it was given. */
export function registrationOf(
  req: any,
  urn: string,
  inputs: Record<string, unknown> = req.getObject()?.toJavaScript() ?? {},
): Registration {
  return {
    urn,
    type: req.getType(),
    name: req.getName(),
    custom: req.getCustom(),
    parent: req.getParent(),
    provider: req.getProvider(),
    dependsOn: [...req.getDependenciesList()],
    propertyDependencies: propertyDependenciesOf(req),
    protect: req.getProtect() === true,
    deleteBeforeReplace: req.getDeletebeforereplace() === true,
    ignoreChanges: [...req.getIgnorechangesList()],
    replaceOnChanges: [...req.getReplaceonchangesList()],
    retainOnDelete: req.getRetainondelete() === true,
    additionalSecretOutputs: [...req.getAdditionalsecretoutputsList()],
    aliases: req.getAliasesList().map(aliasOf),
    inputs,
  };
}

/**
 * The SDK's mock monitor, also recording what the mock API leaves out (parent, dependencies,
 * provider reference, protect, replacement options) and the serialized inputs and stack outputs,
 * where secrets are still marked as such. Registrations whose mock state is exactly their inputs
 * are answered with the request's own struct (see `echoTypes`).
 */
export class RecordingMonitor extends MockMonitor {
  readonly registrations: Registration[] = [];
  readonly invocations: Invocation[] = [];
  /** Serialized outputs registered by component resources (and the stack), by URN. */
  readonly outputs = new Map<string, Record<string, unknown>>();

  /**
   * @param echoTypes - whether a resource type's mock state is exactly its inputs (no computed
   *   outputs); those registrations skip the mock's serialization round trip.
   */
  constructor(
    mocks: Mocks,
    private readonly project: string,
    private readonly stack: string,
    private readonly echoTypes: (type: string) => boolean = () => false,
  ) {
    super(mocks);
    // The SDK's mock monitor keeps the root stack in a child's qualified type; the engine does
    // not. Plans should carry the URNs a real deployment has.
    (this as any).newUrn = (parent: string, type: string, name: string): string =>
      resourceUrn(this.stack, this.project, parent, type, name);
  }

  override async registerResource(req: any, callback: (err: any, res: any) => void) {
    const inputs: Record<string, unknown> = req.getObject()?.toJavaScript() ?? {};
    const record = (urn: string) => this.registrations.push(registrationOf(req, urn, inputs));
    if (this.echoes(req, inputs)) {
      // The common case: the resource's state is its inputs, which are already in wire form.
      // Answering with the request's own struct gives the program exactly what the SDK's mock
      // round trip (deserialize, copy, serialize, encode) would, without re-encoding every input.
      const urn: string = (this as any).newUrn(req.getParent(), req.getType(), req.getName());
      const importId: string = req.getImportid();
      const id = importId.length > 0 ? importId : `${req.getName()}-id`;
      (this as any).resources.set(urn, { urn, id, state: inputs });
      const response = new resproto.RegisterResourceResponse();
      response.setUrn(urn);
      response.setId(id);
      response.setObject(req.getObject());
      record(urn);
      callback(null, response);
      return;
    }
    await super.registerResource(req, (err: any, res: any) => {
      if (!err) record(res.getUrn());
      callback(err, res);
    });
  }

  /**
   * Whether the mock answer is the inputs unchanged: the resource type has no computed outputs,
   * no transform applies, and no input is unknown (the SDK's round trip drops unknown values).
   */
  private echoes(req: any, inputs: Record<string, unknown>): boolean {
    return (
      req.getObject() !== undefined &&
      this.echoTypes(req.getType()) &&
      req.getTransformsList().length === 0 &&
      !containsUnknown(inputs)
    );
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

function containsUnknown(value: unknown): boolean {
  if (value === unknownValue) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === "object") {
    for (const v of Object.values(value)) if (containsUnknown(v)) return true;
  }
  return false;
}
