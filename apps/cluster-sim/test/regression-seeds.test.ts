// Seeds that once broke a rule, each replayed exactly (seed, cluster size and the profile it
// failed with, pinned here so that a change in how profiles are drawn does not move them). Each
// case names what went wrong and what fixed it; the fix also has a focused test in its package.
import { describe, expect, it } from "vitest";
import { runSimulation } from "../src/simulation.js";
import { parseSwarmProfile } from "../src/swarm-profile.js";
import type { SwarmProfile } from "../src/swarm-profile.js";

function profile(text: string): SwarmProfile {
  const parsed = parseSwarmProfile(text);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.profile;
}

async function replay(seed: number, nodes: 3 | 5 | 7, profileText: string): Promise<Awaited<ReturnType<typeof runSimulation>>> {
  return runSimulation({ seed, nodes, faults: true, profile: profile(profileText) });
}

describe("regression seeds: liveness after faults stop", () => {
  // Was: [liveness] no write committed within 5000 virtual ms after faults stopped.
  // With the fix its run takes another course before the faults stop (recovering nodes now answer
  // elections), and n2 is elected by a plain majority; it stays as a replay of the old failure.
  it("seed 101175: a replaced disk on n3 and an ambiguous end of log on n2 (stale sectors after a power cut) left two recovering voters of three and no leader", async () => {
    const result = await replay(101175, 3, "latencyMsMin=1,latencyMsMax=9,lossProbabilityMax=0.245,duplicateProbabilityMax=0.05,reorderProbabilityMax=0.054,reorderDelayMsMax=94,faultIntervalMsMin=55,faultIntervalMsMax=223,partitionWeight=9,isolateWeight=1,oneWayCutWeight=4,bridgeWeight=0,healWeight=9,partitionMsMin=59,partitionMsMax=1471,crashWeight=10,restartWeight=3,wipeWeight=2,linkFaultsWeight=8,timedFaultWeight=0,clockFaultWeight=0,staleLeaderWeight=2,leaderCrashFraction=0.406,inflightSurvivesCrashProbability=0.981,clockSkewMax=0.199,clockPauseMsMax=945,clockRateMin=0.869,clockRateMax=2.214,syncDelayMsMin=1,syncDelayMsMax=17,diskCrashWriteKeptProbability=0.0323,diskCrashWriteTornProbability=0.9603,diskCrashSizeWithoutDataProbability=0.0355,diskCrashStaleSectorProbability=0.1114,diskCrashDirectoryChangeKeptProbability=0.9459,diskCrashBitFlipProbability=0,diskReadErrorProbability=0,diskWriteErrorProbability=0,diskNoSpaceProbability=0,diskFsyncErrorProbability=0,diskPowerCutDuringWriteProbability=0.0085,entriesPerProposalMax=8,inflightProposalsMax=1,electionTimeoutTicks=14,heartbeatTicks=1,snapshotEntriesThreshold=1000");
    expect(result.violations).toEqual([]);
    expect(result.recoveryMs).not.toBeNull();
  });

  // Was: [liveness] no write committed within 5000 virtual ms after faults stopped.
  it("seed 105771: a replaced disk on n3 and an ambiguous end of log on n2, which holds the longest log: the recovering n2 is elected with every voter's answer", async () => {
    const result = await replay(105771, 3, "latencyMsMin=2,latencyMsMax=6,lossProbabilityMax=0,duplicateProbabilityMax=0,reorderProbabilityMax=0,reorderDelayMsMax=94,faultIntervalMsMin=111,faultIntervalMsMax=338,partitionWeight=8,isolateWeight=0,oneWayCutWeight=0,bridgeWeight=0,healWeight=8,partitionMsMin=145,partitionMsMax=2218,crashWeight=7,restartWeight=9,wipeWeight=2,linkFaultsWeight=0,timedFaultWeight=0,clockFaultWeight=10,staleLeaderWeight=0,leaderCrashFraction=0.642,inflightSurvivesCrashProbability=0.51,clockSkewMax=0.048,clockPauseMsMax=551,clockRateMin=0.422,clockRateMax=3.279,syncDelayMsMin=0,syncDelayMsMax=5,diskCrashWriteKeptProbability=0.2317,diskCrashWriteTornProbability=0.3589,diskCrashSizeWithoutDataProbability=0.2848,diskCrashStaleSectorProbability=0.0477,diskCrashDirectoryChangeKeptProbability=0.7168,diskCrashBitFlipProbability=0,diskReadErrorProbability=0,diskWriteErrorProbability=0,diskNoSpaceProbability=0,diskFsyncErrorProbability=0,diskPowerCutDuringWriteProbability=0.0035,entriesPerProposalMax=1024,inflightProposalsMax=4,electionTimeoutTicks=17,heartbeatTicks=1,snapshotEntriesThreshold=1000");
    expect(result.violations).toEqual([]);
    expect(result.recoveryMs).not.toBeNull();
  });

  // Was: [liveness] no write committed within 5000 virtual ms after faults stopped.
  it("seed 101885: n3 refused to start (a flipped bit in synced data) and n1 has an ambiguous end of log: n3's disk is replaced in the liveness phase, as the runbook says, and every voter's answer elects n2", async () => {
    const result = await replay(101885, 3, "latencyMsMin=2,latencyMsMax=4,lossProbabilityMax=0.189,duplicateProbabilityMax=0.155,reorderProbabilityMax=0.191,reorderDelayMsMax=29,faultIntervalMsMin=25,faultIntervalMsMax=474,partitionWeight=4,isolateWeight=6,oneWayCutWeight=2,bridgeWeight=0,healWeight=4,partitionMsMin=17,partitionMsMax=0,crashWeight=3,restartWeight=6,wipeWeight=2,linkFaultsWeight=4,timedFaultWeight=0,clockFaultWeight=0,staleLeaderWeight=8,leaderCrashFraction=0.56,inflightSurvivesCrashProbability=0.544,clockSkewMax=0.13,clockPauseMsMax=2566,clockRateMin=0.495,clockRateMax=3.653,syncDelayMsMin=0,syncDelayMsMax=4,diskCrashWriteKeptProbability=0.565,diskCrashWriteTornProbability=0.3621,diskCrashSizeWithoutDataProbability=0.1769,diskCrashStaleSectorProbability=0.1628,diskCrashDirectoryChangeKeptProbability=0.1118,diskCrashBitFlipProbability=0.1804,diskReadErrorProbability=0,diskWriteErrorProbability=0.0003,diskNoSpaceProbability=0,diskFsyncErrorProbability=0,diskPowerCutDuringWriteProbability=0.0089,entriesPerProposalMax=64,inflightProposalsMax=1,electionTimeoutTicks=6,heartbeatTicks=2,snapshotEntriesThreshold=1000");
    expect(result.violations).toEqual([]);
    expect(result.recoveryMs).not.toBeNull();
  });

  // Was: [liveness] no write committed within 5000 virtual ms after faults stopped.
  it("seed 105513: n3 refused to start (a flipped bit in synced data) and n1 has an ambiguous end of log: n3's disk is replaced in the liveness phase and every voter's answer elects n2", async () => {
    const result = await replay(105513, 3, "latencyMsMin=0,latencyMsMax=1,lossProbabilityMax=0.046,duplicateProbabilityMax=0.193,reorderProbabilityMax=0,reorderDelayMsMax=70,faultIntervalMsMin=149,faultIntervalMsMax=461,partitionWeight=9,isolateWeight=2,oneWayCutWeight=1,bridgeWeight=5,healWeight=9,partitionMsMin=57,partitionMsMax=482,crashWeight=3,restartWeight=3,wipeWeight=0,linkFaultsWeight=0,timedFaultWeight=7,clockFaultWeight=0,staleLeaderWeight=0,leaderCrashFraction=0.845,inflightSurvivesCrashProbability=0.51,clockSkewMax=0.048,clockPauseMsMax=818,clockRateMin=0.838,clockRateMax=1.693,syncDelayMsMin=2,syncDelayMsMax=5,diskCrashWriteKeptProbability=0.531,diskCrashWriteTornProbability=0.4656,diskCrashSizeWithoutDataProbability=0,diskCrashStaleSectorProbability=0.2163,diskCrashDirectoryChangeKeptProbability=0.2591,diskCrashBitFlipProbability=0.1991,diskReadErrorProbability=0,diskWriteErrorProbability=0.0003,diskNoSpaceProbability=0.0003,diskFsyncErrorProbability=0,diskPowerCutDuringWriteProbability=0.0084,entriesPerProposalMax=1024,inflightProposalsMax=4,electionTimeoutTicks=12,heartbeatTicks=3,snapshotEntriesThreshold=20");
    expect(result.violations).toEqual([]);
    expect(result.recoveryMs).not.toBeNull();
  });
});
