import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "./schema";
import { CONFIG_NAMESPACE, parseStackConfig } from "./validate";

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
 * Reads every `homebrew-dev:*` key of the current stack and validates them as one object.
 * The only reader of Pulumi config in the program: components receive typed values.
 */
export function loadStackConfig(): StackConfig {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = decode(value);
  }
  return parseStackConfig(raw);
}
