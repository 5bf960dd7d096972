/**
 * `npm run bench:test`: how long the README's test command takes, as whole processes. Runs
 * `npm test` (and its two halves, the static checks and the test runner) several times, one
 * after the other, and prints each one's median, minimum and maximum wall and CPU time. The
 * target is `npm test` under 60 s of wall time on a 2-core machine.
 *
 *   npm run bench:test [-- --runs N]
 */
import { spawn } from "node:child_process";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "./plan/run";

interface Sample {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly code: number | null;
}

/** One run of `npm run <script>`: wall time, and the CPU time of the process tree. */
function timed(script: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    // `time -f` would need GNU time; the children's CPU is read from the shell's `times`.
    const child = spawn(
      "bash",
      ["-c", `npm run -s ${script} > /dev/null 2>&1; code=$?; times; exit $code`],
      { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
      // `times` prints the shell's user/sys, then its children's: "0m1.234s 0m0.567s".
      const lines = out.trim().split("\n");
      const seconds = (t: string) => {
        const m = /(\d+)m([\d.]+)s/.exec(t);
        return m ? Number(m[1]) * 60 + Number(m[2]) : 0;
      };
      const children = (lines[lines.length - 1] ?? "").split(/\s+/).map(seconds);
      resolve({ wallMs, cpuMs: ((children[0] ?? 0) + (children[1] ?? 0)) * 1000, code });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: "string", default: "3" } } });
  const runs = Number(values.runs);
  process.stdout.write(
    `machine: ${cpus().length} cores, ${cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}; ${runs} runs each\n\n`,
  );
  for (const script of ["test", "checks", "test:unit"]) {
    const samples: Sample[] = [];
    for (let i = 0; i < runs; i++) samples.push(await timed(script));
    const failed = samples.filter((s) => s.code !== 0).length;
    const wall = samples.map((s) => s.wallMs / 1000);
    const cpu = samples.map((s) => s.cpuMs / 1000);
    process.stdout.write(
      `npm run ${script.padEnd(10)} wall ${median(wall).toFixed(1)} s (${Math.min(...wall).toFixed(1)}-${Math.max(...wall).toFixed(1)})  cpu ${median(cpu).toFixed(1)} s${failed > 0 ? `  ${failed} run(s) failed` : ""}\n`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
