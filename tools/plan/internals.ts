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
/* eslint-enable @typescript-eslint/no-require-imports */

export const getStore = (): Store => state.getStore();
export const waitForRPCs = (): Promise<void> => settings.waitForRPCs();
