import { defineConfig } from "vitest/config";

// TEST_REPORT_JSON=<file> adds a JSON report (CI reads its counts).
const jsonReport = process.env["TEST_REPORT_JSON"];

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    // Test files share a worker's module cache: the SDK and the providers load once per worker
    // instead of once per file (about half the suite's time). Files that use the SDK's runtime
    // set it up themselves (setMocks, or an evaluation that installs its own monitor).
    isolate: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: jsonReport ? ["default", "json"] : ["default"],
    ...(jsonReport ? { outputFile: { json: jsonReport } } : {}),
  },
});
