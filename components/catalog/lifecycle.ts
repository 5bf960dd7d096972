/**
 * How `pulumi up` changes each resource type the program uses: which input changes the provider
 * applies in place and which replace the resource, whether the provider itself deletes the old
 * one first, and which physical names (a file on a datastore, a DNS name, a Kubernetes object) a
 * resource owns in the real system. The plan's lifecycle analysis (`tools/plan/lifecycle.ts`)
 * reads this table; each entry names the upstream source it was read from, at the pinned version.
 */

/**
 * The suffix of a name that excludes every name below it (`<name>/...`): a CNAME owns its DNS name
 * outright.
 */
export const EXCLUSIVE = "/*";

/** What the lifecycle analysis knows of a stack beyond its resources. */
export interface LifecycleFacts {
  /**
   * Proxmox datastores every host sees as one (CephFS, NFS: `shared 1` in storage.cfg): a file on
   * them has one name cluster-wide, whichever host wrote it.
   */
  readonly sharedDatastores: readonly string[];
}

export const NO_FACTS: LifecycleFacts = { sharedDatastores: [] };

/** The facts of a stack, from its config map (`homebrew-dev:proxmox` as JSON). */
export function lifecycleFacts(config: Readonly<Record<string, string>>): LifecycleFacts {
  try {
    const proxmox = JSON.parse(config["homebrew-dev:proxmox"] ?? "{}") as {
      sharedDatastores?: unknown;
    };
    const shared = Array.isArray(proxmox.sharedDatastores)
      ? proxmox.sharedDatastores.filter((d): d is string => typeof d === "string")
      : [];
    return { sharedDatastores: [...new Set(shared)].sort() };
  } catch {
    // An unreadable config is reported by the program's validation, not here.
    return NO_FACTS;
  }
}

/** How the provider replaces a resource. */
export const Replacement = {
  /** Pulumi's default: the new resource is created, then the old one deleted. */
  createBeforeDelete: "create-before-delete",
  /** The provider asks the engine to delete the old resource first. */
  deleteBeforeReplace: "delete-before-replace",
  /** Delete first when the resource has an explicit name (it cannot exist twice), else create first. */
  deleteFirstWhenNamed: "delete-first-when-named",
} as const;
export type Replacement = (typeof Replacement)[keyof typeof Replacement];

export interface TypeLifecycle {
  /**
   * Input paths whose change replaces the resource (a property, or a prefix of nested ones;
   * `[*]` stands for any list index), `any` when every input does, or a function of the inputs
   * when it depends on them.
   */
  readonly replaceOn:
    readonly string[] | "any" | ((inputs: Readonly<Record<string, unknown>>) => readonly string[]);
  readonly replacement: Replacement;
  /**
   * Whether a change of a force-new path does replace, given both values (when the provider
   * looks at more than the path).
   * @default - always
   */
  readonly replaceIf?: (
    path: string,
    value: { readonly before: unknown; readonly after: unknown },
    before: Readonly<Record<string, unknown>>,
    after: Readonly<Record<string, unknown>>,
  ) => boolean;
  /**
   * For `deleteFirstWhenNamed`: whether these inputs name the resource explicitly.
   * @default - it owns a physical name
   */
  readonly named?: (inputs: Readonly<Record<string, unknown>>) => boolean;
  /**
   * Input paths the real system refuses to change although the provider updates them in place:
   * such an update fails at `pulumi up`.
   * @default []
   */
  readonly immutable?: readonly string[];
  /** The physical names a resource of this type owns, from its plan inputs. */
  readonly owns?: (inputs: Readonly<Record<string, unknown>>, facts: LifecycleFacts) => string[];
  /** Where this was read: repository, version and file. */
  readonly source: string;
}

/**
 * The name part of a value the plan cannot know (a secret, an id computed at deployment): a name
 * holding it proves no collision.
 */
export const UNKNOWN_PART = "⟨unknown⟩";

/** A plan value as a name part: secrets and unknowns become `UNKNOWN_PART`. */
function part(v: unknown): string {
  if (typeof v === "string" && v !== "" && v !== "[secret]" && v !== "[unknown]") return v;
  if (typeof v === "number") return String(v);
  return UNKNOWN_PART;
}

