import { ENGINES, isGatedRepo } from "../catalog/engines";
import { MODEL_FACTS, vllmMemory } from "../catalog/models";
import { kubernetesSupportProblem } from "../catalog/talos";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import {
  BuildsSchema,
  ClusterSchema,
  EdgeSchema,
  ModelGatewaySchema,
  ModelSchema,
  PlatformSchema,
  ProxmoxSchema,
  SECRET_CONFIG_KEYS,
  StackConfigSchema,
  type StackConfig,
} from "./schema";
import { engineProblems } from "../models/engines";
import { storageProblems } from "./storage";
import { declaredHostnames, duplicateHostnameProblems } from "./hostnames";
import { cidrContains, parseCidr, ipToInt, intToIp } from "./ip";

/** The Pulumi config namespace of every key this program reads. */
export const CONFIG_NAMESPACE = "homebrew-dev";

/**
 * Invalid stack configuration. A `pulumi.RunError`, so the Pulumi CLI prints the message
 * without a stack trace; `problems` holds one line per problem, each starting with its key path.
 */
export class ConfigError extends pulumi.RunError {
  constructor(public readonly problems: readonly string[]) {
    super(
      `invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

type Path = readonly PropertyKey[];

/** `homebrew-dev:cluster.controlPlane.nodes[1].ip` for `["cluster","controlPlane","nodes",1,"ip"]`. */
export function formatPath(path: Path): string {
  const [head, ...rest] = path;
  let out = head === undefined ? CONFIG_NAMESPACE : `${CONFIG_NAMESPACE}:${String(head)}`;
  for (const segment of rest) {
    if (typeof segment === "number") out += `[${segment}]`;
    // A map key that is not a plain name (a label such as `kubernetes.io/role`) is quoted.
    else if (/^[A-Za-z_$][\w$-]*$/.test(String(segment))) out += `.${String(segment)}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

/** A short, single-line rendering of a bad value for an error message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === "object") return "an object";
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function article(type: string): string {
  const name = type === "int" ? "integer" : type;
  return /^[aeiou]/.test(name) ? `an ${name}` : `a ${name}`;
}

function formatIssue(issue: z.core.$ZodIssue): string[] {
  const path = formatPath(issue.path);
  // A credential's value is never echoed, not even when it is wrong.
  const secret = (SECRET_CONFIG_KEYS as readonly unknown[]).includes(issue.path[0]);
  const got = secret
    ? "(the value, a secret, is not shown)"
    : `(got ${describeValue(issue.input)})`;
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) {
        return [`${path}: required key is missing (expected ${article(issue.expected)})`];
      }
      return [`${path}: expected ${article(issue.expected)} ${got}`];
    case "unrecognized_keys":
      return issue.keys.map(
        (k) => `${formatPath([...issue.path, k])}: unknown key (see docs/config-reference.md)`,
      );
    case "too_small":
    case "too_big": {
      const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
      const cmp =
        issue.code === "too_small"
          ? issue.inclusive === false
            ? ">"
            : ">="
          : issue.inclusive === false
            ? "<"
            : "<=";
      if (issue.origin === "array") {
        return [
          `${path}: expected ${issue.code === "too_small" ? "at least" : "at most"} ${String(bound)} item${bound === 1 ? "" : "s"} ${got}`,
        ];
      }
      if (issue.origin === "string") {
        return [`${path}: expected a length ${cmp} ${String(bound)} ${got}`];
      }
      return [`${path}: expected a number ${cmp} ${String(bound)} ${got}`];
    }
    case "invalid_value": {
      const allowed = `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
      if (issue.input === undefined) {
        return [`${path}: required key is missing (expected ${allowed})`];
      }
      return [`${path}: expected ${allowed} ${got}`];
    }
    case "invalid_union":
      return [`${path}: ${issue.message} ${got}`];
    default:
      return [`${path}: ${issue.message} ${got}`];
  }
}

/** One cross-field problem: where and what. */
interface Problem {
  readonly path: Path;
  readonly message: string;
}

/**
 * Rules that span fields: counts, address plan, references between sections. Pure; runs only
 * on sections that passed the schema, so a type error elsewhere does not hide these.
 */
export function crossFieldProblems(
  c: Partial<
    Pick<
      StackConfig,
      | "proxmox"
      | "cluster"
      | "models"
      | "builds"
      | "platform"
      | "buildSecrets"
      | "huggingFaceToken"
      | "modelGateway"
      | "edge"
    >
  >,
): Problem[] {
  const problems: Problem[] = [];
  // A gated model downloads only with a token: without one its pre-pull fails and it never starts.
  c.models?.forEach((m, i) => {
    const repo = m.source.huggingFace;
    if (repo !== undefined && isGatedRepo(repo) && c.huggingFaceToken === undefined) {
      problems.push({
        path: ["models", i, "source", "huggingFace"],
        message: `${repo} is gated on Hugging Face: set a token of an account that accepted its license (\`pulumi config set --secret homebrew-dev:huggingFaceToken <token>\`)`,
      });
    }
  });
  const { proxmox } = c;
  // Host references are checked only when the host list itself is valid.
  const hostNames = new Map<string, number>();
  proxmox?.hosts.forEach((h, i) => {
    const first = hostNames.get(h.name);
    if (first !== undefined) {
      problems.push({
        path: ["proxmox", "hosts", i, "name"],
        message: `duplicate host "${h.name}" (also proxmox.hosts[${first}])`,
      });
    } else hostNames.set(h.name, i);
    if (h.gpus > 0 && h.gpuMapping === undefined) {
      problems.push({
        path: ["proxmox", "hosts", i, "gpuMapping"],
        message: `required when gpus > 0 (host "${h.name}" has ${h.gpus})`,
      });
    }
  });

  // A shared datastore no host uses is a typo: images would be downloaded per host after all.
  proxmox?.sharedDatastores.forEach((d, i) => {
    const used = proxmox.hosts.some((h) =>
      [h.imageDatastore, h.diskDatastore, h.snippetDatastore].includes(d),
    );
    if (!used) {
      problems.push({
        path: ["proxmox", "sharedDatastores", i],
        message: `no host uses a datastore "${d}" (hosts use ${[...new Set(proxmox.hosts.flatMap((h) => [h.imageDatastore, h.diskDatastore, h.snippetDatastore]))].sort().join(", ")})`,
      });
    }
  });

  if (c.cluster !== undefined) problems.push(...clusterProblems(c.cluster, proxmox, hostNames));
  if (proxmox !== undefined && c.platform !== undefined) {
    problems.push(...storageProblems({ proxmox, platform: c.platform }));
  }
  if (c.models !== undefined && c.cluster !== undefined) {
    problems.push(...modelProblems(c.models, c.cluster));
  }
  if (c.models !== undefined) {
    problems.push(
      ...duplicateHostnameProblems(
        declaredHostnames({
          models: c.models,
          ...(c.modelGateway !== undefined ? { modelGateway: c.modelGateway } : {}),
          ...(c.platform !== undefined ? { platform: c.platform } : {}),
          ...(c.builds !== undefined ? { builds: c.builds } : {}),
        }),
      ),
    );
  }
  if (c.models !== undefined && c.modelGateway !== undefined) {
    problems.push(...gatewayProblems(c.models, c.modelGateway, c.edge));
  }
  // KEDA's cpu trigger reads the metrics.k8s.io API (pkg/scalers/cpu_memory_scaler.go): without
  // metrics-server a model that scales on CPU never does.
  if (c.models !== undefined && c.platform !== undefined && !c.platform.metricsServer.enabled) {
    c.models.forEach((m, i) => {
      const onCpu =
        ENGINES[m.engine].saturation === undefined || !c.platform!.observability.enabled;
      if (onCpu && m.maxReplicas > Math.max(1, m.minReplicas)) {
        problems.push({
          path: ["models", i, "maxReplicas"],
          message: `model "${m.name}" scales on CPU (${ENGINES[m.engine].saturation === undefined ? `${m.engine} exports no queue metric` : "the stack runs no Prometheus"}), which needs platform.metricsServer: enable it or set maxReplicas to ${Math.max(1, m.minReplicas)}`,
        });
      }
    });
  }
  c.builds?.images.forEach((img, i) => {
    img.secrets.forEach((id, j) => {
      if (c.buildSecrets?.[id] === undefined) {
        problems.push({
          path: ["builds", "images", i, "secrets", j],
          message: `no build secret "${id}" in homebrew-dev:buildSecrets (set it with \`pulumi config set --secret --path 'homebrew-dev:buildSecrets.${id}' <value>\`)`,
        });
      }
    });
  });
  if (c.builds?.images.length && c.builds.registry === undefined) {
    problems.push({
      path: ["builds", "registry"],
      message: `required when builds.images is not empty (images are pushed and cached there)`,
    });
  }
  return problems;
}

function clusterProblems(
  cluster: StackConfig["cluster"],
  proxmox: StackConfig["proxmox"] | undefined,
  hostNames: ReadonlyMap<string, number>,
): Problem[] {
  const problems: Problem[] = [];
  const net = cluster.network;
  const hostList = [...hostNames.keys()].join(", ");
  // The Kubernetes minors the Talos release runs (components/catalog/talos.ts).
  const k8s = kubernetesSupportProblem(cluster.talosVersion, cluster.kubernetesVersion);
  if (k8s !== undefined) problems.push({ path: ["cluster", "kubernetesVersion"], message: k8s });
  // Control-plane count: etcd needs a majority; an even count adds no fault tolerance.
  const cpCount = cluster.controlPlane.nodes.length;
  // A GPU pool declares its GPUs' memory: the model servers are checked against it.
  cluster.workerPools.forEach((p, i) => {
    if (p.gpusPerNode > 0 && p.gpuMemoryGiB === undefined) {
      problems.push({
        path: ["cluster", "workerPools", i, "gpuMemoryGiB"],
        message: `required when gpusPerNode > 0 (pool "${p.name}" has ${p.gpusPerNode}): the memory of each GPU in GiB`,
      });
    }
  });
  // Retired control planes are removed next: the rest must keep a majority of the members.
  const retiring = cluster.controlPlane.nodes.filter((n) => n.retire).length;
  if (retiring > 0 && cpCount - retiring < Math.floor(cpCount / 2) + 1) {
    problems.push({
      path: ["cluster", "controlPlane", "nodes"],
      message: `retiring ${retiring} of ${cpCount} control planes leaves ${cpCount - retiring}, fewer than etcd's quorum of ${Math.floor(cpCount / 2) + 1}`,
    });
  }
  if (cpCount % 2 === 0) {
    problems.push({
      path: ["cluster", "controlPlane", "nodes"],
      message: `expected an odd number of control-plane nodes for etcd quorum (got ${cpCount})`,
    });
  }

  // Address plan.
  const subnet = parseCidr(net.subnet);
  const inSubnet = (ip: string) => cidrContains(subnet, ip);
  const usable = (ip: string) => {
    const n = ipToInt(ip);
    return subnet.prefix >= 31 || (n !== subnet.network && n !== subnet.broadcast);
  };
  const subnetRange = `${intToIp(subnet.network)}/${subnet.prefix}`;
  // The machine-config renderer's rule (parseHostCidr): a /8 to /30 leaves room for the nodes,
  // the gateway and the VIP; found here, not while the configs render.
  if (subnet.prefix < 8 || subnet.prefix > 30) {
    problems.push({
      path: ["cluster", "network", "subnet"],
      message: `expected a prefix from /8 to /30, room for the nodes, the gateway and the VIP (got /${subnet.prefix})`,
    });
  }
  if (!inSubnet(net.gateway)) {
    problems.push({
      path: ["cluster", "network", "gateway"],
      message: `${net.gateway} is outside the subnet ${subnetRange}`,
    });
  }
  if (!inSubnet(net.vip) || !usable(net.vip)) {
    problems.push({
      path: ["cluster", "network", "vip"],
      message: `${net.vip} is not a usable address of the subnet ${subnetRange}`,
    });
  }
  if (net.vip === net.gateway) {
    problems.push({
      path: ["cluster", "network", "vip"],
      message: `${net.vip} is the gateway`,
    });
  }

  const nodes: { path: Path; name: string; ip: string; host?: string | undefined }[] = [
    ...cluster.controlPlane.nodes.map((n, i) => ({
      path: ["cluster", "controlPlane", "nodes", i] as Path,
      ...n,
    })),
    ...cluster.workerPools.flatMap((p, pi) =>
      p.nodes.map((n, i) => ({ path: ["cluster", "workerPools", pi, "nodes", i] as Path, ...n })),
    ),
  ];
  const seenIps = new Map<string, string>();
  const seenNames = new Map<string, string>();
  for (const n of nodes) {
    const where = formatPath(n.path).slice(CONFIG_NAMESPACE.length + 1);
    if (!inSubnet(n.ip) || !usable(n.ip)) {
      problems.push({
        path: [...n.path, "ip"],
        message: `${n.ip} is not a usable address of the subnet ${subnetRange}`,
      });
    }
    if (n.ip === net.gateway) {
      problems.push({ path: [...n.path, "ip"], message: `${n.ip} is the gateway` });
    }
    if (n.ip === net.vip) {
      problems.push({
        path: [...n.path, "ip"],
        message: `${n.ip} is the control-plane VIP; the VIP must not be a node address`,
      });
    }
    const ipOwner = seenIps.get(n.ip);
    if (ipOwner !== undefined) {
      problems.push({
        path: [...n.path, "ip"],
        message: `${n.ip} is already used by ${ipOwner}`,
      });
    } else seenIps.set(n.ip, where);
    const nameOwner = seenNames.get(n.name);
    if (nameOwner !== undefined) {
      problems.push({
        path: [...n.path, "name"],
        message: `node name "${n.name}" is already used by ${nameOwner}`,
      });
    } else seenNames.set(n.name, where);
    if (proxmox !== undefined && n.host !== undefined && !hostNames.has(n.host)) {
      problems.push({
        path: [...n.path, "host"],
        message: `unknown Proxmox host "${n.host}" (hosts: ${hostList})`,
      });
    }
  }

  // Pools.
  const poolNames = new Set<string>();
  cluster.workerPools.forEach((p, pi) => {
    if (poolNames.has(p.name)) {
      problems.push({
        path: ["cluster", "workerPools", pi, "name"],
        message: `duplicate pool name "${p.name}"`,
      });
    }
    poolNames.add(p.name);
    (p.hosts ?? []).forEach((h, hi) => {
      if (proxmox !== undefined && !hostNames.has(h)) {
        problems.push({
          path: ["cluster", "workerPools", pi, "hosts", hi],
          message: `unknown Proxmox host "${h}" (hosts: ${hostList})`,
        });
      }
    });
    p.nodes.forEach((n, ni) => {
      if (n.host !== undefined && p.hosts !== undefined && !p.hosts.includes(n.host)) {
        problems.push({
          path: ["cluster", "workerPools", pi, "nodes", ni, "host"],
          message: `"${n.host}" is not one of the pool's hosts (${p.hosts.join(", ")})`,
        });
      }
    });
    if (p.runtimes.includes("nvidia") && p.gpusPerNode === 0) {
      problems.push({
        path: ["cluster", "workerPools", pi, "runtimes"],
        message: `the nvidia runtime needs gpusPerNode > 0 in pool "${p.name}"`,
      });
    }
    if (proxmox !== undefined && p.gpusPerNode > 0) {
      const eligible = proxmox.hosts.filter(
        (h) => p.hosts === undefined || p.hosts.includes(h.name),
      );
      if (!eligible.some((h) => h.gpus >= p.gpusPerNode)) {
        problems.push({
          path: ["cluster", "workerPools", pi, "gpusPerNode"],
          message: `pool "${p.name}" needs ${p.gpusPerNode} GPU per node but no allowed host has that many`,
        });
      }
    }
    if (new Set(p.runtimes).size !== p.runtimes.length) {
      problems.push({
        path: ["cluster", "workerPools", pi, "runtimes"],
        message: `duplicate runtime in pool "${p.name}"`,
      });
    }
  });

  return problems;
}

/**
 * Cloudflare answers 524 when a proxied origin sends no response headers within 100 seconds, on
 * every plan but Enterprise (developers.cloudflare.com, support: "Error 524: a timeout
 * occurred"; Enterprise can raise `proxy_read_timeout`).
 */
export const CLOUDFLARE_PROXY_READ_TIMEOUT_SECONDS = 100;

/**
 * The gateway's timeouts against the path of a request: a request held for a sleeping model must
 * be answered before the gateway gives up on it, and before Cloudflare does when the gateway is
 * public; a model scaled to zero is woken only by the gateway, so it has no hostname of its own.
 */
function gatewayProblems(
  models: StackConfig["models"],
  gateway: StackConfig["modelGateway"],
  edge: StackConfig["edge"] | undefined,
): Problem[] {
  const problems: Problem[] = [];
  const waking = models.some((m) => m.minReplicas === 0);
  if (waking && gateway.wakeTimeoutSeconds >= gateway.requestTimeoutSeconds) {
    problems.push({
      path: ["modelGateway", "wakeTimeoutSeconds"],
      message: `${gateway.wakeTimeoutSeconds} s is not below modelGateway.requestTimeoutSeconds (${gateway.requestTimeoutSeconds} s): the gateway would give up on a woken model before it answers`,
    });
  }
  if (
    waking &&
    gateway.hostname !== undefined &&
    edge !== undefined &&
    edge.plan !== "enterprise" &&
    gateway.wakeTimeoutSeconds >= CLOUDFLARE_PROXY_READ_TIMEOUT_SECONDS
  ) {
    problems.push({
      path: ["modelGateway", "wakeTimeoutSeconds"],
      message: `${gateway.wakeTimeoutSeconds} s is not below Cloudflare's ${CLOUDFLARE_PROXY_READ_TIMEOUT_SECONDS} s for a proxied answer (plan ${edge.plan}): a client of ${gateway.hostname} would get 524 before the gateway's 504`,
    });
  }
  models.forEach((m, i) => {
    // Ollama and Docker Model Runner check no key: a name of their own would publish them open.
    if (m.hostname !== undefined && ENGINES[m.engine].servesWithoutKey === undefined) {
      problems.push({
        path: ["models", i, "hostname"],
        message: `model "${m.name}": ${m.engine} checks no API key, so ${m.hostname} would serve it to anyone: reach it through the gateway (modelGateway.hostname), which checks the key`,
      });
    }
    if (m.minReplicas === 0 && m.hostname !== undefined) {
      problems.push({
        path: ["models", i, "minReplicas"],
        message: `model "${m.name}" scales to zero, but ${m.hostname} reaches its server without the gateway, which alone wakes it: set minReplicas to 1 or drop models[${i}].hostname`,
      });
    }
  });
  return problems;
}

/** Models against the pools that could run them. */
function modelProblems(models: StackConfig["models"], cluster: StackConfig["cluster"]): Problem[] {
  const problems: Problem[] = [];
  const gpuPools = cluster.workerPools.filter((p) => p.gpusPerNode > 0);
  const offered = new Set(cluster.workerPools.flatMap((p) => p.runtimes));
  const modelNames = new Set<string>();
  models.forEach((m, mi) => {
    if (modelNames.has(m.name)) {
      problems.push({ path: ["models", mi, "name"], message: `duplicate model "${m.name}"` });
    }
    modelNames.add(m.name);
    if (m.minReplicas > m.maxReplicas) {
      problems.push({
        path: ["models", mi, "minReplicas"],
        message: `model "${m.name}": minReplicas ${m.minReplicas} is above maxReplicas ${m.maxReplicas}`,
      });
    }
    for (const message of engineProblems(m)) {
      problems.push({ path: ["models", mi, "engine"], message });
    }
    const runtime = m.runtime ?? (m.gpus > 0 ? "nvidia" : "runc");
    if (m.gpus > 0 && runtime !== "nvidia") {
      problems.push({
        path: ["models", mi, "runtime"],
        message: `model "${m.name}" uses GPUs and needs the nvidia runtime (got ${runtime})`,
      });
    } else if (
      runtime !== "runc" &&
      !offered.has(runtime) &&
      !(m.gpus > 0 && gpuPools.length === 0)
    ) {
      problems.push({
        path: ["models", mi, m.runtime !== undefined ? "runtime" : "gpus"],
        message: `model "${m.name}" asks for the ${runtime} runtime, but no worker pool offers it (offered: ${[...offered].join(", ") || "none"})`,
      });
    }
    if (m.gpus > 0 && gpuPools.length === 0) {
      problems.push({
        path: ["models", mi, "gpus"],
        message: `model "${m.name}" asks for ${m.gpus} GPU but the stack has no GPU worker pool`,
      });
    } else if (m.gpus > 0 && !gpuPools.some((p) => p.gpusPerNode >= m.gpus)) {
      problems.push({
        path: ["models", mi, "gpus"],
        message: `model "${m.name}" asks for ${m.gpus} GPU per replica but the largest GPU node has ${Math.max(...gpuPools.map((p) => p.gpusPerNode))}`,
      });
    }
    problems.push(...gpuMemoryProblems(m, mi, gpuPools));
  });

  return problems;
}

/**
 * What vLLM refuses to start with (v0.11.0): a context longer than the model's
 * (vllm/config/model.py `_get_and_verify_max_len`: "User-specified max_model_len ... is greater
 * than the derived max_model_len"), and weights plus one full-context sequence of KV cache beyond
 * the share of GPU memory it takes (vllm/v1/core/kv_cache_utils.py
 * `check_enough_kv_cache_memory`), on every GPU pool the server can land on. Models outside
 * components/catalog/models.ts are not checked.
 */
function gpuMemoryProblems(
  m: StackConfig["models"][number],
  mi: number,
  gpuPools: readonly StackConfig["cluster"]["workerPools"][number][],
): Problem[] {
  const repo = m.source.huggingFace;
  const facts = repo !== undefined ? MODEL_FACTS[repo] : undefined;
  if (m.engine !== "vllm" || m.gpus === 0 || facts === undefined) return [];
  if (m.contextLength !== undefined && m.contextLength > facts.maxContext) {
    return [
      {
        path: ["models", mi, "contextLength"],
        message: `model "${m.name}": ${repo} is configured for at most ${facts.maxContext} tokens (got ${m.contextLength}); vLLM refuses a longer max-model-len`,
      },
    ];
  }
  const context = m.contextLength ?? facts.maxContext;
  const fmt = (n: number) => n.toFixed(1);
  return gpuPools
    .filter((p) => p.gpusPerNode >= m.gpus && p.gpuMemoryGiB !== undefined)
    .flatMap((p): Problem[] => {
      const mem = vllmMemory(facts, context, m.gpus, p.gpuMemoryGiB!);
      if (mem.neededGiB <= mem.availableGiB) return [];
      const tooBig = mem.weightsGiB > mem.availableGiB;
      return [
        {
          path: ["models", mi, tooBig || m.contextLength === undefined ? "gpus" : "contextLength"],
          message: tooBig
            ? `model "${m.name}": its weights take ${fmt(mem.weightsGiB)} GiB, more than vLLM's ${fmt(mem.availableGiB)} GiB of ${m.gpus} × ${p.gpuMemoryGiB} GiB GPU in pool "${p.name}"`
            : `model "${m.name}": the weights (${fmt(mem.weightsGiB)} GiB) and one ${context}-token sequence of KV cache need ${fmt(mem.neededGiB)} GiB, more than vLLM's ${fmt(mem.availableGiB)} GiB of ${m.gpus} × ${p.gpuMemoryGiB} GiB GPU in pool "${p.name}"${m.contextLength === undefined ? "; set a shorter contextLength" : ""}`,
        },
      ];
    });
}

/**
 * Validates a raw stack configuration object (top-level keys without the namespace). Returns the
 * typed, defaulted config, or throws one `ConfigError` naming every problem with its key path.
 */
export function parseStackConfig(raw: unknown): StackConfig {
  const result = StackConfigSchema.safeParse(raw, { reportInput: true });
  if (result.success) {
    const problems = crossFieldProblems(result.data);
    if (problems.length > 0) throw new ConfigError(problems.map(formatProblem));
    return result.data;
  }
  // Report the cross-field problems of the sections that did parse too, so a type error in one
  // place does not hide an address clash in another.
  throw new ConfigError([
    ...result.error.issues.flatMap(formatIssue),
    ...partialCrossFieldProblems(raw).map(formatProblem),
  ]);
}

function formatProblem(p: Problem): string {
  return `${formatPath(p.path)}: ${p.message}`;
}

function partialCrossFieldProblems(raw: unknown): Problem[] {
  if (typeof raw !== "object" || raw === null) return [];
  const r = raw as Record<string, unknown>;
  const section = <T>(schema: z.ZodType<T>, value: unknown): T | undefined => {
    const parsed = schema.safeParse(value);
    return parsed.success ? parsed.data : undefined;
  };
  const proxmox = section(ProxmoxSchema, r["proxmox"]);
  const cluster = section(ClusterSchema, r["cluster"]);
  const models = section(z.array(ModelSchema).default([]), r["models"]);
  const builds = section(BuildsSchema.default({ buildOnPreview: false, images: [] }), r["builds"]);
  const platform = section(PlatformSchema, r["platform"]);
  const buildSecrets = section(z.record(z.string(), z.string()).optional(), r["buildSecrets"]);
  const modelGateway = section(
    ModelGatewaySchema.default({ replicas: 2, requestTimeoutSeconds: 600, wakeTimeoutSeconds: 90 }),
    r["modelGateway"],
  );
  const edge = section(EdgeSchema.optional(), r["edge"]);
  return crossFieldProblems({
    ...(modelGateway !== undefined ? { modelGateway } : {}),
    ...(edge !== undefined ? { edge } : {}),
    ...(typeof r["huggingFaceToken"] === "string"
      ? { huggingFaceToken: r["huggingFaceToken"] }
      : {}),
    ...(buildSecrets !== undefined ? { buildSecrets } : {}),
    ...(platform !== undefined ? { platform } : {}),
    ...(proxmox !== undefined ? { proxmox } : {}),
    ...(cluster !== undefined ? { cluster } : {}),
    ...(models !== undefined ? { models } : {}),
    ...(builds !== undefined ? { builds } : {}),
  });
}
