import { Worker } from "node:worker_threads";
import { runSeed } from "./seed-run.js";
import type { SeedRunOptions, SeedSummary } from "./seed-run.js";

export type SeedOutcome = { ok: true; summary: SeedSummary } | { ok: false; seed: number; error: string };

/** Seeds `first`, `first + 1`, ... `first + count - 1`: a range, so 100,000 seeds cost no array. */
export interface SeedRange {
  first: number;
  count: number;
}

/**
 * Runs the seeds of `range` on `workers` worker threads (1: in this thread), handing each idle worker the next
 * seed, and calls `onOutcome` for each as it finishes (in completion order, which varies with N;
 * each seed's own outcome does not). Resolves when every seed has finished.
 */
export async function runSeeds(range: SeedRange, options: SeedRunOptions, workers: number, onOutcome: (outcome: SeedOutcome) => void): Promise<void> {
  if (workers <= 1) {
    for (let seed = range.first; seed < range.first + range.count; seed++) {
      try {
        onOutcome({ ok: true, summary: await runSeed(seed, options) });
      } catch (error) {
        onOutcome({ ok: false, seed, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      }
    }
    return;
  }
  let next = 0;
  const workerUrl = new URL("./seed-worker.js", import.meta.url);
  // One lane per worker: a worker that dies (an exception no run caught) reports its seed as
  // thrown, and a fresh worker takes the lane's next seed.
  const lane = async (): Promise<void> => {
    while (next < range.count) {
      const worker = new Worker(workerUrl, { workerData: options });
      await new Promise<void>((resolve) => {
        let current: number | null = null;
        const feed = (): void => {
          if (next >= range.count) {
            current = null;
            worker.postMessage({ stop: true });
            resolve();
            return;
          }
          const seed = range.first + next;
          next++;
          current = seed;
          worker.postMessage({ seed });
        };
        worker.on("message", (outcome: SeedOutcome) => {
          onOutcome(outcome);
          feed();
        });
        worker.on("error", (error) => {
          if (current !== null) onOutcome({ ok: false, seed: current, error: error.stack ?? error.message });
          current = null;
          resolve();
        });
        feed();
      });
      await worker.terminate();
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, range.count) }, lane));
}
