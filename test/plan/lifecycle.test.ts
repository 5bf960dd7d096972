import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  LIFECYCLE,
  isLogical,
  lifecycleFacts,
  physicalNames,
} from "../../components/catalog/lifecycle";
import { diffPlans, normalizePlan, propertyChanges } from "../../tools/plan/diff";
import { cascade, matches, ownershipFindings, replaceReasons } from "../../tools/plan/lifecycle";
import type { PlanResource } from "../../tools/plan/render";
import {
  SHIPPED_STACKS,
  planOf as stackPlan,
  planOfResources,
  planResource,
} from "../helpers/plans";

const urn = (type: string, name: string) => `urn:pulumi:prod::homebrew-dev::${type}::${name}`;
const FILE = "proxmoxve:download/file:File";
const SNIPPET = "proxmoxve:index/fileLegacy:FileLegacy";
const VM = "proxmoxve:index/vmLegacy:VmLegacy";
const shared = { sharedDatastores: ["cephfs"] };

/** A resource as the plan builds it: its physical names computed from its inputs. */
function resource(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  opts: Partial<PlanResource> = {},
  facts = shared,
): PlanResource {
  return planResource({
    urn: urn(type, name),
    type,
    name,
    inputs,
    // As the plan computes them: Kubernetes names within the default provider's cluster.
    owns: physicalNames(
      type,
      inputs,
      facts,
      type.startsWith("kubernetes:") ? "default" : undefined,
    ),
    ...opts,
  });
}
/** A cloud-init snippet `s` with this content, on a host's datastore. */
const snippetFile = (data: string, node: string, datastore: string, deleteFirst: boolean) =>
  resource(
    SNIPPET,
    "s",
    {
      nodeName: node,
      datastoreId: datastore,
      contentType: "snippets",
      sourceRaw: { data, fileName: "n.yaml" },
    },
    { deleteBeforeReplace: deleteFirst },
  );
const image = (name: string, node: string, file = "talos-a.img") =>
  resource(FILE, name, {
    nodeName: node,
    datastoreId: "cephfs",
    contentType: "iso",
    fileName: file,
    url: `https://f/${file}`,
  });

describe("the lifecycle catalog", () => {
  it("has an entry for every resource type the shipped stacks register", async () => {
    for (const stack of SHIPPED_STACKS) {
      const plan = await stackPlan(stack);
      const missing = [...new Set(plan.resources.map((r) => r.type))].filter(
        (t) => !isLogical(t) && LIFECYCLE[t] === undefined,
      );
      expect(missing, stack).toEqual([]);
    }
  });

  it("names every entry's upstream source", () => {
    for (const [type, entry] of Object.entries(LIFECYCLE)) {
      expect(entry.source, type).toMatch(/^[\w-]+\/[\w.-]+ v?\d/);
    }
  });

  it("a file on a shared datastore has one name whichever host wrote it; a local one per host", () => {
    const a = physicalNames(FILE, image("a", "pve-1").inputs, shared);
    const b = physicalNames(FILE, image("b", "pve-2").inputs, shared);
    expect(a).toEqual(["proxmox-file:*/cephfs:iso/talos-a.img"]);
    expect(b).toEqual(a);
    expect(physicalNames(FILE, image("b", "pve-2").inputs, { sharedDatastores: [] })).toEqual([
      "proxmox-file:pve-2/cephfs:iso/talos-a.img",
    ]);
  });

  it("reads the shared datastores from the stack's config, and nothing from a broken one", () => {
    expect(
      lifecycleFacts({ "homebrew-dev:proxmox": '{"sharedDatastores":["nfs","cephfs","nfs"]}' }),
    ).toEqual({
      sharedDatastores: ["cephfs", "nfs"],
    });
    expect(lifecycleFacts({ "homebrew-dev:proxmox": "{not json" })).toEqual({
      sharedDatastores: [],
    });
  });

  it("a DNS name may hold several records of a type, a CNAME nothing else", () => {
    const rec = (type: string, content: string) =>
      physicalNames(
        "cloudflare:index/dnsRecord:DnsRecord",
        { zoneId: "z", name: "a.example", type, content },
        shared,
      );
    expect(rec("CAA", "0 issue a")).not.toEqual(rec("CAA", "0 issue b"));
    expect(rec("CNAME", "x.example")).toEqual(["cloudflare-dns:z/a.example/*"]);
  });
});