/** The value at a dotted path of nested objects (`metadata.name`), or undefined. */
export function valueAt(value: unknown, path: string): unknown {
  let v = value;
  for (const key of path.split(".")) {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}
const at = valueAt;

/**
 * A file on a Proxmox datastore: `<datastore>:<content type>/<file>` is its volume id (the
 * resources' id), on the host that wrote it unless the datastore is shared.
 */
function proxmoxFile(
  node: unknown,
  datastore: unknown,
  contentType: unknown,
  file: unknown,
  facts: LifecycleFacts,
): string {
  const ds = part(datastore);
  const scope = facts.sharedDatastores.includes(ds) ? "*" : part(node);
  return `proxmox-file:${scope}/${ds}:${part(contentType)}/${part(file)}`;
}

/** The Kubernetes object a resource of `group/version:Kind` creates: kind, namespace and name. */
function kubernetesObject(type: string) {
  const [, apiVersion = "", kind = ""] = /^kubernetes:([^:]+):(.+)$/.exec(type) ?? [];
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.lastIndexOf("/")) : "";
  return (inputs: Readonly<Record<string, unknown>>): string[] => {
    const name = at(inputs, "metadata.name");
    if (typeof name !== "string") return []; // auto-named: a fresh name every time
    const ns = part(at(inputs, "metadata.namespace") ?? "default");
    const scope = CLUSTER_SCOPED.has(kind) ? "" : `${ns}/`;
    return [`kubernetes:${group === "" ? "core" : group}:${kind}:${scope}${part(name)}`];
  };
}

const CLUSTER_SCOPED = new Set([
  "Namespace",
  "ClusterRole",
  "ClusterRoleBinding",
  "RuntimeClass",
  "StorageClass",
  "CustomResourceDefinition",
  "PriorityClass",
  "ValidatingWebhookConfiguration",
  "MutatingWebhookConfiguration",
  "VolumeSnapshotClass",
]);

/**
 * pulumi-kubernetes (read at v4.32.0; provider.go, diff.go and metadata/naming.go unchanged to
 * the main branch): a change of `metadata.name` or `metadata.namespace` replaces any object
 * (diff.go `metadataForceNewProperties`); the per-kind force-new table adds the entries below
 * (diff.go `forceNewProperties`). A replacement deletes first when the object has an explicit
 * name that stays the same (provider.go `Diff`), creates first otherwise. Fields the API server
 * refuses to change that the provider does not replace for are `immutable`: the update fails.
 */
const KUBERNETES_IDENTITY = ["metadata.name", "metadata.namespace"];
const kubernetes = (
  fields: readonly string[] = [],
  immutable: readonly string[] = [],
): Omit<TypeLifecycle, "owns"> => ({
  replaceOn: [...KUBERNETES_IDENTITY, ...fields],
  replacement: Replacement.deleteFirstWhenNamed,
  ...(immutable.length > 0 ? { immutable } : {}),
  source: "pulumi/pulumi-kubernetes v4.32.0 provider/pkg/provider/provider.go, diff.go",
});

