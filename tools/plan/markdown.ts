import { LOSES } from "../../components/catalog/lifecycle";
import type { ChangeKind, PlanDiff, ResourceChange } from "./diff";
import { renderMermaid } from "./mermaid";
import { SECRET, comesUpLines, type Plan, type PlanExemption, type PolicyResult } from "./render";

/** GitHub refuses comments over 65,536 characters; stay well below. */
export const DEFAULT_BUDGET = 60_000;

/** Danger lines shown before the rest is summarised (the block must fit any budget). */
export const MAX_DANGER_LINES = 40;

/** The hidden marker a workflow finds its own comment by, one per stack. */
export function commentMarker(stack: string): string {
  return `<!-- homebrew-dev-plan:${stack} -->`;
}

const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;

/** A value for a table cell: short, one line, secrets masked (the plan already masks them). */
export function cell(value: unknown, max = 80): string {
  if (value === undefined) return "_(none)_";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  const oneLine = text.replace(/\s+/g, " ").replace(/\|/g, "\\|");
  return code(oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine);
}

/**
 * An added or removed object as its leaves, `path=value` each: every field of a new list item
 * (a redirect's source, target and status) is readable, not just the first characters of its JSON.
 */
export function leafCell(value: unknown, max = 400): string {
  if (value === null || typeof value !== "object") return cell(value, max);
  const out: string[] = [];
  const walk = (v: unknown, at: string): void => {
    if (v !== null && typeof v === "object" && Object.keys(v).length > 0) {
      for (const [k, child] of Object.entries(v)) {
        walk(child, Array.isArray(v) ? `${at}[${k}]` : at === "" ? k : `${at}.${k}`);
      }
    } else out.push(`${at}=${typeof v === "string" ? v : JSON.stringify(v)}`);
  };
  walk(value, "");
  return cell(out.join(", "), max);
}

const KIND_WORD: Readonly<Record<ChangeKind, string>> = {
  create: "create",
  update: "update",
  replace: "replace",
  delete: "delete",
};

/** The verdict: what a reviewer must know in one line. */
export function verdict(diff: PlanDiff, mandatoryViolations: number, head?: Plan): string {
  const { create, update, replace, delete: del } = diff.counts;
  const total = create + update + replace + del;
  const errors = (diff.findings ?? []).filter((f) => f.level === "error").length;
  if (mandatoryViolations > 0 || errors > 0) {
    const parts = [
      ...(mandatoryViolations > 0
        ? [
            `${mandatoryViolations} mandatory policy violation${mandatoryViolations === 1 ? "" : "s"}`,
          ]
        : []),
      ...(errors > 0
        ? [
            `${errors} lifecycle error${errors === 1 ? "" : "s"} (\`pulumi up\` would fail or lose data)`,
          ]
        : []),
    ];
    return `**Blocked**: ${parts.join(", ")}.`;
  }
  if (total === 0) return "**No changes.**";
  const protectedHits = diff.changes.filter(
    (c) => c.protect && (c.kind === "delete" || c.kind === "replace"),
  ).length;
  if (protectedHits > 0) {
    return `**Dangerous**: ${protectedHits} protected resource${protectedHits === 1 ? "" : "s"} would be deleted or replaced (the update will stop there until they are unprotected).`;
  }
  const dangerous =
    head !== undefined ? diff.changes.filter((c) => dangerOf(c, head) !== undefined).length : -1;
  if (dangerous > 0) {
    return `**Review carefully**: ${dangerous} change${dangerous === 1 ? "" : "s"} that lose${dangerous === 1 ? "s" : ""} data or restart${dangerous === 1 ? "s" : ""} nodes (${del} to delete and ${replace} to replace in all).`;
  }
  if (replace + del > 0 && dangerous === 0) {
    return `**Safe**: ${create} to create, ${update} to update, ${replace} to replace and ${del} to delete; nothing loses data and no node restarts.`;
  }
  if (replace + del > 0) {
    return `**Review carefully**: ${del} to delete and ${replace} to replace.`;
  }
  return `**Safe**: ${create} to create and ${update} to update, nothing deleted or replaced.`;
}

