import { spawnSync } from "node:child_process";
import { parse } from "shell-quote";
import { describe, expect, it } from "vitest";
import {
  KUBECTL,
  KUBECTL_GLOBAL_FLAGS,
  TALOSCTL,
  TALOSCTL_GLOBAL_FLAGS,
  type CliCommand,
  type FlagKind,
} from "../../components/catalog/cli";
import { SHIPPED_STACKS, planOf } from "../helpers/plans";

interface Invocation {
  readonly tool: "talosctl" | "kubectl";
  readonly command: string;
  readonly flags: Readonly<Record<string, string>>;
  readonly args: readonly string[];
}

/** Every talosctl and kubectl invocation in a script, with its subcommand, flags and arguments. */
export function invocations(script: string): Invocation[] {
  const out: Invocation[] = [];
  for (const line of script.split("\n")) {
    // Operators (redirections, `;`, `&&`) end a command: they become a token no word matches.
    // Redirections (`2>&1`, `>/dev/null`) and operators (`;`, `&&`, `|`) end a command.
    const bare = line.replace(/\d?>&?\s*[^\s;)]+/g, " ; ");
    const tokens = parse(bare, (key) => `$${key}`).map((t) => (typeof t === "string" ? t : ";"));
    for (let i = 0; i < tokens.length; i++) {
      const tool = tokens[i];
      if (tool !== "talosctl" && tool !== "kubectl") continue;
      const [globals, table] =
        tool === "talosctl" ? [TALOSCTL_GLOBAL_FLAGS, TALOSCTL] : [KUBECTL_GLOBAL_FLAGS, KUBECTL];
      const flags: Record<string, string> = {};
      const words: string[] = [];
      let j = i + 1;
      for (; j < tokens.length; j++) {
        const t = tokens[j]!;
        if (t.startsWith("--")) {
          const [name, inline] = t.slice(2).split(/=(.*)/s);
          const known = globals[name!] ?? table[words.join(" ")]?.flags[name!];
          flags[name!] = inline ?? (known === "boolean" ? "true" : (tokens[++j] ?? ""));
        } else if (/^[a-z][a-z0-9-]*$/.test(t) && table[[...words, t].join(" ")] !== undefined) {
          words.push(t);
        } else if (
          /^[a-z][a-z0-9-]*$/.test(t) &&
          Object.keys(table).some((k) => k.startsWith(`${[...words, t].join(" ")} `))
        ) {
          words.push(t);
        } else break;
      }
      const args: string[] = [];
      for (; j < tokens.length && !/^[;&|]|^\d?>/.test(tokens[j]!); j++) {
        const t = tokens[j]!;
        if (t.startsWith("--")) {
          const [name, inline] = t.slice(2).split(/=(.*)/s);
          const known = table[words.join(" ")]?.flags[name!];
          flags[name!] = inline ?? (known === "boolean" ? "true" : (tokens[++j] ?? ""));
        } else args.push(t);
      }
      out.push({ tool, command: words.join(" "), flags, args });
      i = j;
    }
  }
  return out;
}

const VALUE: Record<FlagKind, RegExp> = {
  boolean: /^(true|false)$/,
  duration: /^\d+(s|m|h)$/,
  string: /^.+$/,
};

function problems(inv: Invocation): string[] {
  const table: Readonly<Record<string, CliCommand>> = inv.tool === "talosctl" ? TALOSCTL : KUBECTL;
  const globals = inv.tool === "talosctl" ? TALOSCTL_GLOBAL_FLAGS : KUBECTL_GLOBAL_FLAGS;
  const cmd = table[inv.command];
  if (cmd === undefined) return [`${inv.tool} has no subcommand "${inv.command}" in the catalog`];
  const out: string[] = [];
  for (const [name, value] of Object.entries(inv.flags)) {
    const kind = cmd.flags[name] ?? globals[name];
    if (kind === undefined) out.push(`${inv.tool} ${inv.command} has no flag --${name}`);
    else if (!VALUE[kind].test(value)) out.push(`--${name}=${value} is not a ${kind}`);
  }
  if (inv.args.length > cmd.args)
    out.push(`${inv.tool} ${inv.command} takes ${cmd.args} arguments, got ${inv.args.join(" ")}`);
  return out;
}

describe("the day-2 steps' scripts", () => {
  it.each(SHIPPED_STACKS)(
    "%s: every script parses under /bin/sh, as the command provider runs it",
    async (stack) => {
      const plan = await planOf(stack, { showSecrets: true });
      for (const r of plan.resources.filter((r) => r.type === "command:local:Command")) {
        for (const key of ["create", "update", "delete"]) {
          const script = r.inputs[key];
          if (typeof script !== "string") continue;
          const res = spawnSync("sh", ["-n"], { input: script, encoding: "utf8" });
          expect(res.status, `${r.name}.${key}: ${res.stderr}`).toBe(0);
        }
      }
    },
  );
});

describe("the day-2 steps' command lines", () => {
  it("the parser finds subcommands, flags and arguments, and a wrong flag is reported", () => {
    const [a, b] = invocations(
      'talosctl --nodes 10.0.0.1 upgrade --image x:v1 --wait=true --drain-timeout=10m\nkubectl --kubeconfig "$dir/k" drain n-1 --ignore-daemonsets --timeout=10m',
    );
    expect(a).toEqual({
      tool: "talosctl",
      command: "upgrade",
      flags: { nodes: "10.0.0.1", image: "x:v1", wait: "true", "drain-timeout": "10m" },
      args: [],
    });
    expect(b).toMatchObject({ tool: "kubectl", command: "drain", args: ["n-1"] });
    expect(
      problems(invocations("talosctl --nodes 1 upgrade --preserve=true --timeout=soon")[0]!),
    ).toEqual(["talosctl upgrade has no flag --preserve", "--timeout=soon is not a duration"]);
    expect(problems(invocations("talosctl etcd defrag")[0]!)).toEqual([
      'talosctl has no subcommand "etcd" in the catalog',
    ]);
  });

  it.each(SHIPPED_STACKS)(
    "%s: every talosctl and kubectl call uses a subcommand and flags of the pinned release",
    async (stack) => {
      const plan = await planOf(stack, { showSecrets: true });
      const seen = new Set<string>();
      for (const r of plan.resources.filter((r) => r.type === "command:local:Command")) {
        for (const key of ["create", "update", "delete"]) {
          const script = r.inputs[key];
          if (typeof script !== "string") continue;
          for (const inv of invocations(script)) {
            seen.add(`${inv.tool} ${inv.command}`);
            expect(problems(inv), `${r.name}.${key}: ${inv.tool} ${inv.command}`).toEqual([]);
          }
        }
      }
      // Every step kind is covered.
      expect([...seen].sort()).toEqual([
        "kubectl cordon",
        "kubectl delete node",
        "kubectl drain",
        "kubectl uncordon",
        "talosctl apply-config",
        "talosctl bootstrap",
        "talosctl etcd members",
        "talosctl etcd remove-member",
        "talosctl etcd status",
        "talosctl get",
        "talosctl health",
        "talosctl kubeconfig",
        "talosctl reset",
        "talosctl upgrade",
        "talosctl upgrade-k8s",
        "talosctl version",
      ]);
    },
  );
});