/** The lifecycle of every resource type the program registers, by type token. */
export const LIFECYCLE: Readonly<Record<string, TypeLifecycle>> = {
  // bpg/terraform-provider-proxmox v0.111 (bridged by @muhlba91/pulumi-proxmoxve 8.x; the
  // resources below are unchanged up to the provider's main branch):
  // proxmoxtf/resource/vm/vm.go (ForceNew fields and CustomizeDiff), vm/disk/schema.go.
  // - `node_name` replaces unless `migrate` is set (then the provider migrates the VM live);
  // - `vm_id`, `initialization.*_data_file_id`, `initialization.type` and a disk's `file_id`
  //   replace; cpu, memory, disks' size, NICs, PCI devices, tags and name update in place.
  // The bridge gives every input called `name` auto-naming (resources.go `SetAutonaming`), and an
  // explicitly set auto-named input makes a replacement delete first
  // (pulumi-terraform-bridge pkg/tfbridge/schema.go `nameRequiresDeleteBeforeReplace`).
  "proxmoxve:index/vmLegacy:VmLegacy": {
    replaceOn: (i) => [
      "vmId",
      ...(i["migrate"] === true ? [] : ["nodeName"]),
      "initialization.userDataFileId",
      "initialization.vendorDataFileId",
      "initialization.networkDataFileId",
      "initialization.metaDataFileId",
      "initialization.type",
      "disks[*].fileId",
      "clone",
    ],
    replacement: Replacement.deleteFirstWhenNamed,
    named: (i) => typeof i["name"] === "string",
    owns: (i) => (i["vmId"] !== undefined ? [`proxmox-vm:${part(i["vmId"])}`] : []),
    source: "bpg/terraform-provider-proxmox v0.111 proxmoxtf/resource/vm/vm.go",
  },
  // proxmoxtf/resource/file.go: where the file goes and its source replace (`overwrite` and the
  // upload settings update in place); the id is the volume id `<datastore>:<type>/<file>`; create
  // with `overwrite` (default true) writes over an existing file, delete removes it by id.
  "proxmoxve:index/fileLegacy:FileLegacy": {
    replaceOn: ["nodeName", "datastoreId", "contentType", "fileMode", "sourceRaw", "sourceFile"],
    replacement: Replacement.createBeforeDelete,
    owns: (i, f) => [
      proxmoxFile(
        i["nodeName"],
        i["datastoreId"],
        i["contentType"] ?? "snippets",
        at(i, "sourceRaw.fileName") ?? at(i, "sourceFile.fileName"),
        f,
      ),
    ],
    source: "bpg/terraform-provider-proxmox v0.111 proxmoxtf/resource/file.go",
  },
  // fwprovider/nodes/resource_download_file.go (a plugin-framework resource: the bridge never
  // deletes first on its own, pkg/pf/tfbridge/provider_diff.go): RequiresReplace on where and
  // what it downloads; create fails on an existing file ("managed by another resource") unless
  // `overwriteUnmanaged`; delete removes the file by its id, which does not name the host.
  "proxmoxve:download/file:File": {
    replaceOn: [
      "nodeName",
      "datastoreId",
      "contentType",
      "url",
      "fileName",
      "decompressionAlgorithm",
      "checksum",
      "checksumAlgorithm",
    ],
    replacement: Replacement.createBeforeDelete,
    owns: (i, f) => [
      proxmoxFile(i["nodeName"], i["datastoreId"], i["contentType"], i["fileName"], f),
    ],
    source: "bpg/terraform-provider-proxmox v0.111 fwprovider/nodes/resource_download_file.go",
  },
  // cloudflare/terraform-provider-cloudflare v5.22 (bridged by @pulumi/cloudflare 6.22.1, a
  // release newer than v5.22.0 whose replace rules match v5.19 and v5.22):
  // internal/services/*/schema.go, RequiresReplace plan modifiers. Plugin-framework resources:
  // the bridge never deletes first (pkg/pf/tfbridge/provider_diff.go).
  "cloudflare:index/zone:Zone": {
    replaceOn: ["name", "account"],
    replacement: Replacement.createBeforeDelete,
    owns: (i) => [`cloudflare-zone:${part(i["name"])}`],
    source: "cloudflare/terraform-provider-cloudflare v5.22.0 internal/services/zone/schema.go",
  },
  "cloudflare:index/dnsRecord:DnsRecord": {
    replaceOn: ["zoneId", "type"],
    replacement: Replacement.createBeforeDelete,
    // A name may carry several records of a type (CAA, MX, TXT), never two identical ones, and a
    // CNAME nothing else (RFC 1034 3.6.2; the API refuses both): the CNAME owns the name itself,
    // which `exclusiveOwner` makes collide with every record below it.
    owns: (i) =>
      i["type"] === "CNAME"
        ? [`cloudflare-dns:${part(i["zoneId"])}/${part(i["name"])}${EXCLUSIVE}`]
        : [
            `cloudflare-dns:${part(i["zoneId"])}/${part(i["name"])}/${part(i["type"])}/${JSON.stringify(i["content"] ?? i["data"] ?? null)}`,
          ],
    source:
      "cloudflare/terraform-provider-cloudflare v5.22.0 internal/services/dns_record/schema.go",
  },
  "cloudflare:index/ruleset:Ruleset": {
    replaceOn: ["zoneId", "accountId", "kind", "name", "phase"],
    replacement: Replacement.createBeforeDelete,
    // One entry-point ruleset per zone and phase.
    owns: (i) =>
      i["kind"] === "zone" ? [`cloudflare-ruleset:${part(i["zoneId"])}/${part(i["phase"])}`] : [],
    source: "cloudflare/terraform-provider-cloudflare v5.22.0 internal/services/ruleset/schema.go",
  },
  "cloudflare:index/list:List": {
    replaceOn: ["accountId", "kind", "name"],
    replacement: Replacement.createBeforeDelete,
    // List names are unique per account.
    owns: (i) => [`cloudflare-list:${part(i["accountId"])}/${part(i["name"])}`],
    source: "cloudflare/terraform-provider-cloudflare v5.22.0 internal/services/list/schema.go",
  },
  "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared": {
    // `config_src` replaces only when set in the program (a plan modifier on the configured value).
    replaceOn: (i) => ["accountId", ...(i["configSrc"] !== undefined ? ["configSrc"] : [])],
    replacement: Replacement.createBeforeDelete,
    owns: (i) => [`cloudflare-tunnel:${part(i["accountId"])}/${part(i["name"])}`],
    source:
      "cloudflare/terraform-provider-cloudflare v5.22.0 internal/services/zero_trust_tunnel_cloudflared/schema.go",
  },
  "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig": {
    replaceOn: ["accountId", "tunnelId"],
    replacement: Replacement.createBeforeDelete,
    source:
      "cloudflare/terraform-provider-cloudflare v5.22.0 internal/services/zero_trust_tunnel_cloudflared_config/schema.go",
  },
  // @pulumi/command 1.2.1: the SDK registers every Command with `replaceOnChanges: ["triggers[*]"]`
  // (sdk/nodejs/local/command.ts), so a change of `triggers` replaces (runs `create`); any other
  // input change runs `update`, or `create` again when there is none. The command inherits the
  // environment of the `pulumi up` process; the provider never deletes first. A removal step owns
  // the address of the node it resets: a new node on that address while the old one still runs
  // would be reset in its place.
  "command:local:Command": {
    replaceOn: ["triggers"],
    replacement: Replacement.createBeforeDelete,
    owns: (i) =>
      typeof i["delete"] === "string"
        ? [...i["delete"].matchAll(/talosctl (?:--\S+ \S+ )*--nodes (\S+) reset /g)].map(
            (m) => `talos-node:${m[1]}`,
          )
        : [],
    source: "pulumi/pulumi-command v1.2.1 sdk/nodejs/local/command.ts",
  },
  // pulumi-kubernetes provider/pkg/provider/provider.go `DiffConfig`: a kubeconfig, context or
  // cluster that is unknown at diff time (a renewed admin certificate) replaces the provider, and a
  // known one when its active cluster changes; with a `clusterIdentifier` that stays the same,
  // nothing replaces it, and only a changed identifier does (adding or removing one does not). A
  // replaced provider replaces every resource it manages.
  "pulumi:providers:kubernetes": {
    replaceOn: ["clusterIdentifier", "kubeconfig", "context", "cluster"],
    // The identifier replaces when it changes between two values; the kubeconfig, context and
    // cluster replace unless the identifier is set on both sides and the same (adding it in the
    // same change as a new kubeconfig still replaces).
    replaceIf: (path, value, before, after) =>
      path === "clusterIdentifier"
        ? value.before !== undefined && value.after !== undefined
        : !(
            before["clusterIdentifier"] !== undefined &&
            before["clusterIdentifier"] === after["clusterIdentifier"]
          ),
    replacement: Replacement.createBeforeDelete,
    source: "pulumi/pulumi-kubernetes v4.32.0 provider/pkg/provider/provider.go",
  },
  // @pulumi/docker-build 0.0.22 (image.d.ts, "Tag deletion and refreshes"): a changed build is an
  // update that pushes again; deleting an image deletes the tags it pushed, so a tag is a name
  // it owns.
  "docker-build:index:Image": {
    replaceOn: [],
    replacement: Replacement.createBeforeDelete,
    owns: (i) =>
      i["push"] === true && Array.isArray(i["tags"])
        ? i["tags"].map((t) => `image-tag:${part(t)}`)
        : [],
    source: "pulumi/pulumi-docker-build v0.0.22 sdk/nodejs/image.ts",
  },
  // hashicorp/terraform-provider-random v3.9 and -tls v4.3 (bridged by @pulumi/random 4.21 and
  // @pulumi/tls 5.x): every argument forces a new resource (tls's `early_renewal_hours` aside).
  "random:index/randomBytes:RandomBytes": {
    replaceOn: "any",
    replacement: Replacement.createBeforeDelete,
    source: "hashicorp/terraform-provider-random v3.9.0 internal/provider/resource_bytes.go",
  },
  "random:index/randomString:RandomString": {
    replaceOn: "any",
    replacement: Replacement.createBeforeDelete,
    source: "hashicorp/terraform-provider-random v3.9.0 internal/provider/resource_string.go",
  },
  "random:index/randomPassword:RandomPassword": {
    replaceOn: "any",
    replacement: Replacement.createBeforeDelete,
    source: "hashicorp/terraform-provider-random v3.9.0 internal/provider/resource_password.go",
  },
  "tls:index/privateKey:PrivateKey": {
    replaceOn: "any",
    replacement: Replacement.createBeforeDelete,
    source: "hashicorp/terraform-provider-tls v4.3.0 internal/provider/resource_private_key.go",
  },
  "tls:index/selfSignedCert:SelfSignedCert": {
    replaceOn: "any",
    replacement: Replacement.createBeforeDelete,
    source:
      "hashicorp/terraform-provider-tls v4.3.0 internal/provider/resource_self_signed_cert.go",
  },
  "tls:index/certRequest:CertRequest": {
    replaceOn: "any",
    replacement: Replacement.createBeforeDelete,
    source: "hashicorp/terraform-provider-tls v4.3.0 internal/provider/resource_cert_request.go",
  },
  "tls:index/locallySignedCert:LocallySignedCert": {
    replaceOn: "any",
    replacement: Replacement.createBeforeDelete,
    source:
      "hashicorp/terraform-provider-tls v4.3.0 internal/provider/resource_locally_signed_cert.go",
  },
  // helm_release.go `Diff`: only the release name and namespace replace (a chart or values
  // change is a `helm upgrade`), and never delete first.
  "kubernetes:helm.sh/v3:Release": {
    replaceOn: ["name", "namespace"],
    replacement: Replacement.createBeforeDelete,
    owns: (i) =>
      typeof i["name"] === "string"
        ? [`helm-release:${part(i["namespace"] ?? "default")}/${part(i["name"])}`]
        : [],
    source: "pulumi/pulumi-kubernetes v4.34.2 provider/pkg/provider/helm_release.go",
  },
  "kubernetes:apps/v1:Deployment": kubernetes(["spec.selector"]),
  // The Proxmox CSI plugin's identity: a role, a user, its ACL and its token, each named by its
  // id; every id replaces (proxmoxtf/resource/role.go and user.go `ForceNew`,
  // fwprovider/access/resource_acl.go and resource_user_token.go `RequiresReplace`), so a
  // replacement has a new name and create-first is safe. Privileges, comments and propagation
  // update in place.
  "proxmoxve:index/roleLegacy:RoleLegacy": {
    replaceOn: ["roleId"],
    replacement: Replacement.createBeforeDelete,
    owns: (i) => [`proxmox-role:${part(i["roleId"])}`],
    source: "bpg/terraform-provider-proxmox v0.111 proxmoxtf/resource/role.go",
  },
  "proxmoxve:index/userLegacy:UserLegacy": {
    replaceOn: ["userId"],
    replacement: Replacement.createBeforeDelete,
    owns: (i) => [`proxmox-user:${part(i["userId"])}`],
    source: "bpg/terraform-provider-proxmox v0.111 proxmoxtf/resource/user.go",
  },
  "proxmoxve:index/acl:Acl": {
    replaceOn: ["path", "roleId", "userId", "groupId", "tokenId"],
    replacement: Replacement.createBeforeDelete,
    source: "bpg/terraform-provider-proxmox v0.111 fwprovider/access/resource_acl.go",
  },
  "proxmoxve:user/token:Token": {
    replaceOn: ["userId", "tokenName"],
    replacement: Replacement.createBeforeDelete,
    owns: (i) => [`proxmox-token:${part(i["userId"])}!${part(i["tokenName"])}`],
    source: "bpg/terraform-provider-proxmox v0.111 fwprovider/access/resource_user_token.go",
  },
  // The API forbids changing a class's provisioner, parameters, reclaim policy and binding mode
  // (kubernetes pkg/apis/storage/validation ValidateStorageClassUpdate); the class is replaced.
  // Replacing a class touches no volume: bound claims keep theirs.
  "kubernetes:storage.k8s.io/v1:StorageClass": kubernetes([
    "provisioner",
    "parameters",
    "reclaimPolicy",
    "volumeBindingMode",
  ]),
  "kubernetes:apps/v1:StatefulSet": kubernetes([
    "spec.selector",
    "spec.serviceName",
    "spec.volumeClaimTemplates",
    "spec.podManagementPolicy",
    "spec.revisionHistoryLimit",
  ]),
  "kubernetes:batch/v1:Job": kubernetes([
    "spec.template",
    "spec.selector",
    "spec.completions",
    "spec.parallelism",
  ]),
  "kubernetes:core/v1:Service": kubernetes(["spec.clusterIP"]),
  // `resources` is left out of the table on purpose: a larger request is an expansion, which
  // only a StorageClass with allowVolumeExpansion accepts.
  "kubernetes:core/v1:PersistentVolumeClaim": kubernetes([
    "spec.storageClassName",
    "spec.accessModes",
    "spec.selector",
    "spec.volumeName",
  ]),
  // Secrets are replaced on any data change unless the provider runs with
  // `enableSecretMutable` (this program's provider does not).
  "kubernetes:core/v1:Secret": kubernetes(["type", "data", "stringData"]),
  "kubernetes:core/v1:Namespace": kubernetes(),
  "kubernetes:core/v1:ServiceAccount": kubernetes(),
  "kubernetes:networking.k8s.io/v1:NetworkPolicy": kubernetes(),
  "kubernetes:policy/v1:PodDisruptionBudget": kubernetes(),
  "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": kubernetes(),
  "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole": kubernetes(),
  "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": kubernetes(["roleRef"]),
  "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": kubernetes(["roleRef"]),
  // `handler` is immutable in the API (node.k8s.io validation); the provider sends an update.
  "kubernetes:node.k8s.io/v1:RuntimeClass": kubernetes([], ["handler"]),
  "kubernetes:monitoring.coreos.com/v1:PodMonitor": kubernetes(),
  "kubernetes:monitoring.coreos.com/v1:PrometheusRule": kubernetes(),
  "kubernetes:postgresql.cnpg.io/v1:Cluster": kubernetes(),
  // ConfigMaps are replaced on any data change unless the provider runs with
  // `enableConfigMapMutable` (a preview feature, off by default; this program's provider does not).
  "kubernetes:core/v1:ConfigMap": kubernetes(["data", "binaryData"]),
  "kubernetes:keda.sh/v1alpha1:ScaledObject": kubernetes(),
  "kubernetes:http.keda.sh/v1beta1:InterceptorRoute": kubernetes(),
};

