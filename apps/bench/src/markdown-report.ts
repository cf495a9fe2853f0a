import type { ClusterRun } from "./cluster-bench.js";
import type { Comparison, GoalCheck } from "./comparison.js";
import type { HotFunction } from "./cpu-profile-summary.js";
import type { InProcessRun } from "./in-process-bench.js";

const integer = (value: number): string => (Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "n/a");
const fixed = (value: number | null, digits: number): string => (value === null || !Number.isFinite(value) ? "n/a" : value.toFixed(digits));
const ms = (us: number): string => fixed(us / 1000, 2);

export function clusterTable(runs: readonly ClusterRun[]): string {
  const lines = [
    "| system | clients | committed/s | p50 ms | p90 ms | p99 ms | max ms | failed | server CPU % | of it kernel % | server CPU µs/commit | load gen CPU % |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const run of runs) {
    const latency = run.result.latency;
    lines.push(
      `| ${run.system}${forwardedMark(run)} | ${run.concurrency} | ${integer(run.result.committedPerSecond)} | ${ms(latency.p50Us)} | ${ms(latency.p90Us)} | ${ms(latency.p99Us)} | ${ms(latency.maxUs)} | ` +
        `${run.result.failed} | ${fixed(run.serverCpuPercent, 0)} | ${fixed(run.serverSystemCpuShare, 0)} | ${fixed(run.serverCpuUsPerCommit, 0)} | ${fixed(run.generatorCpuPercent, 0)} |`,
    );
  }
  if (runs.some((run) => forwardedMark(run) !== "")) lines.push("", forwardedNote);
  return lines.join("\n");
}

/**
 * The generator sends every request to the node that led when the cluster started. A row in
 * which that node forwarded requests (its `Forward` messages, in the internals) was measured while
 * another node led: it measured a follower's path, and the report says so rather than pass it off
 * as the leader's.
 */
export function forwardedMark(run: ClusterRun): string {
  return (run.internals?.messagesPerCommit["Forward"] ?? 0) > 0 ? " †" : "";
}

export const forwardedNote = "† leadership moved during this row: the node the load went to forwarded requests to another leader, so the row measures a follower's path.";

/**
 * Every measured round (`--rounds`): each system's writes/s and p50 per round at each level, the
 * row the report keeps (its median round by writes/s) marked with *.
 */
export function roundsTable(rounds: readonly ClusterRun[], kept: readonly ClusterRun[]): string {
  const roundCount = Math.max(0, ...rounds.map((run) => run.round + 1));
  const header = Array.from({ length: roundCount }, (_, round) => `round ${round + 1}`);
  const lines = [`| system | clients | ${header.join(" | ")} |`, `|---|---:|${header.map(() => "---:").join("|")}|`];
  for (const row of kept) {
    const cells = Array.from({ length: roundCount }, (_, round) => {
      const run = rounds.find((candidate) => candidate.system === row.system && candidate.concurrency === row.concurrency && candidate.round === round);
      if (run === undefined) return "";
      const mark = run === row ? "*" : "";
      return `${mark}${integer(run.result.committedPerSecond)}/s, p50 ${ms(run.result.latency.p50Us)} ms${mark}${forwardedMark(run)}`;
    });
    lines.push(`| ${row.system} | ${row.concurrency} | ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

export function comparisonTable(comparisons: readonly Comparison[], ratio = "lockstep ÷ etcd gRPC"): string {
  const lines = [
    `| clients | writes/s ${ratio} | p50 ${ratio} | p99 ${ratio} | server CPU per write ${ratio} |`,
    "|---:|---:|---:|---:|---:|",
  ];
  for (const comparison of comparisons) {
    lines.push(
      `| ${comparison.concurrency} | ${fixed(comparison.throughputRatio, 2)}x | ${fixed(comparison.p50Ratio, 2)}x | ${fixed(comparison.p99Ratio, 2)}x | ${fixed(comparison.serverCpuPerCommitRatio, 2)}x |`,
    );
  }
  return lines.join("\n");
}

export function inProcessTable(runs: readonly InProcessRun[]): string {
  const lines = [
    "| clients | committed/s | p50 µs | p99 µs | max µs | p50 ticks | p99 ticks | CPU µs/commit | CPU % | failed |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const run of runs) {
    const latency = run.result.latency;
    lines.push(
      `| ${run.concurrency} | ${integer(run.result.committedPerSecond)} | ${fixed(latency.p50Us, 0)} | ${fixed(latency.p99Us, 0)} | ${fixed(latency.maxUs, 0)} | ` +
        `${fixed(run.p50Ticks, 4)} | ${fixed(run.p99Ticks, 4)} | ${fixed(run.cpuUsPerCommit, 2)} | ${fixed(run.cpuPercent, 0)} | ${run.result.failed} |`,
    );
  }
  return lines.join("\n");
}

export function goalLines(goals: readonly GoalCheck[]): string {
  return goals.map((goal) => `- ${goal.goal}: ${goal.measured} — ${goal.met ? "MET" : "NOT MET"}`).join("\n");
}

export function hotFunctionsTable(rows: readonly HotFunction[]): string {
  const lines = ["| self ms | self % | function | location |", "|---:|---:|---|---|"];
  for (const row of rows) lines.push(`| ${fixed(row.selfMs, 0)} | ${fixed(row.selfPercent, 1)} | \`${row.functionName}\` | ${row.location} |`);
  return lines.join("\n");
}

/** The lockstep leader's own account of each phase: where an entry's time goes, fsyncs, messages per commit. */
export function internalsTable(runs: readonly ClusterRun[]): string {
  const withInternals = runs.filter((run) => run.internals !== null);
  const stages = [...new Set(withInternals.flatMap((run) => Object.keys(run.internals?.stageMeanMs ?? {})))].sort(byStageOrder);
  const types = [...new Set(withInternals.flatMap((run) => Object.keys(run.internals?.messagesPerCommit ?? {})))].sort();
  const lines = [
    `| system | clients | ${stages.map((stage) => `${stage} ms`).join(" | ")} | fsyncs/s | fsync ms | commits/fsync | ${types.map((type) => `${type}/commit`).join(" | ")} |`,
    `|---|---:|${stages.map(() => "---:|").join("")}---:|---:|---:|${types.map(() => "---:|").join("")}`,
  ];
  for (const run of withInternals) {
    const internals = run.internals!;
    lines.push(
      `| ${run.system} | ${run.concurrency} | ${stages.map((stage) => fixed(internals.stageMeanMs[stage] ?? null, 2)).join(" | ")} | ${fixed(internals.fsyncsPerSecond, 0)} | ` +
        `${fixed(internals.fsyncMeanMs, 2)} | ${fixed(internals.commitsPerFsync, 1)} | ${types.map((type) => fixed(internals.messagesPerCommit[type] ?? 0, 2)).join(" | ")} |`,
    );
  }
  return lines.join("\n");
}

const stageOrder = ["persist", "replicate", "commit", "apply"];

function byStageOrder(a: string, b: string): number {
  const rank = (stage: string): number => (stageOrder.includes(stage) ? stageOrder.indexOf(stage) : stageOrder.length);
  return rank(a) - rank(b) || a.localeCompare(b);
}
