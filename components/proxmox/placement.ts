import { createHash } from "node:crypto";

/**
 * Which Proxmox VE host runs which cluster VM: a pure, deterministic planner.
 *
 * The plan decides the `node` of every VM resource, and moving a running VM to another host means
 * replacing it (a Talos node loses its disk, a control plane leaves etcd). So the planner is built
 * around one promise, stability: a day-2 change (add a worker, remove a worker, add a control
 * plane) never moves a VM that is not itself being changed.
 *
 * How a plan is made, in this order:
 *
 * 1. Kept: every node whose `previous` host is still valid (the host exists, it is the node's pin
 *    if it has one, it is in its `allowedHosts`, and it still has room, also for control-plane
 *    anti-affinity) stays there. Control planes first, then workers, each in input order; a node
 *    that no longer fits joins the next steps.
 * 2. Pinned: nodes with a `pin`, on their pinned host (control planes first, then input order).
 *    They come before free nodes so that a free node cannot take the room a pin needs.
 * 3. Free: control planes, then workers, each in input order, on the best feasible host.
 *
 * Each step places one node at a time and never revisits a decision. Because the order depends
 * only on a node's own fields and its position, a request appended at the end is decided after
 * every earlier one, and cannot change them. Without `previous`, that holds for appended
 * unpinned workers; with `previous` set to the last plan, it holds for any addition, and removing
 * a node leaves every other node where it was.
 *
 * Best feasible host, the choice rule: rendezvous hashing. Each node ranks the hosts by a hash of
 * its own name and the host's name, and takes the best-ranked host that is feasible (capacity,
 * control-plane anti-affinity, pin, allowed hosts). A node's ranking depends on nothing else, so
 * adding or removing another node can change its host only when capacity was binding for it (its
 * preferred host was full and becomes free, or the reverse). With room to spare, adding or
 * removing a worker anywhere in the list moves no other VM, even without `previous`. The host
 * list order does not matter: permuting `hosts` gives the same plan. Spread is statistical
 * rather than exact; capacity still bounds every host.
 */

/** The role of a VM in the cluster; control planes must run on distinct hosts (etcd quorum). */
export const PlacementRole = { controlPlane: "controlplane", worker: "worker" } as const;
export type PlacementRole = (typeof PlacementRole)[keyof typeof PlacementRole];

/** One Proxmox VE host and the capacity it offers to cluster VMs. */
export interface PlacementHost {
  /** Proxmox node name exactly as the cluster knows it (e.g. `pve1`); unique. */
  readonly name: string;
  /** Physical cores offered to VMs; times `cpuOvercommit` gives the host's vCPU budget. */
  readonly cpuCores: number;
  /** Memory offered to VMs, in MiB, before `memoryReserveMiB` is taken off. */
  readonly memoryMiB: number;
  /** GPUs that can be passed through; a passed-through GPU belongs to exactly one VM. */
  readonly gpus: number;
}

/** One VM to place. */
export interface PlacementRequest {
  /** Node name: the stable identity of the VM and the key of the plan; unique. */
  readonly name: string;
  readonly role: PlacementRole;
  /** vCPUs of the VM. */
  readonly cpuCores: number;
  /** Memory of the VM in MiB (no ballooning under Talos, so all of it is committed). */
  readonly memoryMiB: number;
  /** GPUs passed through to the VM; 0 for none. */
  readonly gpus: number;
  /**
   * Run on exactly this host. Honoured or the plan fails: it is never silently dropped.
   * @default - chosen by the choice rule (rendezvous hashing)
   */
  readonly pin?: string;
  /**
   * Only these hosts may run the VM (a GPU pool on the GPU hosts, for example).
   * @default - every host
   */
  readonly allowedHosts?: readonly string[];
}

