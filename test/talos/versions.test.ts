import { describe, expect, it } from "vitest";
import {
  TALOS_MINORS,
  kubernetesSupportProblem,
  talosMinor,
  talosUpgradeProblem,
} from "../../components/catalog/talos";
import { SHIPPED_STACKS } from "../helpers/plans";
import { shippedStack } from "../helpers/stacks";

describe("the Talos version table", () => {
  it("gives each minor a window of six Kubernetes minors (constants.SupportedKubernetesVersions)", () => {
    for (const row of TALOS_MINORS) {
      const [min, max] = [row.kubernetes.min, row.kubernetes.max].map((v) =>
        Number(v.split(".")[1]),
      );
      expect(max! - min! + 1, row.minor).toBe(6);
      // Each minor moves the window by one and upgrades from two minors back.
      const talos = Number(row.minor.split(".")[1]);
      expect(Number(row.upgradesFrom.split(".")[1]), row.minor).toBe(talos - 2);
      expect(row.source).toMatch(/^siderolabs\/talos v1\.1\d\.\d/);
    }
    expect(TALOS_MINORS.map((r) => r.minor)).toEqual(["1.10", "1.11", "1.12", "1.13", "1.14"]);
  });

  it("accepts exactly the window of the stack's Talos minor", () => {
    expect(talosMinor("v1.13.9")?.defaultKubernetes).toBe("1.36.3");
    expect(kubernetesSupportProblem("v1.13.9", "v1.31.0")).toBeUndefined();
    expect(kubernetesSupportProblem("v1.13.9", "v1.36.9")).toBeUndefined();
    expect(kubernetesSupportProblem("v1.13.9", "v1.30.14")).toBe(
      "Talos 1.13 runs Kubernetes 1.31 to 1.36 (its default is v1.36.3); got v1.30.14",
    );
    expect(kubernetesSupportProblem("v1.13.9", "v1.37.0")).toMatch(/^Talos 1\.13 runs/);
    expect(kubernetesSupportProblem("v1.14.0", "v1.37.0")).toBeUndefined();
  });

  it("upgrades one minor at a time, and never down", () => {
    expect(talosUpgradeProblem("v1.13.8", "v1.13.9")).toBeUndefined();
    expect(talosUpgradeProblem("v1.13.9", "v1.14.0")).toBeUndefined();
    expect(talosUpgradeProblem("v1.12.4", "v1.14.0")).toBe(
      "Talos v1.12.4 → v1.14.0 skips a minor: upgrade to the newest v1.13.x first, then to v1.14.0",
    );
    expect(talosUpgradeProblem("v1.14.0", "v1.13.9")).toMatch(/a downgrade of the minor version/);
    expect(talosUpgradeProblem("v1.13.9", "v2.0.0")).toMatch(/a major version change/);
  });

  it("holds for every shipped stack", () => {
    for (const stack of SHIPPED_STACKS) {
      const c = shippedStack(stack).cluster;
      expect(kubernetesSupportProblem(c.talosVersion, c.kubernetesVersion), stack).toBeUndefined();
    }
  });
});