/** The change per area, a line each, only the areas that change. */
export function summaryLines(diff: PlanDiff): string[] {
  const s = diff.summary;
  if (s === undefined) return [];
  const out: string[] = [];
  const list = (label: string, items: readonly string[], sign: string) =>
    items.length > 0 ? [`- **${label}** ${sign} ${items.join("; ")}`] : [];
  out.push(
    ...list("Nodes", s.nodes.added, "added:"),
    ...list("Nodes", s.nodes.removed, "removed:"),
    ...list("Nodes", s.nodes.moved, "moved:"),
  );
  if (s.versions.length > 0) out.push(`- **Versions** ${s.versions.join("; ")}`);
  out.push(
    ...list("Workloads", s.workloads.added, "added:"),
    ...list("Workloads", s.workloads.removed, "removed:"),
    ...list("Workloads", s.workloads.replaced, "replaced:"),
    ...list("Public names", s.publicNames.added, "added:"),
    ...list("Public names", s.publicNames.removed, "removed:"),
  );
  const r = s.redirects;
  if (r.added + r.removed + r.changed > 0) {
    out.push(`- **Redirects** ${r.added} added, ${r.removed} removed, ${r.changed} changed`);
  }
  return out;
}

/**
 * Why a change is dangerous, or undefined when it is not: it loses data or a stateful thing
 * (the catalog's `LOSES`), is protected, or restarts or resets a node (a day-2 step whose script
 * runs `talosctl upgrade`, or a removal step's `talosctl reset`). Rewritten files, policies and
 * records that come back as they were are not.
 */
export function dangerOf(c: ResourceChange, head: Plan): string | undefined {
  const loses = LOSES[c.type];
  if ((c.kind === "delete" || c.kind === "replace") && loses !== undefined) return `loses ${loses}`;
  if (c.protect && c.kind !== "create") return "protected";
  if (c.type !== "command:local:Command") return undefined;
  const script = (key: string) => {
    const r = head.resources.find((x) => x.urn === c.urn);
    return typeof r?.inputs[key] === "string" ? (r.inputs[key] as string) : "";
  };
  const node = (text: string, verb: string) =>
    new RegExp(`--nodes (\\S+) ${verb} `).exec(text)?.[1] ?? "a node";
  if (c.kind === "update" && / upgrade --image /.test(script("update"))) {
    return `restarts ${node(script("update"), "upgrade")} (drained, upgraded, rebooted) unless it already runs the target`;
  }
  if (c.kind === "update" && / upgrade-k8s --to /.test(script("update"))) {
    return "restarts the control-plane components, kube-proxy and every kubelet, one at a time";
  }
  if (c.kind === "delete" && c.properties.length === 0) {
    // A removal step: its delete script is in the base; the change names the node.
    return c.name.includes("-remove-")
      ? `drains and resets node ${c.name.slice(c.name.indexOf("-remove-") + "-remove-".length)}`
      : undefined;
  }
  return undefined;
}

function dangerLines(changes: readonly ResourceChange[], head: Plan): string[] {
  return changes.flatMap((c) => {
    const why = dangerOf(c, head);
    if (why === undefined) return [];
    const what = `${code(c.type)} ${code(c.name)}`;
    const prot = c.protect ? " **(protected)**" : "";
    if (c.kind === "replace") {
      const order = c.deleteFirst ? " (deleted first)" : "";
      const cause =
        c.cascadeFrom !== undefined
          ? `, because ${code(c.cascadeFrom.split("::").pop() ?? c.cascadeFrom)} is replaced first`
          : "";
      return [
        `- **replace** ${what}${prot}${order}, forced by ${c.replaceReasons.map(code).join(", ")}${cause}: ${why}`,
      ];
    }
    return [`- **${KIND_WORD[c.kind]}** ${what}${prot}: ${why}`];
  });
}

/**
 * Both sides of a long text change, cut to a window around where they first differ, so the
 * change itself is what the reader sees.
 */
export function changeExcerpt(before: string, after: string, width = 70): [string, string] {
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  const from = Math.max(0, start - 20);
  const cut = (s: string) =>
    `${from > 0 ? "…" : ""}${s.slice(from, from + width)}${s.length > from + width ? "…" : ""}`;
  return [cut(before), cut(after)];
}

