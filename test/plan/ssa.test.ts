import fc from "fast-check";
import { describe, expect, it } from "vitest";
import TABLE from "../../components/catalog/listMapKeys.json";
import { definitionOf, ssaFindings } from "../../tools/plan/ssa";
import type { Plan } from "../../tools/plan/render";
import { SHIPPED_STACKS, planOf } from "../helpers/plans";

type Obj = Record<string, any>;
const types = TABLE.types as Record<string, Record<string, { keys?: string[] }>>;

describe("the keyed lists, from the Kubernetes OpenAPI", () => {
  it("is Kubernetes 1.35's, and keys what server-side apply merges by key", () => {
    expect(TABLE.source).toContain("release-1.35");
    expect(types["io.k8s.api.core.v1.PodSpec"]!["containers"]!.keys).toEqual(["name"]);
    expect(types["io.k8s.api.core.v1.PodSpec"]!["volumes"]!.keys).toEqual(["name"]);
    expect(types["io.k8s.api.core.v1.Container"]!["env"]!.keys).toEqual(["name"]);
    expect(types["io.k8s.api.core.v1.Container"]!["ports"]!.keys).toEqual([
      "containerPort",
      "protocol",
    ]);
    expect(types["io.k8s.api.core.v1.Container"]!["volumeMounts"]!.keys).toEqual(["mountPath"]);
    expect(types["io.k8s.api.core.v1.ServiceSpec"]!["ports"]!.keys).toEqual(["port", "protocol"]);
    // Tolerations are atomic: replaced whole, never merged by key.
    expect(types["io.k8s.api.core.v1.PodSpec"]!["tolerations"]).toBeUndefined();
  });

  it("covers every built-in kind the shipped stacks register", async () => {
    for (const stack of SHIPPED_STACKS) {
      const plan = await planOf(stack);
      const builtIn = [...new Set(plan.resources.map((r) => r.type))].filter((t) =>
        /^kubernetes:(core|apps|batch|policy|autoscaling|[a-z.]+\.k8s\.io)\//.test(t),
      );
      expect(builtIn.length, stack).toBeGreaterThan(5);
      for (const t of builtIn) expect(definitionOf(t), `${stack} ${t}`).toBeDefined();
    }
  });
});

describe.each(SHIPPED_STACKS)("stack %s", (stack) => {
  it("has no keyed list with a duplicate key", async () => {
    expect(ssaFindings(await planOf(stack))).toEqual([]);
  });
});

describe("a duplicate key is a finding", () => {
  const prod = async () => structuredClone(await planOf("prod")) as Plan;
  const server = (p: Plan) => p.resources.find((r) => r.name === "model-qwen-7b-server") as Obj;

  it("an environment variable twice in an init container", async () => {
    const p = await prod();
    const env = server(p).inputs.spec.template.spec.initContainers[0].env as Obj[];
    env.push({ name: env[0]!.name, value: "again" });
    expect(ssaFindings(p).map((f) => f.message)).toEqual([
      `model-qwen-7b-server spec.template.spec.initContainers[0].env[${env.length - 1}] repeats the key name=${JSON.stringify(env[0]!.name)} of spec.template.spec.initContainers[0].env[0]: server-side apply refuses a keyed list with a duplicate key`,
    ]);
  });

  it("a port by number and protocol, and a mount path, in the server container", async () => {
    const p = await prod();
    const c = server(p).inputs.spec.template.spec.containers[0] as Obj;
    c.ports.push({ ...c.ports[0], name: "other" });
    c.volumeMounts.push({ ...c.volumeMounts[0] });
    expect(ssaFindings(p)).toHaveLength(2);
    // Another protocol is another key.
    c.ports[c.ports.length - 1].protocol = "UDP";
    expect(ssaFindings(p)).toHaveLength(1);
  });

  it("finds a duplicate exactly when two items share every key field (against brute force)", () => {
    const item = fc.record({
      containerPort: fc.constantFrom(80, 443, 8080),
      protocol: fc.constantFrom("TCP", "UDP", undefined),
    });
    fc.assert(
      fc.property(fc.array(item, { maxLength: 6 }), (ports) => {
        const plan = {
          resources: [
            {
              type: "kubernetes:core/v1:Pod",
              name: "p",
              inputs: { spec: { containers: [{ name: "c", ports }] } },
            },
          ],
        };
        const dup = ports.some((a, i) =>
          ports.some(
            (b, j) => j > i && a.containerPort === b.containerPort && a.protocol === b.protocol,
          ),
        );
        expect(ssaFindings(plan).length > 0).toBe(dup);
      }),
    );
  });
});
