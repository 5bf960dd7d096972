import * as cloudflare from "@pulumi/cloudflare";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { appLabels, containerSecurityContext, securePodFields } from "./podDefaults";
import { IMAGES, imageRef } from "../catalog/images";

/** The pinned connector image. */
export const CLOUDFLARED_IMAGE = imageRef(IMAGES.cloudflared);
/** Port of cloudflared's metrics and readiness endpoint. */
export const CLOUDFLARED_METRICS_PORT = 2000;

/** One public hostname and the in-cluster service it reaches. */
export interface ExposedService {
  readonly hostname: string;
  /** e.g. `http://grafana.observability.svc.cluster.local:80` */
  readonly service: string;
}

export interface TunnelIngressArgs {
  readonly accountId: string;
  readonly tunnelName: string;
  readonly namespace: pulumi.Input<string>;
  /** Hostnames routed through the tunnel; sorted, so the order in the stack does not matter. */
  readonly services: readonly ExposedService[];
  /**
   * Connector replicas (each keeps four connections to the edge).
   * @default 2
   */
  readonly replicas?: number;
}

/**
 * The token cloudflared runs with: base64 of `{"a": account, "t": tunnel id, "s": secret}`.
 * Built here from the tunnel's own secret, so no API call is needed to read it back.
 */
export function tunnelToken(accountId: string, tunnelId: string, secretBase64: string): string {
  return Buffer.from(JSON.stringify({ a: accountId, t: tunnelId, s: secretBase64 })).toString(
    "base64",
  );
}

/** The tunnel's ingress rules: one per hostname, then the mandatory catch-all. */
export function tunnelIngressRules(services: readonly ExposedService[]) {
  const seen = new Set<string>();
  for (const s of services) {
    if (seen.has(s.hostname)) throw new Error(`hostname ${s.hostname} is exposed twice`);
    seen.add(s.hostname);
  }
  return [
    ...[...services]
      .sort((a, b) => a.hostname.localeCompare(b.hostname))
      .map((s) => ({ hostname: s.hostname, service: s.service })),
    { service: "http_status:404" },
  ];
}

/**
 * The one way in: a Cloudflare Tunnel. cloudflared runs inside the cluster and dials out to the
 * edge, so no port is opened on the home network and no load balancer is needed; every
 * public hostname is a route of the tunnel and a proxied CNAME to `<tunnel>.cfargotunnel.com`.
 */
export class TunnelIngress extends pulumi.ComponentResource {
  /** The CNAME target of every exposed hostname. */
  public readonly cnameTarget: pulumi.Output<string>;
  public readonly tunnelId: pulumi.Output<string>;

  constructor(name: string, args: TunnelIngressArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homebrew-dev:kubernetes:TunnelIngress", name, {}, opts);
    const replicas = args.replicas ?? 2;
    const parent = { parent: this };

    const secret = new random.RandomBytes(`${name}-tunnel-secret`, { length: 32 }, parent);
    const tunnel = new cloudflare.ZeroTrustTunnelCloudflared(
      `${name}-tunnel`,
      {
        accountId: args.accountId,
        name: args.tunnelName,
        // Routes are managed here (remotely), not in a config file inside the pod.
        configSrc: "cloudflare",
        tunnelSecret: pulumi.secret(secret.base64),
      },
      parent,
    );
    new cloudflare.ZeroTrustTunnelCloudflaredConfig(
      `${name}-routes`,
      {
        accountId: args.accountId,
        tunnelId: tunnel.id,
        config: { ingresses: tunnelIngressRules(args.services) },
      },
      parent,
    );
    this.tunnelId = tunnel.id;
    this.cnameTarget = pulumi.interpolate`${tunnel.id}.cfargotunnel.com`;

    const { labels, selector } = appLabels({
      name: "cloudflared",
      instance: name,
      component: "ingress",
    });
    const token = new k8s.core.v1.Secret(
      `${name}-token`,
      {
        metadata: { name: "cloudflared-token", namespace: args.namespace, labels },
        type: "Opaque",
        stringData: {
          token: pulumi.secret(
            pulumi
              .all([tunnel.id, secret.base64])
              .apply(([id, s]) => tunnelToken(args.accountId, id, s)),
          ),
        },
      },
      parent,
    );
    const deployment = new k8s.apps.v1.Deployment(
      `${name}-cloudflared`,
      {
        metadata: { name: "cloudflared", namespace: args.namespace, labels },
        spec: {
          replicas,
          selector: { matchLabels: selector },
          template: {
            metadata: { labels },
            spec: {
              ...securePodFields(),
              containers: [
                {
                  name: "cloudflared",
                  image: CLOUDFLARED_IMAGE,
                  args: [
                    "tunnel",
                    "--no-autoupdate",
                    "--metrics",
                    `0.0.0.0:${CLOUDFLARED_METRICS_PORT}`,
                    "run",
                  ],
                  env: [
                    {
                      name: "TUNNEL_TOKEN",
                      valueFrom: { secretKeyRef: { name: token.metadata.name, key: "token" } },
                    },
                  ],
                  ports: [{ name: "metrics", containerPort: CLOUDFLARED_METRICS_PORT }],
                  readinessProbe: {
                    httpGet: { path: "/ready", port: CLOUDFLARED_METRICS_PORT },
                    periodSeconds: 10,
                  },
                  livenessProbe: {
                    httpGet: { path: "/ready", port: CLOUDFLARED_METRICS_PORT },
                    initialDelaySeconds: 10,
                    periodSeconds: 10,
                    failureThreshold: 3,
                  },
                  resources: {
                    requests: { cpu: "50m", memory: "64Mi" },
                    limits: { memory: "256Mi" },
                  },
                  securityContext: containerSecurityContext(),
                },
              ],
            },
          },
        },
      },
      parent,
    );
    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-cloudflared`,
      {
        metadata: { name: "cloudflared", namespace: args.namespace, labels },
        spec: { minAvailable: 1, selector: { matchLabels: selector } },
      },
      { parent: this, dependsOn: [deployment] },
    );
    this.registerOutputs({ cnameTarget: this.cnameTarget, tunnelId: this.tunnelId });
  }
}