/**
 * What is lost when a resource of a type is deleted or replaced, for the types where something
 * is: the reviewer's reason to look twice. Types not here (files rewritten from the program,
 * policies, services, records) come back as they were.
 */
export const LOSES: Readonly<Record<string, string>> = {
  "proxmoxve:index/vmLegacy:VmLegacy":
    "a Talos node: its disk, its workloads' local data and, for a control plane, its etcd member",
  "kubernetes:core/v1:PersistentVolumeClaim": "a volume and its data",
  "kubernetes:apps/v1:StatefulSet": "its pods, down between the delete and the create",
  "kubernetes:postgresql.cnpg.io/v1:Cluster": "a PostgreSQL cluster and its data",
  "kubernetes:core/v1:Namespace": "everything in the namespace",
  "cloudflare:index/zone:Zone": "the zone with every record, rule and certificate in it",
  "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared":
    "the tunnel: every exposed name is down until the connector has the new token",
  "random:index/randomBytes:RandomBytes": "a generated secret: whatever it keys is new",
  "random:index/randomString:RandomString": "a generated secret: whatever it keys is new",
  "random:index/randomPassword:RandomPassword": "a generated password: its clients must change",
  "tls:index/privateKey:PrivateKey": "a key: everything it signed or that trusts it changes",
  "tls:index/selfSignedCert:SelfSignedCert": "a CA: everything it signed must be signed again",
};

