#!/usr/bin/env node
// The project's one test command. Runs every package's vitest project once, then prints
// the plain closing line `N passed, N failed` computed from vitest's own JSON report, and
// exits non-zero if anything failed or if no test ran at all.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..");
const resultsDirectory = join(root, ".test-results");
const reportPath = join(resultsDirectory, "vitest.json");
mkdirSync(resultsDirectory, { recursive: true });
rmSync(reportPath, { force: true });

const vitestBin = join(root, "node_modules", "vitest", "vitest.mjs");
const run = spawnSync(
  process.execPath,
  [vitestBin, "run", "--reporter=default", "--reporter=json", `--outputFile.json=${reportPath}`, ...process.argv.slice(2)],
  { cwd: root, stdio: "inherit", env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? "0" } },
);

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(reportPath)) {
  const report = JSON.parse(readFileSync(reportPath, "utf8"));
  passed = report.numPassedTests ?? 0;
  failed = report.numFailedTests ?? 0;
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A suite that fails to load (syntax error, missing import) has no tests in it; count it.
  for (const file of report.testResults ?? []) {
    if (file.status === "failed" && (file.assertionResults ?? []).length === 0) failed += 1;
  }
} else {
  failed += 1;
  console.error("test: vitest wrote no report; counting the run as failed");
}
const vitestFailed = run.status !== 0;
if (vitestFailed && failed === 0) failed = 1;
console.log("");
console.log(skipped > 0 ? `${passed} passed, ${failed} failed, ${skipped} skipped` : `${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
