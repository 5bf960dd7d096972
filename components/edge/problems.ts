import { createHash } from "node:crypto";
import { CONFIG_NAMESPACE, ConfigError, formatPath } from "../config";

/** A key path below the config namespace: `["edge", "records", 3]`. */
export type Path = readonly PropertyKey[];

/** One problem of the edge section: where, and what. */
export interface Problem {
  readonly path: Path;
  readonly message: string;
}

/** `edge.records[3]`: a key path as other messages mention it, without the namespace. */
export function keyPath(path: Path): string {
  return formatPath(path).slice(CONFIG_NAMESPACE.length + 1);
}

/** The lines of a `ConfigError`, in the order found, each once. */
export function formatProblems(problems: readonly Problem[]): string[] {
  return [...new Set(problems.map((p) => `${formatPath(p.path)}: ${p.message}`))];
}

/** Throws one `ConfigError` naming every problem, or returns. */
export function throwIfProblems(problems: readonly Problem[]): void {
  if (problems.length > 0) throw new ConfigError(formatProblems(problems));
}

/** A short, stable digest for names and refs derived from content. */
export function shortHash(text: string, length = 8): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}
