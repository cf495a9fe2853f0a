// A worker thread of `pnpm sim --workers N`: runs the seeds its parent sends, one at a time, and
// answers each with its summary. A seed's run depends only on the seed and the options, never on
// which worker ran it or what ran before it in that worker, so any N gives the same results.
import { parentPort, workerData } from "node:worker_threads";
import { runSeed } from "./seed-run.js";
import type { SeedRunOptions } from "./seed-run.js";

const port = parentPort;
if (port === null) throw new Error("seed-worker.js runs only as a worker thread of pnpm sim");
const options = workerData as SeedRunOptions;
port.on("message", (message: { seed: number } | { stop: true }) => {
  if ("stop" in message) {
    port.close();
    return;
  }
  void runSeed(message.seed, options).then(
    (summary) => port.postMessage({ ok: true, summary }),
    (error: unknown) => port.postMessage({ ok: false, seed: message.seed, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