function changeDetail(c: ResourceChange): string[] {
  const head = `- **${c.kind}** ${code(c.type)} ${code(c.name)}`;
  if (c.properties.length === 0) return [head];
  return [
    head,
    ...c.properties.map((p) => {
      if (p.secret === true) return `  - ${code(p.path)}: changed, secret`;
      if (p.from !== undefined)
        return `  - ${code(p.path)}: new value from replaced ${code(p.from)}`;
      if (p.before === undefined) return `  - ${code(p.path)}: added ${leafCell(p.after)}`;
      if (p.after === undefined) return `  - ${code(p.path)}: removed ${leafCell(p.before)}`;
      const [before, after] =
        typeof p.before === "string" && typeof p.after === "string"
          ? changeExcerpt(p.before, p.after)
          : [p.before, p.after];
      const secret = p.before === SECRET || p.after === SECRET ? " (secret)" : "";
      return `  - ${code(p.path)}: ${cell(before, 100)} → ${cell(after, 100)}${secret}`;
    }),
  ];
}

export interface MarkdownOptions {
  /** Characters the whole comment may use. @default 60000 */
  readonly budget?: number;
  /** Include the system diagram. @default true */
  readonly diagram?: boolean;
  /** The plan compared with: the diagram marks what the change adds and removes. @default - none */
  readonly base?: Plan;
}

/**
 * The pull-request comment for one stack: marker, verdict, counts, the danger block, policy
 * results, the changed properties, the system diagram, and the full detail collapsed. The top
 * sections are never cut; the detail shrinks to fit the budget.
 */
