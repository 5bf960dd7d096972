import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  appLabels,
  containerSecurityContext,
  exemptionMetadata,
  securePodFields,
} from "./podDefaults";
import { IMAGES, imageRef } from "../catalog/images";
import type { TunnelRoute } from "../edge/tunnel";

/** The pinned connector image. */
export const CLOUDFLARED_IMAGE = imageRef(IMAGES.cloudflared);
/** Port of cloudflared's metrics and readiness endpoint. */
export const CLOUDFLARED_METRICS_PORT = 2000;

/** One public hostname and the in-cluster service it reaches. */
export type ExposedService = TunnelRoute;

export interface TunnelIngressArgs {
  readonly namespace: pulumi.Input<string>;
  /** The tunnel's token (`EdgeTunnel.token`, a secret). */
  readonly token: pulumi.Input<string>;
  /**
   * Connector replicas (each keeps four connections to the edge).
   * @default 2
   */
  readonly replicas?: number;
}

/**
 * The one way in: the connector of the edge's Cloudflare Tunnel (`edge/tunnel.ts`). cloudflared
 * runs inside the cluster with the tunnel's token and dials out to the
 * edge, so no port is opened on the home network and no load balancer is needed; every
 * public hostname is a route of the tunnel and a proxied CNAME to `<tunnel>.cfargotunnel.com`.
 */
export class TunnelIngress extends pulumi.ComponentResource {
  constructor(name: string, args: TunnelIngressArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homebrew-dev:kubernetes:TunnelIngress", name, {}, opts);
    const replicas = args.replicas ?? 2;
    const parent = { parent: this };

    const { labels, selector } = appLabels({
      name: "cloudflared",
      instance: name,
      component: "ingress",
    });
    // Referenced by name (not its name output), so that a new token, which replaces the Secret
    // delete-first, does not take the Deployment along; the Deployment waits for it.
    const tokenName = "cloudflared-token";
    const token = new k8s.core.v1.Secret(
      `${name}-token`,
      {
        metadata: { name: tokenName, namespace: args.namespace, labels },
        type: "Opaque",
        stringData: { token: pulumi.secret(args.token) },
      },
      parent,
    );
    const deployment = new k8s.apps.v1.Deployment(
      `${name}-cloudflared`,
      {
        metadata: {
          name: "cloudflared",
          namespace: args.namespace,
          labels,
          ...exemptionMetadata({ images: [CLOUDFLARED_IMAGE] }),
        },
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
                      valueFrom: { secretKeyRef: { name: tokenName, key: "token" } },
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
      { ...parent, dependsOn: [token] },
    );
    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-cloudflared`,
      {
        metadata: { name: "cloudflared", namespace: args.namespace, labels },
        spec: { minAvailable: 1, selector: { matchLabels: selector } },
      },
      { parent: this, dependsOn: [deployment] },
    );
    this.registerOutputs({});
  }
}
