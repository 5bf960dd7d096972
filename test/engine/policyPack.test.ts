import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PolicyPack } from "../../tools/engine/policyPack";
import { checkPlan, secretMasker } from "../../tools/plan/policies";
import { PROJECT, evaluate } from "../../tools/plan/run";
import { SHIPPED_STACKS, evaluationOf, planOf } from "../helpers/plans";
import { secretLiteralProgram } from "../helpers/programs";

/**
 * The policy pack as the Pulumi CLI runs it (the SDK's `cmd/run-policy-pack`, the Analyzer gRPC
 * service, ts-node type-checking the pack as it loads), sent every resource of a stack's plan and
 * then the stack: its diagnostics are the offline plan's.
 */

const environmentOf = async (stack: string) =>
  String((await evaluationOf(stack)).outputs["environment"]);

const packs = new Map<string, Promise<PolicyPack>>();
const packFor = (stack: string) => {
  let pack = packs.get(stack);
  if (pack === undefined) {
    pack = environmentOf(stack).then((environment) =>
      PolicyPack.start({
        project: PROJECT,
        stack,
        dryRun: true,
        env: { HOMEBREW_ENVIRONMENT: environment },
      }),
    );
    packs.set(stack, pack);
  }
  return pack;
};
afterAll(async () => {
  for (const pack of packs.values()) await (await pack).stop();
});

describe.each(SHIPPED_STACKS)("stack %s: the real policy pack", (stack) => {
  it("runs every policy at the level the offline plan runs it", async () => {
    const [pack, plan] = await Promise.all([packFor(stack), planOf(stack)]);
    const info = await pack.info();
    expect(info.name).toBe(plan.policyPack.name);
    expect(
      info.policies
        .map((p) => ({ name: p.name, enforcementLevel: p.level }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    ).toEqual(plan.policyPack.policies);
  });

  it("reports exactly the offline plan's violations for the planned resources", async () => {
    const [pack, plan, ev] = await Promise.all([
      packFor(stack),
      planOf(stack),
      evaluationOf(stack),
    ]);
    const mask = secretMasker(ev);
    const diagnostics = await pack.analyze(ev.registrations);
    const description = new Map(diagnostics.map((d) => [d.policy, d.description]));
    // The pack prefixes a violation's message with its policy's description.
    const received = diagnostics
      .map((d) => ({
        policy: d.policy,
        level: d.level,
        urn: d.urn,
        message: mask(d.message.slice(d.description.length + 1)),
      }))
      .sort(
        (a, b) =>
          a.urn.localeCompare(b.urn) ||
          a.policy.localeCompare(b.policy) ||
          a.message.localeCompare(b.message),
      );
    const expected = [...plan.policies].sort(
      (a, b) =>
        a.urn.localeCompare(b.urn) ||
        a.policy.localeCompare(b.policy) ||
        a.message.localeCompare(b.message),
    );
    expect(received).toEqual(expected);
    for (const d of diagnostics) {
      expect(d.message.startsWith(`${description.get(d.policy)}\n`)).toBe(true);
    }
  });
});

describe("secrets reach the real pack unwrapped, as they reach the offline plan's policies", () => {
  it("a secret literal in a credential variable: the same mandatory violation in both", async () => {
    const stackFile = path.join(mkdtempSync(path.join(tmpdir(), "pack-secrets-")), "s.yaml");
    writeFileSync(stackFile, "config: {}\n");
    const ev = await evaluate({
      stack: "prod",
      configFile: stackFile,
      program: secretLiteralProgram("tok-4f9a1c2e8b7d"),
    });
    const offline = (await checkPlan(ev)).policies.filter(
      (p) => p.policy === "env-no-secret-literals",
    );
    const pack = await packFor("prod");
    const real = (await pack.analyze(ev.registrations)).filter(
      (d) => d.policy === "env-no-secret-literals",
    );
    expect(offline.map((p) => [p.level, p.urn, p.message])).toEqual([
      [
        "mandatory",
        "urn:pulumi:prod::homebrew-dev::kubernetes:apps/v1:Deployment::leaky",
        'container "app" sets API_TOKEN to a literal value: use a Secret',
      ],
    ]);
    expect(real.map((d) => [d.level, d.urn, d.message.slice(d.description.length + 1)])).toEqual(
      offline.map((p) => [p.level, p.urn, p.message]),
    );
  });
});
