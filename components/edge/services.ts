import { isIPv4 } from "node:net";
import { declaredHostnames } from "../config/hostnames";
import type { StackConfig } from "../config";
import type { ExposedName } from "./records";

/** Planning stand-in for `<tunnel id>.cfargotunnel.com`. */
export const TUNNEL_TARGET_STAND_IN = "tunnel.cfargotunnel.com";

/**
 * Service discovery: every public hostname the stack declares (Grafana's, the model gateway's, the models') with the
 * ingress it points at. Pure; the order follows the stack file. Without `edge.ingressTarget`
 * there is nothing to point at and the names get no record.
 */
export function exposedNames(
  config: Pick<StackConfig, "platform" | "models" | "edge"> &
    Partial<Pick<StackConfig, "builds" | "modelGateway">>,
  opts: { readonly tunnel?: boolean } = {},
): ExposedName[] {
  // Behind a Cloudflare Tunnel every name is a proxied CNAME to the tunnel; its id is only known
  // once the tunnel exists, so planning uses a stand-in and the Edge component sets the real
  // target (see EdgeArgs.tunnelTarget).
  const target = opts.tunnel ? TUNNEL_TARGET_STAND_IN : config.edge?.ingressTarget;
  if (target === undefined) return [];
  const kind = isIPv4(target) ? "A" : "CNAME";
  const targetPath = ["edge", "ingressTarget"] as const;
  return declaredHostnames(config).map((d) => ({
    hostname: d.hostname,
    target,
    kind,
    path: d.path,
    targetPath,
  }));
}