describe("replace rules", () => {
  it("follow the provider per type, the program's replaceOnChanges and the inputs", () => {
    expect(replaceReasons(FILE, ["overwrite", "url"])).toEqual(["url"]);
    // A VM migrates when `migrate` is set, and is replaced otherwise.
    expect(replaceReasons(VM, ["nodeName"], [], { migrate: true })).toEqual([]);
    expect(replaceReasons(VM, ["nodeName"], [], { migrate: false })).toEqual(["nodeName"]);
    expect(replaceReasons(VM, ["disks[0].fileId", "disks[0].size"])).toEqual(["disks[0].fileId"]);
    // A command's triggers replace it (the SDK registers it with replaceOnChanges triggers[*]);
    // its scripts update it.
    expect(replaceReasons("command:local:Command", ["triggers[0]"], [], { update: "x" })).toEqual([
      "triggers[0]",
    ]);
    expect(replaceReasons("command:local:Command", ["update"], [], { update: "x" })).toEqual([]);
    expect(replaceReasons("kubernetes:core/v1:Secret", ["data.token"])).toEqual(["data.token"]);
  });

  it("match a pattern at or below its path, with [*] for any index (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z]{1,5}$/), { minLength: 1, maxLength: 4 }),
        fc.nat({ max: 20 }),
        fc.array(fc.stringMatching(/^[a-z]{1,5}$/), { maxLength: 3 }),
        (head, index, tail) => {
          const path = [`${head.join(".")}[${index}]`, ...tail].join(".");
          expect(matches(path, `${head.join(".")}[*]`)).toBe(true);
          expect(matches(path, head.join("."))).toBe(true);
          expect(matches(path, `${head.join(".")}x`)).toBe(false);
        },
      ),
    );
  });
});

