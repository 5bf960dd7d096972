import { beforeAll, describe, expect, it } from "vitest";
import { pemToBase64, TalosSecrets } from "../../components/talos/secrets";
import { recordResources, resolve } from "../helpers/mocks";

// Set before any resource is constructed (the tests construct them).
const rec = recordResources();

describe("TalosSecrets", () => {
  let secrets: TalosSecrets;
  beforeAll(() => {
    rec.reset();
    secrets = new TalosSecrets("lab");
  });

  it("creates the CAs with the algorithms of the bundle", async () => {
    await resolve(secrets.bundle);
    const keys = Object.fromEntries(
      rec.ofType("tls:index/privateKey:PrivateKey").map((r) => [r.name, r.inputs]),
    );
    expect(keys).toEqual({
      "lab-os-ca": { algorithm: "ED25519" },
      "lab-kubernetes-ca": { algorithm: "ECDSA", ecdsaCurve: "P256" },
      "lab-aggregator-ca": { algorithm: "ECDSA", ecdsaCurve: "P256" },
      "lab-etcd-ca": { algorithm: "ECDSA", ecdsaCurve: "P256" },
      "lab-service-account": { algorithm: "RSA", rsaBits: 4096 },
    });
    const certs = rec.ofType("tls:index/selfSignedCert:SelfSignedCert");
    expect(certs.map((c) => c.name).sort()).toEqual([
      "lab-aggregator-ca",
      "lab-etcd-ca",
      "lab-kubernetes-ca",
      "lab-os-ca",
    ]);
    for (const c of certs) {
      expect(c.inputs).toMatchObject({
        isCaCertificate: true,
        validityPeriodHours: 87600,
        allowedUses: ["cert_signing", "key_encipherment", "digital_signature"],
      });
    }
    expect(certs.find((c) => c.name === "lab-os-ca")?.inputs["subject"]).toEqual({
      organization: "talos",
    });
  });

  it("creates 32-byte random secrets and lowercase tokens", async () => {
    await resolve(secrets.bundle);
    expect(
      rec.ofType("random:index/randomBytes:RandomBytes").map((r) => [r.name, r.inputs]),
    ).toEqual([
      ["lab-cluster-id", { length: 32 }],
      ["lab-cluster-secret", { length: 32 }],
      ["lab-secretbox", { length: 32 }],
    ]);
    const strings = rec.ofType("random:index/randomString:RandomString");
    expect(strings).toHaveLength(4);
    for (const s of strings) {
      expect(s.inputs).toMatchObject({ special: false, upper: false, lower: true, numeric: true });
    }
  });

  it("exposes the bundle as one secret in Talos encoding", async () => {
    const { value, secret } = await resolve(secrets.bundle);
    expect(secret).toBe(true);
    expect(value.bootstrapToken).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(value.trustdToken).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(value.bootstrapToken).not.toBe(value.trustdToken);
    expect(Buffer.from(value.clusterSecret, "base64")).toHaveLength(32);
    expect(Buffer.from(value.secretboxKey, "base64")).toHaveLength(32);
    expect(Buffer.from(value.osCa.crt, "base64").toString()).toBe(
      "<computed tls:SelfSignedCert lab-os-ca.certPem>",
    );
    expect(value.osCa.key).toBe(pemToBase64("<computed tls:PrivateKey lab-os-ca.privateKeyPem>"));
  });

  it("keeps CA keys secret", async () => {
    expect((await resolve(secrets.osCaKeyPem)).secret).toBe(true);
    expect((await resolve(secrets.kubernetesCaKeyPem)).secret).toBe(true);
  });
});
