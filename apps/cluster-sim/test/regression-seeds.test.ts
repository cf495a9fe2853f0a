// Seeds that once broke a rule, replayed exactly (seed, cluster size and the printed profile), so
// that a later change in how profiles are drawn does not move them. Each case names what broke
// and what fixed it.
import { describe, expect, it } from "vitest";
import { runSimulation } from "../src/simulation.js";
import { parseSwarmProfile } from "../src/swarm-profile.js";
import type { SwarmProfile } from "../src/swarm-profile.js";

function profile(text: string): SwarmProfile {
  const parsed = parseSwarmProfile(text);
  if (!parsed.ok) throw new Error(`regression profile does not parse: ${parsed.reason}`);
  return parsed.profile;
}

async function violationsOf(seed: number, nodes: 3 | 5, profileText: string): Promise<string[]> {
  const result = await runSimulation({ seed, nodes, faults: true, profile: profile(profileText) });
  return result.violations.map((violation) => `[${violation.rule}] ${violation.detail}`);
}

describe("regression seeds: safety", () => {
  // A disk replaced while its node's supervisor was restarting it: the start carried on with the
  // new disk and failed, and the failed start had already dropped the node's knowledge that it may
  // have lost data, so its next start voted with an empty log (index 8 decided twice).
  it("seed 101623 (3 nodes): a disk replaced during a start still counts as a possible loss", async () => {
    const violations = await violationsOf(
      101623,
      3,
      "latencyMsMin=0,latencyMsMax=13,lossProbabilityMax=0.111,duplicateProbabilityMax=0,reorderProbabilityMax=0,reorderDelayMsMax=74,faultIntervalMsMin=164,faultIntervalMsMax=296,partitionWeight=3,isolateWeight=4,oneWayCutWeight=0,bridgeWeight=5,healWeight=9,partitionMsMin=245,partitionMsMax=2129,crashWeight=1,restartWeight=5,wipeWeight=3,linkFaultsWeight=8,timedFaultWeight=2,clockFaultWeight=0,staleLeaderWeight=3,leaderCrashFraction=0.819,inflightSurvivesCrashProbability=0.275,clockSkewMax=0,clockPauseMsMax=2378,clockRateMin=0.416,clockRateMax=2.395,syncDelayMsMin=0,syncDelayMsMax=4,diskCrashWriteKeptProbability=0.5037,diskCrashWriteTornProbability=0.2598,diskCrashSizeWithoutDataProbability=0.2086,diskCrashStaleSectorProbability=0,diskCrashDirectoryChangeKeptProbability=0.9213,diskCrashBitFlipProbability=0,diskReadErrorProbability=0,diskWriteErrorProbability=0.0003,diskNoSpaceProbability=0,diskFsyncErrorProbability=0,diskPowerCutDuringWriteProbability=0.0089,entriesPerProposalMax=4,inflightProposalsMax=4,electionTimeoutTicks=7,heartbeatTicks=1,snapshotEntriesThreshold=150",
    );
    expect(violations).toEqual([]);
  });

  // The same cause on 5 nodes: the old leader's disk was replaced while its supervisor restarted
  // it; it came back believing its empty log complete, voted, and a leader committed index 40
  // on 2 of 5 real copies (indexes 38-40 decided twice).
  it("seed 103532 (5 nodes): a leader whose disk was replaced during a restart does not vote", async () => {
    const violations = await violationsOf(
      103532,
      5,
      "latencyMsMin=0,latencyMsMax=7,lossProbabilityMax=0,duplicateProbabilityMax=0.027,reorderProbabilityMax=0.182,reorderDelayMsMax=48,faultIntervalMsMin=93,faultIntervalMsMax=380,partitionWeight=3,isolateWeight=5,oneWayCutWeight=0,bridgeWeight=4,healWeight=5,partitionMsMin=113,partitionMsMax=0,crashWeight=7,restartWeight=4,wipeWeight=1,linkFaultsWeight=8,timedFaultWeight=0,clockFaultWeight=9,staleLeaderWeight=1,leaderCrashFraction=0.138,inflightSurvivesCrashProbability=0.06,clockSkewMax=0,clockPauseMsMax=2441,clockRateMin=0.437,clockRateMax=3.833,syncDelayMsMin=2,syncDelayMsMax=3,diskCrashWriteKeptProbability=0.0261,diskCrashWriteTornProbability=0.5037,diskCrashSizeWithoutDataProbability=0,diskCrashStaleSectorProbability=0,diskCrashDirectoryChangeKeptProbability=0.8554,diskCrashBitFlipProbability=0,diskReadErrorProbability=0.0002,diskWriteErrorProbability=0,diskNoSpaceProbability=0,diskFsyncErrorProbability=0,diskPowerCutDuringWriteProbability=0.0074,entriesPerProposalMax=2,inflightProposalsMax=1,electionTimeoutTicks=7,heartbeatTicks=2,snapshotEntriesThreshold=150",
    );
    expect(violations).toEqual([]);
  });
});
