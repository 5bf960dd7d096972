import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, name, podPolicy } from "./util";

/** The repository, tag and digest of an image reference. */
export function parseImage(ref: string): { repository: string; tag?: string; digest?: string } {
  const [rest = "", digest] = ref.split("@");
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  const hasTag = colon > slash;
  return {
    repository: hasTag ? rest.slice(0, colon) : rest,
    ...(hasTag ? { tag: rest.slice(colon + 1) } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/** The registry host of a repository (Docker Hub when the first part is not a host). */
export function registryOf(repository: string): string {
  const first = repository.split("/")[0] ?? "";
  return repository.includes("/") && /[.:]|^localhost$/.test(first) ? first : "docker.io";
}

export const noLatestTag = podPolicy({
  name: "image-no-latest-tag",
  description: "Images are pinned: a version tag or a digest, never `latest` or no tag at all.",
  enforcementLevel: "mandatory",
  exemptNamespaces: [],
  check: (spec, report) => {
    for (const { kind, c } of containersOf(spec)) {
      const image = c["image"];
      if (typeof image !== "string") continue;
      const { tag, digest } = parseImage(image);
      if (digest === undefined && (tag === undefined || tag === "latest")) {
        report(`${kind} "${name(c)}" uses ${image}: pin a version tag or a digest`);
      }
    }
  },
});

export const digestPreferred = podPolicy({
  name: "image-digest-preferred",
  description: "Images are referenced by digest, so a tag moved upstream changes nothing here.",
  enforcementLevel: "advisory",
  exemptNamespaces: [],
  check: (spec, report) => {
    for (const { kind, c } of containersOf(spec)) {
      const image = c["image"];
      if (typeof image === "string" && parseImage(image).digest === undefined) {
        report(`${kind} "${name(c)}" uses ${image} by tag, not by digest`);
      }
    }
  },
});

/** Registries images may come from, unless the pack config says otherwise. */
export const DEFAULT_REGISTRIES = [
  "docker.io",
  "ghcr.io",
  "registry.k8s.io",
  "quay.io",
  "nvcr.io",
  "factory.talos.dev",
];

export const approvedRegistries = podPolicy({
  name: "image-approved-registries",
  description: "Images come only from approved registries.",
  enforcementLevel: "advisory",
  exemptNamespaces: [],
  configSchema: {
    properties: {
      registries: { type: "array", items: { type: "string" }, default: DEFAULT_REGISTRIES },
    },
  },
  check: (spec, report, _props, args) => {
    const allowed = args.getConfig<{ registries?: string[] }>().registries ?? DEFAULT_REGISTRIES;
    for (const { kind, c } of containersOf(spec)) {
      const image = c["image"];
      if (typeof image !== "string") continue;
      const registry = registryOf(parseImage(image).repository);
      if (!allowed.includes(registry)) {
        report(`${kind} "${name(c)}" pulls from ${registry}, not an approved registry`);
      }
    }
  },
});

/** Names of environment variables that hold credentials. */
const SECRET_NAME = /(TOKEN|PASSWORD|PASSWD|SECRET|API_?KEY|PRIVATE_?KEY|CREDENTIAL)/i;

export const noSecretLiterals = podPolicy({
  name: "env-no-secret-literals",
  description:
    "Credentials reach containers from Secrets (valueFrom), never as literal environment values.",
  enforcementLevel: "mandatory",
  exemptNamespaces: [],
  check: (spec, report) => {
    for (const { kind, c } of containersOf(spec)) {
      for (const e of Array.isArray(c["env"]) ? c["env"] : []) {
        if (typeof e?.name !== "string" || !SECRET_NAME.test(e.name)) continue;
        if (typeof e.value === "string" && e.value !== "") {
          report(`${kind} "${name(c)}" sets ${e.name} to a literal value: use a Secret`);
        }
      }
    }
  },
});

export const imagePolicies: ResourceValidationPolicy[] = [
  noLatestTag,
  digestPreferred,
  approvedRegistries,
  noSecretLiterals,
];
