import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { hasStackTrace, REPO_ROOT, runPlanCli, type CliResult } from "../helpers/cli";
import { planEditedStack } from "../helpers/stacks";

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

  it("a stack that would not come up exits 1 with every finding, the plan still printed", async () => {
    // A 2 GiB worker leaves 1564 MiB allocatable after Talos's reservations: the model server's
    // 4 GiB request fits no node.
    const res = await withFile(
      "low-memory.yaml",
      dev.replace("memoryMiB: 8192", "memoryMiB: 2048"),
    );
    expect(res.code).toBe(1);
    // The gateway's two 1 GiB replicas fit beside each other only with the model gone.
    expect(res.stderr).toBe(
      "error: the stack does not come up: 3 findings\n" +
        "  scheduling: models/qwen-small fits no node (dev-cp-1: taint node-role.kubernetes.io/control-plane; dev-worker-1: memory (4096 of 1564 MiB))\n" +
        "  scheduling: at its minimum of 2 replicas, 1 of models/model-gateway's find no room beside the rest of the stack\n" +
        "  scheduling: at its maximum of 2 replicas, 1 of models/model-gateway's find no room beside the rest of the stack\n",
    );
    expect(hasStackTrace(res.stderr)).toBe(false);
    // The tree is still there to read, with the verdict in it.
    expect(res.stdout).toContain("Comes up: no, 3 findings");
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
    expect(res.stderr).toMatch(/^error: unknown option --jsn \(did you mean --json\?\)\n/);
    expect(res.stderr).toContain("usage: npm run plan -- <stack>");
  });
});

describe("npm run plan: one validation phase, every problem at once with its key path", () => {
  it("a worker that does not fit and a bad record are both reported, each at its own field", async () => {
    const res = await planEditedStack("dev", (doc) => {
      doc.setIn(["config", "homebrew-dev:cluster", "workerPools", 0, "memoryMiB"], 131072);
      doc.setIn(["config", "homebrew-dev:edge", "records", 0, "type"], "A");
      doc.setIn(["config", "homebrew-dev:edge", "records", 0, "content"], "10.0.0.5");
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      "error: invalid stack configuration (2 problems):\n" +
        '  - homebrew-dev:cluster.workerPools[0].memoryMiB: node "dev-worker-1" (worker) does not fit: needs 131072 MiB memory, most free on an allowed host is 61440 (pve-lab)\n' +
        "  - homebrew-dev:edge.records[0].content: 10.0.0.5 is a private (RFC 1918) address; public DNS must not publish it\n",
    );
    expect(hasStackTrace(res.stderr)).toBe(false);
  });

  it("one hostname on two models names the second and where the first is", async () => {
    const res = await planEditedStack("staging", (doc) => {
      doc.setIn(["config", "homebrew-dev:models", 1, "hostname"], "llm.staging.homebrew.example");
      doc.setIn(["config", "homebrew-dev:models", 1, "minReplicas"], 1);
    });
    expect(res.code).toBe(1);
    // smollm runs on Docker Model Runner, which checks no key: a name of its own is refused too.
    expect(res.stderr).toBe(
      "error: invalid stack configuration (2 problems):\n" +
        "  - homebrew-dev:models[1].hostname: hostname llm.staging.homebrew.example is already exposed by models[0].hostname: one public name, one service\n" +
        '  - homebrew-dev:models[1].hostname: model "smollm": docker-model-runner checks no API key, so llm.staging.homebrew.example would serve it to anyone: reach it through the gateway (modelGateway.hostname), which checks the key\n',
    );
  });

  it("a worker label the kubelet may not set is refused at its key, before anything renders", async () => {
    const res = await planEditedStack("dev", (doc) => {
      doc.setIn(["config", "homebrew-dev:cluster", "workerPools", 0, "labels"], {
        "kubernetes.io/role": "worker",
      });
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      "error: invalid stack configuration (1 problem):\n" +
        '  - homebrew-dev:cluster.workerPools[0].labels["kubernetes.io/role"]: got "kubernetes.io/role"; expected a key outside kubernetes.io and k8s.io (workers label themselves with kubelet credentials, which NodeRestriction limits there to node.kubernetes.io/*, kubelet.kubernetes.io/* and a few well-known keys)\n',
    );
    expect(res.stderr).not.toMatch(/serializing/);
  });
});

describe("npm run plan: arguments and files, from wherever it is run", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "plan-args-"));

  it("a mistyped flag exits 1 with the nearest one", async () => {
    const res = await runPlanCli(["prod", "--jsn"]);
    expect(res.code).toBe(1);
    expect(res.stderr.split("\n")[0]).toBe("error: unknown option --jsn (did you mean --json?)");
    expect(hasStackTrace(res.stderr)).toBe(false);
    const far = await runPlanCli(["prod", "--frobnicate"]);
    expect(far.stderr.split("\n")[0]).toBe("error: unknown option --frobnicate");
    const value = await runPlanCli(["prod", "--config"]);
    expect(value.stderr.split("\n")[0]).toMatch(/^error: option --config <value> argument missing/);
  });

  it("a malformed base plan exits 1 saying what is wrong with it, never a stack trace", async () => {
    const cases: [string, string][] = [
      ["not json", "Unexpected token"],
      ["null", "it has no resources list"],
      ['{"resources": {}}', "it has no resources list"],
      ['{"resources": [null]}', "resources[0] has no urn"],
      ['{"resources": [{"urn": "u"}]}', "resources[0].type is not a string"],
      [
        '{"resources": [{"urn": "u", "type": "t", "name": "n", "inputs": []}]}',
        "resources[0].inputs is not an object",
      ],
      [
        '{"resources": [{"urn": "u", "type": "t", "name": "n", "owns": [1]}]}',
        "resources[0].owns is not a list of strings",
      ],
    ];
    for (const [i, [text, why]] of cases.entries()) {
      const file = path.join(dir, `base-${i}.json`);
      writeFileSync(file, text);
      const res = await runPlanCli(["dev", "--diff", file]);
      expect(res.code, text).toBe(1);
      expect(res.stderr, text).toContain(`is not a plan made with --json (`);
      expect(res.stderr, text).toContain(why);
      expect(hasStackTrace(res.stderr), text).toBe(false);
    }
  });

  it("relative --config and --diff paths are taken from the directory npm was run in", async () => {
    const sub = path.join(dir, "work");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(sub, { recursive: true });
    writeFileSync(
      path.join(sub, "dev.yaml"),
      readFileSync(path.join(REPO_ROOT, "stacks", "Pulumi.dev.yaml")),
    );
    // `npm run` starts the command in the project root and names the caller's directory in INIT_CWD.
    const plan = await runPlanCli(["dev", "--config", "dev.yaml", "--json"], { INIT_CWD: sub });
    expect(plan.stderr).toBe("");
    expect(plan.code).toBe(0);
    writeFileSync(path.join(sub, "base.json"), plan.stdout);
    const diff = await runPlanCli(["dev", "--config", "dev.yaml", "--diff", "base.json"], {
      INIT_CWD: sub,
    });
    expect(diff.stderr).toBe("");
    expect(JSON.parse(diff.stdout).counts).toEqual({ create: 0, update: 0, replace: 0, delete: 0 });
  });
});
