import { describe, expect, it } from "vitest";
import { runPolicies, type HarnessResource } from "../../policies/harness";
import { EXEMPTABLE } from "../../policies/lib/exemptions";
import { allPolicies, enforcementFor, policiesFor } from "../../policies/pack";

/**
 * Each policy: a compliant fixture passes, each checked field broken alone fails with the exact
 * message, and resources with missing fields never make a policy throw.
 */

type Obj = Record<string, any>;
const urn = (type: string, name: string) => `urn:pulumi:test::homebrew-dev::${type}::${name}`;
const resource = (type: string, name: string, inputs: Obj, protect = false): HarnessResource => ({
  urn: urn(type, name),
  type,
  name,
  protect,
  inputs,
});

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const goodContainer = (): Obj => ({
  name: "app",
  image: "ghcr.io/acme/app:1.2.3@sha256:" + "a".repeat(64),
  resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { memory: "128Mi" } },
  readinessProbe: { httpGet: { path: "/ready", port: 8080 } },
  livenessProbe: { httpGet: { path: "/live", port: 8080 } },
  env: [{ name: "API_TOKEN", valueFrom: { secretKeyRef: { name: "s", key: "token" } } }],
  securityContext: {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  },
});
const deployment = (edit: (spec: Obj) => void = () => undefined): HarnessResource => {
  const spec: Obj = {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
    containers: [goodContainer()],
  };
  edit(spec);
  return resource(DEPLOYMENT, "app", {
    kind: "Deployment",
    metadata: { name: "app", namespace: "apps" },
    spec: { replicas: 1, template: { metadata: { labels: { app: "a" } }, spec } },
  });
};

/** A deployment with exemption annotations (policies/lib/exemptions.ts). */
const exempt = (
  annotations: Record<string, string>,
  edit: (spec: Obj) => void = () => undefined,
): HarnessResource => {
  const d = deployment(edit);
  const metadata = d.inputs["metadata"] as Obj;
  return { ...d, inputs: { ...d.inputs, metadata: { ...metadata, annotations } } };
};
const EXEMPT = "exempt.policy.homebrew.dev/";

const VM = "proxmoxve:index/vmLegacy:VmLegacy";
const vm = (
  edit: (p: Obj) => void = () => undefined,
  protect = true,
  tags = ["controlplane", "lab", "talos"],
) => {
  const p: Obj = {
    name: "cp-1",
    tags,
    cpu: { type: "host", cores: 4 },
    memory: { dedicated: 8192, floating: 0 },
    agent: { enabled: true },
  };
  edit(p);
  return resource(VM, "cp-1", p, protect);
};

const RECORD = "cloudflare:index/dnsRecord:DnsRecord";
const record = (p: Obj) => resource(RECORD, `r-${p["name"]}`, { zoneId: "z", ...p });
const LIST = "cloudflare:index/list:List";
const list = (items: Obj[]) => resource(LIST, "bulk", { kind: "redirect", items });
const item = (source: string, target: string, statusCode = 301) => ({
  redirect: { sourceUrl: source, targetUrl: target, statusCode },
});

async function messages(
  policy: string,
  resources: HarnessResource[],
  config: Obj = {},
): Promise<string[]> {
  const p = allPolicies.filter((x) => x.name === policy);
  expect(p, policy).toHaveLength(1);
  return (await runPolicies(resources, p, config)).map((v) => v.message);
}

interface Case {
  readonly policy: string;
  readonly good: () => HarnessResource[];
  readonly broken: readonly (readonly [string, () => HarnessResource[], string])[];
}

const RELEASE = "kubernetes:helm.sh/v3:Release";
const release = (version?: unknown): HarnessResource =>
  resource(RELEASE, "metrics", {
    chart: "metrics-server",
    ...(version !== undefined ? { version } : {}),
    repositoryOpts: { repo: "https://kubernetes-sigs.github.io/metrics-server/" },
  });
const CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile";
const manifest = (file: string) => resource(CONFIG_FILE, "approver", { file });
const TAGGED = "https://raw.githubusercontent.com/acme/approver/v0.11.0/deploy/install.yaml";

