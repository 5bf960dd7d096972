/**
 * `npm run comments`: the pull-request comment of four typical changes to the prod stack, as a
 * reviewer gets it. Writes each comment's Markdown to docs/comments/<change>.md and, rendered
 * the way GitHub shows it (GitHub's Markdown stylesheet, `<details>` collapsed, the Mermaid
 * diagram drawn by the Mermaid bundle), a screenshot to docs/comments/<change>.png.
 *
 *   npm run comments                 # Markdown and screenshots
 *   npm run comments -- --markdown   # Markdown only (no browser needed)
 *
 * The screenshots need Chromium (Debian: `apt-get install chromium`); `CHROMIUM` names another
 * binary. The test suite checks that the committed Markdown is what the plan renders today.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import * as YAML from "yaml";
import { diffPlans } from "./plan/diff";
import { renderMarkdown } from "./plan/markdown";
import { checkPlan } from "./plan/policies";
import { buildPlan, type Plan } from "./plan/render";
import { REPO_ROOT, evaluate } from "./plan/run";

const C = ["config", "homebrew-dev:cluster"];
type Edit = (doc: YAML.Document) => void;

export interface CommentScenario {
  /** The file name under docs/comments/. */
  readonly name: string;
  /** What the change is, as the README names it. */
  readonly title: string;
  /** The base branch's stack file, from the shipped prod stack (unchanged when undefined). */
  readonly base?: Edit;
  /** The pull request's stack file, from the shipped prod stack (unchanged when undefined). */
  readonly head?: Edit;
}

const seq = (doc: YAML.Document, p: readonly unknown[]) => doc.getIn(p) as YAML.YAMLSeq;

export const SCENARIOS: readonly CommentScenario[] = [
  {
    name: "add-worker-and-redirects",
    title: "Add a worker and two redirects",
    head: (doc) => {
      seq(doc, [...C, "workerPools", 0, "nodes"]).add(
        doc.createNode({ name: "prod-worker-5", ip: "10.50.0.25" }),
      );
      const redirects = seq(doc, ["config", "homebrew-dev:edge", "redirects"]);
      redirects.items.splice(
        1,
        0,
        doc.createNode({
          source: "https://www.homebrew.example/pricing-2026",
          target: "https://www.homebrew.example/plans",
          status: 301,
        }) as never,
      );
      redirects.add(
        doc.createNode({
          source: "https://www.homebrew.example/jobs-2026",
          target: "https://jobs.homebrew.example/",
          status: 302,
        }),
      );
    },
  },
  {
    name: "talos-upgrade",
    title: "Upgrade Talos from 1.13 to 1.14",
    base: (doc) => doc.setIn([...C, "talosVersion"], "v1.13.13"),
  },
  {
    name: "kubernetes-upgrade",
    title: "Upgrade Kubernetes to the next minor",
    head: (doc) => doc.setIn([...C, "kubernetesVersion"], "v1.36.3"),
  },
  {
    name: "remove-worker-and-postgres",
    title: "Remove a worker and PostgreSQL",
    head: (doc) => {
      seq(doc, [...C, "workerPools", 0, "nodes"]).delete(1);
      doc.setIn(["config", "homebrew-dev:platform", "postgres", "enabled"], false);
    },
  },
];

const workDir = mkdtempSync(path.join(tmpdir(), "comments-"));
let files = 0;

let shipped: Promise<Plan> | undefined;

/** The plan of the prod stack with `edit` applied to its file, as `npm run plan` makes it. */
function prodPlan(edit: Edit | undefined): Promise<Plan> {
  if (edit !== undefined) return editedPlan(edit);
  shipped ??= editedPlan(() => undefined);
  return shipped;
}

async function editedPlan(edit: Edit): Promise<Plan> {
  const doc = YAML.parseDocument(
    readFileSync(path.join(REPO_ROOT, "stacks", "Pulumi.prod.yaml"), "utf8"),
  );
  edit(doc);
  const configFile = path.join(workDir, `prod-${files++}.yaml`);
  writeFileSync(configFile, doc.toString());
  const evaluation = await evaluate({ stack: "prod", configFile });
  return buildPlan(evaluation, { showSecrets: false, ...(await checkPlan(evaluation)) });
}

/** The comment of one change: the Markdown `npm run plan -- prod --diff base --markdown` prints. */
export async function scenarioMarkdown(s: CommentScenario): Promise<string> {
  const base = await prodPlan(s.base);
  const head = await prodPlan(s.head);
  return renderMarkdown(diffPlans(base, head), head, { base });
}

export const COMMENTS_DIR = path.join(REPO_ROOT, "docs", "comments");

/** A page that shows a comment as GitHub does: its Markdown stylesheet, one column, Mermaid. */
export async function commentPage(markdown: string): Promise<string> {
  const { Marked } = await import("marked");
  const marked = new Marked({
    gfm: true,
    renderer: {
      code({ text, lang }) {
        const escaped = text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
        return lang === "mermaid"
          ? `<pre class="mermaid">${escaped}</pre>\n`
          : `<pre><code>${escaped}</code></pre>\n`;
      },
    },
  });
  const css = readFileSync(
    path.join(REPO_ROOT, "node_modules", "github-markdown-css", "github-markdown-light.css"),
    "utf8",
  );
  const mermaid = readFileSync(
    path.join(REPO_ROOT, "node_modules", "mermaid", "dist", "mermaid.min.js"),
    "utf8",
  );
  const body = await marked.parse(markdown);
  return `<!doctype html>
<html><head><meta charset="utf-8"><style>${css}
body { margin: 0; background: #fff; }
.markdown-body { box-sizing: border-box; width: 920px; padding: 24px 32px; border: 1px solid #d0d7de; border-radius: 6px; margin: 16px; }
</style></head>
<body><article class="markdown-body">${body}</article>
<script>${mermaid}</script>
<script>
mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "default" });
mermaid.run({ querySelector: "pre.mermaid" }).then(
  () => { window.rendered = "ok"; },
  (e) => { window.rendered = "error: " + e; },
);
</script></body></html>`;
}

async function screenshot(html: string, file: string): Promise<void> {
  const puppeteer = await import("puppeteer-core");
  const browser = await puppeteer.launch({
    executablePath: process.env["CHROMIUM"] ?? "/usr/bin/chromium",
    // Root in a container has no user namespace sandbox to enter.
    args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 960, height: 800, deviceScaleFactor: 1 });
    await page.setContent(html, { waitUntil: "load" });
    await page.waitForFunction("window.rendered !== undefined", { timeout: 60_000 });
    const rendered = await page.evaluate("window.rendered");
    if (rendered !== "ok") throw new Error(`Mermaid could not draw the diagram (${rendered})`);
    await page.screenshot({ path: file as `${string}.png`, fullPage: true });
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { markdown: { type: "boolean", default: false } } });
  mkdirSync(COMMENTS_DIR, { recursive: true });
  for (const s of SCENARIOS) {
    const md = await scenarioMarkdown(s);
    writeFileSync(path.join(COMMENTS_DIR, `${s.name}.md`), md);
    process.stdout.write(`docs/comments/${s.name}.md\n`);
    if (!values.markdown) {
      await screenshot(await commentPage(md), path.join(COMMENTS_DIR, `${s.name}.png`));
      process.stdout.write(`docs/comments/${s.name}.png\n`);
    }
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