/** Component resources and providers: no physical thing of their own. */
export function isLogical(type: string): boolean {
  return type.startsWith("homebrew-dev:") || type.startsWith("pulumi:");
}

/** The lifecycle entry of a type, with Kubernetes kinds outside the table given the defaults. */
export function lifecycleOf(type: string): TypeLifecycle | undefined {
  const known = LIFECYCLE[type];
  if (known !== undefined) return known;
  // A kind outside the table still follows the provider's rules for names and namespaces.
  if (type.startsWith("kubernetes:") && type !== "kubernetes:helm.sh/v3:Release") {
    return kubernetes();
  }
  return undefined;
}

/** The physical names a resource owns, from its plan inputs (empty for logical resources). */
export function physicalNames(
  type: string,
  inputs: Readonly<Record<string, unknown>>,
  facts: LifecycleFacts,
  cluster?: string,
): string[] {
  const entry = lifecycleOf(type);
  const names =
    entry?.owns !== undefined
      ? entry.owns(inputs, facts)
      : type.startsWith("kubernetes:")
        ? kubernetesObject(type)(inputs)
        : [];
  // Kubernetes names are unique within one cluster: `cluster` is the identity of the provider's
  // cluster (its `clusterIdentifier`), so that objects of two clusters never collide.
  if (cluster === undefined || !type.startsWith("kubernetes:")) return names;
  return names.map((n) => `[${cluster}]${n}`);
}