export interface PlacementOptions {
  /**
   * vCPUs a host may hand out per physical core; the budget is `floor(cpuCores × cpuOvercommit)`
   * (rounded down so that `3 × 1.1` does not become 3.3000000000000003 vCPUs).
   * @default 1
   */
  readonly cpuOvercommit?: number;
  /**
   * Memory in MiB kept free on every host for Proxmox itself (ZFS ARC, pveproxy, corosync).
   * @default 0
   */
  readonly memoryReserveMiB?: number;
  /**
   * Node name to host name from an earlier plan (usually the last deployed one). A node keeps its
   * previous host while that host is still valid for it; entries of unknown nodes or hosts are
   * ignored, so a removed host or node needs no clean-up here.
   * @default - no earlier plan: every node is placed afresh
   */
  readonly previous?: Readonly<Record<string, string>>;
}

/**
 * The input is invalid or the VMs do not fit. `problems` holds every problem found, one line
 * each, so a user fixes them in one round instead of one per `pulumi preview`.
 */
/** Why a request did not fit: the resources it is short of, or a control-plane host. */
export type MisfitReason = "vCPU" | "MiB memory" | "GPU" | "controlPlaneHost" | "combined";

/** One node that did not fit: its index in the requests, and why. */
export interface Misfit {
  readonly index: number;
  readonly reasons: readonly MisfitReason[];
  readonly message: string;
}

