import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { TALOS_SCHEMA_PATH, TALOS_SCHEMA_UPSTREAM, validateTalosConfig } from "./schema";

describe("the vendored Talos v1.13.9 schema", () => {
  it("is the configuration contract of Talos v1.13 (v1alpha1 documents)", () => {
    const schema = JSON.parse(readFileSync(TALOS_SCHEMA_PATH, "utf8"));
    expect(JSON.stringify(schema)).toContain("v1alpha1");
    expect(validateTalosConfig({ version: "v1alpha1", machine: { type: "nonsense" } })).not.toEqual(
      [],
    );
  });

  it.runIf(existsSync(TALOS_SCHEMA_UPSTREAM))("is identical to the upstream copy", () => {
    expect(readFileSync(TALOS_SCHEMA_PATH, "utf8")).toBe(
      readFileSync(TALOS_SCHEMA_UPSTREAM, "utf8"),
    );
  });
});
