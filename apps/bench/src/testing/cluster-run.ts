import type { ClusterRun, SystemName } from "../cluster-bench.js";

/** What a report test sets of a measured row; the rest is fixed. */
export interface ClusterRunFigures {
  system: SystemName;
  concurrency: number;
  perSecond: number;
  p50Ms: number;
  round?: number;
  cpuUsPerCommit?: number | null;
}

/** A measured row for report tests: a 10 s phase, p90 = p50, p99 = 2 x p50, max = 3 x p50. */
export function clusterRun({ system, concurrency, perSecond, p50Ms, round = 0, cpuUsPerCommit = null }: ClusterRunFigures): ClusterRun {
  const latency = { count: 1, p50Us: p50Ms * 1000, p90Us: p50Ms * 1000, p99Us: p50Ms * 2000, maxUs: p50Ms * 3000, meanUs: p50Ms * 1000, droppedSamples: 0 };
  return {
    system,
    concurrency,
    round,
    result: { concurrency, seconds: 10, committed: perSecond * 10, failed: 0, failuresByCode: {}, committedPerSecond: perSecond, latency, generatorCpuMs: 0 },
    serverCpuMs: null,
    serverSystemCpuShare: null,
    serverCpuPercent: null,
    serverCpuUsPerCommit: cpuUsPerCommit,
    generatorCpuPercent: 0,
    internals: null,
  };
}
