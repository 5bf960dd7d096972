import { Ajv, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";

/**
 * A validator of the editor schema of stack files (docs/stack.schema.json), with the string
 * formats it uses checked rather than ignored: `ipv4`, `uri` and `uri-template` from ajv-formats, and zod's own
 * `cidrv4`, which JSON Schema does not define (editors skip it).
 */
export function stackSchemaValidator(schema: object): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv, ["ipv4", "uri", "uri-template"]);
  ajv.addFormat("cidrv4", {
    type: "string",
    validate: (v: string) =>
      /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\/(3[0-2]|[12]?\d)$/.test(
        v,
      ),
  });
  return ajv.compile(schema);
}
