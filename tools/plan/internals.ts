/**
 * The two SDK internals the offline plan needs, typed here because the SDK's declarations mark
 * them @internal: the runtime store (to install the recording monitor) and the RPC drain.
 */
import type { MockMonitor } from "@pulumi/pulumi/runtime/mocks";

interface Store {
  settings: { monitor: MockMonitor | undefined };
}

/* eslint-disable @typescript-eslint/no-require-imports -- untyped SDK internals. */
const state = require("@pulumi/pulumi/runtime/state") as { getStore(): Store };
const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
const debuggable = require("@pulumi/pulumi/runtime/debuggable") as {
  debuggablePromise: <T>(p: Promise<T>, ctx: unknown) => Promise<T>;
};
/* eslint-enable @typescript-eslint/no-require-imports */

export const getStore = (): Store => state.getStore();
export const waitForRPCs = (): Promise<void> => settings.waitForRPCs();

/**
 * Runs `fn` with the SDK's promise leak detector off. The detector tags every promise the SDK
 * makes (a stack, an id, two extra promises and a set entry) so that `pulumi up` can name
 * promises left pending when the process exits; the plan waits for every RPC itself and never
 * exits with promises pending, and the tagging is a sixth of a plan's time.
 */
export async function withoutLeakDetection<T>(fn: () => Promise<T>): Promise<T> {
  const original = debuggable.debuggablePromise;
  debuggable.debuggablePromise = (p) => p;
  try {
    return await fn();
  } finally {
    debuggable.debuggablePromise = original;
  }
}
