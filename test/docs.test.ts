import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { describe, expect, it } from "vitest";
import { stackSchemaValidator } from "./helpers/stackSchema";
import { renderConfigReference, stackFileJsonSchema } from "../tools/docs";
import { REPO_ROOT } from "./helpers/cli";

const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), "utf8");

describe("generated documentation", () => {
  it("docs/stack.schema.json is up to date (npm run docs)", () => {
    expect(read("docs/stack.schema.json")).toBe(
      `${JSON.stringify(stackFileJsonSchema(), null, 2)}\n`,
    );
  });

  it("docs/config-reference.md is up to date (npm run docs)", () => {
    expect(read("docs/config-reference.md")).toBe(renderConfigReference());
  });

  it("the reference documents every top-level key with its default", () => {
    const ref = renderConfigReference();
    for (const key of [
      "environment",
      "proxmox",
      "cluster",
      "platform",
      "models",
      "builds",
      "edge",
    ]) {
      expect(ref).toContain(`## \`homebrew-dev:${key}\``);
    }
    expect(ref).toContain(
      '| `homebrew-dev:proxmox.bridge` | string | default `"vmbr0"` | Linux bridge the VM NICs attach to. |',
    );
    expect(ref).toContain(
      "| `homebrew-dev:proxmox.vlanId` | integer | default: untagged | VLAN tag of the cluster network. (≥ 1, ≤ 4094) |",
    );
  });

  it("the editor schema rejects what the config schema rejects", () => {
    const validate = stackSchemaValidator(stackFileJsonSchema());
    expect(validate({ config: { "homebrew-dev:environment": "qa" } })).toBe(false);
    expect(validate({ config: { "homebrew-dev:proxmox": { endpoint: 1 } } })).toBe(false);
    expect(validate({ confg: {} })).toBe(false);
    const dev = YAML.parse(read("stacks/Pulumi.dev.yaml"));
    expect(validate(dev)).toBe(true);
    // Provider settings in other namespaces stay allowed.
    expect(validate({ config: { ...dev.config, "proxmoxve:insecure": "true" } })).toBe(true);
  });
});
