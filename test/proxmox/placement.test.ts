import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  PlacementError,
  placeVms,
  validatePlacementInput,
  type PlacementHost,
  type PlacementOptions,
  type PlacementRequest,
} from "../../components/proxmox/placement";

// ---------------------------------------------------------------------------------------------
// Fixtures and helpers
// ---------------------------------------------------------------------------------------------

const host = (name: string, cpuCores: number, memoryMiB: number, gpus = 0): PlacementHost => ({
  name,
  cpuCores,
  memoryMiB,
  gpus,
});

const cp = (name: string, extra: Partial<PlacementRequest> = {}): PlacementRequest => ({
  name,
  role: "controlplane",
  cpuCores: 4,
  memoryMiB: 8192,
  gpus: 0,
  ...extra,
});

const worker = (name: string, extra: Partial<PlacementRequest> = {}): PlacementRequest => ({
  name,
  role: "worker",
  cpuCores: 4,
  memoryMiB: 16384,
  gpus: 0,
  ...extra,
});

const prodHosts = [host("pve1", 16, 65536), host("pve2", 16, 65536), host("pve3", 16, 65536, 2)];

/** The problems of the PlacementError `run` throws; fails the test on any other outcome. */
function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof PlacementError) return error.problems;
    throw error;
  }
  throw new Error("expected a PlacementError, but nothing was thrown");
}

