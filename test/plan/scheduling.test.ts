import { describe, expect, it } from "vitest";
import {
  cpuMillis,
  memoryMiB,
  misfit,
  nodes,
  pods,
  schedulingFindings,
  tolerates,
  type SchedNode,
  type SchedPod,
} from "../../tools/plan/scheduling";
import { SHIPPED_STACKS, planOf } from "../helpers/plans";

const node = (extra: Partial<SchedNode> = {}): SchedNode => ({
  name: "n",
  controlPlane: false,
  labels: {},
  taints: [],
  cpu: 3950,
  memory: 7708,
  gpus: 0,
  ...extra,
});
const pod = (extra: Partial<SchedPod> = {}): SchedPod => ({
  workload: "apps/a",
  cpu: 500,
  memory: 512,
  gpus: 0,
  nodeSelector: {},
  affinity: [],
  tolerations: [],
  minReplicas: 1,
  maxReplicas: 1,
  daemon: false,
  ...extra,
});

describe("the scheduler's rules", () => {
  it("quantities", () => {
    expect(cpuMillis("250m")).toBe(250);
    expect(cpuMillis("2")).toBe(2000);
    expect(memoryMiB("512Mi")).toBe(512);
    expect(memoryMiB("2Gi")).toBe(2048);
    expect(memoryMiB("24576Mi")).toBe(24576);
  });

  it("taints and tolerations", () => {
    const gpu = { key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" };
    expect(tolerates({ key: "nvidia.com/gpu", operator: "Exists" }, gpu)).toBe(true);
    expect(
      tolerates(
        { key: "nvidia.com/gpu", operator: "Equal", value: "present", effect: "NoSchedule" },
        gpu,
      ),
    ).toBe(true);
    expect(tolerates({ key: "nvidia.com/gpu", operator: "Equal", value: "absent" }, gpu)).toBe(
      false,
    );
    expect(tolerates({ operator: "Exists" }, gpu)).toBe(true);
    expect(tolerates({ key: "nvidia.com/gpu", operator: "Exists", effect: "NoExecute" }, gpu)).toBe(
      false,
    );
    expect(misfit(pod(), node({ taints: [gpu] }))).toBe("taint nvidia.com/gpu");
    expect(
      misfit(pod(), node({ taints: [{ ...gpu, effect: "PreferNoSchedule" }] })),
    ).toBeUndefined();
  });

  it("selectors, affinity and resources", () => {
    expect(misfit(pod({ nodeSelector: { gpu: "true" } }), node())).toBe("node selector");
    expect(
      misfit(
        pod({ affinity: [[{ key: "zone", operator: "In", values: ["a"] }]] }),
        node({ labels: { zone: "b" } }),
      ),
    ).toBe("node affinity");
    expect(misfit(pod({ memory: 8000 }), node())).toBe("memory (8000 of 7708 MiB)");
    expect(misfit(pod({ gpus: 1 }), node())).toBe("GPUs (1 of 0)");
  });
});

describe.each(SHIPPED_STACKS)("stack %s: scheduling", (stack) => {
  it("sees every node with Talos's reservations, and every workload", async () => {
    const plan = await planOf(stack);
    const ns = nodes(plan);
    expect(ns.length).toBe(plan.resources.filter((r) => r.type.endsWith("VmLegacy")).length);
    for (const n of ns.filter((x) => x.controlPlane)) {
      expect(n.taints).toContainEqual({
        key: "node-role.kubernetes.io/control-plane",
        effect: "NoSchedule",
      });
    }
    expect(pods(plan).length).toBe(
      plan.resources.filter((r) =>
        ["Deployment", "StatefulSet", "DaemonSet", "Job", "Pod", "ReplicaSet"].some((k) =>
          r.type.endsWith(`:${k}`),
        ),
      ).length,
    );
  });

  it("fits every workload, at its minimum and its maximum replicas", async () => {
    expect(schedulingFindings(await planOf(stack)).map((f) => f.message)).toEqual([]);
  });
});

describe("a workload that cannot be scheduled", () => {
  it("is found: too large for every node, or too many replicas for the room left", async () => {
    const plan = await planOf("prod");
    const grow = (name: string, f: (i: Record<string, any>) => void) => ({
      ...plan,
      resources: plan.resources.map((r) => {
        if (r.name !== name) return r;
        const inputs = structuredClone(r.inputs);
        f(inputs);
        return { ...r, inputs };
      }),
    });
    const huge = grow("app-hello-api-deployment", (i) => {
      i.spec.template.spec.containers[0].resources.requests.memory = "200Gi";
    });
    expect(schedulingFindings(huge).map((f) => f.message)).toContainEqual(
      expect.stringMatching(
        /^apps\/hello-api fits no node \(prod-cp-1: taint node-role.kubernetes.io\/control-plane; .*memory/,
      ),
    );
    const many = grow("app-hello-api-deployment", (i) => {
      i.spec.replicas = 4000;
    });
    expect(schedulingFindings(many).map((f) => f.message)).toContainEqual(
      expect.stringMatching(
        /^at its minimum of 4000 replicas, \d+ of apps\/hello-api's find no room/,
      ),
    );
  });
});
