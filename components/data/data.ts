import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import {
  appLabels,
  containerSecurityContext,
  exemptionMetadata,
  podSecurityContext,
} from "../kubernetes/podDefaults";
import { CHARTS } from "../catalog/charts";
import { RELEASES } from "../catalog/footprints";
import { NAMESPACE_NAME_LABEL } from "../catalog/labels";
import { IMAGES, imageRef } from "../catalog/images";

export const CNPG_CHART = CHARTS.cloudnativePg;
export const VALKEY_IMAGE = imageRef(IMAGES.valkey);
export const RABBITMQ_IMAGE = imageRef(IMAGES.rabbitmq);

export const PORTS = { postgres: 5432, valkey: 6379, rabbitmq: 5672 } as const;

/** The labels each data service's pods carry, which its clients' egress and its policy select. */
export const DATA_SELECTORS = {
  // CloudNativePG labels every instance with its cluster (cloudnative-pg v1.28.0 pkg/specs/pods.go).
  postgres: { "cnpg.io/cluster": "postgres" },
  valkey: appLabels({ name: "valkey", instance: "valkey", component: "data" }).selector,
  rabbitmq: appLabels({ name: "rabbitmq", instance: "rabbitmq", component: "data" }).selector,
} as const;

/**
 * The NetworkPolicy that admits a data service's declared clients, on its port only. Together
 * with the namespace's default-deny, nothing else reaches it.
 */
export function clientPolicy(
  service: string,
  namespace: string,
  selector: Record<string, string>,
  port: number,
  clients: readonly string[],
) {
  return {
    apiVersion: "networking.k8s.io/v1" as const,
    kind: "NetworkPolicy" as const,
    metadata: { name: `allow-clients-${service}`, namespace },
    spec: {
      podSelector: { matchLabels: selector },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [...clients].sort().map((ns) => ({
            namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: ns } },
          })),
          ports: [{ protocol: "TCP", port }],
        },
      ],
    },
  };
}

/** A data service's volume and the namespaces allowed to reach it. */
export interface DataServiceArgs {
  /** Volume size in GiB (per instance for PostgreSQL). */
  readonly storageGiB: number;
  /** Namespaces whose pods may connect. */
  readonly clients: readonly string[];
}

export interface PostgresArgs extends DataServiceArgs {
  /** PostgreSQL instances (one primary, the rest replicas). */
  readonly instances: number;
  /**
   * VolumeSnapshotClass for daily volume-snapshot backups.
   * @default - no scheduled backups
   */
  readonly backupVolumeSnapshotClass?: string;
}

export interface DataServicesArgs {
  /** PostgreSQL through CloudNativePG. @default - none */
  readonly postgres?: PostgresArgs;
  /** Valkey (Redis-compatible). @default - none */
  readonly redis?: DataServiceArgs;
  /** RabbitMQ. @default - none */
  readonly rabbitmq?: DataServiceArgs;
  /**
   * Protect the stateful resources (clusters, volumes) from deletion: production.
   * @default false
   */
  readonly protectVolumes?: boolean;
  /** The StorageClass every volume names (the stack's default class). */
  readonly storageClass: string;
  /** The data namespace (from the platform); its name for policies. */
  readonly namespace: string;
  readonly namespaceOutput: pulumi.Input<string>;
}

/**
 * PostgreSQL (CloudNativePG operator and a Cluster), Valkey and RabbitMQ, each switchable per
 * environment; generated credentials as Secrets; volumes kept, and protected when asked; network
 * policies that admit only each service's declared clients.
 */
