import * as pulumi from "@pulumi/pulumi";
import type { MockCallArgs, MockResourceArgs } from "@pulumi/pulumi/runtime/mocks";
import { getStore } from "../../tools/plan/internals";
import { RecordingMonitor } from "../../tools/plan/monitor";
import { newResource } from "../../tools/plan/placeholders";

export interface Recorded {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  readonly provider: string | undefined;
}

/**
 * Installs Pulumi's mock runtime (once per test file) and records every registered resource
 * and invoke. Computed outputs get the offline plan's deterministic placeholders; an invoke the
 * tests did not expect throws.
 */
export function recordResources(opts: { stack?: string; project?: string } = {}) {
  const resources: Recorded[] = [];
  const invokes: MockCallArgs[] = [];
  const mocks = {
    newResource(args: MockResourceArgs) {
      resources.push({
        type: args.type,
        name: args.name,
        inputs: args.inputs as Record<string, unknown>,
        provider: args.provider,
      });
      return newResource(args);
    },
    call(args: MockCallArgs) {
      invokes.push(args);
      throw new Error(`unexpected invoke ${args.token}`);
    },
  };
  const project = opts.project ?? "homebrew-dev";
  const stack = opts.stack ?? "test";
  void pulumi.runtime.setMocks(mocks, project, stack, false);
  // The recording monitor also keeps what the mock API leaves out (protect, ignoreChanges,
  // dependsOn, parent), as the offline plan sees it.
  const monitor = new RecordingMonitor(mocks, project, stack);
  getStore().settings.monitor = monitor;
  return {
    resources,
    registrations: monitor.registrations,
    registration: (name: string) => monitor.registrations.find((r) => r.name === name),
    invokes,
    ofType: (type: string) => resources.filter((r) => r.type === type),
    reset: () => {
      resources.length = 0;
      invokes.length = 0;
      monitor.registrations.length = 0;
    },
  };
}

/** Resolves an Output (and whether it is secret) so tests assert on real values. */
export async function resolve<T>(o: pulumi.Output<T>): Promise<{ value: T; secret: boolean }> {
  const out = o as unknown as {
    promise(): Promise<T>;
    isSecret: Promise<boolean>;
  };
  return { value: await out.promise(), secret: await out.isSecret };
}
