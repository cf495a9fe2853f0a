/**
 * FileStorage throughput and latency against the disk's own limit, measured in one run:
 *
 *   cd packages/storage && node --import tsx bench/storage-bench.ts [--seconds 3] [--dir PATH]
 *   (or: pnpm --filter @lockstep/storage bench)
 *
 * The workspace packages resolve to their sources through the `source` export condition, so this
 * file re-runs itself with `--conditions=source` when started without it.
 */
import { spawnSync } from "node:child_process";

if (!process.execArgv.some((argument) => argument.startsWith("--conditions"))) {
  const rerun = spawnSync(process.execPath, ["--conditions=source", ...process.execArgv, ...process.argv.slice(1)], { stdio: "inherit" });
  process.exit(rerun.status ?? 1);
}

const { runStorageBench } = await import("./storage-bench-run.js");
await runStorageBench(process.argv.slice(2));