export class DataServices extends pulumi.ComponentResource {
  constructor(name: string, args: DataServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homebrew-dev:data:DataServices", name, {}, opts);
    const protect = args.protectVolumes ?? false;
    // Stateful: protected when asked (production), and the volume claims outlive the StatefulSet.
    const stateful = { parent: this, protect };
    const ns = args.namespaceOutput;
    const policy = (key: string, manifest: ReturnType<typeof clientPolicy>) =>
      new k8s.networking.v1.NetworkPolicy(
        `${name}-netpol-${key}`,
        { ...manifest, metadata: { ...manifest.metadata, namespace: ns } },
        { parent: this },
      );
    const password = (key: string) =>
      new random.RandomPassword(
        `${name}-${key}-password`,
        { length: 32, special: false },
        { parent: this },
      ).result;

    if (args.postgres !== undefined) {
      const postgres = args.postgres;
      const operator = new k8s.helm.v3.Release(
        `${name}-cnpg`,
        {
          name: RELEASES.cnpg,
          chart: CNPG_CHART.chart,
          version: CNPG_CHART.version,
          repositoryOpts: { repo: CNPG_CHART.repo },
          namespace: ns,
        },
        { parent: this },
      );
      const snapshots = postgres.backupVolumeSnapshotClass;
      new k8s.apiextensions.CustomResource(
        `${name}-postgres`,
        {
          apiVersion: "postgresql.cnpg.io/v1",
          kind: "Cluster",
          metadata: { name: "postgres", namespace: ns },
          spec: {
            instances: postgres.instances,
            // The operator creates the `postgres-app` Secret with the application credentials.
            bootstrap: { initdb: { database: "app", owner: "app" } },
            storage: { size: `${postgres.storageGiB}Gi`, storageClass: args.storageClass },
            enablePDB: true,
            monitoring: { enablePodMonitor: true },
            ...(snapshots !== undefined
              ? { backup: { volumeSnapshot: { className: snapshots } } }
              : {}),
          },
        },
        { ...stateful, dependsOn: [operator] },
      );
      if (snapshots !== undefined) {
        new k8s.apiextensions.CustomResource(
          `${name}-postgres-backup`,
          {
            apiVersion: "postgresql.cnpg.io/v1",
            kind: "ScheduledBackup",
            metadata: { name: "postgres-daily", namespace: ns },
            spec: {
              schedule: "0 0 3 * * *",
              method: "volumeSnapshot",
              cluster: { name: "postgres" },
            },
          },
          { parent: this, dependsOn: [operator] },
        );
      }
      policy(
        "postgres",
        clientPolicy(
          "postgres",
          args.namespace,
          DATA_SELECTORS.postgres,
          PORTS.postgres,
          postgres.clients,
        ),
      );
    }

    const statefulService = (
      key: "valkey" | "rabbitmq",
      spec: {
        image: string;
        port: number;
        storageGiB: number;
        clients: readonly string[];
        uid: number;
        /** The container's environment, given the name of the credentials Secret. */
        env: (secretName: string) => k8s.types.input.core.v1.EnvVar[];
        args?: string[];
        probe: k8s.types.input.core.v1.Probe;
        /** Directories of the image it writes to besides its data and /tmp (emptyDir each). */
        scratch?: readonly string[];
        dataPath: string;
        secretData: Record<string, pulumi.Input<string>>;
      },
    ) => {
      const { labels, selector } = appLabels({ name: key, instance: key, component: "data" });
      // Referenced by its name, not its name output: a rotated credential replaces the Secret
      // delete-first, and the StatefulSet (which only waits for it) is not taken along.
      const secretName = `${key}-credentials`;
      const secret = new k8s.core.v1.Secret(
        `${name}-${key}-credentials`,
        {
          metadata: { name: secretName, namespace: ns, labels },
          type: "Opaque",
          stringData: pulumi.secret(spec.secretData),
        },
        { parent: this },
      );
      new k8s.core.v1.Service(
        `${name}-${key}-service`,
        {
          metadata: { name: key, namespace: ns, labels },
          spec: { selector, ports: [{ name: key, port: spec.port, targetPort: key }] },
        },
        { parent: this },
      );
      new k8s.apps.v1.StatefulSet(
        `${name}-${key}`,
        {
          metadata: {
            name: key,
            namespace: ns,
            labels,
            ...exemptionMetadata({ images: [spec.image] }),
          },
          spec: {
            serviceName: key,
            replicas: 1,
            selector: { matchLabels: selector },
            persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
            template: {
              metadata: { labels },
              spec: {
                automountServiceAccountToken: false,
                securityContext: podSecurityContext({
                  runAsUser: spec.uid,
                  runAsGroup: spec.uid,
                  fsGroup: spec.uid,
                }),
                containers: [
                  {
                    name: key,
                    image: spec.image,
                    ...(spec.args ? { args: spec.args } : {}),
                    env: spec.env(secretName),
                    ports: [{ name: key, containerPort: spec.port }],
                    readinessProbe: spec.probe,
                    livenessProbe: { ...spec.probe, periodSeconds: 20, failureThreshold: 6 },
                    resources: {
                      requests: { cpu: "100m", memory: "256Mi" },
                      limits: { memory: "1Gi" },
                    },
                    volumeMounts: [
                      { name: "data", mountPath: spec.dataPath },
                      { name: "tmp", mountPath: "/tmp" },
                      ...(spec.scratch ?? []).map((mountPath, i) => ({
                        name: `scratch-${i}`,
                        mountPath,
                      })),
                    ],
                    securityContext: containerSecurityContext(),
                  },
                ],
                volumes: [
                  { name: "tmp", emptyDir: {} },
                  ...(spec.scratch ?? []).map((_, i) => ({ name: `scratch-${i}`, emptyDir: {} })),
                ],
              },
            },
            volumeClaimTemplates: [
              {
                metadata: { name: "data" },
                spec: {
                  storageClassName: args.storageClass,
                  accessModes: ["ReadWriteOnce"],
                  resources: { requests: { storage: `${spec.storageGiB}Gi` } },
                },
              },
            ],
          },
        },
        { ...stateful, dependsOn: [secret] },
      );
      policy(key, clientPolicy(key, args.namespace, selector, spec.port, spec.clients));
    };

    if (args.redis !== undefined) {
      const redis = args.redis;
      statefulService("valkey", {
        image: VALKEY_IMAGE,
        port: PORTS.valkey,
        storageGiB: redis.storageGiB,
        clients: redis.clients,
        uid: 999,
        dataPath: "/data",
        secretData: { password: password("valkey") },
        env: (s) => [
          {
            name: "VALKEY_PASSWORD",
            valueFrom: { secretKeyRef: { name: s, key: "password" } },
          },
        ],
        args: [
          "valkey-server",
          "--requirepass",
          "$(VALKEY_PASSWORD)",
          "--appendonly",
          "yes",
          "--dir",
          "/data",
        ],
        probe: { tcpSocket: { port: "valkey" }, periodSeconds: 10 },
      });
    }
    if (args.rabbitmq !== undefined) {
      const rabbitmq = args.rabbitmq;
      statefulService("rabbitmq", {
        image: RABBITMQ_IMAGE,
        port: PORTS.rabbitmq,
        storageGiB: rabbitmq.storageGiB,
        clients: rabbitmq.clients,
        uid: 999,
        dataPath: "/var/lib/rabbitmq",
        secretData: {
          username: "app",
          password: password("rabbitmq"),
        },
        env: (s) => [
          {
            name: "RABBITMQ_DEFAULT_USER",
            valueFrom: { secretKeyRef: { name: s, key: "username" } },
          },
          {
            name: "RABBITMQ_DEFAULT_PASS",
            valueFrom: { secretKeyRef: { name: s, key: "password" } },
          },
        ],
        probe: { tcpSocket: { port: "rabbitmq" }, periodSeconds: 10 },
        // The 4.1 image's entrypoint writes nothing (docker-library/rabbitmq
        // 4.1/ubuntu/docker-entrypoint.sh); the server writes its data and Erlang cookie below
        // RABBITMQ_DATA_DIR and HOME (both /var/lib/rabbitmq, the volume) and may write logs to
        // /var/log/rabbitmq, which the image creates writable (4.1/ubuntu/Dockerfile).
        scratch: ["/var/log/rabbitmq"],
      });
    }
    this.registerOutputs({});
  }
}