describe("lifecycle findings: one fixture per rule", () => {
  it("one-owner-per-name: two downloads of one file on a shared datastore", () => {
    const findings = ownershipFindings([image("a", "pve-1"), image("b", "pve-2")]);
    expect(findings.map((f) => [f.check, f.urn])).toEqual([["one-owner-per-name", urn(FILE, "b")]]);
    expect(ownershipFindings([image("a", "pve-1"), image("b", "pve-2", "talos-b.img")])).toEqual(
      [],
    );
  });

  it("replacement-keeps-name: a create-first replacement under the same file name", () => {
    const snippet = (data: string, dbr: boolean) => snippetFile(data, "pve-1", "cephfs", dbr);
    const bad = diffPlans(
      planOfResources([snippet("a", false)], {}, shared),
      planOfResources([snippet("b", false)], {}, shared),
    );
    expect(bad.findings.map((f) => f.check)).toEqual(["replacement-keeps-name"]);
    const good = diffPlans(
      planOfResources([snippet("a", true)], {}, shared),
      planOfResources([snippet("b", true)], {}, shared),
    );
    expect(good.changes[0]).toMatchObject({ kind: "replace", deleteFirst: true });
    expect(good.findings).toEqual([]);
  });

  it("create-before-delete and delete-removes-shared: a download renamed on a shared datastore", () => {
    const diff = diffPlans(
      planOfResources([image("old", "pve-1")], {}, shared),
      planOfResources([image("new", "pve-2")], {}, shared),
    );
    expect(diff.findings.map((f) => [f.check, f.urn.split("::").pop()])).toEqual([
      ["create-before-delete", "new"],
      ["delete-removes-shared", "old"],
    ]);
  });

  it("protected: a protected VM to replace or delete", () => {
    const vm = (node: string) =>
      resource(VM, "cp", { name: "cp", nodeName: node, migrate: false }, { protect: true });
    const diff = diffPlans(planOfResources([vm("pve-1")]), planOfResources([vm("pve-2")]));
    expect(diff.findings.map((f) => f.check)).toEqual(["protected"]);
  });

  it("immutable-field: a RuntimeClass handler the API refuses to change", () => {
    const rc = (handler: string) =>
      resource("kubernetes:node.k8s.io/v1:RuntimeClass", "rc", {
        handler,
        metadata: { name: "gvisor" },
      });
    const diff = diffPlans(planOfResources([rc("runsc")]), planOfResources([rc("kata")]));
    expect(diff.changes[0]!.kind).toBe("update");
    expect(diff.findings.map((f) => f.check)).toEqual(["immutable-field"]);
  });

  it("claims-kept: a StatefulSet replaced for its claim templates", () => {
    const sts = (size: string) =>
      resource("kubernetes:apps/v1:StatefulSet", "db", {
        metadata: { name: "db", namespace: "data" },
        spec: { volumeClaimTemplates: [{ spec: { resources: { requests: { storage: size } } } }] },
      });
    const diff = diffPlans(planOfResources([sts("10Gi")]), planOfResources([sts("20Gi")]));
    expect(diff.changes[0]).toMatchObject({ kind: "replace", deleteFirst: true });
    expect(diff.findings.map((f) => [f.check, f.level])).toEqual([["claims-kept", "warning"]]);
  });

  it("etcd-quorum, kubernetes-upgrade-path and talos-upgrade-path read the stack outputs", () => {
    const out = (cps: number, talos: string, k8s: string) =>
      planOfResources([], {
        controlPlaneNodes: Array.from({ length: cps }, (_, i) => `cp-${i}`),
        talosVersion: talos,
        kubernetesVersion: k8s,
      });
    const checks = (a: ReturnType<typeof out>, b: ReturnType<typeof out>) =>
      diffPlans(a, b).findings.map((f) => f.check);
    expect(checks(out(5, "v1.13.9", "v1.35.2"), out(3, "v1.13.9", "v1.35.2"))).toEqual([]);
    expect(checks(out(5, "v1.13.9", "v1.35.2"), out(1, "v1.13.9", "v1.35.2"))).toEqual([
      "etcd-quorum",
    ]);
    expect(checks(out(3, "v1.13.9", "v1.34.0"), out(3, "v1.13.9", "v1.36.0"))).toEqual([
      "kubernetes-upgrade-path",
    ]);
    expect(checks(out(3, "v1.12.4", "v1.35.2"), out(3, "v1.14.0", "v1.35.2"))).toEqual([
      "talos-upgrade-path",
    ]);
    expect(checks(out(3, "v1.12.4", "v1.35.2"), out(3, "v1.13.9", "v1.35.2"))).toEqual([]);
  });
});

describe("list diffs by identity", () => {
  const rule = (ref: string, expression = `x == "${ref}"`) => ({ ref, expression });

  it("an inserted or removed item is one change; a reorder is a change of its own", () => {
    expect(
      propertyChanges([rule("a"), rule("b")], [rule("a"), rule("n"), rule("b")], "rules"),
    ).toEqual([{ path: "rules[ref=n]", before: undefined, after: rule("n") }]);
    expect(propertyChanges([rule("a"), rule("b")], [rule("b")], "rules")).toEqual([
      { path: "rules[ref=a]", before: rule("a"), after: undefined },
    ]);
    expect(propertyChanges([rule("a"), rule("b")], [rule("b"), rule("a")], "rules")).toEqual([
      { path: "rules (order by ref)", before: ["a", "b"], after: ["b", "a"] },
    ]);
  });

  it("lists without a unique identity compare by index (property: any keyed list against itself, shuffled)", () => {
    expect(propertyChanges([{ x: 1 }], [{ x: 2 }], "l")).toEqual([
      { path: "l[0].x", before: 1, after: 2 },
    ]);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[a-z]{1,6}$/), { minLength: 1, maxLength: 8 }),
        fc.func(fc.integer()),
        (refs, order) => {
          const list = refs.map((r) => rule(r));
          const shuffled = [...list].sort(
            (x, y) => order(x.ref) - order(y.ref) || x.ref.localeCompare(y.ref),
          );
          const changes = propertyChanges(list, shuffled, "rules");
          // Nothing but the order can differ.
          expect(changes.every((c) => c.path === "rules (order by ref)")).toBe(true);
          expect(changes.length).toBe(JSON.stringify(list) === JSON.stringify(shuffled) ? 0 : 1);
        },
      ),
    );
  });
});

