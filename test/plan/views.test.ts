import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { describe, expect, it } from "vitest";
import { machineConfigView, secretDigests, secretViews } from "../../tools/plan/views";

const secret = (value: unknown) => ({ [specialSigKey]: specialSecretSig, value });
const config = (token: string, label: string) =>
  [
    "version: v1alpha1",
    "machine:",
    "  type: worker",
    `  token: ${token}`,
    "  ca:",
    "    crt: LS0tLS1CRUdJTiBDRVJU",
    "    key: LS0tLS1CRUdJTiBFQyBQUklWQVRF",
    "  nodeLabels:",
    `    pool: ${label}`,
    "cluster:",
    "  id: 3x4mpl3cluster1d",
    "  secret: c2VjcmV0c2VjcmV0",
    "---",
    "apiVersion: v1alpha1",
    "kind: HostnameConfig",
    "hostname: w-1",
  ].join("\n");

describe("secret inputs in the plan", () => {
  it("get a digest per path: equal values equal digests, a change a new digest, no value shown", () => {
    const a = secretDigests("r", { env: { A: secret("one") }, b: secret("two") });
    expect(Object.keys(a)).toEqual(["b", "env.A"]);
    expect(secretDigests("r", { env: { A: secret("one") } })["env.A"]).toBe(a["env.A"]);
    expect(secretDigests("r", { env: { A: secret("uno") } })["env.A"]).not.toBe(a["env.A"]);
    // Bound to where the value sits: one secret in two places is not linkable.
    expect(secretDigests("other", { env: { A: secret("one") } })["env.A"]).not.toBe(a["env.A"]);
    expect(JSON.stringify(a)).not.toMatch(/one|two/);
  });

  it("show a machine config as its fields, key material replaced by digests", () => {
    const view = machineConfigView(config("abc.0123456789abcdef", "general"))!;
    expect(Object.keys(view)).toEqual(["v1alpha1", "HostnameConfig"]);
    const text = JSON.stringify(view);
    for (const material of [
      "abc.0123456789abcdef",
      "LS0tLS1CRUdJTiBFQyBQUklWQVRF",
      "3x4mpl3cluster1d",
      "c2VjcmV0c2VjcmV0",
      "LS0tLS1CRUdJTiBDRVJU",
    ]) {
      expect(text).not.toContain(material);
    }
    expect(view["v1alpha1"]).toMatchObject({
      machine: {
        type: "worker",
        nodeLabels: { pool: "general" },
        token: expect.stringMatching(/^\[redacted [0-9a-f]{16}\]$/),
      },
      cluster: {
        id: expect.stringMatching(/^\[redacted /),
        secret: expect.stringMatching(/^\[redacted /),
      },
    });
    expect((view["v1alpha1"] as { machine: { ca: { crt: string } } }).machine.ca.crt).toMatch(
      /^\[certificate [0-9a-f]{16}\]$/,
    );
  });

  it("are viewed only when they are machine configs", () => {
    expect(secretViews({ a: secret("just a token"), b: secret(config("t", "gpu")) })).toEqual({
      b: expect.objectContaining({ v1alpha1: expect.any(Object) }),
    });
    expect(machineConfigView("not: [yaml")).toBeUndefined();
  });
});
