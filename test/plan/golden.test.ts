import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, runPlanCli } from "../helpers/cli";
import { SHIPPED_STACKS } from "../helpers/plans";

/**
 * Every shipped stack plans exactly its committed golden file (test/golden/<stack>.json): a
 * refactor leaves them unchanged, and a change that means to alter a plan rewrites them with
 * `npm run golden`, so the difference is reviewed with the change.
 */
describe.each(SHIPPED_STACKS)("stack %s", (stack) => {
  it("plans exactly its golden file", async () => {
    const golden = readFileSync(path.join(REPO_ROOT, "test", "golden", `${stack}.json`), "utf8");
    const res = await runPlanCli([stack, "--json"]);
    expect(res.code).toBe(0);
    if (res.stdout !== golden) {
      // A readable difference first (resource by resource), then the byte comparison.
      const byUrn = (json: string) =>
        Object.fromEntries(
          (JSON.parse(json).resources as { urn: string }[]).map((r) => [r.urn, r]),
        );
      expect(byUrn(res.stdout), "run `npm run golden` if the change is meant").toEqual(
        byUrn(golden),
      );
    }
    expect(res.stdout).toBe(golden);
  });
});
