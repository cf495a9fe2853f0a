import type { ClusterRun, SystemName } from "./cluster-bench.js";
import type { GoalCheck } from "./comparison.js";

/** The secured client port (HTTPS and tokens) against the plain one, at one concurrency, in the same run. */
export interface SecurityCost {
  concurrency: number;
  /** Secured ÷ plain writes/s: 1 is free, 0.85 is a 15 % cost. */
  throughputRatio: number;
  /** Secured minus plain p50, in ms (positive: the secured port answers later). */
  p50DeltaMs: number;
  p99DeltaMs: number;
  /** Secured ÷ plain server CPU per committed write (three processes summed). */
  serverCpuPerCommitRatio: number | null;
}

/** Issue 10: TLS and authentication together cost at most 15 % of writes/s at 128 clients... */
export const securityThroughputRatioMin = 0.85;
/** ...and at most 0.1 ms of p50 at 1 client. */
export const securityP50DeltaMsMax = 0.1;

/** The pairs measured: HTTPS per request against HTTP, and wss for /v1/rpc against ws. */
export const securityPairs = [
  { secured: "lockstep-secure", plain: "lockstep", protocol: "HTTP/1.1" },
  { secured: "lockstep-secure-rpc", plain: "lockstep-rpc", protocol: "/v1/rpc" },
] as const satisfies readonly { secured: SystemName; plain: SystemName; protocol: string }[];

export function securityCosts(runs: readonly ClusterRun[], pair: (typeof securityPairs)[number] = securityPairs[0]): SecurityCost[] {
  const costs: SecurityCost[] = [];
  for (const secured of runs.filter((run) => run.system === pair.secured)) {
    const plain = runs.find((run) => run.system === pair.plain && run.concurrency === secured.concurrency);
    if (plain === undefined) continue;
    costs.push({
      concurrency: secured.concurrency,
      throughputRatio: secured.result.committedPerSecond / plain.result.committedPerSecond,
      p50DeltaMs: (secured.result.latency.p50Us - plain.result.latency.p50Us) / 1000,
      p99DeltaMs: (secured.result.latency.p99Us - plain.result.latency.p99Us) / 1000,
      serverCpuPerCommitRatio: secured.serverCpuUsPerCommit === null || plain.serverCpuUsPerCommit === null ? null : secured.serverCpuUsPerCommit / plain.serverCpuUsPerCommit,
    });
  }
  return costs;
}

export function securityGoals(costs: readonly SecurityCost[], label = "HTTPS + tokens"): GoalCheck[] {
  const goals: GoalCheck[] = [];
  const at128 = costs.find((cost) => cost.concurrency === 128);
  if (at128 !== undefined) {
    goals.push({ goal: `128 clients: ${label} writes/s >= 0.85x plain`, measured: `${at128.throughputRatio.toFixed(2)}x`, met: at128.throughputRatio >= securityThroughputRatioMin });
  }
  const at1 = costs.find((cost) => cost.concurrency === 1);
  if (at1 !== undefined) {
    goals.push({ goal: `1 client: ${label} p50 at most 0.1 ms above plain`, measured: `${at1.p50DeltaMs >= 0 ? "+" : ""}${at1.p50DeltaMs.toFixed(3)} ms`, met: at1.p50DeltaMs <= securityP50DeltaMsMax });
  }
  return goals;
}

export function securityCostTable(costs: readonly SecurityCost[]): string {
  const lines = ["| clients | writes/s secured ÷ plain | p50 secured − plain (ms) | p99 secured − plain (ms) | server CPU per write secured ÷ plain |", "|---:|---:|---:|---:|---:|"];
  for (const cost of costs) {
    const cpu = cost.serverCpuPerCommitRatio === null ? "n/a" : cost.serverCpuPerCommitRatio.toFixed(2);
    lines.push(`| ${cost.concurrency} | ${cost.throughputRatio.toFixed(2)} | ${cost.p50DeltaMs.toFixed(3)} | ${cost.p99DeltaMs.toFixed(3)} | ${cpu} |`);
  }
  return lines.join("\n");
}