const cases: Case[] = [
  {
    policy: "helm-chart-pinned",
    good: () => [release("3.13.0"), release("v1.2.3-rc.1+build.5")],
    broken: [
      [
        "version missing",
        () => [release()],
        'chart "metrics-server" has no version: pin an exact chart version',
      ],
      [
        "version a range",
        () => [release("^3.13.0")],
        'chart "metrics-server" version "^3.13.0" is not an exact version: pin one',
      ],
      [
        "version partial",
        () => [release("3.13")],
        'chart "metrics-server" version "3.13" is not an exact version: pin one',
      ],
      [
        "version not text",
        () => [release(3)],
        'chart "metrics-server" version 3 is not an exact version: pin one',
      ],
    ],
  },
  {
    policy: "manifest-url-pinned",
    good: () => [
      manifest(TAGGED),
      manifest("manifests/local.yaml"),
      resource("kubernetes:yaml/v2:ConfigGroup", "group", { files: [TAGGED] }),
    ],
    broken: [
      [
        "a branch",
        () => [manifest(TAGGED.replace("v0.11.0", "main"))],
        `manifest ${TAGGED.replace("v0.11.0", "main")} follows the moving reference "main": pin a release tag`,
      ],
      [
        "latest release",
        () => [
          resource("kubernetes:yaml/v2:ConfigGroup", "group", {
            files: [
              TAGGED,
              "https://github.com/acme/server/releases/latest/download/components.yaml",
            ],
          }),
        ],
        'manifest https://github.com/acme/server/releases/latest/download/components.yaml follows the moving reference "latest": pin a release tag',
      ],
    ],
  },
  {
    policy: "k8s-no-provider-constructed-components",
    good: () => [release("3.13.0"), resource("kubernetes:core/v1:Namespace", "ns", {})],
    broken: (
      [
        "kubernetes:yaml/v2:ConfigFile",
        "kubernetes:yaml/v2:ConfigGroup",
        "kubernetes:helm.sh/v4:Chart",
        "kubernetes:kustomize/v2:Directory",
      ] as const
    ).map((type) => [
      type,
      () => [resource(type, "addon", {})],
      `${type} is constructed by the Kubernetes provider, which must reach the cluster while the program runs: the preview of a new stack fails. Declare the objects as resources of the program or install a helm.sh/v3 Release`,
    ]),
  },
  {
    policy: "k8s-no-privileged-containers",
    good: () => [deployment()],
    broken: [
      [
        "privileged",
        () => [deployment((s) => (s.containers[0].securityContext.privileged = true))],
        'container "app" is privileged',
      ],
    ],
  },
  {
    policy: "k8s-no-host-namespaces",
    good: () => [deployment()],
    broken: [
      [
        "hostNetwork",
        () => [deployment((s) => (s.hostNetwork = true))],
        "the pod sets hostNetwork",
      ],
      ["hostPID", () => [deployment((s) => (s.hostPID = true))], "the pod sets hostPID"],
      ["hostIPC", () => [deployment((s) => (s.hostIPC = true))], "the pod sets hostIPC"],
    ],
  },
  {
    policy: "k8s-no-hostpath-volumes",
    good: () => [deployment((s) => (s.volumes = [{ name: "tmp", emptyDir: {} }]))],
    broken: [
      [
        "hostPath",
        () => [deployment((s) => (s.volumes = [{ name: "root", hostPath: { path: "/" } }]))],
        'volume "root" is a hostPath',
      ],
    ],
  },
  {
    policy: "k8s-no-host-ports",
    good: () => [deployment((s) => (s.containers[0].ports = [{ containerPort: 80 }]))],
    broken: [
      [
        "hostPort",
        () => [deployment((s) => (s.containers[0].ports = [{ containerPort: 80, hostPort: 80 }]))],
        'container "app" binds host port 80',
      ],
    ],
  },
  {
    policy: "k8s-baseline-capabilities",
    good: () => [
      deployment((s) => (s.containers[0].securityContext.capabilities.add = ["NET_BIND_SERVICE"])),
    ],
    broken: [
      [
        "add",
        () => [
          deployment((s) => (s.containers[0].securityContext.capabilities.add = ["SYS_ADMIN"])),
        ],
        'container "app" adds SYS_ADMIN',
      ],
    ],
  },
  {
    policy: "k8s-no-privilege-escalation",
    good: () => [deployment()],
    broken: [
      [
        "allowPrivilegeEscalation",
        () => [deployment((s) => delete s.containers[0].securityContext.allowPrivilegeEscalation)],
        'container "app" does not set allowPrivilegeEscalation: false',
      ],
    ],
  },
  {
    policy: "k8s-run-as-non-root",
    good: () => [deployment((s) => delete s.containers[0].securityContext.runAsNonRoot)],
    broken: [
      [
        "runAsNonRoot",
        () => [
          deployment((s) => {
            delete s.securityContext.runAsNonRoot;
            delete s.containers[0].securityContext.runAsNonRoot;
          }),
        ],
        'container "app" may run as root (set runAsNonRoot: true)',
      ],
      [
        "container override",
        () => [deployment((s) => (s.containers[0].securityContext.runAsNonRoot = false))],
        'container "app" may run as root (set runAsNonRoot: true)',
      ],
    ],
  },
  {
    policy: "k8s-seccomp-runtime-default",
    good: () => [deployment((s) => delete s.containers[0].securityContext.seccompProfile)],
    broken: [
      [
        "seccompProfile",
        () => [
          deployment(
            (s) => (s.containers[0].securityContext.seccompProfile = { type: "Unconfined" }),
          ),
        ],
        'container "app" has no RuntimeDefault seccomp profile',
      ],
    ],
  },
  {
    policy: "k8s-drop-all-capabilities",
    good: () => [deployment()],
    broken: [
      [
        "drop",
        () => [
          deployment((s) => (s.containers[0].securityContext.capabilities.drop = ["NET_RAW"])),
        ],
        'container "app" does not drop ALL capabilities',
      ],
    ],
  },
  {
    policy: "k8s-read-only-root-filesystem",
    good: () => [
      deployment(),
      // An exemption with a reason stands while the rule would find something.
      exempt(
        { [`${EXEMPT}k8s-read-only-root-filesystem`]: "writes its caches below /opt" },
        (s) => (s.containers[0].securityContext.readOnlyRootFilesystem = false),
      ),
    ],
    broken: [
      [
        "readOnlyRootFilesystem",
        () => [deployment((s) => (s.containers[0].securityContext.readOnlyRootFilesystem = false))],
        'container "app" has a writable root filesystem',
      ],
      [
        "an exemption that exempts nothing",
        () => [exempt({ [`${EXEMPT}k8s-read-only-root-filesystem`]: "writes below /opt" })],
        'the exemption from k8s-read-only-root-filesystem exempts nothing: remove it ("writes below /opt")',
      ],
      [
        "an exemption without a reason (the rule still applies)",
        () => [
          exempt(
            { [`${EXEMPT}k8s-read-only-root-filesystem`]: " " },
            (s) => (s.containers[0].securityContext.readOnlyRootFilesystem = false),
          ),
        ],
        'container "app" has a writable root filesystem',
      ],
    ],
  },
  {
    policy: "k8s-resource-requests-and-limits",
    good: () => [deployment()],
    broken: [
      [
        "cpu request",
        () => [deployment((s) => delete s.containers[0].resources.requests.cpu)],
        'container "app" has no CPU request',
      ],
      [
        "memory request",
        () => [deployment((s) => delete s.containers[0].resources.requests.memory)],
        'container "app" has no memory request',
      ],
      [
        "memory limit",
        () => [deployment((s) => delete s.containers[0].resources.limits.memory)],
        'container "app" has no memory limit',
      ],
    ],
  },
  {
    policy: "k8s-readiness-and-liveness-probes",
    good: () => [deployment()],
    broken: [
      [
        "readiness",
        () => [deployment((s) => delete s.containers[0].readinessProbe)],
        'container "app" has no readiness probe',
      ],
      [
        "liveness",
        () => [deployment((s) => delete s.containers[0].livenessProbe)],
        'container "app" has no liveness probe',
      ],
    ],
  },
  {
    policy: "policy-exemptions-valid",
    good: () => [
      deployment(),
      exempt(
        { [`${EXEMPT}image-digest-preferred`]: "no digest record" },
        (s) => (s.containers[0].image = "ghcr.io/acme/app:1.2.3"),
      ),
    ],
    broken: [
      [
        "a rule that guards access",
        () => [exempt({ [`${EXEMPT}k8s-no-privileged`]: "needs the host" })],
        `${EXEMPT}k8s-no-privileged: k8s-no-privileged cannot be exempted (exemptable: image-digest-preferred, k8s-read-only-root-filesystem)`,
      ],
      [
        "a rule that does not exist",
        () => [exempt({ [`${EXEMPT}k8s-read-only-rootfs`]: "typo" })],
        `${EXEMPT}k8s-read-only-rootfs: k8s-read-only-rootfs cannot be exempted (exemptable: image-digest-preferred, k8s-read-only-root-filesystem)`,
      ],
      [
        "a reason",
        () => [
          exempt(
            { [`${EXEMPT}image-digest-preferred`]: "" },
            (s) => (s.containers[0].image = "ghcr.io/acme/app:1.2.3"),
          ),
        ],
        `${EXEMPT}image-digest-preferred: an exemption needs a reason`,
      ],
    ],
  },
  {
    policy: "image-no-latest-tag",
    good: () => [deployment((s) => (s.containers[0].image = "ghcr.io/acme/app:1.2.3"))],
    broken: [
      [
        "latest",
        () => [deployment((s) => (s.containers[0].image = "nginx:latest"))],
        'container "app" uses nginx:latest: pin a version tag or a digest',
      ],
      [
        "no tag",
        () => [deployment((s) => (s.containers[0].image = "registry:5000/app"))],
        'container "app" uses registry:5000/app: pin a version tag or a digest',
      ],
    ],
  },
  {
    policy: "image-digest-preferred",
    good: () => [
      deployment(),
      exempt(
        { [`${EXEMPT}image-digest-preferred`]: "no digest record" },
        (s) => (s.containers[0].image = "ghcr.io/acme/app:1.2.3"),
      ),
    ],
    broken: [
      [
        "an exemption of another rule",
        () => [
          exempt(
            { [`${EXEMPT}k8s-read-only-root-filesystem`]: "no digest record" },
            (s) => (s.containers[0].image = "ghcr.io/acme/app:1.2.3"),
          ),
        ],
        'container "app" uses ghcr.io/acme/app:1.2.3 by tag, not by digest',
      ],
      [
        "digest",
        () => [deployment((s) => (s.containers[0].image = "ghcr.io/acme/app:1.2.3"))],
        'container "app" uses ghcr.io/acme/app:1.2.3 by tag, not by digest',
      ],
    ],
  },
  {
    policy: "image-approved-registries",
    good: () => [deployment((s) => (s.containers[0].image = "nginx:1.29"))],
    broken: [
      [
        "registry",
        () => [deployment((s) => (s.containers[0].image = "evil.example/app:1"))],
        'container "app" pulls from evil.example, not an approved registry',
      ],
    ],
  },
  {
    policy: "env-no-secret-literals",
    good: () => [deployment((s) => s.containers[0].env.push({ name: "LOG_LEVEL", value: "info" }))],
    broken: [
      [
        "literal",
        () => [
          deployment((s) => s.containers[0].env.push({ name: "DB_PASSWORD", value: "hunter2" })),
        ],
        'container "app" sets DB_PASSWORD to a literal value: use a Secret',
      ],
    ],
  },
  {
    policy: "proxmox-cpu-type-boots-talos",
    good: () => [vm()],
    broken: [
      [
        "qemu64",
        () => [vm((p) => (p.cpu.type = "qemu64"))],
        "CPU type qemu64 cannot boot Talos; use host",
      ],
      [
        "default",
        () => [vm((p) => delete p.cpu.type)],
        "the CPU type is the provider default qemu64, which cannot boot Talos",
      ],
    ],
  },
  {
    policy: "proxmox-protect-control-planes",
    good: () => [vm(), vm(() => undefined, false, ["general", "lab", "talos"])],
    broken: [
      ["protect", () => [vm(() => undefined, false)], "control-plane VM cp-1 is not protected"],
    ],
  },
  {
    policy: "proxmox-destructive-destroy",
    good: () => [vm()],
    broken: [
      [
        "purgeOnDestroy",
        () => [vm((p) => (p.purgeOnDestroy = true))],
        "purgeOnDestroy also deletes the VM's backups and replication jobs",
      ],
      [
        "deleteUnreferencedDisksOnDestroy",
        () => [vm((p) => (p.deleteUnreferencedDisksOnDestroy = true))],
        "deleteUnreferencedDisksOnDestroy deletes disks no longer attached, data included",
      ],
    ],
  },
  {
    policy: "proxmox-guest-agent",
    good: () => [vm()],
    broken: [
      [
        "agent",
        () => [vm((p) => (p.agent.enabled = false))],
        "the QEMU guest agent is not enabled",
      ],
    ],
  },
  {
    policy: "proxmox-no-memory-ballooning",
    good: () => [vm()],
    broken: [
      [
        "floating",
        () => [vm((p) => (p.memory.floating = 4096))],
        "memory ballooning is on (floating 4096 MiB)",
      ],
    ],
  },
  {
    policy: "cloudflare-proxied-only-address-records",
    good: () => [
      record({
        name: "www.example.com",
        type: "CNAME",
        content: "edge.example.net",
        proxied: true,
        ttl: 1,
      }),
    ],
    broken: [
      [
        "proxied TXT",
        () => [record({ name: "example.com", type: "TXT", content: "x", proxied: true, ttl: 1 })],
        "a TXT record cannot be proxied",
      ],
    ],
  },
  {
    policy: "cloudflare-record-ttl",
    good: () => [
      record({
        name: "a.example.com",
        type: "A",
        content: "203.0.113.1",
        proxied: false,
        ttl: 300,
      }),
    ],
    broken: [
      [
        "proxied ttl",
        () => [
          record({
            name: "a.example.com",
            type: "A",
            content: "203.0.113.1",
            proxied: true,
            ttl: 300,
          }),
        ],
        "a proxied record has TTL 300; it must be 1 (automatic)",
      ],
      [
        "range",
        () => [
          record({
            name: "a.example.com",
            type: "A",
            content: "203.0.113.1",
            proxied: false,
            ttl: 30,
          }),
        ],
        "TTL 30 is outside 60-86400",
      ],
    ],
  },
  {
    policy: "cloudflare-no-private-addresses",
    good: () => [record({ name: "a.example.com", type: "A", content: "203.0.113.1" })],
    broken: [
      [
        "10/8",
        () => [record({ name: "a.example.com", type: "A", content: "10.0.0.5" })],
        "a.example.com publishes the private address 10.0.0.5",
      ],
      [
        "ula",
        () => [record({ name: "a.example.com", type: "AAAA", content: "fd00::1" })],
        "a.example.com publishes the private address fd00::1",
      ],
    ],
  },
  {
    policy: "cloudflare-redirect-status-codes",
    good: () => [list([item("https://a.example.com/x", "https://b.example.com/y", 308)])],
    broken: [
      [
        "status",
        () => [list([item("https://a.example.com/x", "https://b.example.com/y", 303)])],
        "redirect to https://b.example.com/y uses status 303",
      ],
    ],
  },
  {
    policy: "cloudflare-redirect-https-targets",
    good: () => [list([item("https://a.example.com/x", "https://b.example.com/y")])],
    broken: [
      [
        "http",
        () => [list([item("https://a.example.com/x", "http://b.example.com/y")])],
        "redirect target http://b.example.com/y is not https",
      ],
    ],
  },
  {
    policy: "cloudflare-redirect-loops",
    good: () => [
      list([
        item("https://a.example.com/x", "https://a.example.com/y"),
        item("https://a.example.com/y", "https://a.example.com/z"),
      ]),
    ],
    broken: [
      [
        "loop",
        () => [
          list([
            item("https://a.example.com/x", "https://a.example.com/y"),
            item("https://a.example.com/y", "https://a.example.com/x"),
          ]),
        ],
        "redirect loop: a.example.com/x -> a.example.com/y -> a.example.com/x",
      ],
    ],
  },
  {
    policy: "cloudflare-no-dangling-cnames",
    good: () => [
      record({ name: "www.example.com", type: "CNAME", content: "edge.example.com" }),
      record({ name: "edge.example.com", type: "A", content: "203.0.113.1" }),
    ],
    broken: [
      [
        "dangling",
        () => [record({ name: "www.example.com", type: "CNAME", content: "gone.example.com" })],
        "www.example.com is a CNAME to gone.example.com, which has no record",
      ],
    ],
  },
  {
    policy: "odd-control-plane-count",
    good: () => [
      vm(),
      { ...vm(), urn: urn(VM, "cp-2"), name: "cp-2" },
      { ...vm(), urn: urn(VM, "cp-3"), name: "cp-3" },
    ],
    broken: [
      [
        "even",
        () => [vm(), { ...vm(), urn: urn(VM, "cp-2"), name: "cp-2" }],
        "cluster lab has 2 control-plane VMs; use an odd number",
      ],
    ],
  },
  {
    policy: "protect-stateful-resources",
    good: () => [
      vm(),
      resource("cloudflare:index/zone:Zone", "zone", { name: "example.com" }, true),
    ],
    broken: [
      [
        "zone",
        () => [resource("cloudflare:index/zone:Zone", "zone", { name: "example.com" })],
        "zone (cloudflare:index/zone:Zone) is not protected",
      ],
      [
        "volume",
        () => [
          resource("kubernetes:core/v1:PersistentVolumeClaim", "data", {
            metadata: { name: "data", namespace: "db" },
          }),
        ],
        "data (kubernetes:core/v1:PersistentVolumeClaim) is not protected",
      ],
    ],
  },
  {
    policy: "helm-release-namespace-known",
    good: () => [
      resource("kubernetes:core/v1:Namespace", "ns", { metadata: { name: "observability" } }),
      resource(RELEASE, "prom", { chart: "kube-prometheus-stack", namespace: "observability" }),
      resource(RELEASE, "metrics", { chart: "metrics-server", namespace: "kube-system" }),
    ],
    broken: [
      [
        "a namespace the program does not create",
        () => [resource(RELEASE, "prom", { chart: "loki", namespace: "logging" })],
        'release of chart "loki" installs into namespace logging, which the program does not create',
      ],
      [
        "no namespace",
        () => [resource(RELEASE, "prom", { chart: "loki" })],
        `release of chart "loki" names no namespace (it would install into the provider's default)`,
      ],
      [
        "createNamespace",
        () => [
          resource("kubernetes:core/v1:Namespace", "ns", { metadata: { name: "logging" } }),
          resource(RELEASE, "prom", { chart: "loki", namespace: "logging", createNamespace: true }),
        ],
        'release of chart "loki" creates its namespace: create it in the program',
      ],
    ],
  },
  {
    policy: "networkpolicy-in-every-namespace",
    good: () => [
      resource("kubernetes:core/v1:Namespace", "ns", { metadata: { name: "apps" } }),
      resource("kubernetes:networking.k8s.io/v1:NetworkPolicy", "deny", {
        metadata: { name: "default-deny", namespace: "apps" },
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
      }),
    ],
    broken: [
      [
        "no policy",
        () => [resource("kubernetes:core/v1:Namespace", "ns", { metadata: { name: "apps" } })],
        "namespace apps has no default-deny NetworkPolicy",
      ],
    ],
  },
  {
    policy: "pdb-for-replicated-workloads",
    good: () => {
      const d = deployment();
      (d.inputs["spec"] as Obj)["replicas"] = 2;
      return [
        d,
        resource("kubernetes:policy/v1:PodDisruptionBudget", "pdb", {
          metadata: { namespace: "apps" },
          spec: { selector: { matchLabels: { app: "a" } } },
        }),
      ];
    },
    broken: [
      [
        "no pdb",
        () => {
          const d = deployment();
          (d.inputs["spec"] as Obj)["replicas"] = 3;
          return [d];
        },
        "app in apps can run 3 replicas but has no PodDisruptionBudget",
      ],
    ],
  },
];

