/**
 * Secret inputs made comparable without being shown: a keyed digest per secret value, so that a
 * diff can say "changed, secret", and for Talos machine configs a redacted view (key material
 * and certificates replaced by short digests) so that a reviewer sees which fields change.
 */
import { createHmac } from "node:crypto";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import * as YAML from "yaml";

/**
 * The digest key. Without `HOMEBREW_PLAN_DIGEST_KEY` a fixed one is used: digests then still
 * differ per resource and property, but a guessable secret (a short password) could be confirmed
 * from a plan file by anyone holding it. CI sets the key from a repository secret.
 */
function digestKey(): string {
  const key = process.env["HOMEBREW_PLAN_DIGEST_KEY"];
  return key !== undefined && key !== "" ? key : "homebrew-dev plan digest";
}

/** A short keyed digest of a value, bound to where it sits (resource identity and path). */
export function digest(where: string, value: unknown): string {
  return createHmac("sha256", digestKey())
    .update(where)
    .update("\0")
    .update(JSON.stringify(value))
    .digest("hex")
    .slice(0, 16);
}

const isSecret = (v: unknown): v is { value: unknown } =>
  typeof v === "object" &&
  v !== null &&
  (v as Record<string, unknown>)[specialSigKey] === specialSecretSig;

/** Every secret value of serialized inputs, by the path `propertyChanges` gives it. */
function secretValues(value: unknown, path = ""): [string, unknown][] {
  if (isSecret(value)) return [[path || "(value)", value.value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => secretValues(v, `${path}[${i}]`));
  if (typeof value === "object" && value !== null) {
    return Object.keys(value)
      .sort()
      .flatMap((k) =>
        secretValues((value as Record<string, unknown>)[k], path ? `${path}.${k}` : k),
      );
  }
  return [];
}

/** A digest per secret input of a resource (`identity` is its URN without the stack). */
export function secretDigests(identity: string, inputs: unknown): Record<string, string> {
  return Object.fromEntries(
    secretValues(inputs).map(([path, v]) => [path, digest(`${identity}\0${path}`, v)]),
  );
}

/**
 * Keys whose values are key material wherever they appear in a machine config (`cluster.id`, or
 * `clusterID` at contract 1.14, is the random discovery identity of the cluster: not a key, but
 * generated and private).
 */
const KEY_MATERIAL = /(^|[a-z])(key|token|secret|password)s?$|^id$|^clusterID$/i;

function redact(value: unknown, key: string): unknown {
  // `crt` at contract 1.13 (base64), `cert` and `acceptedCAs` at 1.14 (PEM).
  if (typeof value === "string" && ["crt", "cert", "acceptedCAs"].includes(key)) {
    return `[certificate ${digest("crt", value)}]`;
  }
  if (typeof value === "string" && KEY_MATERIAL.test(key)) {
    return `[redacted ${digest("key", value)}]`;
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, key));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, redact((value as Record<string, unknown>)[k], k)]),
    );
  }
  return value;
}

/**
 * The redacted view of a Talos machine config (multi-document YAML): documents by kind (and
 * name), the v1alpha1 document as `v1alpha1`; undefined when the text is not a machine config.
 */
export function machineConfigView(text: string): Record<string, unknown> | undefined {
  if (!text.includes("version: v1alpha1")) return undefined;
  let docs: unknown[];
  try {
    docs = YAML.parseAllDocuments(text).map((d) => d.toJS() as unknown);
  } catch {
    return undefined;
  }
  const out: Record<string, unknown> = {};
  for (const doc of docs) {
    if (typeof doc !== "object" || doc === null) continue;
    const d = doc as Record<string, unknown>;
    const name =
      d["version"] === "v1alpha1"
        ? "v1alpha1"
        : typeof d["kind"] === "string"
          ? typeof d["name"] === "string"
            ? `${d["kind"]}/${d["name"]}`
            : d["kind"]
          : undefined;
    if (name === undefined) continue;
    out[name] = redact(d, "");
  }
  return "v1alpha1" in out ? out : undefined;
}

/** Redacted views of the secret inputs that are machine configs, by input path. */
export function secretViews(inputs: unknown): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [path, v] of secretValues(inputs)) {
    if (typeof v !== "string") continue;
    const view = machineConfigView(v);
    if (view !== undefined) out[path] = view;
  }
  return out;
}