export class PlacementError extends Error {
  constructor(
    public readonly problems: readonly string[],
    /** The nodes that did not fit; empty when the input itself was invalid. */
    public readonly misfits: readonly Misfit[] = [],
  ) {
    super(
      `cannot place the VMs (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "PlacementError";
  }
}

/** Code-unit order: the same on every machine, unlike `localeCompare`. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "number") return String(value); // JSON.stringify(NaN) would say null
  if (Array.isArray(value)) return `a list of ${value.length}`;
  return JSON.stringify(value) ?? String(value);
}

function isPositiveInteger(value: unknown): boolean {
  return typeof value === "number" && Number.isInteger(value) && value > 0;
}

function isNonNegativeInteger(value: unknown): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

function roleLabel(role: PlacementRole): string {
  switch (role) {
    case PlacementRole.controlPlane:
      return "control plane";
    case PlacementRole.worker:
      return "worker";
    default: {
      const unknown: never = role;
      return String(unknown);
    }
  }
}

function listNames(names: Iterable<string>): string {
  return [...names].sort(compareNames).join(", ");
}

/**
 * Checks the planner's input and throws one {@link PlacementError} listing every problem: sizes
 * are positive integers (GPUs may be 0), node and host names are unique, every `pin` and
 * `allowedHosts` entry names a known host, a pin is one of the node's `allowedHosts`, the options
 * are in range, and there are at least as many hosts as control planes.
 */
export function validatePlacementInput(
  hosts: readonly PlacementHost[],
  requests: readonly PlacementRequest[],
  options: PlacementOptions = {},
): void {
  const problems: string[] = [];
  const hostNames = new Set<string>();
  const duplicateHosts = new Set<string>();

  if (hosts.length === 0) problems.push("hosts: at least one host is required");
  hosts.forEach((host, i) => {
    const validName = typeof host.name === "string" && host.name.length > 0;
    if (!validName) {
      problems.push(
        `hosts[${i}]: name must be a non-empty string (got ${describeValue(host.name)})`,
      );
    } else if (hostNames.has(host.name)) {
      duplicateHosts.add(host.name);
    } else {
      hostNames.add(host.name);
    }
    const subject = validName ? `host "${host.name}"` : `hosts[${i}]`;
    for (const field of ["cpuCores", "memoryMiB"] as const) {
      if (!isPositiveInteger(host[field])) {
        problems.push(
          `${subject}: ${field} must be a positive integer (got ${describeValue(host[field])})`,
        );
      }
    }
    if (!isNonNegativeInteger(host.gpus)) {
      problems.push(
        `${subject}: gpus must be a non-negative integer (got ${describeValue(host.gpus)})`,
      );
    }
  });
  for (const name of duplicateHosts) problems.push(`host "${name}" is listed more than once`);

  const knownHosts = `(hosts: ${listNames(hostNames)})`;
  const nodeNames = new Set<string>();
  const duplicateNodes = new Set<string>();
  let controlPlanes = 0;
  requests.forEach((request, i) => {
    const validName = typeof request.name === "string" && request.name.length > 0;
    if (!validName) {
      problems.push(
        `requests[${i}]: name must be a non-empty string (got ${describeValue(request.name)})`,
      );
    } else if (nodeNames.has(request.name)) {
      duplicateNodes.add(request.name);
    } else {
      nodeNames.add(request.name);
    }
    const subject = validName ? `node "${request.name}"` : `requests[${i}]`;
    if (request.role === PlacementRole.controlPlane) {
      controlPlanes++;
    } else if (request.role !== PlacementRole.worker) {
      problems.push(
        `${subject}: role must be "controlplane" or "worker" (got ${describeValue(request.role)})`,
      );
    }
    for (const field of ["cpuCores", "memoryMiB"] as const) {
      if (!isPositiveInteger(request[field])) {
        problems.push(
          `${subject}: ${field} must be a positive integer (got ${describeValue(request[field])})`,
        );
      }
    }
    if (!isNonNegativeInteger(request.gpus)) {
      problems.push(
        `${subject}: gpus must be a non-negative integer (got ${describeValue(request.gpus)})`,
      );
    }

    const { pin, allowedHosts } = request;
    if (pin !== undefined) {
      if (typeof pin !== "string" || !hostNames.has(pin)) {
        problems.push(`${subject}: pin ${describeValue(pin)} is not a known host ${knownHosts}`);
      }
    }
    if (allowedHosts !== undefined) {
      if (!Array.isArray(allowedHosts) || allowedHosts.length === 0) {
        problems.push(`${subject}: allowedHosts must list at least one host`);
      } else {
        for (const allowed of allowedHosts) {
          if (typeof allowed !== "string" || !hostNames.has(allowed)) {
            problems.push(
              `${subject}: allowedHosts entry ${describeValue(allowed)} is not a known host ${knownHosts}`,
            );
          }
        }
        if (typeof pin === "string" && hostNames.has(pin) && !allowedHosts.includes(pin)) {
          problems.push(
            `${subject}: pin "${pin}" is not one of its allowedHosts (${listNames(allowedHosts)})`,
          );
        }
      }
    }
  });
  for (const name of duplicateNodes) problems.push(`node "${name}" is listed more than once`);

  const { cpuOvercommit, memoryReserveMiB, previous } = options;
  if (
    cpuOvercommit !== undefined &&
    !(typeof cpuOvercommit === "number" && Number.isFinite(cpuOvercommit) && cpuOvercommit > 0)
  ) {
    problems.push(
      `options: cpuOvercommit must be a finite number greater than 0 (got ${describeValue(cpuOvercommit)})`,
    );
  }
  if (memoryReserveMiB !== undefined && !isNonNegativeInteger(memoryReserveMiB)) {
    problems.push(
      `options: memoryReserveMiB must be a non-negative integer (got ${describeValue(memoryReserveMiB)})`,
    );
  }
  if (previous !== undefined && (typeof previous !== "object" || previous === null)) {
    problems.push(
      `options: previous must map node names to host names (got ${describeValue(previous)})`,
    );
  }

  // Checked up front because no amount of searching helps, and it is the likeliest mistake in a
  // small lab (three control planes on two hosts).
  if (hostNames.size > 0 && controlPlanes > hostNames.size) {
    problems.push(
      `${controlPlanes} control planes need ${controlPlanes} distinct hosts, but there are only ${hostNames.size} ${knownHosts}`,
    );
  }

  if (problems.length > 0) throw new PlacementError(problems);
}

/** Free capacity of one host while a plan is being made. */
interface HostState {
  readonly name: string;
  freeCpu: number;
  freeMemoryMiB: number;
  freeGpus: number;
  /** The control plane on this host, if any; anti-affinity allows at most one. */
  controlPlane: string | undefined;
  readonly vms: Record<PlacementRole, number>;
}

interface Item {
  readonly request: PlacementRequest;
  readonly index: number;
}

function fitsResources(state: HostState, request: PlacementRequest): boolean {
  return (
    request.cpuCores <= state.freeCpu &&
    request.memoryMiB <= state.freeMemoryMiB &&
    request.gpus <= state.freeGpus
  );
}

function allowsRole(state: HostState, request: PlacementRequest): boolean {
  return request.role !== PlacementRole.controlPlane || state.controlPlane === undefined;
}

function assign(state: HostState, request: PlacementRequest): void {
  state.freeCpu -= request.cpuCores;
  state.freeMemoryMiB -= request.memoryMiB;
  state.freeGpus -= request.gpus;
  state.vms[request.role]++;
  if (request.role === PlacementRole.controlPlane) state.controlPlane = request.name;
}

/**
 * Rendezvous (highest-random-weight) score of a host for a node: a hash of the two names. It
 * depends on nothing else, so another node's arrival or removal cannot change a node's
 * preference order; it can only make a preferred host feasible or not.
 */
export function rendezvousScore(node: string, host: string): string {
  return createHash("sha256").update(`${node}\0${host}`).digest("hex").slice(0, 16);
}

/**
 * The preferred host for a node: the highest rendezvous score, then the lowest name. Each host is
 * scored once (a linear scan, not a sort that would hash every comparison).
 */
function preferredHost(
  hosts: readonly HostState[],
  request: PlacementRequest,
): HostState | undefined {
  let best: HostState | undefined;
  let bestScore = "";
  for (const host of hosts) {
    const score = rendezvousScore(request.name, host.name);
    if (
      best === undefined ||
      score > bestScore ||
      (score === bestScore && compareNames(host.name, best.name) < 0)
    ) {
      best = host;
      bestScore = score;
    }
  }
  return best;
}

const resources = [
  { need: (r: PlacementRequest) => r.cpuCores, free: (s: HostState) => s.freeCpu, unit: "vCPU" },
  {
    need: (r: PlacementRequest) => r.memoryMiB,
    free: (s: HostState) => s.freeMemoryMiB,
    unit: "MiB memory",
  },
  { need: (r: PlacementRequest) => r.gpus, free: (s: HostState) => s.freeGpus, unit: "GPU" },
] as const;

/** Why no candidate host takes the request, naming the short resource and the best offer. */
function explainMisfit(
  request: PlacementRequest,
  candidates: readonly HostState[],
): { message: string; reasons: MisfitReason[] } {
  const sorted = [...candidates].sort((a, b) => compareNames(a.name, b.name));
  let pool = sorted;
  if (request.role === PlacementRole.controlPlane) {
    pool = sorted.filter((s) => s.controlPlane === undefined);
    if (pool.length === 0) {
      const occupied = sorted.map((s) => `${s.name} (${s.controlPlane ?? ""})`).join(", ");
      return {
        message: `control plane "${request.name}" needs a host without another control plane; hosts: ${occupied}`,
        reasons: ["controlPlaneHost"],
      };
    }
  }
  const subject = `node "${request.name}" (${roleLabel(request.role)}) does not fit`;
  const short: string[] = [];
  const reasons: MisfitReason[] = [];
  for (const resource of resources) {
    const need = resource.need(request);
    // `pool` is sorted by name and non-empty, so the first maximum is the lowest name.
    const best = pool.reduce((a, b) => (resource.free(b) > resource.free(a) ? b : a));
    if (need > resource.free(best)) {
      reasons.push(resource.unit);
      short.push(
        `needs ${need} ${resource.unit}, most free on an allowed host is ${resource.free(best)} (${best.name})`,
      );
    }
  }
  if (short.length > 0) return { message: `${subject}: ${short.join("; ")}`, reasons };
  // Each resource is available somewhere, just not all on one host.
  const offers = pool
    .map((s) => `${s.name} (${resources.map((res) => `${res.free(s)} ${res.unit}`).join(", ")})`)
    .join(", ");
  return {
    message: `${subject}: no allowed host has ${request.cpuCores} vCPU, ${request.memoryMiB} MiB memory and ${request.gpus} GPU free at once; free: ${offers}`,
    reasons: ["combined"],
  };
}

/**
 * Places every request on a host and returns node name → host name, keys in input order (as far
 * as JavaScript allows: names that are array indices such as `"7"` are always enumerated first).
 * Validates first ({@link validatePlacementInput}); throws one {@link PlacementError} naming every
 * node that does not fit. The plan depends only on the input values, never on the order of
 * `hosts`, of `allowedHosts` or of the keys of `previous`; see the module comment for the rules.
 */
export function placeVms(
  hosts: readonly PlacementHost[],
  requests: readonly PlacementRequest[],
  options: PlacementOptions = {},
): Record<string, string> {
  validatePlacementInput(hosts, requests, options);
  const cpuOvercommit = options.cpuOvercommit ?? 1;
  const memoryReserveMiB = options.memoryReserveMiB ?? 0;
  const previous = options.previous ?? {};

  const states = new Map<string, HostState>();
  for (const host of hosts) {
    states.set(host.name, {
      name: host.name,
      freeCpu: Math.floor(host.cpuCores * cpuOvercommit),
      freeMemoryMiB: Math.max(0, host.memoryMiB - memoryReserveMiB),
      freeGpus: host.gpus,
      controlPlane: undefined,
      vms: { controlplane: 0, worker: 0 },
    });
  }
  const candidatesOf = (request: PlacementRequest): HostState[] => {
    const names =
      request.pin !== undefined ? [request.pin] : (request.allowedHosts ?? [...states.keys()]);
    const unique = new Set(names);
    return [...unique].map((name) => states.get(name)).filter((s) => s !== undefined);
  };

  // Control planes before workers: they have the stricter constraint, and placing them first
  // means that adding a worker can never leave a control plane without a host.
  const canonical: Item[] = requests
    .map((request, index) => ({ request, index }))
    .sort(
      (a, b) =>
        Number(a.request.role !== PlacementRole.controlPlane) -
          Number(b.request.role !== PlacementRole.controlPlane) || a.index - b.index,
    );

  const placed = new Map<number, string>();
  const problems: Misfit[] = [];

  const pending: Item[] = [];
  for (const item of canonical) {
    const { request } = item;
    // Own properties only: a node called "constructor" must not find Object's constructor.
    const host = Object.hasOwn(previous, request.name) ? previous[request.name] : undefined;
    const state = typeof host === "string" ? states.get(host) : undefined;
    const valid =
      state !== undefined &&
      candidatesOf(request).includes(state) &&
      allowsRole(state, request) &&
      fitsResources(state, request);
    if (valid) {
      assign(state, request);
      placed.set(item.index, state.name);
    } else {
      pending.push(item);
    }
  }

  const ordered = [
    ...pending.filter((item) => item.request.pin !== undefined),
    ...pending.filter((item) => item.request.pin === undefined),
  ];
  for (const item of ordered) {
    const { request } = item;
    const candidates = candidatesOf(request);
    const feasible = candidates.filter((s) => allowsRole(s, request) && fitsResources(s, request));
    const best = preferredHost(feasible, request);
    if (best === undefined) {
      // Not placed, so it takes no room: later nodes are judged on the room really left, and
      // one error names every node that does not fit, not just the first.
      problems.push({ index: item.index, ...explainMisfit(request, candidates) });
      continue;
    }
    assign(best, request);
    placed.set(item.index, best.name);
  }

  if (problems.length > 0) {
    const sorted = problems.sort((a, b) => a.index - b.index);
    throw new PlacementError(
      sorted.map((p) => p.message),
      sorted,
    );
  }

  const plan: Record<string, string> = {};
  requests.forEach((request, index) => {
    // defineProperty, not assignment: a node named "__proto__" must become a key, not a prototype.
    Object.defineProperty(plan, request.name, {
      value: placed.get(index),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  });
  return plan;
}
