import { defineConfig } from "vitest/config";

// TEST_REPORT_JSON=<file> adds a JSON report (CI reads its counts).
const jsonReport = process.env["TEST_REPORT_JSON"];

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: jsonReport ? ["default", "json"] : ["default"],
    ...(jsonReport ? { outputFile: { json: jsonReport } } : {}),
  },
});
