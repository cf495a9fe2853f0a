// Seeds that once broke a rule, replayed exactly as their failure printed them (seed, nodes and
// the printed profile, so a change in how profiles are drawn does not move them). Each must now
// run clean. Cases from different fixes are separate `it` blocks.
import { describe, expect, it } from "vitest";
import { runSimulation } from "../src/simulation.js";
import { replaySeed, violationsOfSeed } from "./replay-seed.js";

describe("regression seeds: storage durability (issue 9)", () => {
  // Seeds 100300, 101150 and 105627: a node's first start failed on an fsync error (EIO) while
  // the tree above its data directory (`/var`, `/var/lib`) was new and unsynced; its supervisor
  // started it again, and storage, which synced only the data directory's parent, made writes
  // durable under a path a power cut then undid ("term 0 < durable term 2; entry 1 (term 1) was
  // durable, read back nothing"). Storage now syncs every directory from the data directory up to
  // the root at each start.
  // A start refused for rot in synced data (`corrupt`, naming file and offset), the disk replaced in
  // the liveness phase, and the cluster whole again: CI's shards check that bits rot, this seed that
  // the refusal happens and is recovered from. (Seed 19 is the first of CI's seeds with a refusal
  // since answers carry the sender's incarnation, which changes the messages after every restart;
  // before that it was seed 156. A later change of the draws may move it, as with the break-rule
  // seeds.)
  it("seed 19 (3 nodes): a node refuses to start on rotted synced data, and the cluster recovers", async () => {
    const result = await runSimulation({ seed: 19, nodes: 3, faults: true });
    expect(result.storage["refusedCorrupt"]).toBeGreaterThan(0);
    expect(result.violations).toEqual([]);
  });

  it("seed 100300 (5 nodes): a restarted node reads back what it made durable", async () => {
    expect(await violationsOfSeed(100300, 5, "latencyMsMin=0,latencyMsMax=11,lossProbabilityMax=0.079,duplicateProbabilityMax=0.01,reorderProbabilityMax=0,reorderDelayMsMax=38,faultIntervalMsMin=76,faultIntervalMsMax=612,partitionWeight=8,isolateWeight=6,oneWayCutWeight=10,bridgeWeight=9,healWeight=4,partitionMsMin=110,partitionMsMax=2741,crashWeight=0,restartWeight=8,wipeWeight=0,linkFaultsWeight=0,timedFaultWeight=10,clockFaultWeight=0,staleLeaderWeight=0,leaderCrashFraction=0.526,inflightSurvivesCrashProbability=0.934,clockSkewMax=0,clockPauseMsMax=1277,clockRateMin=0.325,clockRateMax=3.653,syncDelayMsMin=0,syncDelayMsMax=13,diskCrashWriteKeptProbability=0.1431,diskCrashWriteTornProbability=0.361,diskCrashSizeWithoutDataProbability=0,diskCrashStaleSectorProbability=0,diskCrashDirectoryChangeKeptProbability=0.099,diskCrashBitFlipProbability=0,diskReadErrorProbability=0,diskWriteErrorProbability=0.0005,diskNoSpaceProbability=0,diskFsyncErrorProbability=0.001,diskPowerCutDuringWriteProbability=0.0047,entriesPerProposalMax=1,inflightProposalsMax=64,electionTimeoutTicks=9,heartbeatTicks=3,snapshotEntriesThreshold=20")).toEqual([]);
  });

  it("seed 101150 (5 nodes): a restarted node reads back what it made durable", async () => {
    expect(await violationsOfSeed(101150, 5, "latencyMsMin=2,latencyMsMax=16,lossProbabilityMax=0,duplicateProbabilityMax=0.145,reorderProbabilityMax=0.03,reorderDelayMsMax=25,faultIntervalMsMin=74,faultIntervalMsMax=241,partitionWeight=4,isolateWeight=4,oneWayCutWeight=4,bridgeWeight=0,healWeight=9,partitionMsMin=138,partitionMsMax=0,crashWeight=0,restartWeight=2,wipeWeight=2,linkFaultsWeight=2,timedFaultWeight=6,clockFaultWeight=0,staleLeaderWeight=6,leaderCrashFraction=0.708,inflightSurvivesCrashProbability=0.987,clockSkewMax=0,clockPauseMsMax=1833,clockRateMin=0.469,clockRateMax=1.198,syncDelayMsMin=1,syncDelayMsMax=16,diskCrashWriteKeptProbability=0.3282,diskCrashWriteTornProbability=0.5217,diskCrashSizeWithoutDataProbability=0.1839,diskCrashStaleSectorProbability=0,diskCrashDirectoryChangeKeptProbability=0.5501,diskCrashBitFlipProbability=0,diskReadErrorProbability=0,diskWriteErrorProbability=0,diskNoSpaceProbability=0,diskFsyncErrorProbability=0.0006,diskPowerCutDuringWriteProbability=0.0039,entriesPerProposalMax=2,inflightProposalsMax=4,electionTimeoutTicks=11,heartbeatTicks=3,snapshotEntriesThreshold=150")).toEqual([]);
  });

  it("seed 105627 (3 nodes): a restarted node reads back what it made durable", async () => {
    expect(await violationsOfSeed(105627, 3, "latencyMsMin=2,latencyMsMax=16,lossProbabilityMax=0.129,duplicateProbabilityMax=0,reorderProbabilityMax=0,reorderDelayMsMax=38,faultIntervalMsMin=158,faultIntervalMsMax=451,partitionWeight=0,isolateWeight=0,oneWayCutWeight=0,bridgeWeight=0,healWeight=2,partitionMsMin=221,partitionMsMax=0,crashWeight=5,restartWeight=3,wipeWeight=0,linkFaultsWeight=0,timedFaultWeight=0,clockFaultWeight=5,staleLeaderWeight=0,leaderCrashFraction=0.451,inflightSurvivesCrashProbability=0.871,clockSkewMax=0.15,clockPauseMsMax=463,clockRateMin=0.359,clockRateMax=1.526,syncDelayMsMin=2,syncDelayMsMax=11,diskCrashWriteKeptProbability=0.0125,diskCrashWriteTornProbability=0.457,diskCrashSizeWithoutDataProbability=0.0614,diskCrashStaleSectorProbability=0.086,diskCrashDirectoryChangeKeptProbability=0.7987,diskCrashBitFlipProbability=0,diskReadErrorProbability=0,diskWriteErrorProbability=0,diskNoSpaceProbability=0,diskFsyncErrorProbability=0.0007,diskPowerCutDuringWriteProbability=0.0017,entriesPerProposalMax=1,inflightProposalsMax=1,electionTimeoutTicks=16,heartbeatTicks=2,snapshotEntriesThreshold=150")).toEqual([]);
  });

  // Seed 300869 (found on the code that fixed the seeds above, which moved every seed's draws): a
  // power cut tore a write that had grown the segment; the sector holding the last byte of its
  // first record never reached the disk and read as a freed file's stale bytes. Recovery could not
  // tell that from rot in a synced record, so it reported a possible loss: that node would not
  // vote, a second node's disk had been replaced, and the 3-node cluster never elected again
  // (liveness). The log is now written over synced zeros (storage's segment-preallocation.ts).
  it("seed 300869 (3 nodes): a torn write over stale sectors is a tear, and the cluster elects again", async () => {
    expect(await violationsOfSeed(300869, 3, "latencyMsMin=1,latencyMsMax=11,lossProbabilityMax=0,duplicateProbabilityMax=0,reorderProbabilityMax=0.209,reorderDelayMsMax=82,faultIntervalMsMin=188,faultIntervalMsMax=561,partitionWeight=0,isolateWeight=6,oneWayCutWeight=9,bridgeWeight=6,healWeight=2,partitionMsMin=299,partitionMsMax=340,crashWeight=2,restartWeight=3,wipeWeight=3,linkFaultsWeight=2,timedFaultWeight=9,clockFaultWeight=0,staleLeaderWeight=4,leaderCrashFraction=0.376,inflightSurvivesCrashProbability=0.088,clockSkewMax=0.182,clockPauseMsMax=1375,clockRateMin=0.76,clockRateMax=2.132,syncDelayMsMin=0,syncDelayMsMax=11,diskCrashWriteKeptProbability=0.4955,diskCrashWriteTornProbability=0.4228,diskCrashSizeWithoutDataProbability=0.2279,diskCrashStaleSectorProbability=0.1795,diskCrashDirectoryChangeKeptProbability=0.329,diskCrashBitFlipProbability=0,diskReadErrorProbability=0,diskWriteErrorProbability=0.0004,diskNoSpaceProbability=0,diskFsyncErrorProbability=0.0001,diskPowerCutDuringWriteProbability=0.0028,entriesPerProposalMax=1,inflightProposalsMax=64,electionTimeoutTicks=12,heartbeatTicks=2,snapshotEntriesThreshold=150")).toEqual([]);
  });

  // Seed 940251 (found on 09b79fc): n5, a deposed leader whose log held entry 62 of term 3,
  // installed the new leader's snapshot at 61 (term 4); the save wrote the snapshot and dropped the
  // log, then an fsync failed (EIO) and the node exited. It came back with the snapshot and without
  // entry 62, which the simulator had counted as durable. Storage was right: an installed snapshot
  // replaces the whole log, and an entry after it that disagrees with its index was never
  // committed. The checker now lets a snapshot save in flight explain the entries after it, when
  // that snapshot is what was read back.
  it("seed 940251 (5 nodes): entries after a leader's snapshot may go once that snapshot is durable", async () => {
    expect(await violationsOfSeed(940251, 5, "latencyMsMin=2,latencyMsMax=8,lossProbabilityMax=0.02,duplicateProbabilityMax=0.078,reorderProbabilityMax=0.205,reorderDelayMsMax=81,faultIntervalMsMin=77,faultIntervalMsMax=512,partitionWeight=9,isolateWeight=9,oneWayCutWeight=0,bridgeWeight=0,healWeight=6,partitionMsMin=263,partitionMsMax=1153,crashWeight=8,restartWeight=4,wipeWeight=0,linkFaultsWeight=6,timedFaultWeight=10,clockFaultWeight=7,staleLeaderWeight=4,leaderCrashFraction=0.571,inflightSurvivesCrashProbability=0.876,clockSkewMax=0.037,clockPauseMsMax=1236,clockRateMin=0.267,clockRateMax=2.811,syncDelayMsMin=2,syncDelayMsMax=4,diskCrashWriteKeptProbability=0.5383,diskCrashWriteTornProbability=0.2105,diskCrashSizeWithoutDataProbability=0.156,diskCrashStaleSectorProbability=0.1318,diskCrashDirectoryChangeKeptProbability=0.623,diskCrashBitFlipProbability=0.0751,diskReadErrorProbability=0.0004,diskWriteErrorProbability=0,diskNoSpaceProbability=0,diskFsyncErrorProbability=0.0008,diskPowerCutDuringWriteProbability=0,entriesPerProposalMax=1,inflightProposalsMax=4,electionTimeoutTicks=8,heartbeatTicks=2,snapshotEntriesThreshold=20")).toEqual([]);
  });
});

