import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config";
import { SIZES, generatedStack } from "../../tools/bench";

describe("npm run bench: generated stacks", () => {
  it.each(SIZES)("$label is a valid stack of the size it names", (size) => {
    const raw = Object.fromEntries(
      Object.entries(generatedStack(size)).map(([k, v]) => [k.replace(/^homebrew-dev:/, ""), v]),
    );
    const config = parseStackConfig(raw);
    expect(config.proxmox.hosts).toHaveLength(size.hosts);
    const nodes =
      config.cluster.controlPlane.nodes.length +
      config.cluster.workerPools.reduce((n, p) => n + p.nodes.length, 0);
    expect(nodes).toBe(size.nodes);
    expect(config.edge?.redirects ?? []).toHaveLength(size.redirects);
    expect(config.models).toHaveLength(size.models);
  });
});
