import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020, { type ErrorObject, type ValidateFunction } from "ajv/dist/2020";

/** The repository root (this file sits in test/talos). */
const repoRoot = path.resolve(__dirname, "..", "..");

/**
 * The Talos v1.13 configuration contract, vendored so a fresh clone tests without anything
 * beside it. `TALOS_SCHEMA_UPSTREAM` is the copy the design brief names; when it is present the
 * tests check the vendored one is identical.
 */
export const TALOS_SCHEMA_PATH = path.resolve(
  repoRoot,
  "test",
  "fixtures",
  "talos-config.v1.13.9.schema.json",
);
export const TALOS_SCHEMA_UPSTREAM = path.resolve(
  repoRoot,
  "..",
  "shared",
  "schemas",
  "talos-config.v1.13.9.schema.json",
);

let validator: ValidateFunction | undefined;

function compile(): ValidateFunction {
  if (validator === undefined) {
    const schema = JSON.parse(fs.readFileSync(TALOS_SCHEMA_PATH, "utf8")) as object;
    // strict: false because the schema carries editor annotations (markdownDescription,
    // x-intellij-html-description) that are not JSON Schema keywords.
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    // cluster.controlPlane.endpoint is declared `format: uri`; check it rather than ignore it.
    ajv.addFormat("uri", { type: "string", validate: (value: string) => URL.canParse(value) });
    validator = ajv.compile(schema);
  }
  return validator;
}

/** ajv's errors for one Talos config document ([] when it is valid). */
export function validateTalosConfig(doc: unknown): ErrorObject[] {
  const validate = compile();
  return validate(doc) ? [] : [...(validate.errors ?? [])];
}
