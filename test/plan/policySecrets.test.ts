import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { checkPlan, secretMasker, secretTexts } from "../../tools/plan/policies";
import { buildPlan, renderJson } from "../../tools/plan/render";
import { evaluate } from "../../tools/plan/run";
import { secretLiteralProgram } from "../helpers/programs";

/**
 * The engine hands a policy pack every secret unwrapped (`@pulumi/policy` unwraps the marked
 * values before a policy runs), so the offline plan does too; what it prints stays masked.
 */
describe("policies in the offline plan see secrets as the engine gives them", () => {
  const stackFile = path.join(mkdtempSync(path.join(tmpdir(), "policy-secrets-")), "s.yaml");
  writeFileSync(stackFile, "config: {}\n");
  const token = "tok-4f9a1c2e8b7d";

  const program = secretLiteralProgram(token);

  it("a secret literal in a credential variable is a mandatory violation, and no output shows it", async () => {
    const ev = await evaluate({ stack: "t", configFile: stackFile, program });
    const checked = await checkPlan(ev);
    const leak = checked.policies.filter((p) => p.policy === "env-no-secret-literals");
    expect(leak.map((p) => [p.level, p.message])).toEqual([
      ["mandatory", 'container "app" sets API_TOKEN to a literal value: use a Secret'],
    ]);
    const printed = renderJson(buildPlan(ev, { showSecrets: false, ...checked }));
    expect(printed).not.toContain(token);
    expect(printed).toContain("[secret]");
  });

  it("masks every secret text a message might quote, as whole words only", async () => {
    const ev = await evaluate({ stack: "t", configFile: stackFile, program });
    expect(secretTexts(ev)).toEqual([token]);
    const mask = secretMasker(ev);
    expect(mask(`value ${token} and "${token}"`)).toBe('value [secret] and "[secret]"');
    // Part of a longer word is not the secret itself.
    expect(mask(`x${token}y`)).toBe(`x${token}y`);
  });

  it("collects strings, numbers and the JSON of structured secrets; short ones mask whole words", async () => {
    const ev = await evaluate({
      stack: "t",
      configFile: stackFile,
      program: () => ({
        user: pulumi.secret("app"),
        nested: pulumi.secret({ port: 5432, list: ["a-b"] }),
      }),
    });
    expect(secretTexts(ev)).toEqual(['{"list":["a-b"],"port":5432}', "5432", "a-b", "app"]);
    const mask = secretMasker(ev);
    expect(mask("cert-approver runs as app on 5432")).toBe(
      "cert-approver runs as [secret] on [secret]",
    );
  });
});