describe("the policy pack", () => {
  it("has at least 25 policies, each named once, described, with a level", () => {
    expect(allPolicies.length).toBeGreaterThanOrEqual(25);
    expect(new Set(allPolicies.map((p) => p.name)).size).toBe(allPolicies.length);
    for (const p of allPolicies) {
      expect(p.description.length, p.name).toBeGreaterThan(10);
      expect(["advisory", "mandatory"]).toContain(p.enforcementLevel);
    }
  });

  it("every policy has a case here", () => {
    expect(cases.map((c) => c.policy).sort()).toEqual(allPolicies.map((p) => p.name).sort());
  });

  it("reports one fact once: an unprotected control plane is one finding in every environment", async () => {
    for (const env of ["dev", "staging", "prod"] as const) {
      const results = await runPolicies([vm(() => undefined, false)], policiesFor(env));
      expect(
        results.map((r) => r.policy),
        env,
      ).toEqual(["proxmox-protect-control-planes"]);
    }
  });

  it("only rules advisory in every environment can be exempted", () => {
    for (const env of ["dev", "staging", "prod"] as const) {
      const levels = Object.fromEntries(policiesFor(env).map((p) => [p.name, p.enforcementLevel]));
      for (const rule of EXEMPTABLE) expect(levels[rule], `${rule} in ${env}`).toBe("advisory");
    }
  });

  it("is stricter in prod than in dev", () => {
    const levels = (env: "dev" | "prod") =>
      Object.fromEntries(policiesFor(env).map((p) => [p.name, p.enforcementLevel]));
    const dev = levels("dev");
    const prod = levels("prod");
    expect(prod["protect-stateful-resources"]).toBe("mandatory");
    expect(dev["protect-stateful-resources"]).toBe("advisory");
    for (const name of Object.keys(dev)) {
      if (dev[name] === "mandatory") expect(prod[name], name).toBe("mandatory");
    }
    expect(enforcementFor("k8s-run-as-non-root", "advisory", "staging")).toBe("advisory");
  });
});

describe.each(cases)("$policy", ({ policy, good, broken }) => {
  it("passes a compliant fixture", async () => {
    expect(await messages(policy, good())).toEqual([]);
  });

  it.each(broken.map(([field, make, message]) => ({ field, make, message })))(
    "fails when $field is broken, with the exact message",
    async ({ make, message }) => {
      expect(await messages(policy, make())).toEqual([message]);
    },
  );

  it("never throws on missing fields", async () => {
    const types = [
      DEPLOYMENT,
      "kubernetes:batch/v1:CronJob",
      VM,
      RECORD,
      LIST,
      "cloudflare:index/ruleset:Ruleset",
      "kubernetes:core/v1:Namespace",
      "cloudflare:index/zone:Zone",
      "kubernetes:apps/v1:StatefulSet",
      RELEASE,
      CONFIG_FILE,
    ];
    const empties = types.flatMap((t) => [
      resource(t, "empty", {}),
      resource(t, "partial", {
        spec: {},
        metadata: {},
        cpu: {},
        items: [{}],
        rules: [{}],
        tags: ["controlplane"],
      }),
    ]);
    await expect(messages(policy, empties)).resolves.toBeDefined();
  });
});
