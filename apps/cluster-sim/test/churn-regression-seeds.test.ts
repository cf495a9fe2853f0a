// Seeds that broke a rule once membership churn ran, replayed exactly as their failure printed them
// (seed, nodes and the printed profile, so a change in how profiles are drawn does not move them).
// Each must now run clean. (Seeds 5, 101 and 102 broke rules too; the fixes they led to are tested
// where they were made, packages/consensus/src/membership.test.ts, except the wiped-disk start in
// sim-cluster.ts, which no seed pins: later changes to the nemesis moved those seeds' histories.)
import { describe, expect, it } from "vitest";
import { runSimulation } from "../src/simulation.js";
import { parseSwarmProfile } from "../src/swarm-profile.js";

async function replay(seed: number, nodes: 3 | 5, profileText: string): Promise<string[]> {
  const parsed = parseSwarmProfile(profileText);
  if (!parsed.ok) throw new Error(`seed ${seed}: ${parsed.reason}`);
  const result = await runSimulation({ seed, nodes, faults: true, profile: parsed.profile });
  return result.violations.map((violation) => `[${violation.rule}] ${violation.detail}`);
}

describe("regression seeds: membership churn", () => {
  // Seed 120: a removal that timed out committed later, after disk damage had been allowed against the larger configuration: the smaller one had damaged disks on half its voters. Damage is now counted against every configuration that may be in force.
  it("seed 120 (5 nodes) runs clean", async () => {
    expect(await replay(120, 5, "latencyMsMin=0,latencyMsMax=9,lossProbabilityMax=0.091,duplicateProbabilityMax=0,reorderProbabilityMax=0.29,reorderDelayMsMax=80,faultIntervalMsMin=81,faultIntervalMsMax=577,partitionWeight=1,isolateWeight=2,oneWayCutWeight=0,bridgeWeight=8,healWeight=5,partitionMsMin=111,partitionMsMax=1117,crashWeight=9,restartWeight=8,wipeWeight=0,linkFaultsWeight=0,timedFaultWeight=0,clockFaultWeight=2,staleLeaderWeight=6,leaderCrashFraction=0.438,inflightSurvivesCrashProbability=0.666,clockSkewMax=0,clockPauseMsMax=816,clockRateMin=0.711,clockRateMax=1.893,syncDelayMsMin=2,syncDelayMsMax=15,diskCrashWriteKeptProbability=0.3569,diskCrashWriteTornProbability=0.4142,diskCrashSizeWithoutDataProbability=0,diskCrashStaleSectorProbability=0.0701,diskCrashDirectoryChangeKeptProbability=0.2915,diskCrashBitFlipProbability=0.1849,diskReadErrorProbability=0,diskWriteErrorProbability=0,diskNoSpaceProbability=0,diskFsyncErrorProbability=0,diskPowerCutDuringWriteProbability=0.0098,entriesPerProposalMax=1,inflightProposalsMax=1,electionTimeoutTicks=14,heartbeatTicks=3,snapshotEntriesThreshold=20,memberAddWeight=4,memberPromoteWeight=0,memberRemoveWeight=2,leaderRemoveWeight=2,memberReplaceWeight=7,churnIntervalMsMin=252,churnIntervalMsMax=384,autoPromote=1")).toEqual([]);
  });
});
