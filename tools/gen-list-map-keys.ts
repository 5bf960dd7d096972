/**
 * Writes components/catalog/listMapKeys.json from a Kubernetes OpenAPI v2 document (swagger.json):
 * for every built-in kind, the paths to each list the API server merges by key under server-side
 * apply (`x-kubernetes-list-type: map`) and its keys (`x-kubernetes-list-map-keys`), as a graph of
 * the definitions that lead to such a list. Nothing else of the document is kept.
 *
 * Usage: npm run -s gen:list-map-keys -- <swagger.json> "<where it was read>"
 * The committed table was generated from Kubernetes release-1.35's OpenAPI as published with the
 * Kubernetes Python client v35.0.0 (kubernetes-client/python, kubernetes/swagger.json.unprocessed).
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";

interface Property {
  readonly $ref?: string;
  readonly type?: string;
  readonly items?: { readonly $ref?: string };
  readonly "x-kubernetes-list-type"?: string;
  readonly "x-kubernetes-list-map-keys"?: readonly string[];
}
interface Definition {
  readonly properties?: Readonly<Record<string, Property>>;
  readonly "x-kubernetes-group-version-kind"?: readonly {
    group: string;
    version: string;
    kind: string;
  }[];
}

/** One property on the way to a keyed list: the definition it holds, and its keys if it is one. */
export interface Edge {
  readonly type?: string;
  readonly list?: boolean;
  readonly keys?: readonly string[];
}

const [file, source] = process.argv.slice(2);
if (file === undefined || source === undefined) {
  console.error('usage: npm run -s gen:list-map-keys -- <swagger.json> "<where it was read>"');
  process.exit(1);
}
const doc = JSON.parse(readFileSync(file, "utf8")) as {
  definitions: Record<string, Definition>;
};
const defs = doc.definitions;
const refName = (ref: string | undefined) => ref?.replace("#/definitions/", "");

const edgesOf = (name: string): [string, Edge][] =>
  Object.entries(defs[name]?.properties ?? {}).flatMap(([prop, p]): [string, Edge][] => {
    const keys =
      p["x-kubernetes-list-type"] === "map" ? p["x-kubernetes-list-map-keys"] : undefined;
    const type = refName(p.$ref) ?? refName(p.items?.$ref);
    const list = p.type === "array";
    if (keys === undefined && type === undefined) return [];
    return [
      [
        prop,
        {
          ...(type !== undefined ? { type } : {}),
          ...(list ? { list: true } : {}),
          ...(keys !== undefined ? { keys: [...keys] } : {}),
        },
      ],
    ];
  });

// Which definitions lead to a keyed list (a fixed point over the reference graph).
const leads = new Set<string>();
let grew = true;
while (grew) {
  grew = false;
  for (const name of Object.keys(defs)) {
    if (leads.has(name)) continue;
    if (
      edgesOf(name).some(
        ([, e]) => e.keys !== undefined || (e.type !== undefined && leads.has(e.type)),
      )
    ) {
      leads.add(name);
      grew = true;
    }
  }
}

const kinds: Record<string, string> = {};
for (const [name, d] of Object.entries(defs)) {
  for (const gvk of d["x-kubernetes-group-version-kind"] ?? []) {
    if (!leads.has(name)) continue;
    const apiVersion = gvk.group === "" ? gvk.version : `${gvk.group}/${gvk.version}`;
    // The definition named after its own package (not an alias under another group).
    if (kinds[`${apiVersion}:${gvk.kind}`] === undefined) kinds[`${apiVersion}:${gvk.kind}`] = name;
  }
}
const types: Record<string, Record<string, Edge>> = {};
for (const name of [...leads].sort()) {
  const edges = edgesOf(name).filter(
    ([, e]) => e.keys !== undefined || (e.type !== undefined && leads.has(e.type)),
  );
  types[name] = Object.fromEntries(
    edges.map(([prop, e]) => [
      prop,
      e.type !== undefined && leads.has(e.type) ? e : { ...e, type: undefined },
    ]),
  );
}
const out = path.resolve(__dirname, "..", "components", "catalog", "listMapKeys.json");
writeFileSync(
  out,
  `${JSON.stringify({ source, kinds: Object.fromEntries(Object.entries(kinds).sort()), types }, null, 2)}\n`,
);
console.log(`${out}: ${Object.keys(kinds).length} kinds, ${Object.keys(types).length} types`);
