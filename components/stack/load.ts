import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, ConfigError, SECRET_CONFIG_KEYS, type StackConfig } from "../config";
import type { StackPlan } from "./plan";
import { validateStack } from "./validate";

// The SDK knows which keys the CLI passed as secrets; the function is not in its declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- SDK internal, typed here.
const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as {
  isConfigSecret(key: string): boolean;
};

/**
 * Structured config values reach the program as JSON text; plain values as text. A value that
 * looks like JSON but does not parse stays text, so the schema reports it with its key.
 */
function decode(value: string): unknown {
  const trimmed = value.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return value;
    }
  }
  return value;
}

/**
 * Reads every `homebrew-dev:*` key of the current stack and validates them as one object
 * (`validateStack`: every problem of the stack at once, before any resource is registered).
 * The only reader of Pulumi config in the program: components receive typed values.
 */
export function loadStack(): { spec: StackConfig; plan: StackPlan } {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = decode(value);
  }
  // Credentials set in plain text would sit unencrypted in the stack file and the state.
  const plain = SECRET_CONFIG_KEYS.filter(
    (k) => raw[k] !== undefined && !isConfigSecret(`${prefix}${k}`),
  );
  if (plain.length > 0) {
    throw new ConfigError(
      plain.map(
        (k) =>
          `${prefix}${k}: must be a secret (set it with \`pulumi config set --secret ${prefix}${k} <value>\`)`,
      ),
    );
  }
  return validateStack(raw);
}
