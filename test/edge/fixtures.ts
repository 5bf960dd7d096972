import { EdgeSchema, RedirectSchema, type RedirectSpec } from "../../components/config";
import type { EdgeConfig } from "../../components/edge";

/** An `edge` section as the stack schema returns it (defaults filled). */
export function edgeConfig(raw: Record<string, unknown> = {}): EdgeConfig {
  return EdgeSchema.parse({
    accountId: "0123456789abcdef0123456789abcdef",
    zone: { name: "example.com" },
    ...raw,
  });
}

/** A redirect with the schema's defaults. */
export function redirect(source: string, target: string, extra: Record<string, unknown> = {}) {
  return RedirectSchema.parse({ source, target, ...extra });
}

/**
 * `count` distinct redirects without chains: exact-URL ones on `www.<zone>` (every 50th with
 * subpath matching) and, for every `wildcardEvery`-th, a wildcard one. Deterministic.
 */
export function generateRedirects(
  count: number,
  zone = "example.com",
  wildcardEvery = 0,
): RedirectSpec[] {
  const out: RedirectSpec[] = [];
  for (let i = 0; i < count; i++) {
    if (wildcardEvery > 0 && i % wildcardEvery === 0) {
      out.push(
        redirect(`https://www.${zone}/w${i}/*`, `https://www.${zone}/new/w${i}/\${1}`, {
          status: 308,
        }),
      );
      continue;
    }
    const subpath = i % 50 === 0;
    out.push(
      redirect(`https://www.${zone}/old/${i}`, `https://www.${zone}/new/${i}`, {
        status: i % 2 === 0 ? 301 : 302,
        ...(subpath ? { subpathMatching: true, preservePathSuffix: true } : {}),
      }),
    );
  }
  return out;
}
