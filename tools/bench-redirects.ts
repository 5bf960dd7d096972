/**
 * How long planning 10,000 redirects takes: 9,900 exact-URL redirects (bulk lists) and 100
 * wildcard ones (single rules) on the enterprise tier. Prints the median of several runs after
 * a warm-up; a figure for the README, not a test.
 *
 *   npx tsx tools/bench-redirects.ts [count]
 */
import { planRedirects } from "../components/edge";
import { generateRedirects } from "../test/edge/fixtures";

const count = Number(process.argv[2] ?? 10_000);
const redirects = generateRedirects(count, "example.com", 100);
const run = () => {
  const start = process.hrtime.bigint();
  planRedirects(redirects, "enterprise", { zone: "example.com" });
  return Number(process.hrtime.bigint() - start) / 1e6;
};

const first = run();
const times = Array.from({ length: 9 }, run).sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
console.log(
  `planRedirects: ${count} redirects in ${median.toFixed(0)} ms (median of ${times.length} runs; first run ${first.toFixed(0)} ms), Node ${process.version}`,
);
