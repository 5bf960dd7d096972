/**
 * homebrew-dev: the whole platform of one environment as one program. The stack file
 * (stacks/Pulumi.<stack>.yaml) is read and validated once; components receive typed values.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "./components/config";
import { TalosSecrets } from "./components/talos/secrets";

const config = loadStackConfig();
const stack = pulumi.getStack();
const { cluster } = config;

// Losing the secrets bundle means rebuilding the cluster: protected in production.
new TalosSecrets(`${cluster.name}-talos`, {}, { protect: config.environment === "prod" });

export const environment = config.environment;
export const stackName = stack;
export const clusterName = cluster.name;
export const talosVersion = cluster.talosVersion;
export const kubernetesVersion = cluster.kubernetesVersion;
export const kubernetesApi = `https://${cluster.network.vip}:6443`;
export const controlPlaneNodes = cluster.controlPlane.nodes.map((n) => `${n.name} ${n.ip}`);
export const workerNodes = cluster.workerPools.flatMap((p) =>
  p.nodes.map((n) => `${n.name} ${n.ip} (${p.name})`),
);
export const proxmoxEndpoint = config.proxmox.endpoint;
export const zone = config.edge?.zone.name;
