import type { UnsafeBrokenRule } from "@lockstep/consensus";
import type { SwarmProfile } from "./swarm-profile.js";

/** One simulated run's shape. Every field has a default that CI uses; the seed decides everything else. */
export interface SimulationOptions {
  seed: number;
  nodes: 3 | 5 | 7;
  /** Inject the faults of the seed's swarm profile during the safety phase. */
  faults: boolean;
  /**
   * Fault probabilities and limits of this run. Unset: drawn from the seed (`drawSwarmProfile`)
   * when faults are on, `quietProfile()` when they are off. Set: replaces the drawn profile, so a
   * printed profile replays exactly (and can be edited to see which part matters).
   */
  profile?: SwarmProfile;
  /** Virtual milliseconds of client load (with faults, when on). */
  safetyPhaseMs: number;
  /** After faults stop: a leader must be elected and a write committed within this many virtual ms. */
  livenessBoundMs: number;
  clients: number;
  keys: number;
  /** Length of one core tick in virtual ms (before each node's clock skew). */
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
