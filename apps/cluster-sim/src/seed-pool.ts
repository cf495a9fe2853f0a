import { Worker } from "node:worker_threads";
import { runSeed } from "./seed-run.js";
import type { SeedRunOptions, SeedSummary } from "./seed-run.js";

export type SeedOutcome = { ok: true; summary: SeedSummary } | { ok: false; seed: number; error: string };

/**
 * Runs `seeds` on `workers` worker threads (1: in this thread), handing each idle worker the next
 * seed, and calls `onOutcome` for each as it finishes (in completion order, which varies with N;
 * each seed's own outcome does not). Resolves when every seed has finished.
 */
export async function runSeeds(seeds: readonly number[], options: SeedRunOptions, workers: number, onOutcome: (outcome: SeedOutcome) => void): Promise<void> {
  if (workers <= 1) {
    for (const seed of seeds) {
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
    while (next < seeds.length) {
      const worker = new Worker(workerUrl, { workerData: options });
      await new Promise<void>((resolve) => {
        let current: number | null = null;
        const feed = (): void => {
          const seed = seeds[next];
          if (seed === undefined) {
            current = null;
            worker.postMessage({ stop: true });
            resolve();
            return;
          }
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
  await Promise.all(Array.from({ length: Math.min(workers, seeds.length) }, lane));
}
