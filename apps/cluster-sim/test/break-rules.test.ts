// Every rule `--break-rule` can break is caught within CI's seed budget: the test runs CI's seeds
// (the same ones, with the same profiles) with the rule broken until a violation of one of the
// expected checkers shows, and fails if none does. The seed that caught it must be clean with the
// rule intact, so the violation comes from the broken rule and not from the simulator.
import type { UnsafeBrokenRule } from "@lockstep/consensus";
import { describe, expect, it } from "vitest";
import { breakRuleNames, breakRules } from "../src/break-rules.js";
import { nodesForSeed } from "../src/seed-run.js";
import { runSimulation } from "../src/simulation.js";
import { drawSwarmProfile, formatSwarmProfile, parseSwarmProfile } from "../src/swarm-profile.js";
import type { SwarmProfile } from "../src/swarm-profile.js";

/** The seed budget CI runs (test/simulation.test.ts); every broken rule must be caught inside it. */
const ciSeedBudget = 300;

async function firstCatchingSeed(rule: UnsafeBrokenRule): Promise<{ seed: number; rules: string[] } | null> {
  const expected = new Set<string>(breakRules[rule].caughtBy);
  for (let seed = 1; seed <= ciSeedBudget; seed++) {
    const result = await runSimulation({ seed, nodes: nodesForSeed(seed, undefined), faults: true, breakRule: rule });
    const rules = result.violations.map((violation) => violation.rule);
    if (rules.some((name) => expected.has(name))) return { seed, rules };
  }
  return null;
}

describe("every broken rule is caught within CI's seed budget", () => {
  for (const rule of breakRuleNames) {
    it(`catches ${rule} (${breakRules[rule].what})`, async () => {
      const caught = await firstCatchingSeed(rule);
      expect(caught, `${rule} was not caught in ${ciSeedBudget} seeds`).not.toBeNull();
      if (caught === null) return;
      const intact = await runSimulation({ seed: caught.seed, nodes: nodesForSeed(caught.seed, undefined), faults: true });
      expect(intact.violations).toEqual([]);
    }, 300_000);
  }
});

/**
 * A regression seed replays with the profile it failed with, so that a change in how profiles are
 * drawn does not move it. Fields added to the profile after it was pinned take the seed's own
 * draw (the disk's faults joined the profile that way, unchanged), and a field renamed or
 * removed fails the parse loudly.
 */
function pinnedProfile(seed: number, printed: string): SwarmProfile {
  const parsed = parseSwarmProfile(`${formatSwarmProfile(drawSwarmProfile(seed))},${printed}`);
  if (!parsed.ok) throw new Error(`pinned profile no longer parses: ${parsed.reason}`);
  return parsed.profile;
}

describe("regression seeds for broken rules", () => {
  // Figure 8 (Raft §5.4.2): seed 49's stale-leader schedule lets a returned leader count its old
  // tail as committed and apply it; the rival it displaced overwrites it with its own entries.
  it("seed 49 (3 nodes) catches commit_old_term_by_count as two entries applied at one index", async () => {
    const profile = pinnedProfile(
      49,
      "latencyMsMin=3,latencyMsMax=8,lossProbabilityMax=0.037,duplicateProbabilityMax=0.114,reorderProbabilityMax=0.127,reorderDelayMsMax=37,faultIntervalMsMin=93,faultIntervalMsMax=472,partitionWeight=0,isolateWeight=7,oneWayCutWeight=0,bridgeWeight=1,healWeight=2,partitionMsMin=222,partitionMsMax=2856,crashWeight=10,restartWeight=9,wipeWeight=2,linkFaultsWeight=2,timedFaultWeight=0,clockFaultWeight=7,staleLeaderWeight=6,leaderCrashFraction=0.023,inflightSurvivesCrashProbability=0.693,clockSkewMax=0.018,clockPauseMsMax=1741,clockRateMin=0.729,clockRateMax=3.8,syncDelayMsMin=2,syncDelayMsMax=4,diskCrashWriteKeptProbability=0.2539,diskCrashWriteTornProbability=0.6985,diskCrashSizeWithoutDataProbability=0.0519,diskCrashStaleSectorProbability=0.2976,diskCrashDirectoryChangeKeptProbability=0.5203,diskCrashBitFlipProbability=0.1583,diskReadErrorProbability=0,diskWriteErrorProbability=0,diskNoSpaceProbability=0,diskFsyncErrorProbability=0,diskPowerCutDuringWriteProbability=0,entriesPerProposalMax=1,inflightProposalsMax=1,electionTimeoutTicks=19,heartbeatTicks=3,snapshotEntriesThreshold=1000",
    );
    const result = await runSimulation({ seed: 49, nodes: 3, faults: true, profile, breakRule: "commit_old_term_by_count" });
    expect(result.violations.map((violation) => violation.rule)).toContain("state_machine_safety");
  });

  // The election restriction (§5.4.1) switched off: seed 12 elects a leader with a stale log,
  // which commits an index no majority holds with its term. The commit-quorum check sees it at the commit itself.
  it("seed 12 (5 nodes) catches vote_without_log_check as a commit no majority holds", async () => {
    const profile = pinnedProfile(
      12,
      "latencyMsMin=1,latencyMsMax=16,lossProbabilityMax=0.091,duplicateProbabilityMax=0,reorderProbabilityMax=0.125,reorderDelayMsMax=11,faultIntervalMsMin=162,faultIntervalMsMax=539,partitionWeight=9,isolateWeight=4,oneWayCutWeight=3,bridgeWeight=0,healWeight=2,partitionMsMin=160,partitionMsMax=966,crashWeight=3,restartWeight=2,wipeWeight=0,linkFaultsWeight=0,timedFaultWeight=5,clockFaultWeight=3,staleLeaderWeight=9,leaderCrashFraction=0.264,inflightSurvivesCrashProbability=0.965,clockSkewMax=0,clockPauseMsMax=1568,clockRateMin=0.787,clockRateMax=2.961,syncDelayMsMin=0,syncDelayMsMax=16,diskCrashWriteKeptProbability=0.3525,diskCrashWriteTornProbability=0.5869,diskCrashSizeWithoutDataProbability=0,diskCrashStaleSectorProbability=0.2684,diskCrashDirectoryChangeKeptProbability=0.9702,diskCrashBitFlipProbability=0,diskReadErrorProbability=0,diskWriteErrorProbability=0,diskNoSpaceProbability=0,diskFsyncErrorProbability=0,diskPowerCutDuringWriteProbability=0.0002,entriesPerProposalMax=8,inflightProposalsMax=1,electionTimeoutTicks=13,heartbeatTicks=4,snapshotEntriesThreshold=150",
    );
    const result = await runSimulation({ seed: 12, nodes: 5, faults: true, profile, breakRule: "vote_without_log_check" });
    expect(result.violations.map((violation) => violation.rule)).toContain("commit_quorum");
  });

  // Votes and acknowledgments sent ahead of their write (Figure 2) are caught at seed 1's first election.
  it("seed 1 (3 nodes) catches ack_before_persist as an answer sent before it was durable", async () => {
    const result = await runSimulation({ seed: 1, nodes: 3, faults: true, breakRule: "ack_before_persist" });
    const rules = new Set(result.violations.map((violation) => violation.rule));
    expect(rules.has("vote_before_persist") || rules.has("ack_before_persist")).toBe(true);
  });
});
