import { join } from "node:path";
import { summarizeCpuProfileFile, type HotFunction } from "./cpu-profile-summary.js";
import { startInProcessCluster, InProcessLoadClient } from "./in-process-cluster.js";
import { InspectorProfiler } from "./inspector-profiler.js";
import { runPhase, type PhaseResult } from "./load-generator.js";
import type { ProgressLine } from "./progress-line.js";

export interface InProcessBenchOptions {
  concurrencies: readonly number[];
  seconds: number;
  warmupSeconds: number;
  /** When set, each measured phase is profiled into `<profileDirectory>/in-process-c<N>.cpuprofile`. */
  profileDirectory: string | null;
  progress: ProgressLine;
}

export interface InProcessRun {
  concurrency: number;
  result: PhaseResult;
  tickMs: number;
  /** Latency percentiles in core ticks (latency / tickMs). */
  p50Ticks: number;
  p99Ticks: number;
  /** Process CPU (all three nodes and the clients) per committed transition. */
  cpuUsPerCommit: number;
  /** Share of one core the whole process used during the phase. */
  cpuPercent: number;
  profile: { path: string; totalMs: number; rows: HotFunction[] } | null;
}

const leaderWaitMs = 10_000;

/**
 * `pnpm bench --in-process`: the consensus core and driver alone (3 nodes, one process, memory
 * storage, zero-latency network) at each concurrency. A fresh cluster per level, so that one
 * level's log and sessions do not slow the next.
 */
export async function runInProcessBench(options: InProcessBenchOptions): Promise<InProcessRun[]> {
  const runs: InProcessRun[] = [];
  for (const concurrency of options.concurrencies) {
    const cluster = await startInProcessCluster(3, leaderWaitMs);
    try {
      const clients = Array.from({ length: concurrency }, (_, index) => new InProcessLoadClient(cluster.leader, `c${concurrency}`, index));
      const label = `in-process  ${String(concurrency).padStart(4)} clients`;
      await runPhase({ clients, durationMs: options.warmupSeconds * 1000, onProgress: (progress) => options.progress.update(`${label}  warm-up`, progress) });
      const profiler = options.profileDirectory === null ? null : new InspectorProfiler();
      await profiler?.start();
      const result = await runPhase({ clients, durationMs: options.seconds * 1000, onProgress: (progress) => options.progress.update(label, progress) });
      let profile: InProcessRun["profile"] = null;
      if (profiler !== null && options.profileDirectory !== null) {
        const path = join(options.profileDirectory, `in-process-c${concurrency}.cpuprofile`);
        await profiler.stop(path);
        const summary = summarizeCpuProfileFile(path);
        profile = summary === null ? null : { path, ...summary };
      }
      options.progress.done(`${label}: ${Math.round(result.committedPerSecond)} committed/s, p50 ${result.latency.p50Us.toFixed(0)} µs, p99 ${result.latency.p99Us.toFixed(0)} µs`);
      runs.push({
        concurrency,
        result,
        tickMs: cluster.tickMs,
        p50Ticks: result.latency.p50Us / (cluster.tickMs * 1000),
        p99Ticks: result.latency.p99Us / (cluster.tickMs * 1000),
        cpuUsPerCommit: result.committed === 0 ? Number.NaN : (result.generatorCpuMs * 1000) / result.committed,
        cpuPercent: (result.generatorCpuMs / (result.seconds * 1000)) * 100,
        profile,
      });
    } finally {
      await cluster.stop();
    }
  }
  return runs;
}
