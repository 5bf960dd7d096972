/**
 * What the whole-cluster checks read of a plan (./render.ts `Plan`: its resources with inputs and
 * redacted views, and its outputs), and the two readers of untyped JSON they share.
 */
export interface AnalysisPlan {
  readonly resources: readonly {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, unknown>;
    readonly views?: Record<string, Record<string, unknown>>;
  }[];
  readonly outputs?: Record<string, unknown>;
}

export type Obj = Record<string, unknown>;

/** The value as an object, or an empty one. */
export const rec = (v: unknown): Obj =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {};

/** The value as a list, or an empty one. */
export const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