describe("review fixtures: what the engine and providers really do", () => {
  const k8s = (kind: string, name: string, extra: Record<string, unknown> = {}) =>
    resource(`kubernetes:core/v1:${kind}`, "obj", {
      metadata: { name, namespace: "apps" },
      ...extra,
    });

  it("a protected resource unprotected in the same change is replaced without a finding", () => {
    const vm = (node: string, protect: boolean) =>
      resource(VM, "cp", { name: "cp", nodeName: node, migrate: false }, { protect });
    const diff = diffPlans(
      planOfResources([vm("pve-1", true)]),
      planOfResources([vm("pve-2", false)]),
    );
    expect(diff.changes[0]).toMatchObject({ kind: "replace", protect: false });
    expect(diff.findings).toEqual([]);
  });

  it("a renamed Kubernetes object is created first; one that keeps its name is deleted first", () => {
    const renamed = diffPlans(
      planOfResources([k8s("Service", "a")]),
      planOfResources([k8s("Service", "b")]),
    );
    expect(renamed.changes[0]).toMatchObject({ kind: "replace", deleteFirst: false });
    const kept = diffPlans(
      planOfResources([k8s("Service", "a", { spec: { clusterIP: "10.0.0.1" } })]),
      planOfResources([k8s("Service", "a", { spec: { clusterIP: "10.0.0.2" } })]),
    );
    expect(kept.changes[0]).toMatchObject({ kind: "replace", deleteFirst: true });
  });

  it("a kind outside the table still replaces on a new name", () => {
    const diff = diffPlans(
      planOfResources([k8s("ConfigMap", "a")]),
      planOfResources([k8s("ConfigMap", "b")]),
    );
    expect(diff.changes[0]).toMatchObject({ kind: "replace", replaceReasons: ["metadata.name"] });
  });

  it("a create-first replacement that takes a deleted resource's name is found", () => {
    const DNS = "cloudflare:index/dnsRecord:DnsRecord";
    const rec = (name: string, type: string, content: string) =>
      resource(DNS, name, { zoneId: "z", name: "www.example", type, content });
    const diff = diffPlans(
      planOfResources([rec("old", "A", "192.0.2.1"), rec("moved", "AAAA", "2001:db8::1")]),
      planOfResources([rec("moved", "A", "192.0.2.1")]),
    );
    expect(diff.changes.map((c) => [c.kind, c.name])).toEqual([
      ["delete", "old"],
      ["replace", "moved"],
    ]);
    expect(diff.findings.map((f) => [f.check, f.urn.split("::").pop()])).toEqual([
      ["create-before-delete", "moved"],
      ["delete-removes-shared", "old"],
    ]);
  });

  it("a CNAME and another record on one name collide", () => {
    const DNS = "cloudflare:index/dnsRecord:DnsRecord";
    const findings = ownershipFindings([
      resource(DNS, "c", { zoneId: "z", name: "app.example", type: "CNAME", content: "x.example" }),
      resource(DNS, "a", { zoneId: "z", name: "app.example", type: "A", content: "192.0.2.1" }),
      resource(DNS, "b", { zoneId: "z", name: "app.example.net", type: "A", content: "192.0.2.1" }),
    ]);
    expect(findings.map((f) => [f.check, f.urn.split("::").pop()])).toEqual([
      ["one-owner-per-name", "a"],
    ]);
  });

  it("a name with a literal question mark is a real name, an unknown part is not", () => {
    const DNS = "cloudflare:index/dnsRecord:DnsRecord";
    const txt = (name: string) =>
      resource(DNS, name, { zoneId: "z", name: "t.example", type: "TXT", content: "why?" });
    expect(ownershipFindings([txt("a"), txt("b")])).toHaveLength(1);
    const unknown = (name: string) =>
      resource(DNS, name, { zoneId: "[unknown]", name: "t.example", type: "TXT", content: "x" });
    expect(ownershipFindings([unknown("a"), unknown("b")])).toEqual([]);
  });

  it("dependents of a resource taken over by alias are found under its new name", () => {
    const oldUrn = urn(FILE, "img-pve-1");
    const img = (file: string, name: string, aliases: string[] = []) =>
      resource(
        FILE,
        name,
        {
          nodeName: "pve-1",
          datastoreId: "cephfs",
          contentType: "iso",
          fileName: file,
          url: `https://f/${file}`,
        },
        { aliases, deleteBeforeReplace: true },
      );
    const vm = (deps: Record<string, string[]>) =>
      resource(VM, "vm", { name: "vm", disks: [{ fileId: "x" }] }, { propertyDependencies: deps });
    // The state: the VM's disks take the old download's id. The program: a plain id.
    const diff = diffPlans(
      planOfResources([img("a.img", "img-pve-1"), vm({ disks: [oldUrn] })], {}, shared),
      planOfResources([img("b.img", "img-cephfs", [oldUrn]), vm({})], {}, shared),
    );
    expect(
      diff.changes.map((c) => [c.kind, c.name, c.cascadeFrom?.split("::").pop() ?? ""]),
    ).toEqual([
      ["replace", "img-cephfs", ""],
      ["replace", "vm", "img-cephfs"],
    ]);
  });

  it("dependents are found from the state's dependencies, not only the new program's", () => {
    const snippet = urn(SNIPPET, "s");
    const sts = (deps: Record<string, string[]>) =>
      resource(
        "kubernetes:apps/v1:StatefulSet",
        "db",
        { metadata: { name: "db", namespace: "d" } },
        {
          propertyDependencies: deps,
        },
      );
    const snip = (data: string) => snippetFile(data, "n", "local", true);
    // The state still has `spec` taking the snippet's output: the engine re-diffs from there.
    const diff = diffPlans(
      planOfResources([snip("a"), sts({ spec: [snippet] })]),
      planOfResources([snip("b"), sts({})]),
    );
    expect(diff.changes.map((c) => [c.kind, c.name, c.cascadeFrom ?? ""])).toEqual([
      ["replace", "db", snippet],
      ["replace", "s", ""],
    ]);
  });
});

