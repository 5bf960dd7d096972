import type { StackConfig } from "./schema";

/** Who declares a public hostname. */
export type HostnameOwner =
  | { readonly kind: "grafana" }
  | { readonly kind: "gateway" }
  | { readonly kind: "image"; readonly index: number }
  | { readonly kind: "model"; readonly index: number };

export interface DeclaredHostname {
  readonly hostname: string;
  /** Its key path in the stack file (below the config namespace). */
  readonly path: readonly (string | number)[];
  readonly owner: HostnameOwner;
}

/**
 * Every public hostname the stack declares, with its key path, in the order of the stack file:
 * Grafana's (when observability runs), the model gateway's (when models run), the models', the images'. The one list the ingress routes,
 * the DNS records and the validation are made from.
 */
export function declaredHostnames(
  config: Pick<StackConfig, "models"> &
    Partial<Pick<StackConfig, "builds" | "platform" | "modelGateway">>,
): DeclaredHostname[] {
  const names: DeclaredHostname[] = [];
  const o = config.platform?.observability;
  if (o?.enabled === true && o.grafanaHostname !== undefined) {
    names.push({
      hostname: o.grafanaHostname,
      path: ["platform", "observability", "grafanaHostname"],
      owner: { kind: "grafana" },
    });
  }
  const gateway = config.modelGateway?.hostname;
  if (config.models.length > 0 && gateway !== undefined) {
    names.push({
      hostname: gateway,
      path: ["modelGateway", "hostname"],
      owner: { kind: "gateway" },
    });
  }
  config.models.forEach((m, index) => {
    if (m.hostname !== undefined) {
      names.push({
        hostname: m.hostname,
        path: ["models", index, "hostname"],
        owner: { kind: "model", index },
      });
    }
  });
  config.builds?.images.forEach((img, index) => {
    if (img.hostname !== undefined) {
      names.push({
        hostname: img.hostname,
        path: ["builds", "images", index, "hostname"],
        owner: { kind: "image", index },
      });
    }
  });
  return names;
}

/** A hostname declared twice: the second declaration, naming where the first one is. */
export function duplicateHostnameProblems(
  names: readonly DeclaredHostname[],
): { path: readonly (string | number)[]; message: string }[] {
  const first = new Map<string, DeclaredHostname>();
  const problems: { path: readonly (string | number)[]; message: string }[] = [];
  for (const n of names) {
    const key = n.hostname.toLowerCase().replace(/\.$/, "");
    const seen = first.get(key);
    if (seen !== undefined) {
      const where = seen.path
        .map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`))
        .join("");
      problems.push({
        path: n.path,
        message: `hostname ${n.hostname} is already exposed by ${where}: one public name, one service`,
      });
    } else first.set(key, n);
  }
  return problems;
}
