import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";

/** A CA as the Talos machine config carries it: base64 of the PEM texts. */
export interface TalosCaBundle {
  readonly crt: string;
  readonly key: string;
}

/** The Talos secrets bundle in the encoding machine configs use. Every field is secret. */
export interface TalosSecretsBundle {
  readonly clusterId: string;
  readonly clusterSecret: string;
  readonly bootstrapToken: string;
  readonly trustdToken: string;
  readonly secretboxKey: string;
  readonly osCa: TalosCaBundle;
  readonly kubernetesCa: TalosCaBundle;
  readonly aggregatorCa: TalosCaBundle;
  readonly etcdCa: TalosCaBundle;
  /** base64 of the service-account signing key PEM. */
  readonly serviceAccountKey: string;
}

/** Validity of the CAs in hours. */
export const CA_VALIDITY_HOURS = 87600;

/** The secrets bundle takes no settings: everything in it is generated. */
export type TalosSecretsArgs = Record<string, never>;

/** base64 of a PEM text, the form Talos configs carry certificates and keys in. */
export function pemToBase64(pem: string): string {
  return Buffer.from(pem, "utf8").toString("base64");
}

/** Key and signing algorithms of the bundle (the choices `talosctl gen secrets` makes). */
export const CA_ALGORITHMS = {
  os: { algorithm: "ED25519" },
  kubernetes: { algorithm: "ECDSA", ecdsaCurve: "P256" },
  aggregator: { algorithm: "ECDSA", ecdsaCurve: "P256" },
  etcd: { algorithm: "ECDSA", ecdsaCurve: "P256" },
} as const;

type CaRole = keyof typeof CA_ALGORITHMS;

/** Subject organisation (or common name for the aggregator) of each CA. */
const CA_SUBJECT: Record<CaRole, tls.types.input.SelfSignedCertSubject> = {
  os: { organization: "talos" },
  kubernetes: { organization: "kubernetes" },
  aggregator: { commonName: "front-proxy" },
  etcd: { organization: "etcd" },
};

/**
 * The Talos secrets bundle: cluster identity, tokens, the secretbox key and four CAs, generated
 * by `@pulumi/tls` and `@pulumi/random` and kept in the Pulumi state as secrets. The admin
 * client certificates for kubeconfig and talosconfig are signed by these CAs.
 */
export class TalosSecrets extends pulumi.ComponentResource {
  /** The bundle, as one secret value. */
  public readonly bundle: pulumi.Output<TalosSecretsBundle>;
  /** CA certificates and keys as PEM text (secret), for minting client certificates. */
  public readonly osCaCertPem: pulumi.Output<string>;
  public readonly osCaKeyPem: pulumi.Output<string>;
  public readonly kubernetesCaCertPem: pulumi.Output<string>;
  public readonly kubernetesCaKeyPem: pulumi.Output<string>;

  constructor(name: string, _args: TalosSecretsArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("homebrew-dev:talos:Secrets", name, {}, opts);
    // 10 years, as `talosctl gen secrets`; a change would replace every CA, so it is no option.
    const caValidityHours = CA_VALIDITY_HOURS;
    const parent = { parent: this };

    const bytes = (role: string) =>
      new random.RandomBytes(`${name}-${role}`, { length: 32 }, parent).base64;
    // Talos tokens are `[a-z0-9]{6}.[a-z0-9]{16}` (the kubeadm bootstrap-token shape).
    const token = (role: string) => {
      const part = (suffix: string, length: number) =>
        new random.RandomString(
          `${name}-${role}-${suffix}`,
          { length, special: false, upper: false, lower: true, numeric: true },
          parent,
        ).result;
      return pulumi.interpolate`${part("id", 6)}.${part("secret", 16)}`;
    };

    const cas = {} as Record<CaRole, { cert: pulumi.Output<string>; key: pulumi.Output<string> }>;
    for (const role of Object.keys(CA_ALGORITHMS) as CaRole[]) {
      const key = new tls.PrivateKey(`${name}-${role}-ca`, { ...CA_ALGORITHMS[role] }, parent);
      const keyPem = pulumi.secret(key.privateKeyPem);
      const cert = new tls.SelfSignedCert(
        `${name}-${role}-ca`,
        {
          privateKeyPem: keyPem,
          isCaCertificate: true,
          subject: CA_SUBJECT[role],
          validityPeriodHours: caValidityHours,
          allowedUses: ["cert_signing", "key_encipherment", "digital_signature"],
        },
        parent,
      );
      cas[role] = { cert: cert.certPem, key: keyPem };
    }
    const serviceAccount = new tls.PrivateKey(
      `${name}-service-account`,
      { algorithm: "RSA", rsaBits: 4096 },
      parent,
    );

    const ca = (role: CaRole) =>
      pulumi.all([cas[role].cert, cas[role].key]).apply(([crt, key]) => ({
        crt: pemToBase64(crt),
        key: pemToBase64(key),
      }));
    this.bundle = pulumi.secret(
      pulumi
        .output({
          clusterId: bytes("cluster-id"),
          clusterSecret: bytes("cluster-secret"),
          bootstrapToken: token("bootstrap-token"),
          trustdToken: token("trustd-token"),
          secretboxKey: bytes("secretbox"),
          osCa: ca("os"),
          kubernetesCa: ca("kubernetes"),
          aggregatorCa: ca("aggregator"),
          etcdCa: ca("etcd"),
          serviceAccountKey: serviceAccount.privateKeyPem.apply(pemToBase64),
        })
        .apply((b): TalosSecretsBundle => b),
    );
    this.osCaCertPem = pulumi.secret(cas.os.cert);
    this.osCaKeyPem = cas.os.key;
    this.kubernetesCaCertPem = pulumi.secret(cas.kubernetes.cert);
    this.kubernetesCaKeyPem = cas.kubernetes.key;
    this.registerOutputs({});
  }
}
