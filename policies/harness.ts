import type {
  EnforcementLevel,
  Policies,
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";

/** A resource as the offline plan records it. */
export interface HarnessResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent?: string;
  readonly provider?: string;
  readonly dependsOn?: readonly string[];
  readonly protect?: boolean;
  readonly inputs: Record<string, unknown>;
}

export interface Violation {
  readonly policy: string;
  readonly level: EnforcementLevel;
  readonly urn: string;
  readonly message: string;
}

function opts(r: HarnessResource) {
  return {
    protect: r.protect === true,
    ignoreChanges: [],
    aliases: [],
    additionalSecretOutputs: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    ...(r.parent ? { parent: r.parent } : {}),
  };
}

const notApplicable = (): never => {
  throw new NotApplicable();
};
class NotApplicable extends Error {}

/**
 * Runs policies over recorded resources the way the Pulumi engine calls them: one
 * ResourceValidationArgs per resource, one StackValidationArgs for the stack. Disabled policies
 * are skipped; `config` gives each policy its configuration.
 */
export async function runPolicies(
  resources: readonly HarnessResource[],
  policies: Policies,
  config: Readonly<Record<string, object>> = {},
): Promise<Violation[]> {
  const violations: Violation[] = [];
  for (const policy of policies) {
    const level = policy.enforcementLevel ?? "advisory";
    if (level === "disabled") continue;
    const getConfig = <T extends object>() => (config[policy.name] ?? {}) as T;
    const resourcePolicy = policy as ResourceValidationPolicy;
    if (resourcePolicy.validateResource !== undefined) {
      const validators = Array.isArray(resourcePolicy.validateResource)
        ? resourcePolicy.validateResource
        : [resourcePolicy.validateResource];
      for (const r of resources) {
        const args = {
          type: r.type,
          props: r.inputs,
          urn: r.urn,
          name: r.name,
          opts: opts(r),
          stackTags: new Map<string, string>(),
          isType: () => false,
          asType: () => undefined,
          getConfig,
          notApplicable,
        } as unknown as ResourceValidationArgs;
        for (const validate of validators) {
          try {
            await validate(args, (message, urn) =>
              violations.push({ policy: policy.name, level, urn: urn ?? r.urn, message }),
            );
          } catch (err) {
            if (!(err instanceof NotApplicable)) throw err;
          }
        }
      }
    }
    const stackPolicy = policy as StackValidationPolicy;
    if (stackPolicy.validateStack !== undefined) {
      const stackResources = resources.map(
        (r) =>
          ({
            type: r.type,
            props: r.inputs,
            urn: r.urn,
            name: r.name,
            opts: opts(r),
            dependencies: [],
            propertyDependencies: {},
            isType: () => false,
            asType: () => undefined,
          }) as unknown as PolicyResource,
      );
      try {
        await stackPolicy.validateStack(
          { resources: stackResources, getConfig, notApplicable } as never,
          (message, urn) =>
            violations.push({ policy: policy.name, level, urn: urn ?? "", message }),
        );
      } catch (err) {
        if (!(err instanceof NotApplicable)) throw err;
      }
    }
  }
  return violations;
}
