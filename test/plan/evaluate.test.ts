import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { PlanInputError, evaluate } from "../../tools/plan/run";
import { runPlanCli } from "../helpers/cli";

/* eslint-disable @typescript-eslint/no-require-imports -- the SDK internals the plan swaps. */
const debuggable = require("@pulumi/pulumi/runtime/debuggable") as {
  debuggablePromise: unknown;
};
const sdkOutput = require("@pulumi/pulumi/output") as { unknown: unknown };
/* eslint-enable @typescript-eslint/no-require-imports */

class Thing extends pulumi.CustomResource {
  declare readonly out: pulumi.Output<string | undefined>;
  constructor(name: string, props: Record<string, pulumi.Input<unknown>>) {
    super("test:index:Thing", name, { out: undefined, ...props });
  }
}

describe("evaluation on the mock runtime", () => {
  const emptyStack = path.join(mkdtempSync(path.join(tmpdir(), "evaluate-")), "empty.yaml");
  writeFileSync(emptyStack, "config: {}\n");

  it("prod: answering registrations with their inputs gives the plan the mock round trip gives", async () => {
    for (const args of [
      ["prod", "--json"],
      ["prod", "--json", "--show-secrets"],
    ]) {
      const fast = await runPlanCli(args);
      const roundTrip = await runPlanCli(args, { HOMEBREW_PLAN_MOCK_ROUND_TRIP: "1" });
      expect(fast.code).toBe(0);
      expect(roundTrip.code).toBe(0);
      expect(fast.stdout).toBe(roundTrip.stdout);
    }
  });

  it("runs the program again on a second evaluation in the same process", async () => {
    const first = await evaluate({ stack: "dev" });
    const second = await evaluate({ stack: "dev" });
    expect(first.registrations.length).toBeGreaterThan(50);
    expect(second.registrations).toEqual(first.registrations);
  });

  it("secrets, references, nested values and unknown inputs reach dependents the same way", async () => {
    const program = () => {
      const a = new Thing("a", {
        text: "plain",
        nested: { list: [1, "two", { three: true }], empty: {} },
        secret: pulumi.secret("s3cr3t"),
      });
      // An input whose value is not known (the SDK's round trip drops it) takes the slow path.
      const b = new Thing("b", {
        ref: a,
        fromSecret: a.urn.apply(() => "x"),
        unset: a.out,
        notKnown: pulumi.output(sdkOutput.unknown),
      });
      const c = new Thing("c", {
        fromB: pulumi.all([b.urn, b.id]).apply(([u, i]) => `${u}|${i}`),
        copied: pulumi.output(a).apply((r) => r.urn),
      });
      return { c: c.urn, secret: pulumi.secret(c.id) };
    };
    const fast = await evaluate({ stack: "t", configFile: emptyStack, program, echoInputs: true });
    const roundTrip = await evaluate({
      stack: "t",
      configFile: emptyStack,
      program,
      echoInputs: false,
    });
    expect(fast.registrations).toEqual(roundTrip.registrations);
    expect(fast.outputs).toEqual(roundTrip.outputs);
    const b = fast.registrations.find((r) => r.name === "b");
    expect(b?.inputs["notKnown"]).toBe(unknownValue);
    expect(b?.inputs["ref"]).toMatchObject({
      urn: "urn:pulumi:t::homebrew-dev::test:index:Thing::a",
    });
  });

  it("restores the SDK's leak detector and source positions afterwards", async () => {
    const leakDetector = debuggable.debuggablePromise;
    const stackTrace = (pulumi.Resource as unknown as { stackTrace: unknown }).stackTrace;
    const limit = Error.stackTraceLimit;
    const program = () => ({ urn: new Thing("a", {}).urn });
    await evaluate({ stack: "t", configFile: emptyStack, program });
    expect(debuggable.debuggablePromise).toBe(leakDetector);
    expect((pulumi.Resource as unknown as { stackTrace: unknown }).stackTrace).toBe(stackTrace);
    expect(Error.stackTraceLimit).toBe(limit);
  });

  it("an error thrown in an apply fails the plan with its message", async () => {
    const program = () => {
      const a = new Thing("a", {});
      new Thing("b", {
        x: a.urn.apply(() => {
          throw new Error("the apply failed");
        }),
      });
      return {};
    };
    const failure = evaluate({ stack: "t", configFile: emptyStack, program });
    await expect(failure).rejects.toBeInstanceOf(PlanInputError);
    await expect(failure).rejects.toThrow('error serializing property "x": the apply failed');
  });

  it("an error thrown by the program fails the plan with its message", async () => {
    const program = () => {
      throw new Error("the program failed");
    };
    await expect(evaluate({ stack: "t", configFile: emptyStack, program })).rejects.toThrow(
      new PlanInputError("the program failed"),
    );
  });
});
