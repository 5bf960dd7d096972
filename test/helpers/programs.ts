import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/**
 * A program with one defect: a Deployment that writes a secret into a credential-named variable
 * as a literal value (readable by everyone who can read the pod spec). The engine hands a policy
 * pack that value unwrapped; `env-no-secret-literals` must find it.
 */
export function secretLiteralProgram(token: string): () => Record<string, unknown> {
  return () => {
    new k8s.apps.v1.Deployment(
      "leaky",
      {
        metadata: { name: "leaky", namespace: "apps" },
        spec: {
          selector: { matchLabels: { app: "leaky" } },
          template: {
            metadata: { labels: { app: "leaky" } },
            spec: {
              containers: [
                {
                  name: "app",
                  image: `ghcr.io/acme/app@sha256:${"a".repeat(64)}`,
                  env: [{ name: "API_TOKEN", value: pulumi.secret(token) }],
                },
              ],
            },
          },
        },
      },
      { provider: new k8s.Provider("k8s", { kubeconfig: "{}" }) },
    );
    return { environment: "prod", token: pulumi.secret(token) };
  };
}
