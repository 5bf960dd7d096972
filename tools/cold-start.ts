/**
 * `npm run cold-start`: measures how long a model scaled to zero takes to answer the request that
 * wakes it, through the gateway, with its weights already in the cache volume. Each run puts the
 * model to sleep, replays a recorded load profile (tools/load/cold-start-profile.json: the request
 * that wakes it and those that arrive while it loads), then sends warm requests as the baseline of
 * the same run. The cold start is the waking request's time to first token less the warm median;
 * the figure to set as `models[].coldStartSeconds` is the largest over the runs, rounded up.
 *
 *   MODEL_API_KEY=sk-... npm run cold-start -- --url https://ai.example.com/v1 --model tiny-cpu
 *     [--runs 3] [--profile FILE] [--namespace models] [--sleep "COMMAND"] [--retry-after 5]
 *     [--json]
 *
 * The key is read from MODEL_API_KEY (`pulumi stack output --show-secrets modelApiKey`), never
 * from the command line. `--sleep` runs through the shell before each run and returns once the
 * model has no replica; by default it scales the model's StatefulSet to zero with kubectl and
 * waits for its pods to go (KEDA leaves it there until a request wakes it). A waking request that
 * gets a 5xx (the gateway's 504 when the hold runs out) is sent again after `--retry-after`
 * seconds, as a client would, and the wake counts until the one that is answered.
 */
import { execSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";

interface ProfileRequest {
  readonly at: number;
  readonly stream: boolean;
  readonly messages: readonly { role: string; content: string }[];
  readonly max_tokens: number;
}
export interface Profile {
  readonly requests: readonly ProfileRequest[];
  readonly warm: Omit<ProfileRequest, "at"> & { readonly count: number };
}

export interface Timing {
  readonly status: number;
  /** Seconds from sending to the response headers, to the first token, to the end. */
  readonly headers: number;
  readonly firstToken: number;
  readonly total: number;
}

export interface Run {
  /** The waking request: every attempt until one answered 200 (a held request may get 504). */
  readonly attempts: readonly Timing[];
  /** Seconds from the waking request to its first token, retries included. */
  readonly wakeSeconds: number;
  /** The requests that arrived while it loaded. */
  readonly during: readonly Timing[];
  /** Median time to first token of the warm requests. */
  readonly warmFirstToken: number;
  /** The cold start: the wake less the warm time to first token. */
  readonly coldStartSeconds: number;
}

class UsageError extends Error {}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Whether a server-sent event of a completion stream carries generated text. */
export function carriesText(event: string): boolean {
  const data = /^data: (.*)$/m.exec(event)?.[1];
  if (data === undefined || data === "[DONE]") return false;
  try {
    const choice = (
      JSON.parse(data) as { choices?: { delta?: { content?: unknown }; text?: unknown }[] }
    ).choices?.[0];
    const text = choice?.delta?.content ?? choice?.text;
    return typeof text === "string" && text.length > 0;
  } catch {
    return false;
  }
}

/**
 * One chat completion, timed; a stream's first token is its first event with generated text (the
 * first event usually carries the role alone).
 */
async function timed(url: string, key: string, model: string, req: Omit<ProfileRequest, "at">) {
  const start = performance.now();
  const since = () => (performance.now() - start) / 1000;
  const res = await fetch(`${url}/chat/completions`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${key}` },
    body: JSON.stringify({
      model,
      messages: req.messages,
      max_tokens: req.max_tokens,
      stream: req.stream,
    }),
  });
  const headers = since();
  let firstToken: number | undefined;
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of res.body ?? []) {
    text += decoder.decode(chunk as Uint8Array, { stream: true });
    if (firstToken === undefined && (!req.stream || text.split("\n\n").some(carriesText))) {
      firstToken = since();
    }
  }
  const total = since();
  return { status: res.status, headers, firstToken: firstToken ?? total, total };
}

export async function measure(opts: {
  readonly url: string;
  readonly key: string;
  readonly model: string;
  readonly profile: Profile;
  readonly sleep: () => void;
  /** Seconds between attempts when the waking request fails (a hold that ran out). */
  readonly retryAfterSeconds?: number;
}): Promise<Run> {
  const { url, key, model, profile } = opts;
  opts.sleep();
  const [first, ...rest] = profile.requests;
  if (first === undefined) throw new UsageError("the profile has no request");
  const wakeStart = performance.now();
  // Handled at once: a failure of one of these while the wake is still awaited is reported with
  // the run, not as an unhandled rejection.
  const others = rest.map((r) =>
    new Promise<Timing>((resolve, reject) =>
      setTimeout(() => timed(url, key, model, r).then(resolve, reject), r.at - first.at),
    ).then(
      (t) => ({ ok: true as const, t }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
  );
  const attempts: Timing[] = [];
  for (;;) {
    const t = await timed(url, key, model, first);
    attempts.push(t);
    if (t.status === 200) break;
    // What an OpenAI client retries: a timeout (LiteLLM answers 408 for one), too many requests,
    // a server error (the interceptor's 504 when the hold runs out).
    const retryable = t.status === 408 || t.status === 429 || t.status >= 500;
    if (!retryable || attempts.length >= 20) {
      throw new Error(`the waking request got ${t.status} (attempt ${attempts.length})`);
    }
    await new Promise((r) => setTimeout(r, (opts.retryAfterSeconds ?? 5) * 1000));
  }
  const last = attempts[attempts.length - 1]!;
  const wakeSeconds = (performance.now() - wakeStart) / 1000 - (last.total - last.firstToken);
  const during = (await Promise.all(others)).map((o) => {
    if (!o.ok) throw o.error;
    return o.t;
  });
  const warm: number[] = [];
  for (let i = 0; i < profile.warm.count; i++) {
    warm.push((await timed(url, key, model, profile.warm)).firstToken);
  }
  const warmFirstToken = median(warm);
  return {
    attempts,
    wakeSeconds,
    during,
    warmFirstToken,
    coldStartSeconds: Math.max(0, wakeSeconds - warmFirstToken),
  };
}

const fmt = (s: number) => `${s.toFixed(1)} s`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      model: { type: "string" },
      runs: { type: "string", default: "3" },
      profile: {
        type: "string",
        default: path.join(__dirname, "load", "cold-start-profile.json"),
      },
      namespace: { type: "string", default: "models" },
      sleep: { type: "string" },
      "retry-after": { type: "string", default: "5" },
      json: { type: "boolean", default: false },
    },
  });
  const key = process.env["MODEL_API_KEY"];
  const problems = [
    ...(values.url === undefined ? ["--url is required (the gateway's base, ending in /v1)"] : []),
    ...(values.model === undefined ? ["--model is required"] : []),
    ...(key === undefined || key === ""
      ? ["MODEL_API_KEY is not set (`pulumi stack output --show-secrets modelApiKey`)"]
      : []),
  ];
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) problems.push("--runs must be a whole number >= 1");
  const retryAfterSeconds = Number(values["retry-after"]);
  if (!(retryAfterSeconds >= 0)) problems.push("--retry-after must be a number of seconds");
  if (problems.length > 0) throw new UsageError(problems.join("; "));
  let profile: Profile;
  try {
    profile = JSON.parse(readFileSync(values.profile, "utf8")) as Profile;
  } catch (err) {
    throw new UsageError(`${values.profile}: ${(err as Error).message}`);
  }
  const model = values.model!;
  const sleepCommand =
    values.sleep ??
    `kubectl -n ${values.namespace} scale statefulset ${model} --replicas=0 && ` +
      `kubectl -n ${values.namespace} wait --for=delete pod -l app.kubernetes.io/instance=${model} --timeout=600s`;
  const results: Run[] = [];
  for (let i = 0; i < runs; i++) {
    const run = await measure({
      url: values.url!.replace(/\/$/, ""),
      key: key!,
      model,
      profile,
      sleep: () => execSync(sleepCommand, { stdio: ["ignore", "ignore", "inherit"] }),
      retryAfterSeconds,
    });
    results.push(run);
    if (!values.json) {
      const failed = run.attempts.filter((a) => a.status !== 200);
      process.stdout.write(
        `run ${i + 1}: woke in ${fmt(run.wakeSeconds)}, warm first token ${fmt(run.warmFirstToken)}, ` +
          `cold start ${fmt(run.coldStartSeconds)} (${(run.wakeSeconds / run.warmFirstToken).toFixed(0)}× the warm request)` +
          (failed.length > 0
            ? `; the waking request got ${failed.map((f) => `${f.status} after ${fmt(f.total)}`).join(", ")} first`
            : "") +
          "\n",
      );
    }
  }
  const cold = results.map((r) => r.coldStartSeconds);
  const summary = {
    model,
    runs: results,
    coldStartSeconds: { median: median(cold), max: Math.max(...cold) },
    suggested: Math.max(1, Math.ceil(Math.max(...cold))),
  };
  if (values.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    process.stdout.write(
      `cold start of ${model}: median ${fmt(summary.coldStartSeconds.median)}, max ${fmt(summary.coldStartSeconds.max)} over ${runs} run${runs === 1 ? "" : "s"}\n` +
        `set it in the stack: models[] (name ${model}) coldStartSeconds: ${summary.suggested}\n`,
    );
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  });
}