describe("regression seeds: safety (issue 9)", () => {
  // Found on commit 6d0610f. A disk replaced while its node's supervisor was restarting it: the
  // start carried on with the new disk and failed, and the failed start had already dropped the
  // simulator's note that the node may have lost data, so its next start voted with an empty log
  // (index 8 decided twice). A start now dies with its machine (src/sim-cluster.test.ts).
  it("seed 101623 (3 nodes): a disk replaced during a start kills that start", async () => {
    const violations = await violationsOfSeed(
      101623,
      3,
      "latencyMsMin=0,latencyMsMax=13,lossProbabilityMax=0.111,duplicateProbabilityMax=0,reorderProbabilityMax=0,reorderDelayMsMax=74,faultIntervalMsMin=164,faultIntervalMsMax=296,partitionWeight=3,isolateWeight=4,oneWayCutWeight=0,bridgeWeight=5,healWeight=9,partitionMsMin=245,partitionMsMax=2129,crashWeight=1,restartWeight=5,wipeWeight=3,linkFaultsWeight=8,timedFaultWeight=2,clockFaultWeight=0,staleLeaderWeight=3,leaderCrashFraction=0.819,inflightSurvivesCrashProbability=0.275,clockSkewMax=0,clockPauseMsMax=2378,clockRateMin=0.416,clockRateMax=2.395,syncDelayMsMin=0,syncDelayMsMax=4,diskCrashWriteKeptProbability=0.5037,diskCrashWriteTornProbability=0.2598,diskCrashSizeWithoutDataProbability=0.2086,diskCrashStaleSectorProbability=0,diskCrashDirectoryChangeKeptProbability=0.9213,diskCrashBitFlipProbability=0,diskReadErrorProbability=0,diskWriteErrorProbability=0.0003,diskNoSpaceProbability=0,diskFsyncErrorProbability=0,diskPowerCutDuringWriteProbability=0.0089,entriesPerProposalMax=4,inflightProposalsMax=4,electionTimeoutTicks=7,heartbeatTicks=1,snapshotEntriesThreshold=150",
    );
    expect(violations).toEqual([]);
  });

  // The same cause on 5 nodes: the old leader's disk was replaced while its supervisor restarted
  // it; it came back believing its empty log complete, voted, and a leader committed index 40
  // on 2 of 5 real copies (indexes 38-40 decided twice). Since storage syncs the directories above
  // its own at every start (more draws from each disk's stream), this replay no longer reaches
  // that moment even without the fix; `src/sim-cluster.test.ts` pins the cause itself.
  it("seed 103532 (5 nodes): a leader whose disk was replaced during a restart does not come back believing its empty log complete", async () => {
    const violations = await violationsOfSeed(
      103532,
      5,
      "latencyMsMin=0,latencyMsMax=7,lossProbabilityMax=0,duplicateProbabilityMax=0.027,reorderProbabilityMax=0.182,reorderDelayMsMax=48,faultIntervalMsMin=93,faultIntervalMsMax=380,partitionWeight=3,isolateWeight=5,oneWayCutWeight=0,bridgeWeight=4,healWeight=5,partitionMsMin=113,partitionMsMax=0,crashWeight=7,restartWeight=4,wipeWeight=1,linkFaultsWeight=8,timedFaultWeight=0,clockFaultWeight=9,staleLeaderWeight=1,leaderCrashFraction=0.138,inflightSurvivesCrashProbability=0.06,clockSkewMax=0,clockPauseMsMax=2441,clockRateMin=0.437,clockRateMax=3.833,syncDelayMsMin=2,syncDelayMsMax=3,diskCrashWriteKeptProbability=0.0261,diskCrashWriteTornProbability=0.5037,diskCrashSizeWithoutDataProbability=0,diskCrashStaleSectorProbability=0,diskCrashDirectoryChangeKeptProbability=0.8554,diskCrashBitFlipProbability=0,diskReadErrorProbability=0.0002,diskWriteErrorProbability=0,diskNoSpaceProbability=0,diskFsyncErrorProbability=0,diskPowerCutDuringWriteProbability=0.0074,entriesPerProposalMax=2,inflightProposalsMax=1,electionTimeoutTicks=7,heartbeatTicks=2,snapshotEntriesThreshold=150",
    );
    expect(violations).toEqual([]);
  });

  // Found by the 100,000-seed run on 583096b: n5, paused, stepped n4's term-4 Proposal (indexes up
  // to 36) and then n2's term-5 Proposal, which replaced them, before its next Ready. The Ready's
  // write held n2's entries, yet the acknowledgment of index 36 to n4, queued to wait for that
  // write, went out after it: an old leader could count entries never durable here. The core now
  // withdraws such acknowledgments (packages/consensus/src/ready.test.ts has the focused cases).
  // Found with membership churn on 71d7c44 (recovering_vote): n3, on a wiped disk, heard every
  // voter, then took a late copy of an old Proposal of the leader's (its commit index 20, an entry
  // of the current term) as the leader's commit index, ended its recovery and voted in term 2
  // without entries up to 55. A recovering node now also needs the leader's commit index to reach
  // the largest one the voters reported (history-check.test.ts has the focused case).
  it("seed 2604236 (5 nodes): a late Proposal's old commit index does not end a wiped node's recovery", async () => {
    expect(await violationsOfSeed(2604236, 5, "latencyMsMin=1,latencyMsMax=10,lossProbabilityMax=0,duplicateProbabilityMax=0.11,reorderProbabilityMax=0.161,reorderDelayMsMax=35,faultIntervalMsMin=62,faultIntervalMsMax=224,partitionWeight=0,isolateWeight=8,oneWayCutWeight=0,bridgeWeight=0,healWeight=5,partitionMsMin=229,partitionMsMax=1695,crashWeight=0,restartWeight=4,wipeWeight=2,linkFaultsWeight=2,timedFaultWeight=4,clockFaultWeight=0,staleLeaderWeight=0,leaderCrashFraction=0.289,inflightSurvivesCrashProbability=0.306,clockSkewMax=0,clockPauseMsMax=1684,clockRateMin=0.269,clockRateMax=3.662,syncDelayMsMin=1,syncDelayMsMax=12,diskCrashWriteKeptProbability=0.4758,diskCrashWriteTornProbability=0.2132,diskCrashSizeWithoutDataProbability=0,diskCrashStaleSectorProbability=0,diskCrashDirectoryChangeKeptProbability=0.4685,diskCrashBitFlipProbability=0,diskReadErrorProbability=0,diskWriteErrorProbability=0,diskNoSpaceProbability=0,diskFsyncErrorProbability=0,diskPowerCutDuringWriteProbability=0.0005,entriesPerProposalMax=4,inflightProposalsMax=1,electionTimeoutTicks=14,heartbeatTicks=2,snapshotEntriesThreshold=150,memberAddWeight=6,memberPromoteWeight=0,memberRemoveWeight=1,leaderRemoveWeight=2,memberReplaceWeight=0,churnIntervalMsMin=245,churnIntervalMsMax=463,autoPromote=1")).toEqual([]);
  });

  it("seed 729636 (5 nodes): no acknowledgment of entries a new leader replaced in the same Ready", async () => {
    const violations = await violationsOfSeed(
      729636,
      5,
      "latencyMsMin=2,latencyMsMax=15,lossProbabilityMax=0.207,duplicateProbabilityMax=0,reorderProbabilityMax=0.025,reorderDelayMsMax=94,faultIntervalMsMin=24,faultIntervalMsMax=123,partitionWeight=4,isolateWeight=0,oneWayCutWeight=0,bridgeWeight=0,healWeight=4,partitionMsMin=111,partitionMsMax=801,crashWeight=3,restartWeight=9,wipeWeight=3,linkFaultsWeight=7,timedFaultWeight=0,clockFaultWeight=6,staleLeaderWeight=0,leaderCrashFraction=0.502,inflightSurvivesCrashProbability=0.615,clockSkewMax=0.279,clockPauseMsMax=1189,clockRateMin=0.4,clockRateMax=2.478,syncDelayMsMin=2,syncDelayMsMax=5,diskCrashWriteKeptProbability=0.5792,diskCrashWriteTornProbability=0.3914,diskCrashSizeWithoutDataProbability=0.1604,diskCrashStaleSectorProbability=0.1702,diskCrashDirectoryChangeKeptProbability=0.1747,diskCrashBitFlipProbability=0.1192,diskReadErrorProbability=0,diskWriteErrorProbability=0.0005,diskNoSpaceProbability=0,diskFsyncErrorProbability=0,diskPowerCutDuringWriteProbability=0,entriesPerProposalMax=64,inflightProposalsMax=1,electionTimeoutTicks=13,heartbeatTicks=4,snapshotEntriesThreshold=150",
    );
    expect(violations).toEqual([]);
  });
});

