import type { UnsafeBrokenRule } from "@lockstep/consensus";

/** One simulated run's shape. Every field has a default that CI uses; the seed decides everything else. */
export interface SimulationOptions {
  seed: number;
  nodes: 3 | 5 | 7;
  /** Inject partitions, crashes, loss, duplication, reordering and tick skew during the safety phase. */
  faults: boolean;
  /** Virtual milliseconds of client load (with faults, when on). */
  safetyPhaseMs: number;
  /** After faults stop: a leader must be elected and a write committed within this many virtual ms. */
  livenessBoundMs: number;
  clients: number;
  keys: number;
  /** Length of one core tick in virtual ms (before per-node skew). */
  tickMs: number;
  /** Break a Raft rule on purpose, to show the checkers catch it. Never set outside tests. */
  breakRule?: UnsafeBrokenRule;
}

export const defaultSimulationOptions: Omit<SimulationOptions, "seed"> = {
  nodes: 3,
  faults: true,
  safetyPhaseMs: 4_000,
  livenessBoundMs: 5_000,
  clients: 6,
  keys: 3,
  tickMs: 10,
};
