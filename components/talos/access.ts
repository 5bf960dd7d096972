import * as YAML from "yaml";

/** PEM texts of an admin client identity and the CA that signed the server side. */
export interface ClientIdentity {
  readonly caCertPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
}

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

/**
 * The admin kubeconfig: the API at the VIP, the cluster CA, and a client certificate of
 * `CN=admin, O=system:masters` signed by the Kubernetes CA. Minted without calling Talos.
 */
export function renderKubeconfig(args: {
  readonly clusterName: string;
  readonly endpoint: string;
  readonly identity: ClientIdentity;
}): string {
  const user = `admin@${args.clusterName}`;
  return YAML.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: args.clusterName,
        cluster: {
          server: args.endpoint,
          "certificate-authority-data": b64(args.identity.caCertPem),
        },
      },
    ],
    users: [
      {
        name: user,
        user: {
          "client-certificate-data": b64(args.identity.clientCertPem),
          "client-key-data": b64(args.identity.clientKeyPem),
        },
      },
    ],
    contexts: [{ name: user, context: { cluster: args.clusterName, user } }],
    "current-context": user,
  });
}

/**
 * The talosconfig: endpoints are the control-plane addresses (the Talos API is not behind the
 * VIP), the client certificate has `O=os:admin` and is signed by the OS CA.
 */
export function renderTalosconfig(args: {
  readonly clusterName: string;
  readonly endpoints: readonly string[];
  readonly nodes: readonly string[];
  readonly identity: ClientIdentity;
}): string {
  return YAML.stringify({
    context: args.clusterName,
    contexts: {
      [args.clusterName]: {
        endpoints: [...args.endpoints],
        nodes: [...args.nodes],
        ca: b64(args.identity.caCertPem),
        crt: b64(args.identity.clientCertPem),
        key: b64(args.identity.clientKeyPem),
      },
    },
  });
}
