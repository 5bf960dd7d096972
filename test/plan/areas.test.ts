import { describe, expect, it } from "vitest";
import { SHIPPED_STACKS, evaluationOf } from "../helpers/plans";

/**
 * Area boundaries match the layout (components/<area>/ and the `homebrew-dev:<area>:` type of
 * their components), and a component that moved keeps its deployed identity through an alias.
 */
describe.each(SHIPPED_STACKS)("stack %s", (stack) => {
  it("builds create no Kubernetes objects: workloads belong to the kubernetes area", async () => {
    const ev = await evaluationOf(stack);
    const inBuild = ev.registrations.filter((r) =>
      /::homebrew-dev:build:[A-Za-z]+[$:]/.test(r.urn),
    );
    expect(inBuild.filter((r) => r.type.startsWith("kubernetes:")).map((r) => r.urn)).toEqual([]);
  });

  it("every service app keeps its identity from when it lived in build/", async () => {
    const ev = await evaluationOf(stack);
    for (const app of ev.registrations.filter(
      (r) => r.type === "homebrew-dev:kubernetes:ServiceApp",
    )) {
      expect(app.aliases).toContainEqual(
        expect.objectContaining({ type: "homebrew-dev:build:ServiceApp" }),
      );
    }
  });
});
