import type { ClusterRun, SystemName } from "./cluster-bench.js";

/** lockstep's figures at one concurrency as ratios of etcd's, measured in the same run. */
export interface Comparison {
  concurrency: number;
  /** > 1: lockstep commits more per second. */
  throughputRatio: number;
  /** < 1: lockstep answers faster. */
  p50Ratio: number;
  p99Ratio: number;
  /** < 1: lockstep's servers spend less CPU per committed write. */
  serverCpuPerCommitRatio: number | null;
}

export interface GoalCheck {
  goal: string;
  measured: string;
  met: boolean;
}

/** `system`'s figures as ratios of `baseline`'s at each concurrency both ran (default: lockstep over HTTP ÷ etcd gRPC). */
export function compare(runs: readonly ClusterRun[], system: SystemName = "lockstep", baseline: SystemName = "etcd"): Comparison[] {
  const comparisons: Comparison[] = [];
  for (const lockstep of runs.filter((run) => run.system === system)) {
    const etcd = runs.find((run) => run.system === baseline && run.concurrency === lockstep.concurrency);
    if (etcd === undefined) continue;
    comparisons.push({
      concurrency: lockstep.concurrency,
      throughputRatio: lockstep.result.committedPerSecond / etcd.result.committedPerSecond,
      p50Ratio: lockstep.result.latency.p50Us / etcd.result.latency.p50Us,
      p99Ratio: lockstep.result.latency.p99Us / etcd.result.latency.p99Us,
      serverCpuPerCommitRatio:
        lockstep.serverCpuUsPerCommit === null || etcd.serverCpuUsPerCommit === null ? null : lockstep.serverCpuUsPerCommit / etcd.serverCpuUsPerCommit,
    });
  }
  return comparisons;
}

/**
 * The goals against etcd at its best (its native gRPC API, the `etcd` rows): at 128 clients >= 2x
 * etcd's writes/s with p99 <= etcd's; at 1 client p50 <= 0.8x etcd's.
 */
/** At 1 client lockstep's median must be at most this fraction of etcd's. */
export const oneClientP50RatioMax = 0.8;

export function clusterGoals(comparisons: readonly Comparison[]): GoalCheck[] {
  const goals: GoalCheck[] = [];
  const at128 = comparisons.find((comparison) => comparison.concurrency === 128);
  if (at128 !== undefined) {
    goals.push({ goal: "128 clients: writes/s >= 2x etcd", measured: `${at128.throughputRatio.toFixed(2)}x`, met: at128.throughputRatio >= 2 });
    goals.push({ goal: "128 clients: p99 <= etcd's", measured: `${at128.p99Ratio.toFixed(2)}x`, met: at128.p99Ratio <= 1 });
  }
  const at1 = comparisons.find((comparison) => comparison.concurrency === 1);
  if (at1 !== undefined) goals.push({ goal: "1 client: p50 <= 0.8x etcd's", measured: `${at1.p50Ratio.toFixed(2)}x`, met: at1.p50Ratio <= oneClientP50RatioMax });
  return goals;
}

/** Issue 13's goal (it raised issue 3's 200,000): at least 400,000 committed transitions/s in-process at 64 clients. */
export const inProcessGoalPerSecond = 400_000;
export const inProcessGoalClients = 64;

export function inProcessGoal(runs: ReadonlyArray<{ concurrency: number; result: { committedPerSecond: number } }>): GoalCheck | null {
  const run = runs.find((candidate) => candidate.concurrency === inProcessGoalClients);
  if (run === undefined) return null;
  return {
    goal: `in-process, ${inProcessGoalClients} clients: >= ${inProcessGoalPerSecond.toLocaleString("en-US")} committed/s`,
    measured: `${Math.round(run.result.committedPerSecond).toLocaleString("en-US")}/s (${(run.result.committedPerSecond / inProcessGoalPerSecond).toFixed(2)}x the goal)`,
    met: run.result.committedPerSecond >= inProcessGoalPerSecond,
  };
}
