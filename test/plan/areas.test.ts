import { describe, expect, it } from "vitest";
import { resourceUrn } from "../../tools/plan/monitor";
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

describe("the Cloudflare Tunnel moved from the platform's ingress to the edge area", () => {
  // Its URNs before the move (test/golden/prod.json at that time).
  const before = [
    "urn:pulumi:prod::homebrew-dev::homebrew-dev:kubernetes:Platform$homebrew-dev:kubernetes:TunnelIngress$cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared::platform-ingress-tunnel",
    "urn:pulumi:prod::homebrew-dev::homebrew-dev:kubernetes:Platform$homebrew-dev:kubernetes:TunnelIngress$cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig::platform-ingress-routes",
    "urn:pulumi:prod::homebrew-dev::homebrew-dev:kubernetes:Platform$homebrew-dev:kubernetes:TunnelIngress$random:index/randomBytes:RandomBytes::platform-ingress-tunnel-secret",
  ];

  it("every moved resource has an alias that resolves to its URN before the move", async () => {
    const ev = await evaluationOf("prod");
    const moved = ev.registrations.filter((r) => r.parent.endsWith("::edge-tunnel"));
    expect(moved.map((r) => r.type).sort()).toEqual([
      "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared",
      "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig",
      "random:index/randomBytes:RandomBytes",
    ]);
    // The engine's rule for an alias spec: the parts it names replace the resource's own.
    // (The providers add aliases of their own, for type renames; ours name the old resource.)
    const resolved = moved.flatMap((r) =>
      r.aliases
        .filter((a) => typeof a["name"] === "string")
        .map((a) =>
          resourceUrn(
            "prod",
            "homebrew-dev",
            typeof a["parentUrn"] === "string" ? a["parentUrn"] : r.parent,
            typeof a["type"] === "string" ? a["type"] : r.type,
            typeof a["name"] === "string" ? a["name"] : r.name,
          ),
        ),
    );
    expect(resolved.sort()).toEqual([...before].sort());
  });

  it("the connector stays in the cluster, and the platform no longer touches Cloudflare", async () => {
    const ev = await evaluationOf("prod");
    const underPlatform = ev.registrations.filter((r) =>
      r.urn.includes("homebrew-dev:kubernetes:Platform"),
    );
    expect(underPlatform.filter((r) => r.type.startsWith("cloudflare:")).map((r) => r.urn)).toEqual(
      [],
    );
    expect(
      ev.registrations
        .filter((r) => r.urn.includes("homebrew-dev:kubernetes:TunnelIngress$"))
        .map((r) => r.type)
        .sort(),
    ).toEqual([
      "kubernetes:apps/v1:Deployment",
      "kubernetes:core/v1:Secret",
      "kubernetes:policy/v1:PodDisruptionBudget",
    ]);
  });
});
