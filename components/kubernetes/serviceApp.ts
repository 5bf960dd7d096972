import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { appLabels, containerSecurityContext, securePodFields } from "./podDefaults";

export interface ServiceAppArgs {
  readonly name: string;
  readonly namespace: pulumi.Input<string>;
  /** The image by digest (`ContainerImage.ref`): a rebuild rolls the Deployment. */
  readonly image: pulumi.Input<string>;
  /**
   * Port the app listens on.
   * @default 8080
   */
  readonly port?: number;
  /**
   * Replicas; more than one also gets a PodDisruptionBudget.
   * @default 2
   */
  readonly replicas?: number;
  /**
   * Health route for the probes.
   * @default /healthz
   */
  readonly healthPath?: string;
}

/** The in-cluster URL of an app's Service. */
export function appServiceUrl(name: string, namespace: string, port = 80): string {
  return `http://${name}.${namespace}.svc.cluster.local:${port}`;
}

/**
 * One of our own services: a Deployment running a built image by digest with secure pod
 * defaults, probes and resources, a Service, and a PodDisruptionBudget when replicated.
 */
export class ServiceApp extends pulumi.ComponentResource {
  constructor(name: string, args: ServiceAppArgs, opts?: pulumi.ComponentResourceOptions) {
    // It lived in build/ as homebrew-dev:build:ServiceApp; the alias keeps every deployed app
    // (and, through it, its children) the same resource.
    super(
      "homebrew-dev:kubernetes:ServiceApp",
      name,
      {},
      {
        ...opts,
        aliases: [...(opts?.aliases ?? []), { type: "homebrew-dev:build:ServiceApp" }],
      },
    );
    const port = args.port ?? 8080;
    const replicas = args.replicas ?? 2;
    const healthPath = args.healthPath ?? "/healthz";
    const parent = { parent: this };
    const { labels, selector } = appLabels({
      name: args.name,
      instance: args.name,
      component: "app",
    });
    const meta = { name: args.name, namespace: args.namespace, labels };
    const deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: meta,
        spec: {
          replicas,
          selector: { matchLabels: selector },
          template: {
            metadata: { labels },
            spec: {
              ...securePodFields(),
              containers: [
                {
                  name: args.name,
                  image: args.image,
                  ports: [{ name: "http", containerPort: port }],
                  readinessProbe: { httpGet: { path: healthPath, port: "http" }, periodSeconds: 5 },
                  livenessProbe: { httpGet: { path: healthPath, port: "http" }, periodSeconds: 15 },
                  resources: {
                    requests: { cpu: "50m", memory: "64Mi" },
                    limits: { memory: "128Mi" },
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
    new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: meta,
        spec: { selector, ports: [{ name: "http", port: 80, targetPort: "http" }] },
      },
      parent,
    );
    if (replicas > 1) {
      new k8s.policy.v1.PodDisruptionBudget(
        `${name}-pdb`,
        { metadata: meta, spec: { minAvailable: 1, selector: { matchLabels: selector } } },
        { parent: this, dependsOn: [deployment] },
      );
    }
    this.registerOutputs({});
  }
}
