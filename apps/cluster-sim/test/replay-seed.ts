import { runSimulation } from "../src/simulation.js";
import { parseSwarmProfile } from "../src/swarm-profile.js";

/** Replays `pnpm sim --seed SEED --nodes NODES --faults on --profile PROFILE` exactly, as a failure printed it. */
export async function replaySeed(seed: number, nodes: 3 | 5 | 7, profileText: string): Promise<Awaited<ReturnType<typeof runSimulation>>> {
  const parsed = parseSwarmProfile(profileText);
  if (!parsed.ok) throw new Error(`seed ${seed}: ${parsed.reason}`);
  return runSimulation({ seed, nodes, faults: true, profile: parsed.profile });
}

/** The same, as `[rule] detail` lines: empty when the seed runs clean. */
export async function violationsOfSeed(seed: number, nodes: 3 | 5 | 7, profileText: string): Promise<string[]> {
  const result = await replaySeed(seed, nodes, profileText);
  return result.violations.map((violation) => `[${violation.rule}] ${violation.detail}`);
}