// Seeds 101175, 101885, 105513 and 105771 (3 nodes), found on commit 6d0610f: after the faults
// stopped no write committed, because two of three voters could not vote. A recovering voter (a
// replaced disk, or damage at the end of the log that storage could not tell from a torn write)
// now answers with a vote that counts in an election every voter grants, and the liveness phase
// replaces a disk that refused to start, as the runbook for a corrupt log says. The focused tests
// are in packages/consensus/src/possible-loss.test.ts. Since the storage fix above changed every
// seed's draws, these replays no longer take the failing course on old code either; they stay as
// replays of the failures' profiles.
describe("regression seeds: liveness after faults stop", () => {
  // Was: [liveness] no write committed within 5000 virtual ms after faults stopped.
  // With the fix its run takes another course before the faults stop (recovering nodes now answer
  // elections), and n2 is elected by a plain majority; it stays as a replay of the old failure.
  it("seed 101175: a replaced disk on n3 and an ambiguous end of log on n2 (stale sectors after a power cut) left two recovering voters of three and no leader", async () => {
    const result = await replaySeed(101175, 3, "latencyMsMin=1,latencyMsMax=9,lossProbabilityMax=0.245,duplicateProbabilityMax=0.05,reorderProbabilityMax=0.054,reorderDelayMsMax=94,faultIntervalMsMin=55,faultIntervalMsMax=223,partitionWeight=9,isolateWeight=1,oneWayCutWeight=4,bridgeWeight=0,healWeight=9,partitionMsMin=59,partitionMsMax=1471,crashWeight=10,restartWeight=3,wipeWeight=2,linkFaultsWeight=8,timedFaultWeight=0,clockFaultWeight=0,staleLeaderWeight=2,leaderCrashFraction=0.406,inflightSurvivesCrashProbability=0.981,clockSkewMax=0.199,clockPauseMsMax=945,clockRateMin=0.869,clockRateMax=2.214,syncDelayMsMin=1,syncDelayMsMax=17,diskCrashWriteKeptProbability=0.0323,diskCrashWriteTornProbability=0.9603,diskCrashSizeWithoutDataProbability=0.0355,diskCrashStaleSectorProbability=0.1114,diskCrashDirectoryChangeKeptProbability=0.9459,diskCrashBitFlipProbability=0,diskReadErrorProbability=0,diskWriteErrorProbability=0,diskNoSpaceProbability=0,diskFsyncErrorProbability=0,diskPowerCutDuringWriteProbability=0.0085,entriesPerProposalMax=8,inflightProposalsMax=1,electionTimeoutTicks=14,heartbeatTicks=1,snapshotEntriesThreshold=1000");
    expect(result.violations).toEqual([]);
    expect(result.recoveryMs).not.toBeNull();
  });

  // Was: [liveness] no write committed within 5000 virtual ms after faults stopped.
  it("seed 105771: a replaced disk on n3 and an ambiguous end of log on n2, which holds the longest log: the recovering n2 is elected with every voter's answer", async () => {
    const result = await replaySeed(105771, 3, "latencyMsMin=2,latencyMsMax=6,lossProbabilityMax=0,duplicateProbabilityMax=0,reorderProbabilityMax=0,reorderDelayMsMax=94,faultIntervalMsMin=111,faultIntervalMsMax=338,partitionWeight=8,isolateWeight=0,oneWayCutWeight=0,bridgeWeight=0,healWeight=8,partitionMsMin=145,partitionMsMax=2218,crashWeight=7,restartWeight=9,wipeWeight=2,linkFaultsWeight=0,timedFaultWeight=0,clockFaultWeight=10,staleLeaderWeight=0,leaderCrashFraction=0.642,inflightSurvivesCrashProbability=0.51,clockSkewMax=0.048,clockPauseMsMax=551,clockRateMin=0.422,clockRateMax=3.279,syncDelayMsMin=0,syncDelayMsMax=5,diskCrashWriteKeptProbability=0.2317,diskCrashWriteTornProbability=0.3589,diskCrashSizeWithoutDataProbability=0.2848,diskCrashStaleSectorProbability=0.0477,diskCrashDirectoryChangeKeptProbability=0.7168,diskCrashBitFlipProbability=0,diskReadErrorProbability=0,diskWriteErrorProbability=0,diskNoSpaceProbability=0,diskFsyncErrorProbability=0,diskPowerCutDuringWriteProbability=0.0035,entriesPerProposalMax=1024,inflightProposalsMax=4,electionTimeoutTicks=17,heartbeatTicks=1,snapshotEntriesThreshold=1000");
    expect(result.violations).toEqual([]);
    expect(result.recoveryMs).not.toBeNull();
  });

  // Was: [liveness] no write committed within 5000 virtual ms after faults stopped.
  it("seed 101885: n3 refused to start (a flipped bit in synced data) and n1 has an ambiguous end of log: n3's disk is replaced in the liveness phase, as the runbook says, and every voter's answer elects n2", async () => {
    const result = await replaySeed(101885, 3, "latencyMsMin=2,latencyMsMax=4,lossProbabilityMax=0.189,duplicateProbabilityMax=0.155,reorderProbabilityMax=0.191,reorderDelayMsMax=29,faultIntervalMsMin=25,faultIntervalMsMax=474,partitionWeight=4,isolateWeight=6,oneWayCutWeight=2,bridgeWeight=0,healWeight=4,partitionMsMin=17,partitionMsMax=0,crashWeight=3,restartWeight=6,wipeWeight=2,linkFaultsWeight=4,timedFaultWeight=0,clockFaultWeight=0,staleLeaderWeight=8,leaderCrashFraction=0.56,inflightSurvivesCrashProbability=0.544,clockSkewMax=0.13,clockPauseMsMax=2566,clockRateMin=0.495,clockRateMax=3.653,syncDelayMsMin=0,syncDelayMsMax=4,diskCrashWriteKeptProbability=0.565,diskCrashWriteTornProbability=0.3621,diskCrashSizeWithoutDataProbability=0.1769,diskCrashStaleSectorProbability=0.1628,diskCrashDirectoryChangeKeptProbability=0.1118,diskCrashBitFlipProbability=0.1804,diskReadErrorProbability=0,diskWriteErrorProbability=0.0003,diskNoSpaceProbability=0,diskFsyncErrorProbability=0,diskPowerCutDuringWriteProbability=0.0089,entriesPerProposalMax=64,inflightProposalsMax=1,electionTimeoutTicks=6,heartbeatTicks=2,snapshotEntriesThreshold=1000");
    expect(result.violations).toEqual([]);
    expect(result.recoveryMs).not.toBeNull();
  });

  // Was: [liveness] no write committed within 5000 virtual ms after faults stopped.
  it("seed 105513: n3 refused to start (a flipped bit in synced data) and n1 has an ambiguous end of log: n3's disk is replaced in the liveness phase and every voter's answer elects n2", async () => {
    const result = await replaySeed(105513, 3, "latencyMsMin=0,latencyMsMax=1,lossProbabilityMax=0.046,duplicateProbabilityMax=0.193,reorderProbabilityMax=0,reorderDelayMsMax=70,faultIntervalMsMin=149,faultIntervalMsMax=461,partitionWeight=9,isolateWeight=2,oneWayCutWeight=1,bridgeWeight=5,healWeight=9,partitionMsMin=57,partitionMsMax=482,crashWeight=3,restartWeight=3,wipeWeight=0,linkFaultsWeight=0,timedFaultWeight=7,clockFaultWeight=0,staleLeaderWeight=0,leaderCrashFraction=0.845,inflightSurvivesCrashProbability=0.51,clockSkewMax=0.048,clockPauseMsMax=818,clockRateMin=0.838,clockRateMax=1.693,syncDelayMsMin=2,syncDelayMsMax=5,diskCrashWriteKeptProbability=0.531,diskCrashWriteTornProbability=0.4656,diskCrashSizeWithoutDataProbability=0,diskCrashStaleSectorProbability=0.2163,diskCrashDirectoryChangeKeptProbability=0.2591,diskCrashBitFlipProbability=0.1991,diskReadErrorProbability=0,diskWriteErrorProbability=0.0003,diskNoSpaceProbability=0.0003,diskFsyncErrorProbability=0,diskPowerCutDuringWriteProbability=0.0084,entriesPerProposalMax=1024,inflightProposalsMax=4,electionTimeoutTicks=12,heartbeatTicks=3,snapshotEntriesThreshold=20");
    expect(result.violations).toEqual([]);
    expect(result.recoveryMs).not.toBeNull();
  });

  // Seeds 305870 and 513396 (5 nodes), found on main in the third session. Was: [liveness] no
  // write committed within 5000 virtual ms after faults stopped. The liveness phase replaced the
  // disk that storage had refused, but the new disk kept the seed's faults: a power cut in the
  // middle of its node's next write (its vote) and a bit flip at that cut made storage refuse it
  // again, and that voter stayed down for good while three others were recovering, so no election
  // could gather every voter's answer. A disk put in after the faults stopped now has none
  // (src/sim-cluster.test.ts, "the liveness phase"). Storage changes made after these seeds were
  // found move their draws: they replay the old failure on commit 3d9d147, and run clean there
  // with the fix; on later code they stay as replays of the same profiles.
  it("seed 305870: a disk replaced in the liveness phase keeps no faults, so its node stays up and every voter's answer elects a leader", async () => {
    const result = await replaySeed(305870, 5, "latencyMsMin=0,latencyMsMax=11,lossProbabilityMax=0.137,duplicateProbabilityMax=0,reorderProbabilityMax=0,reorderDelayMsMax=27,faultIntervalMsMin=33,faultIntervalMsMax=246,partitionWeight=0,isolateWeight=0,oneWayCutWeight=4,bridgeWeight=2,healWeight=10,partitionMsMin=87,partitionMsMax=2721,crashWeight=7,restartWeight=8,wipeWeight=0,linkFaultsWeight=8,timedFaultWeight=4,clockFaultWeight=0,staleLeaderWeight=10,leaderCrashFraction=0.826,inflightSurvivesCrashProbability=0.87,clockSkewMax=0.09,clockPauseMsMax=1068,clockRateMin=0.311,clockRateMax=1.765,syncDelayMsMin=0,syncDelayMsMax=9,diskCrashWriteKeptProbability=0.0767,diskCrashWriteTornProbability=0.5791,diskCrashSizeWithoutDataProbability=0.271,diskCrashStaleSectorProbability=0,diskCrashDirectoryChangeKeptProbability=0.2011,diskCrashBitFlipProbability=0.1809,diskReadErrorProbability=0.0002,diskWriteErrorProbability=0,diskNoSpaceProbability=0.0003,diskFsyncErrorProbability=0,diskPowerCutDuringWriteProbability=0.0062,entriesPerProposalMax=8,inflightProposalsMax=64,electionTimeoutTicks=6,heartbeatTicks=1,snapshotEntriesThreshold=1000");
    expect(result.violations).toEqual([]);
    expect(result.recoveryMs).not.toBeNull();
  });

  it("seed 513396: a disk replaced in the liveness phase keeps no faults, so its node stays up and every voter's answer elects a leader", async () => {
    const result = await replaySeed(513396, 5, "latencyMsMin=1,latencyMsMax=10,lossProbabilityMax=0.081,duplicateProbabilityMax=0,reorderProbabilityMax=0.11,reorderDelayMsMax=44,faultIntervalMsMin=94,faultIntervalMsMax=686,partitionWeight=0,isolateWeight=8,oneWayCutWeight=8,bridgeWeight=5,healWeight=6,partitionMsMin=223,partitionMsMax=633,crashWeight=10,restartWeight=7,wipeWeight=2,linkFaultsWeight=0,timedFaultWeight=2,clockFaultWeight=0,staleLeaderWeight=8,leaderCrashFraction=0.648,inflightSurvivesCrashProbability=0.507,clockSkewMax=0,clockPauseMsMax=832,clockRateMin=0.867,clockRateMax=2.151,syncDelayMsMin=2,syncDelayMsMax=2,diskCrashWriteKeptProbability=0.1376,diskCrashWriteTornProbability=0.5922,diskCrashSizeWithoutDataProbability=0.0635,diskCrashStaleSectorProbability=0.1143,diskCrashDirectoryChangeKeptProbability=0.7558,diskCrashBitFlipProbability=0.1068,diskReadErrorProbability=0,diskWriteErrorProbability=0,diskNoSpaceProbability=0,diskFsyncErrorProbability=0.001,diskPowerCutDuringWriteProbability=0.0089,entriesPerProposalMax=1,inflightProposalsMax=1,electionTimeoutTicks=20,heartbeatTicks=4,snapshotEntriesThreshold=20");
    expect(result.violations).toEqual([]);
    expect(result.recoveryMs).not.toBeNull();
  });

  // Seed 906790 (5 nodes), found by the fourth session's long run on 918a84a. Was: [convergence]
  // n2 (on an empty disk) stayed a precandidate with nothing applied. n3's restart was still
  // recovering its storage when the liveness phase replaced the refused disks, and was refused
  // (a corrupt snapshot) just after that pass: n3 stayed down for good, and n2, whose empty log
  // waits for every other voter's answer before it follows a leader, never got n3's. A start
  // refused after the pass now gets its disk replaced too.
  it("seed 906790: a start refused just after the liveness phase replaced the refused disks is replaced too", async () => {
    const result = await replaySeed(906790, 5, "latencyMsMin=1,latencyMsMax=8,lossProbabilityMax=0,duplicateProbabilityMax=0.154,reorderProbabilityMax=0,reorderDelayMsMax=94,faultIntervalMsMin=159,faultIntervalMsMax=255,partitionWeight=0,isolateWeight=0,oneWayCutWeight=2,bridgeWeight=0,healWeight=8,partitionMsMin=213,partitionMsMax=1972,crashWeight=2,restartWeight=6,wipeWeight=1,linkFaultsWeight=1,timedFaultWeight=6,clockFaultWeight=5,staleLeaderWeight=1,leaderCrashFraction=0.574,inflightSurvivesCrashProbability=0.779,clockSkewMax=0.047,clockPauseMsMax=706,clockRateMin=0.762,clockRateMax=3.841,syncDelayMsMin=2,syncDelayMsMax=19,diskCrashWriteKeptProbability=0.5402,diskCrashWriteTornProbability=0.3058,diskCrashSizeWithoutDataProbability=0.0106,diskCrashStaleSectorProbability=0.0458,diskCrashDirectoryChangeKeptProbability=0.9147,diskCrashBitFlipProbability=0.1827,diskReadErrorProbability=0,diskWriteErrorProbability=0.0003,diskNoSpaceProbability=0,diskFsyncErrorProbability=0,diskPowerCutDuringWriteProbability=0.0012,entriesPerProposalMax=1,inflightProposalsMax=4,electionTimeoutTicks=18,heartbeatTicks=2,snapshotEntriesThreshold=20");
    expect(result.violations).toEqual([]);
    expect(result.recoveryMs).not.toBeNull();
  });
});