export function renderMarkdown(diff: PlanDiff, head: Plan, opts: MarkdownOptions = {}): string {
  const budget = opts.budget ?? DEFAULT_BUDGET;
  const mandatory = head.policies.filter((p) => p.level === "mandatory");
  const advisory = head.policies.filter((p) => p.level === "advisory");
  const { create, update, replace, delete: del } = diff.counts;

  const top: string[] = [
    commentMarker(head.stack),
    `### Plan of stack ${code(head.stack)}`,
    "",
    verdict(diff, mandatory.length, head),
    "",
    "| create | update | replace | delete |",
    "| ---: | ---: | ---: | ---: |",
    `| ${create} | ${update} | ${replace} | ${del} |`,
    "",
  ];
  const summary = summaryLines(diff);
  if (summary.length > 0) top.push("#### Summary", "", ...summary, "");
  const findings = diff.findings ?? [];
  if (findings.length > 0) {
    top.push("#### Lifecycle", "");
    for (const f of findings) {
      top.push(
        `- **${f.level}** ${code(f.check)} on ${code(f.urn.split("::").pop() ?? f.urn)}: ${f.message}`,
      );
    }
    top.push("");
  }
  const danger = dangerLines(diff.changes, head);
  if (danger.length > 0) {
    top.push("#### Danger", "", ...danger.slice(0, MAX_DANGER_LINES));
    if (danger.length > MAX_DANGER_LINES) {
      top.push(`- _…and ${danger.length - MAX_DANGER_LINES} more, listed under "Every change"._`);
    }
    top.push("");
  }
  // What the change does to the policy results first; what stands in both is counted, and listed
  // collapsed.
  const line = (p: PolicyResult) =>
    `- **${p.level}** ${code(p.policy)} on ${code(p.urn.split("::").pop() ?? p.urn)}: ${p.message}`;
  const byLevel = (ps: readonly PolicyResult[]) =>
    [...ps].sort((a, b) => (a.level === b.level ? 0 : a.level === "mandatory" ? -1 : 1));
  const { added, resolved, standing } = diff.policies ?? {
    added: head.policies,
    resolved: [],
    standing: [],
  };
  top.push(
    "#### Policies",
    "",
    mandatory.length + advisory.length === 0
      ? "No policy violations."
      : `${mandatory.length} mandatory, ${advisory.length} advisory: ${added.length} new, ${resolved.length} resolved, ${standing.length} standing.`,
  );
  if (added.length > 0) top.push("", "New:", ...byLevel(added).map(line));
  if (resolved.length > 0) top.push("", "Resolved:", ...byLevel(resolved).map(line));
  if (standing.length > 0) {
    top.push(
      "",
      `<details><summary>${standing.length} standing (also on the base)</summary>`,
      "",
      ...byLevel(standing).slice(0, MAX_DANGER_LINES).map(line),
      ...(standing.length > MAX_DANGER_LINES
        ? [`- _…and ${standing.length - MAX_DANGER_LINES} more._`]
        : []),
      "",
      "</details>",
    );
  }
  // Exemptions are decisions: one the change declares is read like a new finding; the ones that
  // stand are counted and listed collapsed, each with its reason.
  const exemptions = diff.exemptions ?? { added: head.exemptions, removed: [], standing: [] };
  const exemptLine = (e: PlanExemption) =>
    `- ${code(e.policy)} on ${code(e.urn.split("::").pop() ?? e.urn)}: ${e.reason}`;
  if (exemptions.added.length > 0) {
    top.push("", "New exemptions:", ...exemptions.added.map(exemptLine));
  }
  if (exemptions.removed.length > 0) {
    top.push("", "Exemptions dropped:", ...exemptions.removed.map(exemptLine));
  }
  if (exemptions.standing.length > 0) {
    top.push(
      "",
      `<details><summary>${exemptions.standing.length} exemption${exemptions.standing.length === 1 ? "" : "s"} standing, each with its reason</summary>`,
      "",
      ...exemptions.standing.map(exemptLine),
      "",
      "</details>",
    );
  }
  top.push("");

  // Whether the stack comes up: the whole-cluster checks, and which namespace reaches which.
  const r = head.comesUp?.reachability;
  if (r !== undefined && r.namespaces.length > 0) {
    top.push(
      "#### Comes up",
      "",
      comesUpLines(head)[0]!.replace(/^Comes up: /, ""),
      "",
      "<details><summary>Which namespace reaches which</summary>",
      "",
      `| from \\ to | ${r.namespaces.map(code).join(" | ")} |`,
      `| --- | ${r.namespaces.map(() => ":---:").join(" | ")} |`,
      ...r.namespaces.map(
        (from, i) =>
          `| ${code(from)} | ${r.namespaces.map((_, j) => (i === j ? "=" : r.allowed[i]![j] ? "✓" : "·")).join(" | ")} |`,
      ),
      "",
      "</details>",
      "",
    );
  }

  const changed = diff.changes.filter((c) => c.kind === "update" || c.kind === "replace");
  const middle: string[] = [];
  if (changed.length > 0) {
    middle.push("#### Changed properties", "");
    for (const c of changed) middle.push(...changeDetail(c));
    middle.push("");
  }
  if (opts.diagram ?? true) {
    middle.push(
      "#### System",
      "",
      "```mermaid",
      renderMermaid(head, opts.base).trimEnd(),
      "```",
      "",
    );
  }

  const detailHead = ["<details><summary>Every change</summary>", ""];
  const detailTail = ["", "</details>", ""];
  const used = (parts: string[][]) => parts.reduce((n, p) => n + p.join("\n").length + 1, 0);
  const fixed = used([top, detailHead, detailTail]);
  let middleText = middle;
  if (fixed + used([middle]) > budget) {
    // The changed properties and diagram give way before the top sections ever do.
    middleText = [
      `_Changed properties and diagram omitted: the comment would exceed ${budget} characters._`,
      "",
    ];
  }
  const room = budget - fixed - used([middleText]) - 200;
  const detail: string[] = [];
  let size = 0;
  let omitted = 0;
  for (const c of diff.changes) {
    const lines = changeDetail(c);
    const len = lines.join("\n").length + 1;
    if (size + len > room) {
      omitted++;
      continue;
    }
    detail.push(...lines);
    size += len;
  }
  if (omitted > 0) detail.push(`- _…and ${omitted} more changes, omitted to fit the comment._`);
  if (diff.changes.length === 0) detail.push("_Nothing changes._");
  return [...top, ...middleText, ...detailHead, ...detail, ...detailTail].join("\n");
}