/** The plan, or undefined when the planner says the input cannot be placed. */
function tryPlace(
  hosts: readonly PlacementHost[],
  requests: readonly PlacementRequest[],
  options?: PlacementOptions,
): Record<string, string> | undefined {
  try {
    return placeVms(hosts, requests, options);
  } catch (error) {
    if (error instanceof PlacementError) return undefined;
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Typical layouts
// ---------------------------------------------------------------------------------------------

describe("placeVms: typical layouts", () => {
  it.each<{
    layout: string;
    hosts: readonly PlacementHost[];
    requests: readonly PlacementRequest[];
    options?: PlacementOptions;
    expected: Record<string, string>;
  }>([
    {
      layout: "dev: one host runs everything",
      hosts: [host("pve1", 8, 32768)],
      requests: [
        cp("cp-1", { cpuCores: 2, memoryMiB: 4096 }),
        worker("w-1", { cpuCores: 3, memoryMiB: 12288 }),
        worker("w-2", { cpuCores: 3, memoryMiB: 12288 }),
      ],
      expected: { "cp-1": "pve1", "w-1": "pve1", "w-2": "pve1" },
    },
    {
      layout: "prod: three hosts, GPU pool restricted to the GPU host by allowedHosts",
      hosts: prodHosts,
      requests: [
        cp("cp-1"),
        cp("cp-2"),
        cp("cp-3"),
        worker("w-1", { allowedHosts: ["pve1", "pve2"] }),
        worker("w-2", { allowedHosts: ["pve1", "pve2"] }),
        worker("w-3", { allowedHosts: ["pve1", "pve2"] }),
        worker("gpu-1", { cpuCores: 6, gpus: 1, allowedHosts: ["pve3"] }),
        worker("gpu-2", { cpuCores: 6, gpus: 1, allowedHosts: ["pve3"] }),
      ],
      // Control planes one per host; each node takes its best-ranked feasible host.
      expected: {
        "cp-1": "pve1",
        "cp-2": "pve3",
        "cp-3": "pve2",
        "w-1": "pve1",
        "w-2": "pve2",
        "w-3": "pve2",
        "gpu-1": "pve3",
        "gpu-2": "pve3",
      },
    },
    {
      layout: "prod: three hosts, GPU pool pinned to the GPU host",
      hosts: prodHosts,
      requests: [
        cp("cp-1"),
        cp("cp-2"),
        cp("cp-3"),
        worker("w-1"),
        worker("w-2"),
        worker("w-3"),
        worker("gpu-1", { cpuCores: 6, gpus: 1, pin: "pve3" }),
        worker("gpu-2", { cpuCores: 6, gpus: 1, pin: "pve3" }),
      ],
      // Pins are placed before free nodes: the GPU workers fill pve3's CPU with cp-2, which
      // keeps the general workers off the GPU host.
      expected: {
        "cp-1": "pve1",
        "cp-2": "pve3",
        "cp-3": "pve2",
        "w-1": "pve1",
        "w-2": "pve2",
        "w-3": "pve2",
        "gpu-1": "pve3",
        "gpu-2": "pve3",
      },
    },
    {
      layout: "choice: each worker takes its best-ranked host while it has room",
      hosts: [host("pve1", 32, 65536), host("pve2", 32, 32768)],
      requests: [worker("w-1"), worker("w-2"), worker("w-3"), worker("w-4"), worker("w-5")],
      // w-2 to w-5 all rank pve2 first, but it holds two; w-4 and w-5 take their second choice.
      expected: { "w-1": "pve1", "w-2": "pve2", "w-3": "pve2", "w-4": "pve1", "w-5": "pve1" },
    },
    {
      layout: "overcommit and reserve: 2 cores × 2 and 8192 - 4096 MiB hold four small VMs",
      hosts: [host("pve1", 2, 8192)],
      requests: [1, 2, 3, 4].map((i) => worker(`w-${i}`, { cpuCores: 1, memoryMiB: 1024 })),
      options: { cpuOvercommit: 2, memoryReserveMiB: 4096 },
      expected: { "w-1": "pve1", "w-2": "pve1", "w-3": "pve1", "w-4": "pve1" },
    },
  ])("$layout", ({ hosts, requests, options, expected }) => {
    const plan = placeVms(hosts, requests, options);
    expect(plan).toEqual(expected);
    expect(Object.keys(plan)).toEqual(requests.map((r) => r.name));
  });

  it("returns an empty plan for no requests", () => {
    expect(placeVms([host("pve1", 1, 1024)], [])).toEqual({});
  });

  it("pins every @default: cpuOvercommit 1, memoryReserveMiB 0, no previous plan", () => {
    const hosts = [host("pve1", 4, 8192)];
    const exact = [worker("w-1", { cpuCores: 4, memoryMiB: 8192 })];
    expect(placeVms(hosts, exact)).toEqual({ "w-1": "pve1" });
    expect(placeVms(hosts, exact, {})).toEqual(
      placeVms(hosts, exact, { cpuOvercommit: 1, memoryReserveMiB: 0, previous: {} }),
    );
    expect(
      problemsOf(() => placeVms(hosts, [worker("w-1", { cpuCores: 5, memoryMiB: 1 })])),
    ).toEqual([
      'node "w-1" (worker) does not fit: needs 5 vCPU, most free on an allowed host is 4 (pve1)',
    ]);
  });

  it("rounds the overcommitted vCPU budget down", () => {
    // 3 × 1.1 is 3.3000000000000003 in floating point; the budget is 3 vCPUs.
    const hosts = [host("pve1", 3, 8192)];
    const options = { cpuOvercommit: 1.1 };
    expect(placeVms(hosts, [worker("w-1", { cpuCores: 3, memoryMiB: 1024 })], options)).toEqual({
      "w-1": "pve1",
    });
    expect(
      problemsOf(() => placeVms(hosts, [worker("w-1", { cpuCores: 4, memoryMiB: 1024 })], options)),
    ).toEqual([
      'node "w-1" (worker) does not fit: needs 4 vCPU, most free on an allowed host is 3 (pve1)',
    ]);
  });

  it("gives the same plan whatever the order of hosts and allowedHosts", () => {
    const requests = [
      cp("cp-1"),
      worker("w-1", { allowedHosts: ["pve2", "pve1"] }),
      worker("w-2", { allowedHosts: ["pve1", "pve2"] }),
    ];
    const plan = placeVms(prodHosts, requests);
    expect(placeVms([...prodHosts].reverse(), requests)).toEqual(plan);
    expect(plan).toEqual({ "cp-1": "pve1", "w-1": "pve1", "w-2": "pve2" });
  });

  it("keeps names JavaScript treats specially as plain keys", () => {
    const requests = [worker("constructor"), worker("__proto__"), worker("toString")];
    const plan = placeVms([host("pve1", 16, 65536)], requests, { previous: {} });
    expect(Object.keys(plan)).toEqual(["constructor", "__proto__", "toString"]);
    expect(Object.getPrototypeOf(plan)).toBe(Object.prototype);
    expect(Object.values(plan)).toEqual(["pve1", "pve1", "pve1"]);
  });
});

// ---------------------------------------------------------------------------------------------
// previous: stability across day-2 changes
// ---------------------------------------------------------------------------------------------

describe("placeVms: previous plan", () => {
  const hosts = [host("pve1", 16, 65536), host("pve2", 16, 65536)];

  it("keeps later nodes where they were when a node in the middle is removed", () => {
    const requests = [worker("w-1"), worker("w-2"), worker("w-3"), worker("w-4")];
    const first = placeVms(hosts, requests);
    expect(first).toEqual({ "w-1": "pve1", "w-2": "pve2", "w-3": "pve2", "w-4": "pve2" });
    const without = requests.filter((r) => r.name !== "w-2");
    // With room to spare a node's host depends only on its own name: afresh or with the
    // previous plan, the others stay.
    expect(placeVms(hosts, without)).toEqual({ "w-1": "pve1", "w-3": "pve2", "w-4": "pve2" });
    expect(placeVms(hosts, without, { previous: first })).toEqual({
      "w-1": "pve1",
      "w-3": "pve2",
      "w-4": "pve2",
    });
  });

  it("keeps workers where they were when a control plane is added", () => {
    const requests = [cp("cp-1"), worker("w-1"), worker("w-2")];
    const first = placeVms(hosts, requests);
    const second = placeVms(hosts, [...requests, cp("cp-2")], { previous: first });
    expect(second).toEqual({ ...first, "cp-2": "pve2" });
  });

  it("re-places a node whose previous host is gone, no longer allowed, or not its pin", () => {
    const previous = { "w-1": "pve9", "w-2": "pve1", "w-3": "pve1" };
    const plan = placeVms(
      hosts,
      [worker("w-1"), worker("w-2", { allowedHosts: ["pve2"] }), worker("w-3", { pin: "pve2" })],
      { previous },
    );
    expect(plan).toEqual({ "w-1": "pve1", "w-2": "pve2", "w-3": "pve2" });
  });

  it("re-places a node that no longer fits its previous host", () => {
    const plan = placeVms(
      hosts,
      [worker("w-1", { memoryMiB: 32768 }), worker("w-2", { memoryMiB: 40000 })],
      { previous: { "w-1": "pve1", "w-2": "pve1" } },
    );
    expect(plan).toEqual({ "w-1": "pve1", "w-2": "pve2" });
  });

  it("moves the second of two control planes that shared a previous host", () => {
    const plan = placeVms(hosts, [cp("cp-1"), cp("cp-2")], {
      previous: { "cp-1": "pve2", "cp-2": "pve2" },
    });
    expect(plan).toEqual({ "cp-1": "pve2", "cp-2": "pve1" });
  });

  it("ignores entries of unknown nodes and inherited properties", () => {
    const previous = { gone: "pve1", "w-1": "pve2" };
    expect(placeVms(hosts, [worker("w-1"), worker("constructor")], { previous })).toEqual({
      "w-1": "pve2",
      constructor: "pve2",
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Validation: one test per rule, exact messages
// ---------------------------------------------------------------------------------------------

describe("validatePlacementInput", () => {
  const hosts = [host("pve1", 8, 16384), host("pve2", 8, 16384)];
  const bad = <T>(value: unknown): T => value as T;

  it("accepts a valid input", () => {
    expect(() =>
      validatePlacementInput(hosts, [cp("cp-1"), worker("w-1", { pin: "pve2" })], {
        cpuOvercommit: 1.5,
        memoryReserveMiB: 0,
        previous: { "cp-1": "gone" },
      }),
    ).not.toThrow();
  });

  it.each<{
    rule: string;
    hosts: readonly PlacementHost[];
    requests: readonly PlacementRequest[];
    options?: PlacementOptions;
    problems: readonly string[];
  }>([
    {
      rule: "there are no hosts",
      hosts: [],
      requests: [],
      problems: ["hosts: at least one host is required"],
    },
    {
      rule: "a host has no name",
      hosts: [...hosts, host("", 8, 16384)],
      requests: [],
      problems: ['hosts[2]: name must be a non-empty string (got "")'],
    },
    {
      rule: "a host name is listed twice",
      hosts: [...hosts, host("pve1", 4, 4096)],
      requests: [],
      problems: ['host "pve1" is listed more than once'],
    },
    {
      rule: "host cores or memory are not positive integers",
      hosts: [host("pve1", 0, 1.5)],
      requests: [],
      problems: [
        'host "pve1": cpuCores must be a positive integer (got 0)',
        'host "pve1": memoryMiB must be a positive integer (got 1.5)',
      ],
    },
    {
      rule: "host GPUs are negative",
      hosts: [host("pve1", 8, 16384, -1)],
      requests: [],
      problems: ['host "pve1": gpus must be a non-negative integer (got -1)'],
    },
    {
      rule: "a node has no name",
      hosts,
      requests: [worker("")],
      problems: ['requests[0]: name must be a non-empty string (got "")'],
    },
    {
      rule: "a node name is listed twice",
      hosts,
      requests: [worker("w-1"), cp("w-1")],
      problems: ['node "w-1" is listed more than once'],
    },
    {
      rule: "a role is unknown",
      hosts,
      requests: [worker("w-1", { role: bad("master") })],
      problems: ['node "w-1": role must be "controlplane" or "worker" (got "master")'],
    },
    {
      rule: "node cores or memory are not positive integers",
      hosts,
      requests: [worker("w-1", { cpuCores: -2, memoryMiB: Number.NaN })],
      problems: [
        'node "w-1": cpuCores must be a positive integer (got -2)',
        'node "w-1": memoryMiB must be a positive integer (got NaN)',
      ],
    },
    {
      rule: "node GPUs are not a non-negative integer",
      hosts,
      requests: [worker("w-1", { gpus: 0.5 })],
      problems: ['node "w-1": gpus must be a non-negative integer (got 0.5)'],
    },
    {
      rule: "a pin names an unknown host",
      hosts,
      requests: [worker("w-1", { pin: "pve9" })],
      problems: ['node "w-1": pin "pve9" is not a known host (hosts: pve1, pve2)'],
    },
    {
      rule: "allowedHosts is empty",
      hosts,
      requests: [worker("w-1", { allowedHosts: [] })],
      problems: ['node "w-1": allowedHosts must list at least one host'],
    },
    {
      rule: "allowedHosts names an unknown host",
      hosts,
      requests: [worker("w-1", { allowedHosts: ["pve2", "pve7"] })],
      problems: ['node "w-1": allowedHosts entry "pve7" is not a known host (hosts: pve1, pve2)'],
    },
    {
      rule: "a pin is not one of the node's allowedHosts",
      hosts,
      requests: [worker("w-1", { pin: "pve1", allowedHosts: ["pve2"] })],
      problems: ['node "w-1": pin "pve1" is not one of its allowedHosts (pve2)'],
    },
    {
      rule: "cpuOvercommit is not a finite number above 0",
      hosts,
      requests: [],
      options: { cpuOvercommit: 0 },
      problems: ["options: cpuOvercommit must be a finite number greater than 0 (got 0)"],
    },
    {
      rule: "memoryReserveMiB is not a non-negative integer",
      hosts,
      requests: [],
      options: { memoryReserveMiB: -512 },
      problems: ["options: memoryReserveMiB must be a non-negative integer (got -512)"],
    },
    {
      rule: "previous is not an object",
      hosts,
      requests: [],
      options: { previous: bad(null) },
      problems: ["options: previous must map node names to host names (got null)"],
    },
    {
      rule: "there are fewer hosts than control planes",
      hosts,
      requests: [cp("cp-1"), cp("cp-2"), cp("cp-3")],
      problems: [
        "3 control planes need 3 distinct hosts, but there are only 2 (hosts: pve1, pve2)",
      ],
    },
  ])("fails when $rule", ({ hosts: h, requests, options, problems }) => {
    expect(problemsOf(() => validatePlacementInput(h, requests, options))).toEqual(problems);
    // placeVms validates first, with the same result.
    expect(problemsOf(() => placeVms(h, requests, options))).toEqual(problems);
  });

  it("collects every problem and throws once", () => {
    const error = (() => {
      try {
        validatePlacementInput(
          [host("pve1", 0, 4096), host("pve1", 4, 4096)],
          [worker("w-1", { pin: "pve2" }), cp("cp-1"), cp("cp-2")],
          { memoryReserveMiB: 1.5 },
        );
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(PlacementError);
    const placementError = error as PlacementError;
    expect(placementError.name).toBe("PlacementError");
    expect(placementError.problems).toEqual([
      'host "pve1": cpuCores must be a positive integer (got 0)',
      'host "pve1" is listed more than once',
      'node "w-1": pin "pve2" is not a known host (hosts: pve1)',
      "options: memoryReserveMiB must be a non-negative integer (got 1.5)",
      "2 control planes need 2 distinct hosts, but there are only 1 (hosts: pve1)",
    ]);
    expect(placementError.message).toBe(
      [
        "cannot place the VMs (5 problems):",
        ...placementError.problems.map((p) => `  - ${p}`),
      ].join("\n"),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Fit: one test per rule, exact messages
// ---------------------------------------------------------------------------------------------

describe("placeVms: fit", () => {
  it("fails when a node needs more GPUs than an allowed host has free", () => {
    const hosts = [host("pve1", 16, 65536, 0), host("pve2", 16, 65536, 1)];
    expect(problemsOf(() => placeVms(hosts, [worker("gpu-1", { gpus: 2 })]))).toEqual([
      'node "gpu-1" (worker) does not fit: needs 2 GPU, most free on an allowed host is 1 (pve2)',
    ]);
  });

  it("fails when a node needs more memory than is left after the reserve", () => {
    const hosts = [host("pve1", 16, 16384), host("pve2", 16, 20480)];
    expect(
      problemsOf(() =>
        placeVms(hosts, [worker("w-1", { memoryMiB: 20000 })], { memoryReserveMiB: 4096 }),
      ),
    ).toEqual([
      'node "w-1" (worker) does not fit: needs 20000 MiB memory, most free on an allowed host is 16384 (pve2)',
    ]);
  });

  it("fails when a node needs more vCPUs than the overcommitted budget leaves", () => {
    const hosts = [host("pve1", 4, 65536), host("pve2", 4, 65536)];
    expect(
      problemsOf(() =>
        placeVms(hosts, [worker("w-1", { cpuCores: 6 }), worker("w-2", { cpuCores: 7 })], {
          cpuOvercommit: 1.5,
        }),
      ),
    ).toEqual([
      'node "w-2" (worker) does not fit: needs 7 vCPU, most free on an allowed host is 6 (pve2)',
    ]);
  });

  it("fails when every resource is free somewhere, but no allowed host has them all", () => {
    const hosts = [host("pve1", 2, 65536), host("pve2", 16, 4096), host("pve3", 16, 65536)];
    expect(
      problemsOf(() => placeVms(hosts, [worker("w-1", { allowedHosts: ["pve2", "pve1"] })])),
    ).toEqual([
      'node "w-1" (worker) does not fit: no allowed host has 4 vCPU, 16384 MiB memory and 0 GPU free at once; free: pve1 (2 vCPU, 65536 MiB memory, 0 GPU), pve2 (16 vCPU, 4096 MiB memory, 0 GPU)',
    ]);
  });

  it("fails when a control plane has no allowed host without another control plane", () => {
    expect(
      problemsOf(() =>
        placeVms(prodHosts, [
          cp("cp-1", { pin: "pve1" }),
          cp("cp-2", { pin: "pve2" }),
          cp("cp-3", { allowedHosts: ["pve1", "pve2"] }),
        ]),
      ),
    ).toEqual([
      'control plane "cp-3" needs a host without another control plane; hosts: pve1 (cp-1), pve2 (cp-2)',
    ]);
  });

  it("fails when a control plane is pinned to a host that runs another control plane", () => {
    expect(
      problemsOf(() =>
        placeVms(prodHosts, [cp("cp-1", { pin: "pve2" }), cp("cp-2", { pin: "pve2" })]),
      ),
    ).toEqual([
      'control plane "cp-2" needs a host without another control plane; hosts: pve2 (cp-1)',
    ]);
  });

  it("fails when a pin breaks the capacity of its host, even with room elsewhere", () => {
    const hosts = [host("pve1", 16, 65536), host("pve2", 16, 65536, 1)];
    expect(
      problemsOf(() =>
        placeVms(hosts, [
          worker("gpu-1", { gpus: 1, pin: "pve2" }),
          worker("gpu-2", { gpus: 1, pin: "pve2", memoryMiB: 60000 }),
        ]),
      ),
    ).toEqual([
      'node "gpu-2" (worker) does not fit: needs 60000 MiB memory, most free on an allowed host is 49152 (pve2); needs 1 GPU, most free on an allowed host is 0 (pve2)',
    ]);
  });

  it("fails when a control plane does not fit, naming its role", () => {
    expect(
      problemsOf(() => placeVms([host("pve1", 2, 65536)], [cp("cp-1", { cpuCores: 3 })])),
    ).toEqual([
      'node "cp-1" (control plane) does not fit: needs 3 vCPU, most free on an allowed host is 2 (pve1)',
    ]);
  });

  it("names every node that does not fit, in input order, and places the rest without them", () => {
    // w-1 is judged after cp-1 (control planes first) and, not placed, leaves room for w-2.
    const hosts = [host("pve1", 8, 16384)];
    expect(
      problemsOf(() =>
        placeVms(hosts, [
          worker("w-1", { cpuCores: 1, memoryMiB: 32768 }),
          cp("cp-1", { cpuCores: 7 }),
          worker("w-2", { cpuCores: 1, memoryMiB: 1024 }),
          worker("w-3", { gpus: 1, cpuCores: 1, memoryMiB: 1024 }),
        ]),
      ),
    ).toEqual([
      'node "w-1" (worker) does not fit: needs 32768 MiB memory, most free on an allowed host is 8192 (pve1)',
      'node "w-3" (worker) does not fit: needs 1 vCPU, most free on an allowed host is 0 (pve1); needs 1 GPU, most free on an allowed host is 0 (pve1)',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

const hostNamePool = ["pve1", "pve2", "pve3", "pve4", "pve5"] as const;

const hostsArb: fc.Arbitrary<PlacementHost[]> = fc.uniqueArray(
  fc.record({
    name: fc.constantFrom(...hostNamePool),
    cpuCores: fc.integer({ min: 2, max: 32 }),
    memoryMiB: fc.integer({ min: 4096, max: 131072 }),
    gpus: fc.integer({ min: 0, max: 2 }),
  }),
  { minLength: 1, maxLength: hostNamePool.length, selector: (h) => h.name },
);

/** `undefined` three times in four, else a value of `arbitrary`. */
function rarely<T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary, weight: 1 });
}

/** A valid request (names are made unique by the caller); pins and allowedHosts agree. */
function requestArb(
  hostNames: readonly string[],
  { role, pinned = true }: { role?: PlacementRequest["role"]; pinned?: boolean } = {},
) {
  return fc
    .record({
      role: role
        ? fc.constant(role)
        : fc.oneof(
            { arbitrary: fc.constant("worker" as const), weight: 3 },
            { arbitrary: fc.constant("controlplane" as const), weight: 1 },
          ),
      cpuCores: fc.integer({ min: 1, max: 8 }),
      memoryMiB: fc.integer({ min: 512, max: 16384 }),
      gpus: fc.oneof(
        { arbitrary: fc.constant(0), weight: 4 },
        { arbitrary: fc.integer({ min: 1, max: 2 }), weight: 1 },
      ),
      // Mostly free nodes: a pin on every node would leave the spread rule little to decide.
      pin: pinned ? rarely(fc.constantFrom(...hostNames)) : fc.constant(undefined),
      allowedHosts: rarely(fc.shuffledSubarray([...hostNames], { minLength: 1 })),
    })
    .map(({ pin, allowedHosts, ...sizes }) => ({
      ...sizes,
      ...(pin !== undefined ? { pin } : {}),
      ...(allowedHosts !== undefined
        ? {
            allowedHosts:
              pin !== undefined && !allowedHosts.includes(pin)
                ? [...allowedHosts, pin]
                : allowedHosts,
          }
        : {}),
    }));
}

const optionsArb: fc.Arbitrary<PlacementOptions> = fc
  .record({
    cpuOvercommit: fc.option(fc.constantFrom(1, 1.5, 2, 4), { nil: undefined }),
    memoryReserveMiB: fc.option(fc.integer({ min: 0, max: 2048 }), { nil: undefined }),
  })
  .map((o) => ({
    ...(o.cpuOvercommit !== undefined ? { cpuOvercommit: o.cpuOvercommit } : {}),
    ...(o.memoryReserveMiB !== undefined ? { memoryReserveMiB: o.memoryReserveMiB } : {}),
  }));

interface Scenario {
  readonly hosts: readonly PlacementHost[];
  readonly requests: readonly PlacementRequest[];
  readonly options: PlacementOptions;
}

const scenarioArb: fc.Arbitrary<Scenario> = hostsArb.chain((hosts) =>
  fc.record({
    hosts: fc.constant(hosts),
    requests: fc
      .array(requestArb(hosts.map((h) => h.name)), { maxLength: 10 })
      .map((rs) =>
        rs.map((r, i) => ({ ...r, name: `${r.role === "controlplane" ? "cp" : "w"}-${i}` })),
      ),
    options: optionsArb,
  }),
);

/** A scenario and one more worker, unpinned, to append to it. */
const appendArb = scenarioArb.chain((scenario) =>
  fc.record({
    scenario: fc.constant(scenario),
    extra: requestArb(
      scenario.hosts.map((h) => h.name),
      { role: "worker", pinned: false },
    ).map((r): PlacementRequest => ({ ...r, name: "w-extra" })),
  }),
);

/** The plan without one node. */
function without(plan: Record<string, string>, name: string): Record<string, string> {
  return Object.fromEntries(Object.entries(plan).filter(([node]) => node !== name));
}

function assertValidPlan(scenario: Scenario, plan: Record<string, string>): void {
  const { hosts, requests, options } = scenario;
  // (a) every request placed exactly once, on a known host, keys in input order
  expect(Object.keys(plan)).toEqual(requests.map((r) => r.name));
  const byName = new Map(hosts.map((h) => [h.name, h]));
  for (const request of requests) {
    const chosen = plan[request.name];
    expect(chosen !== undefined && byName.has(chosen)).toBe(true);
    // (d) pins and allowedHosts honoured
    if (request.pin !== undefined) expect(chosen).toBe(request.pin);
    if (request.allowedHosts !== undefined) expect(request.allowedHosts).toContain(chosen);
  }
  for (const h of hosts) {
    const on = requests.filter((r) => plan[r.name] === h.name);
    const sum = (pick: (r: PlacementRequest) => number) => on.reduce((n, r) => n + pick(r), 0);
    // (b) no host over its CPU, memory or GPU capacity
    expect(sum((r) => r.cpuCores)).toBeLessThanOrEqual(
      Math.floor(h.cpuCores * (options.cpuOvercommit ?? 1)),
    );
    expect(sum((r) => r.memoryMiB)).toBeLessThanOrEqual(
      Math.max(0, h.memoryMiB - (options.memoryReserveMiB ?? 0)),
    );
    expect(sum((r) => r.gpus)).toBeLessThanOrEqual(h.gpus);
    // (c) at most one control plane per host
    expect(on.filter((r) => r.role === "controlplane").length).toBeLessThanOrEqual(1);
  }
}

describe("placeVms: properties", () => {
  it("(a) places every request exactly once or throws a PlacementError, nothing else", () => {
    // Deliberately sloppy input: duplicate names, bad sizes, unknown pins, garbage previous.
    const sloppyRequest = fc.record({
      name: fc.constantFrom("cp-1", "w-1", "w-2", "", "constructor", "__proto__"),
      role: fc.constantFrom("controlplane", "worker", "master") as fc.Arbitrary<
        PlacementRequest["role"]
      >,
      cpuCores: fc.oneof(fc.integer({ min: -1, max: 8 }), fc.constantFrom(1.5, Number.NaN)),
      memoryMiB: fc.oneof(fc.integer({ min: 0, max: 40000 }), fc.constant(Infinity)),
      gpus: fc.integer({ min: -1, max: 2 }),
      pin: fc.option(fc.constantFrom(...hostNamePool, "nope"), { freq: 4, nil: undefined }),
      allowedHosts: fc.option(fc.subarray([...hostNamePool, "nope"]), { freq: 4, nil: undefined }),
    });
    const sloppyHosts = fc.array(
      fc.record({
        name: fc.constantFrom(...hostNamePool, ""),
        cpuCores: fc.integer({ min: 0, max: 32 }),
        memoryMiB: fc.integer({ min: 0, max: 65536 }),
        gpus: fc.integer({ min: -1, max: 2 }),
      }),
      { maxLength: 5 },
    );
    const sloppyOptions = fc.record(
      {
        cpuOvercommit: fc.constantFrom(0, 0.5, 1, 2, Number.NaN),
        memoryReserveMiB: fc.integer({ min: -1, max: 70000 }),
        previous: fc.dictionary(
          fc.constantFrom("cp-1", "w-1", "w-2", "constructor", "__proto__", "gone"),
          fc.constantFrom(...hostNamePool, "nope"),
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        sloppyHosts,
        fc.array(sloppyRequest, { maxLength: 8 }),
        sloppyOptions,
        (hosts, requests, options) => {
          let plan: Record<string, string>;
          try {
            plan = placeVms(hosts, requests, options);
          } catch (error) {
            expect(error).toBeInstanceOf(PlacementError);
            expect((error as PlacementError).problems.length).toBeGreaterThan(0);
            return;
          }
          assertValidPlan({ hosts, requests, options }, plan);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("(a)-(d) a plan places every node once, within capacity, control planes apart, pins kept", () => {
    let feasible = 0;
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const plan = tryPlace(scenario.hosts, scenario.requests, scenario.options);
        if (plan === undefined) return;
        feasible++;
        assertValidPlan(scenario, plan);
      }),
      { numRuns: 300 },
    );
    // Guards the generator: the properties above must be checked on real plans.
    expect(feasible).toBeGreaterThan(100);
  });

  it("(e) is deterministic, also over permuted hosts, allowedHosts and previous keys", () => {
    fc.assert(
      fc.property(scenarioArb, fc.infiniteStream(fc.nat()), (scenario, seeds) => {
        const { hosts, requests, options } = scenario;
        const outcome = (
          h: readonly PlacementHost[],
          r: readonly PlacementRequest[],
          o: PlacementOptions,
        ) => {
          try {
            return { ok: true as const, plan: placeVms(h, r, o) };
          } catch (error) {
            if (error instanceof PlacementError) {
              return { ok: false as const, problems: error.problems };
            }
            throw error;
          }
        };
        const first = outcome(hosts, requests, options);
        expect(outcome(hosts, requests, options)).toEqual(first);

        const shuffle = <T>(xs: readonly T[]): T[] => {
          const keys = seeds[Symbol.iterator]();
          return xs
            .map((x) => ({ x, key: keys.next().value as number }))
            .sort((a, b) => a.key - b.key)
            .map(({ x }) => x);
        };
        const permutedRequests = requests.map((r) =>
          r.allowedHosts === undefined ? r : { ...r, allowedHosts: shuffle(r.allowedHosts) },
        );
        expect(outcome(shuffle(hosts), permutedRequests, options)).toEqual(first);

        if (first.ok) {
          const entries = Object.entries(first.plan);
          const forward = Object.fromEntries(entries);
          const backward = Object.fromEntries([...entries].reverse());
          const a = outcome(hosts, requests, { ...options, previous: forward });
          expect(a).toEqual(outcome(hosts, requests, { ...options, previous: backward }));
          // A plan fed back as `previous` is a fixed point.
          expect(a).toEqual(first);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("(f) appending a worker that fits leaves every earlier assignment unchanged", () => {
    let checked = 0;
    fc.assert(
      fc.property(appendArb, ({ scenario, extra }) => {
        const { hosts, requests, options } = scenario;
        const before = tryPlace(hosts, requests, options);
        fc.pre(before !== undefined);
        const after = tryPlace(hosts, [...requests, extra], options);
        if (after === undefined) return;
        checked++;
        expect(without(after, extra.name)).toEqual(before);
      }),
      { numRuns: 300 },
    );
    expect(checked).toBeGreaterThan(100);
  });

  it("(f) with previous set, any addition never moves an existing node", () => {
    const additionArb = scenarioArb.chain((scenario) =>
      fc.record({
        scenario: fc.constant(scenario),
        extra: requestArb(scenario.hosts.map((h) => h.name)).map((r): PlacementRequest => ({
          ...r,
          name: "added",
        })),
      }),
    );
    fc.assert(
      fc.property(additionArb, ({ scenario, extra }) => {
        const { hosts, requests, options } = scenario;
        const before = tryPlace(hosts, requests, options);
        fc.pre(before !== undefined);
        const after = tryPlace(hosts, [...requests, extra], { ...options, previous: before });
        if (after === undefined) return;
        expect(without(after, extra.name)).toEqual(before);
      }),
      { numRuns: 300 },
    );
  });

  it("(f) with previous set, removing one worker leaves every other node unchanged", () => {
    let checked = 0;
    fc.assert(
      fc.property(scenarioArb, fc.nat(), (scenario, pick) => {
        const { hosts, requests, options } = scenario;
        const before = tryPlace(hosts, requests, options);
        fc.pre(before !== undefined);
        const workers = requests.filter((r) => r.role === "worker");
        const removed = workers[pick % Math.max(1, workers.length)];
        fc.pre(removed !== undefined);
        checked++;
        const after = placeVms(
          hosts,
          requests.filter((r) => r !== removed),
          { ...options, previous: before },
        );
        expect(after).toEqual(without(before, removed.name));
      }),
      { numRuns: 300 },
    );
    expect(checked).toBeGreaterThan(100);
  });
});

describe("placeVms: stability without a previous plan", () => {
  // Hosts with room for every request at once: capacity never binds.
  const roomy = ["pve1", "pve2", "pve3", "pve4"].map((n) => host(n, 4096, 16_777_216, 64));
  const workersArb = fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), {
    minLength: 2,
    maxLength: 30,
  });

  it("removing any worker moves no other", () => {
    fc.assert(
      fc.property(workersArb, fc.nat(), (names, k) => {
        const requests = names.map((n) => worker(n));
        const before = placeVms(roomy, requests);
        const gone = names[k % names.length]!;
        const after = placeVms(
          roomy,
          requests.filter((r) => r.name !== gone),
        );
        for (const n of names.filter((x) => x !== gone)) expect(after[n]).toBe(before[n]);
      }),
    );
  });

  it("inserting a worker anywhere moves no other", () => {
    fc.assert(
      fc.property(workersArb, fc.nat(), (names, k) => {
        const [extra, ...rest] = names;
        const requests = rest.map((n) => worker(n));
        const before = placeVms(roomy, requests);
        const at = k % (requests.length + 1);
        const after = placeVms(roomy, [
          ...requests.slice(0, at),
          worker(extra!),
          ...requests.slice(at),
        ]);
        for (const n of rest) expect(after[n]).toBe(before[n]);
      }),
    );
  });
});
