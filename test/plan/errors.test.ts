import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { hasStackTrace, REPO_ROOT, runPlanCli, type CliResult } from "../helpers/cli";

describe("npm run plan: bad input", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "plan-"));
  const dev = readFileSync(path.join(REPO_ROOT, "stacks", "Pulumi.dev.yaml"), "utf8");
  const withFile = async (name: string, content: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, content);
    return await runPlanCli(["dev", "--config", file]);
  };
  const expectExit1 = (res: CliResult, message: string) => {
    expect(res.code).toBe(1);
    expect(res.stdout).toBe("");
    expect(res.stderr).toBe(message);
    expect(hasStackTrace(res.stderr)).toBe(false);
  };

  it("a wrong type exits 1 naming the key path", async () => {
    expectExit1(
      await withFile("type.yaml", dev.replace("cpuCores: 12", "cpuCores: twelve")),
      "error: invalid stack configuration (1 problem):\n" +
        '  - homebrew-dev:proxmox.hosts[0].cpuCores: expected a number (got "twelve")\n',
    );
  });

  it("a missing required key exits 1 naming the key path", async () => {
    expectExit1(
      await withFile("missing.yaml", dev.replace(/ {4}talosVersion: .*\n/, "")),
      "error: invalid stack configuration (1 problem):\n" +
        "  - homebrew-dev:cluster.talosVersion: required key is missing (expected a string)\n",
    );
  });

  it("an out-of-range number exits 1 naming the key path", async () => {
    expectExit1(
      await withFile("range.yaml", dev.replace("vlanId: 30", "vlanId: 9000")),
      "error: invalid stack configuration (1 problem):\n" +
        "  - homebrew-dev:proxmox.vlanId: expected a number <= 4094 (got 9000)\n",
    );
  });

  it("a malformed IP exits 1 naming the key path", async () => {
    expectExit1(
      await withFile("ip.yaml", dev.replace("ip: 10.30.0.21", "ip: 10.30.0.256")),
      "error: invalid stack configuration (1 problem):\n" +
        '  - homebrew-dev:cluster.workerPools[0].nodes[0].ip: expected an IPv4 address such as 10.0.0.11 (got "10.30.0.256")\n',
    );
  });

  it("a file that is not YAML exits 1 with the parser's position", async () => {
    const res = await withFile("broken.yaml", "config:\n  homebrew-dev:cluster: [a,\n  b: : c\n");
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(
      /^error: .*broken\.yaml: not valid YAML:\n {2}- .+ at line \d+, column \d+/,
    );
    expect(hasStackTrace(res.stderr)).toBe(false);
  });

  it("a YAML file that is not a stack file exits 1", async () => {
    const res = await withFile("scalar.yaml", "just some text\n");
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(
      /scalar\.yaml: expected a mapping with a "config" key at the top level\n$/,
    );
  });

  it("an unknown top-level key exits 1", async () => {
    const res = await withFile("top.yaml", `${dev}\nconfg: {}\n`);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/top\.yaml: unknown top-level key "confg"/);
  });

  it("a structured key given as text exits 1 naming the key", async () => {
    expectExit1(
      await withFile(
        "text.yaml",
        dev.replace(/ {2}homebrew-dev:platform:\n(?: {4}.*\n)+/, "  homebrew-dev:platform: lots\n"),
      ),
      "error: invalid stack configuration (1 problem):\n" +
        '  - homebrew-dev:platform: expected an object (got "lots")\n',
    );
  });

  it("an empty file exits 1 listing the missing sections", async () => {
    expectExit1(
      await withFile("empty.yaml", ""),
      "error: invalid stack configuration (3 problems):\n" +
        '  - homebrew-dev:environment: required key is missing (expected one of "dev", "staging", "prod")\n' +
        "  - homebrew-dev:proxmox: required key is missing (expected an object)\n" +
        "  - homebrew-dev:cluster: required key is missing (expected an object)\n",
    );
  });

  it("an unknown stack exits 1 listing the stacks", async () => {
    expectExit1(
      await runPlanCli(["qa"]),
      "error: no stack file stacks/Pulumi.qa.yaml (stacks: dev, prod, staging)\n",
    );
  });

  it("an unknown option exits 1 with the usage", async () => {
    const res = await runPlanCli(["dev", "--jsn"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^error: Unknown option '--jsn'/);
    expect(res.stderr).toContain("usage: npm run plan -- <stack>");
  });
});