describe("cascades", () => {
  const dep = (
    type: string,
    name: string,
    inputs: Record<string, unknown>,
    from: string,
    prop: string,
    opts: Partial<PlanResource> = {},
  ) => resource(type, name, inputs, { propertyDependencies: { [prop]: [from] }, ...opts });

  it("a delete-first replacement takes along a dependent whose force-new input takes its outputs", () => {
    const snippet = urn(SNIPPET, "s");
    const vm = dep(
      VM,
      "vm",
      { name: "vm", initialization: { userDataFileId: "[unknown]" } },
      snippet,
      "initialization",
    );
    const replaced = new Map([
      [snippet, { urn: snippet, reasons: ["sourceRaw"], deleteFirst: true }],
    ]);
    expect(cascade(replaced, [vm])).toEqual([
      { urn: vm.urn, reasons: ["initialization"], deleteFirst: true, cascadeFrom: snippet },
    ]);
    // ...unless the dependent ignores that input after creation.
    expect(cascade(replaced, [{ ...vm, ignoreChanges: ["initialization"] }])).toEqual([]);
    // ...and never through an input that updates in place.
    expect(cascade(replaced, [dep(VM, "vm", { name: "vm" }, snippet, "tags")])).toEqual([]);
  });

  it("in every shipped stack, rewriting a snippet, an image or a Secret takes nothing along", async () => {
    // Their consumers name them by plain values and only wait for them (dependsOn), so a
    // delete-first replacement of one (every config change, every Talos release, a rotated
    // credential) never replaces a VM, a StatefulSet or a Deployment.
    const kinds = [SNIPPET, FILE, "kubernetes:core/v1:Secret"];
    for (const stack of SHIPPED_STACKS) {
      const plan = await stackPlan(stack);
      const roots = plan.resources.filter((r) => kinds.includes(r.type));
      expect(roots.length, stack).toBeGreaterThan(0);
      for (const r of roots) {
        const replaced = new Map([[r.urn, { urn: r.urn, reasons: ["(any)"], deleteFirst: true }]]);
        expect(cascade(replaced, plan.resources), `${stack} ${r.name}`).toEqual([]);
      }
    }
  });

  it("a replaced provider replaces every resource it manages; the cluster identifier decides", () => {
    const K8S = "pulumi:providers:kubernetes";
    const provider = (id: string, kubeconfig: string) =>
      resource(K8S, "kubernetes", { clusterIdentifier: id, kubeconfig });
    const ns = resource(
      "kubernetes:core/v1:Namespace",
      "ns",
      { metadata: { name: "apps" } },
      { provider: urn(K8S, "kubernetes") },
    );
    // A new kubeconfig of the same cluster: an update, nothing else.
    const renewed = diffPlans(
      planOfResources([provider("lab", "a"), ns]),
      planOfResources([provider("lab", "b"), ns]),
    );
    expect(renewed.changes.map((c) => [c.kind, c.name])).toEqual([["update", "kubernetes"]]);
    // Adding the identifier to a provider that had none replaces nothing (on-boarding).
    const onboarded = diffPlans(
      planOfResources([resource(K8S, "kubernetes", { kubeconfig: "a" }), ns]),
      planOfResources([provider("lab", "a"), ns]),
    );
    expect(onboarded.changes.map((c) => [c.kind, c.name])).toEqual([["update", "kubernetes"]]);
    // Without one, a new kubeconfig may be another cluster: replaced, with all it manages.
    const guessed = diffPlans(
      planOfResources([resource(K8S, "kubernetes", { kubeconfig: "a" }), ns]),
      planOfResources([resource(K8S, "kubernetes", { kubeconfig: "b" }), ns]),
    );
    expect(guessed.counts.replace).toBe(2);
    // Adding it in the same change as a new kubeconfig: the provider still goes by its
    // heuristics, and replaces.
    const both = diffPlans(
      planOfResources([resource(K8S, "kubernetes", { kubeconfig: "a" }), ns]),
      planOfResources([provider("lab", "b"), ns]),
    );
    expect(both.counts.replace).toBe(2);
    // Another cluster: the provider and everything it manages.
    const moved = diffPlans(
      planOfResources([provider("lab", "a"), ns]),
      planOfResources([provider("lab-2", "a"), ns]),
    );
    expect(moved.changes.map((c) => [c.kind, c.name, c.replaceReasons])).toEqual([
      ["replace", "ns", ["provider"]],
      ["replace", "kubernetes", ["clusterIdentifier"]],
    ]);
  });

  it("is transitive and ends (property: random dependency chains)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
        (n, forceNew) => {
          const chain: PlanResource[] = Array.from({ length: n }, (_, i) =>
            dep(
              "random:index/randomBytes:RandomBytes",
              `r${i + 1}`,
              { length: 32 },
              urn("random:index/randomBytes:RandomBytes", `r${i}`),
              forceNew[i] ? "length" : "keepers",
            ),
          );
          const root = urn("random:index/randomBytes:RandomBytes", "r0");
          const out = cascade(
            new Map([[root, { urn: root, reasons: ["length"], deleteFirst: false }]]),
            chain,
          );
          // Every input of a random resource forces a new one: the whole chain goes.
          expect(out.map((r) => r.urn).sort()).toEqual(chain.map((r) => r.urn).sort());
        },
      ),
    );
  });
});

describe("plans made before the lifecycle fields", () => {
  it("compare as plans that own nothing and set no option", () => {
    const old = {
      resources: [{ urn: urn(FILE, "a"), type: FILE, name: "a", inputs: {} }],
    } as never;
    const plan = normalizePlan(old);
    expect(plan.resources[0]).toMatchObject({
      owns: [],
      ignoreChanges: [],
      deleteBeforeReplace: false,
    });
    expect(() => normalizePlan({ resources: [{}] } as never)).toThrow("resources[0] has no urn");
    expect(() => normalizePlan(null as never)).toThrow("it has no resources list");
  });
});
