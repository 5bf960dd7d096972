import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

/** One public hostname and the in-cluster service it reaches. */
export interface TunnelRoute {
  readonly hostname: string;
  /** e.g. `http://grafana.observability.svc.cluster.local:80` */
  readonly service: string;
}

/**
 * The token cloudflared runs with: base64 of `{"a": account, "t": tunnel id, "s": secret}`.
 * Built from the tunnel's own secret, so no API call is needed to read it back.
 */
export function tunnelToken(accountId: string, tunnelId: string, secretBase64: string): string {
  return Buffer.from(JSON.stringify({ a: accountId, t: tunnelId, s: secretBase64 })).toString(
    "base64",
  );
}

/** The tunnel's ingress rules: one per hostname, sorted, then the mandatory catch-all. */
export function tunnelIngressRules(routes: readonly TunnelRoute[]) {
  // Duplicates are refused by the stack validation (duplicateHostnameProblems); this guards the
  // function on its own.
  const seen = new Set<string>();
  for (const s of routes) {
    if (seen.has(s.hostname)) throw new Error(`hostname ${s.hostname} is routed twice`);
    seen.add(s.hostname);
  }
  return [
    ...[...routes]
      .sort((a, b) => a.hostname.localeCompare(b.hostname))
      .map((s) => ({ hostname: s.hostname, service: s.service })),
    { service: "http_status:404" },
  ];
}

export interface EdgeTunnelArgs {
  readonly accountId: string;
  /** The tunnel's name in the Cloudflare account. */
  readonly tunnelName: string;
  /** Hostnames routed through the tunnel; sorted, so the order in the stack does not matter. */
  readonly routes: readonly TunnelRoute[];
  /**
   * Where these resources were registered before they moved to the edge area: the URN of the
   * old `homebrew-dev:kubernetes:TunnelIngress` component and the name it gave them. With it,
   * each resource carries an alias to its old URN, so the tunnel (and its id, which every
   * exposed name points at) is kept rather than replaced.
   * @default - no aliases
   */
  readonly movedFrom?: { readonly parentUrn: string; readonly name: string };
}

/**
 * A Cloudflare Tunnel: its secret, the tunnel (routes managed remotely) and its ingress rules.
 * The connector that runs it in the cluster is `kubernetes/ingress.ts`; every exposed hostname is
 * a proxied CNAME to `cnameTarget`.
 */
export class EdgeTunnel extends pulumi.ComponentResource {
  public readonly tunnelId: pulumi.Output<string>;
  /** `<tunnel id>.cfargotunnel.com`: the CNAME target of every exposed hostname. */
  public readonly cnameTarget: pulumi.Output<string>;
  /** The connector's token (a secret). */
  public readonly token: pulumi.Output<string>;

  constructor(name: string, args: EdgeTunnelArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homebrew-dev:edge:Tunnel", name, {}, opts);
    const moved = (oldSuffix: string) =>
      args.movedFrom !== undefined
        ? {
            aliases: [
              { name: `${args.movedFrom.name}-${oldSuffix}`, parent: args.movedFrom.parentUrn },
            ],
          }
        : {};
    const secret = new random.RandomBytes(
      `${name}-secret`,
      { length: 32 },
      { parent: this, ...moved("tunnel-secret") },
    );
    const tunnel = new cloudflare.ZeroTrustTunnelCloudflared(
      name,
      {
        accountId: args.accountId,
        name: args.tunnelName,
        // Routes are managed here (remotely), not in a config file inside the pod.
        configSrc: "cloudflare",
        tunnelSecret: pulumi.secret(secret.base64),
      },
      { parent: this, ...moved("tunnel") },
    );
    new cloudflare.ZeroTrustTunnelCloudflaredConfig(
      `${name}-routes`,
      {
        accountId: args.accountId,
        tunnelId: tunnel.id,
        config: { ingresses: tunnelIngressRules(args.routes) },
      },
      { parent: this, ...moved("routes") },
    );
    this.tunnelId = tunnel.id;
    this.cnameTarget = pulumi.interpolate`${tunnel.id}.cfargotunnel.com`;
    this.token = pulumi.secret(
      pulumi.all([tunnel.id, secret.base64]).apply(([id, s]) => tunnelToken(args.accountId, id, s)),
    );
    this.registerOutputs({ tunnelId: this.tunnelId, cnameTarget: this.cnameTarget });
  }
}
