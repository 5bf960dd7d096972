/**
 * The offline plan: evaluates the real program (index.ts) for one stack on Pulumi's mock runtime.
 * No Pulumi CLI, no credentials, no network.
 *
 *   npm run plan -- <stack> [--config FILE] [--json] [--show-secrets]
 *   npm run plan -- <stack> --diff BASE.json [--markdown]
 *
 * Exit codes: 0 plan made; 1 invalid configuration, usage or program error; 2 blocked (a
 * mandatory policy or a lifecycle error).
 */
import { planCli } from "./plan/cli";

// A reader that stops early (`| head`) closes the pipe: that ends the output, not in an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
}

planCli(process.argv.slice(2)).then(
  (res) => {
    process.stdout.write(res.stdout);
    process.stderr.write(res.stderr);
    process.exitCode = res.code;
  },
  (err: unknown) => {
    // Anything else is a defect of the plan tool itself: say so, with the trace to report.
    process.stderr.write(
      `internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  },
);
