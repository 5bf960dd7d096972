import { createHash } from "node:crypto";
import type { MockCallArgs, MockResourceArgs } from "@pulumi/pulumi/runtime/mocks";

/**
 * Deterministic stand-ins for values only a real provider computes. Each is derived from the
 * resource's type, name and property, so the same stack gives byte-identical plans, and none
 * looks like key material (a scan of plan output must find no PEM block or token).
 */

type Inputs = Record<string, unknown>;
type Computed = (type: string, name: string, inputs: Inputs) => Inputs;

function digest(...parts: string[]): Buffer {
  return createHash("sha256").update(parts.join("\0")).digest();
}

/** A readable marker for computed text: `<computed tls:PrivateKey cp.privateKeyPem>`. */
export function marker(type: string, name: string, prop: string): string {
  const short = type.replace(/^([^:]+):[^:]*:/, "$1:");
  return `<computed ${short} ${name}.${prop}>`;
}

const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

function pseudoString(type: string, name: string, length: number, chars: string): string {
  const bytes = digest(type, name, "result");
  let out = "";
  for (let i = 0; out.length < length; i++) {
    out += chars[bytes[i % bytes.length]! % chars.length];
    if (i % bytes.length === bytes.length - 1) bytes.set(digest(bytes.toString("hex")));
  }
  return out;
}

const text = (...props: string[]): Computed => {
  return (type, name) => Object.fromEntries(props.map((p) => [p, marker(type, name, p)]));
};

/** Computed outputs per resource type; anything not listed gets only an id. */
const computed: Record<string, Computed> = {
  "tls:index/privateKey:PrivateKey": text(
    "privateKeyPem",
    "privateKeyPemPkcs8",
    "privateKeyOpenssh",
    "publicKeyPem",
    "publicKeyOpenssh",
    "publicKeyFingerprintMd5",
    "publicKeyFingerprintSha256",
  ),
  "tls:index/selfSignedCert:SelfSignedCert": text(
    "certPem",
    "validityStartTime",
    "validityEndTime",
  ),
  "tls:index/locallySignedCert:LocallySignedCert": text(
    "certPem",
    "validityStartTime",
    "validityEndTime",
  ),
  "tls:index/certRequest:CertRequest": text("certRequestPem"),
  "random:index/randomBytes:RandomBytes": (type, name, inputs) => {
    const length = typeof inputs["length"] === "number" ? inputs["length"] : 32;
    let bytes = Buffer.alloc(0);
    while (bytes.length < length)
      bytes = Buffer.concat([bytes, digest(type, name, String(bytes.length))]);
    bytes = bytes.subarray(0, length);
    return { base64: bytes.toString("base64"), hex: bytes.toString("hex") };
  },
  "random:index/randomString:RandomString": (type, name, inputs) => {
    const length = typeof inputs["length"] === "number" ? inputs["length"] : 16;
    const upper = inputs["upper"] !== false;
    const chars = upper ? alphabet + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" : alphabet;
    return { result: pseudoString(type, name, length, chars) };
  },
  "random:index/randomPassword:RandomPassword": (type, name, inputs) => {
    const length = typeof inputs["length"] === "number" ? inputs["length"] : 32;
    return {
      result: pseudoString(type, name, length, alphabet),
      bcryptHash: marker(type, name, "bcryptHash"),
    };
  },
};

computed["docker-build:index:Image"] = (type, name, inputs) => {
  const imageDigest = `sha256:${digest(type, name, "digest").toString("hex")}`;
  const tags = Array.isArray(inputs["tags"]) ? inputs["tags"] : [];
  const first = typeof tags[0] === "string" ? tags[0] : name;
  const repository = first.replace(/:[^:/]+$/, "");
  return { digest: imageDigest, ref: `${repository}@${imageDigest}` };
};

/** Registers a type's computed outputs (for components that add provider types). */
export function computedOutputs(type: string, name: string, inputs: Inputs): Inputs {
  return computed[type]?.(type, name, inputs) ?? {};
}

/** Whether a resource type has placeholders for computed outputs (else its state is its inputs). */
export function hasComputedOutputs(type: string): boolean {
  return Object.hasOwn(computed, type);
}

/** The mock resource factory: inputs echo back, computed outputs are placeholders. */
export function newResource(args: MockResourceArgs): { id: string; state: Inputs } {
  const inputs = (args.inputs ?? {}) as Inputs;
  return {
    id: args.id && args.id.length > 0 ? args.id : `${args.name}-id`,
    state: { ...inputs, ...computedOutputs(args.type, args.name, inputs) },
  };
}

/** Invokes the program may make offline; anything else is a program error. */
export function call(args: MockCallArgs): Record<string, unknown> {
  throw new Error(`the offline plan has no placeholder for the invoke ${args.token}`);
}
