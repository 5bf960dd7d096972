import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { carriesText } from "../../tools/cold-start";
import { REPO_ROOT } from "../helpers/cli";

/**
 * `npm run cold-start` as the process a user runs, against a stand-in for the gateway: an
 * OpenAI-style server that sleeps when told, holds every request while it "loads" (as the
 * interceptor does), answers 504 when the hold runs out, and streams server-sent events.
 */
const KEY = "sk-test-cold-start";
const LOAD_MS = 1200;
let server: Server;
let base = "";
let state: { asleep: boolean; wakingUntil: number; holdMs: number } = {
  asleep: false,
  wakingUntil: 0,
  holdMs: 60_000,
};
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      if (req.url === "/__sleep") {
        state.asleep = true;
        res.end("ok");
        return;
      }
      seen.push(`${req.method} ${req.url} ${req.headers.authorization}`);
      if (req.headers.authorization !== `Bearer ${KEY}`) {
        res.writeHead(401).end();
        return;
      }
      const stream = (JSON.parse(body) as { stream: boolean }).stream;
      const answer = () => {
        if (stream) {
          res.writeHead(200, { "Content-Type": "text/event-stream" });
          // The role first, as servers send it; the text a moment later.
          res.write('data: {"choices":[{"delta":{"role":"assistant"}}]}\n\n');
          setTimeout(() => res.write('data: {"choices":[{"delta":{"content":"ready"}}]}\n\n'), 30);
          setTimeout(() => res.end("data: [DONE]\n\n"), 50);
        } else {
          res.writeHead(200, { "Content-Type": "application/json" });
          res.end('{"choices":[{"message":{"content":"ready"}}]}');
        }
      };
      const now = Date.now();
      if (state.asleep) {
        state.asleep = false;
        state.wakingUntil = now + LOAD_MS;
      }
      const wait = state.wakingUntil - now;
      if (wait <= 0) return answer();
      if (wait > state.holdMs) {
        setTimeout(() => res.writeHead(504).end("Gateway Timeout"), state.holdMs);
        return;
      }
      setTimeout(answer, wait);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const dir = mkdtempSync(path.join(tmpdir(), "cold-start-"));
const profile = path.join(dir, "profile.json");
writeFileSync(
  profile,
  JSON.stringify({
    requests: [
      { at: 0, stream: true, messages: [{ role: "user", content: "hi" }], max_tokens: 8 },
      { at: 300, stream: false, messages: [{ role: "user", content: "hi" }], max_tokens: 8 },
    ],
    warm: { count: 3, stream: true, messages: [{ role: "user", content: "hi" }], max_tokens: 8 },
  }),
);

const run = (args: string[], env: Record<string, string> = { MODEL_API_KEY: KEY }) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(
      process.execPath,
      ["--import", "tsx", path.join(REPO_ROOT, "tools", "cold-start.ts"), ...args],
      { cwd: REPO_ROOT, env: { PATH: process.env["PATH"] ?? "", ...env } },
    );
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (c) => (stdout += c));
    p.stderr.on("data", (c) => (stderr += c));
    p.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
const sleep = () => [
  "--sleep",
  `${JSON.stringify(process.execPath)} -e "fetch('${base}/__sleep',{method:'POST'})"`,
];

/** A measurement of the stand-in's model "tiny", putting it to sleep before each run. */
const measureArgs = (runs: number) => [
  "--url",
  `${base}/v1`,
  "--model",
  "tiny",
  "--runs",
  String(runs),
  "--profile",
  profile,
  ...sleep(),
];

describe("the first token of a stream", () => {
  it("is the first event with text: not the role, not the end", () => {
    expect(
      [
        'data: {"choices":[{"delta":{"role":"assistant"}}]}',
        'data: {"choices":[{"delta":{"content":""}}]}',
        'data: {"choices":[{"delta":{"content":"Hi"}}]}',
        'data: {"choices":[{"text":"Once"}]}',
        "data: [DONE]",
        ": keep-alive",
      ].map(carriesText),
    ).toEqual([false, false, true, true, false, false]);
  });
});

describe("npm run cold-start", () => {
  it("measures the waking request against warm ones of the same run, with the key as Bearer", async () => {
    state = { asleep: false, wakingUntil: 0, holdMs: 60_000 };
    const res = await run([...measureArgs(2), "--json"]);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out.runs).toHaveLength(2);
    for (const r of out.runs) {
      expect(r.attempts.map((a: { status: number }) => a.status)).toEqual([200]);
      expect(r.during.map((a: { status: number }) => a.status)).toEqual([200]);
      // The stand-in loads for 1.2 s: no measurement can be below it.
      expect(r.wakeSeconds).toBeGreaterThanOrEqual(LOAD_MS / 1000 - 0.05);
      expect(r.coldStartSeconds).toBeLessThanOrEqual(r.wakeSeconds);
    }
    expect(out.suggested).toBe(Math.max(1, Math.ceil(out.coldStartSeconds.max)));
    expect(seen.every((s) => s.endsWith(`Bearer ${KEY}`))).toBe(true);
    expect(seen.filter((s) => s.startsWith("POST /v1/chat/completions")).length).toBe(2 * (2 + 3));
  });

  it("a hold shorter than the load: the waking request's 504 is reported and retried", async () => {
    state = { asleep: false, wakingUntil: 0, holdMs: 400 };
    const res = await run([...measureArgs(1), "--retry-after", "0.2"]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(
      /^run 1: woke in [\d.]+ s, .*; the waking request got 504 after [\d.]+ s(, 504 after [\d.]+ s)* first\n/,
    );
    expect(res.stdout).toMatch(
      /set it in the stack: models\[\] \(name tiny\) coldStartSeconds: \d+\n$/,
    );
  });

  it("without the key or the model: one line naming each problem, exit 2", async () => {
    const res = await run(["--url", `${base}/v1`], {});
    expect(res.code).toBe(2);
    expect(res.stderr).toBe(
      "error: --model is required; MODEL_API_KEY is not set (`pulumi stack output --show-secrets modelApiKey`)\n",
    );
  });
});
