import type { UnsafeBrokenRule } from "@lockstep/consensus";
import type { ChurnStats } from "./membership-churn.js";
import type { RepairCount } from "./monitor/repair-count.js";
import type { Violation } from "./monitor/safety-monitor.js";
import { runSimulation } from "./simulation.js";
import type { SimulationResult } from "./simulation.js";
import { formatSwarmProfile } from "./swarm-profile.js";
import type { SwarmProfile } from "./swarm-profile.js";

/** How every seed of one `pnpm sim` invocation runs (the seed decides the rest). */
export interface SeedRunOptions {
  /** Cluster size; unset: 3 nodes for odd seeds and 5 for even ones. */
  nodes?: 3 | 5 | 7;
  faults: boolean;
  breakRule?: UnsafeBrokenRule;
  /** Replaces each seed's drawn profile (a replay of one printed profile). */
  profile?: SwarmProfile;
}

/** What one seed's run reports: small and plain, so it crosses from a worker thread as it is. */
export interface SeedSummary {
  seed: number;
  nodes: 3 | 5 | 7;
  profile: SwarmProfile;
  violations: Violation[];
  operations: number;
  simulatedMs: number;
  crashes: number;
  timedCrashes: number;
  /** Crashes whose disk was replaced by an empty one. */
  wipes: number;
  clockPauses: number;
  staleLeaderRuns: number;
  staleLeaderCompleted: number;
  lostDiskAnswerRuns: number;
  lostDiskAnswerCompleted: number;
  /** Membership changes the churn nemesis made (added, promoted, removed, leader removed, replaced, refused, new-leader refusals retried). */
  churn: ChurnStats;
  /** Recovering voters demoted to learner by the leaders, and of them promoted again. */
  repair: RepairCount;
  /** Storage counters summed over the nodes, as the storage model names them. */
  storage: Record<string, number>;
  /** What the simulated disks did wrong (drawn from the seed). */
  disk: string;
  /** The one command that replays this seed exactly, profile included. */
  replay: string;
}

export function nodesForSeed(seed: number, nodes: 3 | 5 | 7 | undefined): 3 | 5 | 7 {
  return nodes ?? (seed % 2 === 0 ? 5 : 3);
}

export async function runSeed(seed: number, options: SeedRunOptions): Promise<SeedSummary> {
  const nodes = nodesForSeed(seed, options.nodes);
  const result = await runSimulation({
    seed,
    nodes,
    faults: options.faults,
    ...(options.breakRule === undefined ? {} : { breakRule: options.breakRule }),
    ...(options.profile === undefined ? {} : { profile: options.profile }),
  });
  return summarize(result, nodes, options);
}

export function summarize(result: SimulationResult, nodes: 3 | 5 | 7, options: SeedRunOptions): SeedSummary {
  return {
    seed: result.seed,
    nodes,
    profile: result.profile,
    violations: result.violations,
    operations: result.workload.operations,
    simulatedMs: result.simulatedMs,
    crashes: result.faults.crashes,
    timedCrashes: result.faults.timedCrashes,
    wipes: result.faults.wipes,
    clockPauses: result.faults.clockPauses,
    staleLeaderRuns: result.faults.staleLeaderRuns,
    staleLeaderCompleted: result.faults.staleLeaderCompleted,
    lostDiskAnswerRuns: result.faults.lostDiskAnswerRuns,
    lostDiskAnswerCompleted: result.faults.lostDiskAnswerCompleted,
    churn: result.churn,
    repair: result.repair,
    storage: result.storage,
    disk: result.disk,
    replay: replayCommand(result.seed, nodes, options.faults, options.breakRule, result.profile),
  };
}

export function replayCommand(seed: number, nodes: number, faults: boolean, breakRule: UnsafeBrokenRule | undefined, profile: SwarmProfile): string {
  const broken = breakRule === undefined ? "" : ` --break-rule ${breakRule}`;
  const profileFlag = faults ? ` --profile '${formatSwarmProfile(profile)}'` : "";
  return `pnpm sim --seed ${seed} --nodes ${nodes} --faults ${faults ? "on" : "off"}${broken}${profileFlag} --history seed-${seed}.jsonl`;
}

/** A failing seed's report: its violations, its profile and the command that replays it. */
export function describeFailure(summary: SeedSummary): string {
  const lines = [`sim: seed ${summary.seed} (${summary.nodes} nodes) broke ${summary.violations.length} rule(s):`];
  for (const violation of summary.violations) lines.push(`  [${violation.rule}] at ${violation.atMs.toFixed(0)} ms: ${violation.detail}`);
  lines.push(`  disk: ${summary.disk}`);
  lines.push(`  profile: ${formatSwarmProfile(summary.profile)}`);
  lines.push(`  replay: ${summary.replay}`);
  return lines.join("\n");
}
