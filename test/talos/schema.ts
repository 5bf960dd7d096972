import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020, { type ErrorObject, type ValidateFunction } from "ajv/dist/2020";
import type { ConfigContract } from "../../components/catalog/talos";

/** The repository root (this file sits in test/talos). */
const repoRoot = path.resolve(__dirname, "..", "..");

/**
 * The Talos configuration contracts the renderer writes, vendored so a fresh clone tests without
 * anything beside it: v1.13.9 for contract 1.13, v1.14.0-rc.1 (the tip of release-1.14 when it
 * was taken) for contract 1.14. `TALOS_SCHEMA_UPSTREAM` are the copies the design brief names;
 * when they are present the tests check the vendored ones are identical.
 */
export const TALOS_SCHEMA_FILES: Readonly<Record<ConfigContract, string>> = {
  "1.13": "talos-config.v1.13.9.schema.json",
  "1.14": "talos-config.v1.14.0-rc.1.schema.json",
};
export const TALOS_SCHEMA_PATHS = Object.fromEntries(
  Object.entries(TALOS_SCHEMA_FILES).map(([c, f]) => [
    c,
    path.resolve(repoRoot, "test", "fixtures", f),
  ]),
) as Record<ConfigContract, string>;
export const TALOS_SCHEMA_UPSTREAMS = Object.fromEntries(
  Object.entries(TALOS_SCHEMA_FILES).map(([c, f]) => [
    c,
    path.resolve(repoRoot, "..", "shared", "schemas", f),
  ]),
) as Record<ConfigContract, string>;
/** The 1.13 schema (the default of `validateTalosConfig`). */
export const TALOS_SCHEMA_PATH = TALOS_SCHEMA_PATHS["1.13"];
export const TALOS_SCHEMA_UPSTREAM = TALOS_SCHEMA_UPSTREAMS["1.13"];

const validators = new Map<ConfigContract, ValidateFunction>();

function compile(contract: ConfigContract): ValidateFunction {
  let validator = validators.get(contract);
  if (validator === undefined) {
    const schema = JSON.parse(fs.readFileSync(TALOS_SCHEMA_PATHS[contract], "utf8")) as object;
    // strict: false because the schema carries editor annotations (markdownDescription,
    // x-intellij-html-description) that are not JSON Schema keywords.
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    // cluster.controlPlane.endpoint is declared `format: uri`; check it rather than ignore it.
    ajv.addFormat("uri", { type: "string", validate: (value: string) => URL.canParse(value) });
    validator = ajv.compile(schema);
    validators.set(contract, validator);
  }
  return validator;
}

/** ajv's errors for one Talos config document ([] when it is valid) under a contract's schema. */
export function validateTalosConfig(
  doc: unknown,
  contract: ConfigContract = "1.13",
): ErrorObject[] {
  const validate = compile(contract);
  return validate(doc) ? [] : [...(validate.errors ?? [])];
}

/** The document kinds a contract's schema lists (the `kind` enum of every root but v1alpha1). */
export function schemaKinds(contract: ConfigContract): string[] {
  const schema = JSON.parse(fs.readFileSync(TALOS_SCHEMA_PATHS[contract], "utf8")) as {
    oneOf: { $ref: string }[];
    $defs: Record<string, { properties?: { kind?: { enum?: string[] } } }>;
  };
  return schema.oneOf
    .flatMap((r) => schema.$defs[r.$ref.split("/").pop()!]?.properties?.kind?.enum ?? [])
    .sort();
}
