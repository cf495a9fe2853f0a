import type { RandomSource } from "@lockstep/consensus";
import { drawDiskFaults, perfectDiskFaults } from "@lockstep/storage";
import type { DiskFaults } from "@lockstep/storage";
import { createRandom, pickOne, randomInt } from "@lockstep/transport-memory";
import { z } from "zod";

/**
 * Swarm testing (Groce et al., "Swarm Testing", ISSTA 2012): instead of every run mixing every
 * fault at one fixed rate, each seed draws its own profile. Some fault kinds are switched off
 * entirely, the others get their own intensity, and the cluster's batch limits and timeouts
 * vary too. A bug that only one mix exposes (many small partitions and no crashes, say) is found
 * by the seeds that happen to draw that mix, instead of being drowned by faults that mask it.
 *
 * A profile is flat numbers so that it prints on one line (`key=value,...`) beside a failing seed
 * and parses back from `pnpm sim --profile`.
 */
export interface SwarmProfile {
  // Network: every link's latency; loss, duplication and reordering bursts draw up to these.
  latencyMsMin: number;
  latencyMsMax: number;
  lossProbabilityMax: number;
  duplicateProbabilityMax: number;
  reorderProbabilityMax: number;
  reorderDelayMsMax: number;
  // Fault schedule: virtual ms between nemesis operations, and each operation's relative weight.
  faultIntervalMsMin: number;
  faultIntervalMsMax: number;
  partitionWeight: number;
  isolateWeight: number;
  oneWayCutWeight: number;
  bridgeWeight: number;
  healWeight: number;
  /**
   * Each cut heals by itself after a virtual duration in [partitionMsMin, partitionMsMax] (a
   * flicker of 10 ms or a split of seconds); 0: cuts last until a heal operation.
   */
  partitionMsMin: number;
  partitionMsMax: number;
  crashWeight: number;
  restartWeight: number;
  /** A crash whose disk is then replaced by an empty one (the node returns under its old id, knowing it may have lost data). */
  wipeWeight: number;
  linkFaultsWeight: number;
  /** Crashes and isolations timed against a message (right after an Acknowledgment, a Commit, a vote...). */
  timedFaultWeight: number;
  clockFaultWeight: number;
  /** The Figure 8 schedule (Raft §5.4.2): a leader's tail on a minority, a rival leader, the old one back. */
  staleLeaderWeight: number;
  /**
   * The lost-disk-answer schedule (`lost-disk-answer-scenario.ts`): a follower's Acknowledgment
   * held back across the loss of its disk. Drawn from a stream of its own, and 0 in most seeds.
   */
  lostDiskAnswerWeight: number;
  /** Fraction of plain crashes aimed at the current leader. */
  leaderCrashFraction: number;
  /** Chance that what a crashing node already sent still arrives (packets on the wire), rather than dying with it. */
  inflightSurvivesCrashProbability: number;
  // Clocks: each node's base rate is in [1 - clockSkewMax, 1 + clockSkewMax]; a clock fault pauses
  // a node (a GC pause or VM freeze) for up to clockPauseMsMax, or runs it at a rate in
  // [clockRateMin, clockRateMax] for a while.
  clockSkewMax: number;
  clockPauseMsMax: number;
  clockRateMin: number;
  clockRateMax: number;
  // Storage: each sync takes a whole number of virtual ms in [syncDelayMsMin, syncDelayMsMax].
  syncDelayMsMin: number;
  syncDelayMsMax: number;
  // The simulated disk (see @lockstep/storage's DiskFaults, whose fields these are with a "disk"
  // prefix): what a power cut keeps, tears or loses of unsynced writes, rot of synced data, I/O errors.
  diskCrashWriteKeptProbability: number;
  diskCrashWriteTornProbability: number;
  diskCrashSizeWithoutDataProbability: number;
  diskCrashStaleSectorProbability: number;
  diskCrashDirectoryChangeKeptProbability: number;
  diskCrashBitFlipProbability: number;
  diskReadErrorProbability: number;
  diskWriteErrorProbability: number;
  diskNoSpaceProbability: number;
  diskFsyncErrorProbability: number;
  diskPowerCutDuringWriteProbability: number;
  // The cluster's own limits.
  entriesPerProposalMax: number;
  inflightProposalsMax: number;
  electionTimeoutTicks: number;
  heartbeatTicks: number;
  snapshotEntriesThreshold: number;
  // Membership churn (`src/membership-churn.ts`), drawn from a stream of its own so that the fields
  // above stay what they were for every seed: an operator's changes every [churnIntervalMsMin,
  // churnIntervalMsMax] virtual ms, each kind with its weight; all 0: the membership never changes.
  /** Add a fresh id, on an empty disk, as a learner. */
  memberAddWeight: number;
  /** Promote a learner explicitly (the leader's auto-promotion works too, when `autoPromote` is 1). */
  memberPromoteWeight: number;
  /** Remove a follower (voter or learner); its machine is retired a little later. */
  memberRemoveWeight: number;
  /** Remove the leader itself: it commits its removal, hands over and steps down. */
  leaderRemoveWeight: number;
  /** Replace a voter: remove it, retire its machine, add a fresh id on an empty disk. */
  memberReplaceWeight: number;
  churnIntervalMsMin: number;
  churnIntervalMsMax: number;
  /** 1: the leader promotes caught-up learners by itself (the default of a real cluster); 0: only explicit promotions. */
  autoPromote: number;
}

type ChurnFields = Pick<SwarmProfile, "memberAddWeight" | "memberPromoteWeight" | "memberRemoveWeight" | "leaderRemoveWeight" | "memberReplaceWeight" | "churnIntervalMsMin" | "churnIntervalMsMax" | "autoPromote">;

/** No membership changes: what profiles without churn fields, fault-free runs and unit tests use. */
const quietChurn: ChurnFields = {
  memberAddWeight: 0,
  memberPromoteWeight: 0,
  memberRemoveWeight: 0,
  leaderRemoveWeight: 0,
  memberReplaceWeight: 0,
  churnIntervalMsMin: 200,
  churnIntervalMsMax: 800,
  autoPromote: 1,
};

const probability = z.number().min(0).max(1);
const weight = z.number().min(0).max(100);
const positiveInt = z.number().int().min(1);
const nonNegativeInt = z.number().int().min(0);

/** Parses a profile given on the command line; every field is required so a replay is exact. */
export const SwarmProfileSchema = z
  .strictObject({
    latencyMsMin: nonNegativeInt,
    latencyMsMax: nonNegativeInt,
    lossProbabilityMax: probability,
    duplicateProbabilityMax: probability,
    reorderProbabilityMax: probability,
    reorderDelayMsMax: nonNegativeInt,
    faultIntervalMsMin: positiveInt,
    faultIntervalMsMax: positiveInt,
    partitionWeight: weight,
    isolateWeight: weight,
    oneWayCutWeight: weight,
    bridgeWeight: weight,
    healWeight: weight,
    partitionMsMin: nonNegativeInt,
    partitionMsMax: nonNegativeInt,
    crashWeight: weight,
    restartWeight: weight,
    wipeWeight: weight,
    linkFaultsWeight: weight,
    timedFaultWeight: weight,
    clockFaultWeight: weight,
    staleLeaderWeight: weight,
    // Absent in profiles printed before the schedule existed: those replay without it.
    lostDiskAnswerWeight: weight.default(0),
    leaderCrashFraction: probability,
    inflightSurvivesCrashProbability: probability,
    clockSkewMax: z.number().min(0).max(0.5),
    clockPauseMsMax: positiveInt,
    clockRateMin: z.number().min(0.1).max(1),
    clockRateMax: z.number().min(1).max(10),
    syncDelayMsMin: nonNegativeInt,
    syncDelayMsMax: nonNegativeInt,
    diskCrashWriteKeptProbability: probability,
    diskCrashWriteTornProbability: probability,
    diskCrashSizeWithoutDataProbability: probability,
    diskCrashStaleSectorProbability: probability,
    diskCrashDirectoryChangeKeptProbability: probability,
    diskCrashBitFlipProbability: probability,
    diskReadErrorProbability: probability,
    diskWriteErrorProbability: probability,
    diskNoSpaceProbability: probability,
    diskFsyncErrorProbability: probability,
    diskPowerCutDuringWriteProbability: probability,
    entriesPerProposalMax: positiveInt.max(1024),
    inflightProposalsMax: positiveInt.max(1024),
    electionTimeoutTicks: z.number().int().min(3).max(100),
    heartbeatTicks: positiveInt,
    snapshotEntriesThreshold: positiveInt,
    // Absent in profiles printed before membership churn existed: those replay without churn.
    memberAddWeight: weight.default(0),
    memberPromoteWeight: weight.default(0),
    memberRemoveWeight: weight.default(0),
    leaderRemoveWeight: weight.default(0),
    memberReplaceWeight: weight.default(0),
    churnIntervalMsMin: positiveInt.default(quietChurn.churnIntervalMsMin),
    churnIntervalMsMax: positiveInt.default(quietChurn.churnIntervalMsMax),
    autoPromote: z.union([z.literal(0), z.literal(1)]).default(1),
  })
  .refine((profile) => profile.latencyMsMin <= profile.latencyMsMax, "latencyMsMin must be <= latencyMsMax")
  .refine((profile) => profile.faultIntervalMsMin < profile.faultIntervalMsMax, "faultIntervalMsMin must be < faultIntervalMsMax")
  .refine((profile) => profile.partitionMsMax === 0 || profile.partitionMsMin <= profile.partitionMsMax, "partitionMsMin must be <= partitionMsMax")
  .refine((profile) => profile.syncDelayMsMin <= profile.syncDelayMsMax, "syncDelayMsMin must be <= syncDelayMsMax")
  .refine((profile) => profile.heartbeatTicks < profile.electionTimeoutTicks, "heartbeatTicks must be < electionTimeoutTicks")
  .refine((profile) => profile.churnIntervalMsMin < profile.churnIntervalMsMax, "churnIntervalMsMin must be < churnIntervalMsMax");

/** Per-seed odds that a fault kind is switched on at all (swarm testing's feature omission). */
const faultKindOnProbability = 0.65;
/** Mixed into the seed so that the profile's stream is unrelated to the run's own stream. */
const profileSeedSalt = 0x5a4e_3d21;
/** The disk's faults are drawn from a stream of their own (as they were before they joined the profile). */
const diskSeedSalt = 0x6d15_c0de;
/** Membership churn is drawn from a stream of its own too (it came after the other fields). */
const churnSeedSalt = 0x3c4e_11a7;
/** And so is the lost-disk-answer schedule: a seed it is off in runs exactly as before it existed. */
const lostDiskAnswerSeedSalt = 0x1d15_a5c3;
/** Per-seed odds that the lost-disk-answer schedule is on (it needs a disk it may replace, and 3 nodes to matter). */
const lostDiskAnswerOnProbability = 0.3;

/** The profile a seed runs with, drawn from its own stream (so `--profile` can replace it without shifting the run). */
export function drawSwarmProfile(seed: number): SwarmProfile {
  const random = createRandom((seed ^ profileSeedSalt) >>> 0);
  const on = (): boolean => random() < faultKindOnProbability;
  const kindWeight = (): number => (on() ? randomInt(random, 1, 11) : 0);
  const latencyMsMin = randomInt(random, 0, 4);
  const faultIntervalMsMin = randomInt(random, 20, 200);
  const syncDelayMsMin = randomInt(random, 0, 3);
  const electionTimeoutTicks = randomInt(random, 6, 21);
  const partitionMsMin = randomInt(random, 10, 301);
  const disk = diskFields(drawDiskFaults(createRandom((seed ^ diskSeedSalt) >>> 0)));
  const profile: SwarmProfile = {
    latencyMsMin,
    latencyMsMax: latencyMsMin + randomInt(random, 1, 16),
    lossProbabilityMax: on() ? round(random() * 0.3) : 0,
    duplicateProbabilityMax: on() ? round(random() * 0.2) : 0,
    reorderProbabilityMax: on() ? round(random() * 0.4) : 0,
    reorderDelayMsMax: randomInt(random, 5, 101),
    faultIntervalMsMin,
    faultIntervalMsMax: faultIntervalMsMin + randomInt(random, 50, 601),
    partitionWeight: kindWeight(),
    isolateWeight: kindWeight(),
    oneWayCutWeight: kindWeight(),
    bridgeWeight: kindWeight(),
    // Heals stay on: a seed whose first partition lasts the whole run would test little else.
    healWeight: randomInt(random, 2, 11),
    partitionMsMin,
    partitionMsMax: on() ? partitionMsMin + randomInt(random, 0, 3_001) : 0,
    crashWeight: kindWeight(),
    restartWeight: randomInt(random, 2, 11),
    wipeWeight: on() ? randomInt(random, 1, 4) : 0,
    linkFaultsWeight: kindWeight(),
    timedFaultWeight: kindWeight(),
    clockFaultWeight: kindWeight(),
    staleLeaderWeight: kindWeight(),
    lostDiskAnswerWeight: drawLostDiskAnswerWeight(createRandom((seed ^ lostDiskAnswerSeedSalt) >>> 0)),
    leaderCrashFraction: round(random()),
    inflightSurvivesCrashProbability: round(random()),
    clockSkewMax: on() ? round(random() * 0.3) : 0,
    clockPauseMsMax: randomInt(random, 50, 3_001),
    clockRateMin: round(0.25 + random() * 0.75),
    clockRateMax: round(1 + random() * 3),
    syncDelayMsMin,
    syncDelayMsMax: syncDelayMsMin + randomInt(random, 0, 21),
    ...disk,
    // Small batches split a new leader's no-op from the old entries before it, which is what
    // lets Figure 8 (§5.4.2) happen at all; large ones exercise pipelining.
    entriesPerProposalMax: pickOne(random, [1, 2, 4, 8, 64, 1024]),
    inflightProposalsMax: pickOne(random, [1, 4, 64]),
    electionTimeoutTicks,
    heartbeatTicks: randomInt(random, 1, Math.min(4, Math.floor(electionTimeoutTicks / 3)) + 1),
    snapshotEntriesThreshold: pickOne(random, [20, 150, 1_000]),
    ...drawChurn(createRandom((seed ^ churnSeedSalt) >>> 0)),
  };
  return profile;
}

function drawLostDiskAnswerWeight(random: RandomSource): number {
  return random() < lostDiskAnswerOnProbability ? randomInt(random, 2, 11) : 0;
}

function drawChurn(random: RandomSource): ChurnFields {
  const kindWeight = (): number => (random() < faultKindOnProbability ? randomInt(random, 1, 11) : 0);
  const churnIntervalMsMin = randomInt(random, 50, 400);
  return {
    memberAddWeight: kindWeight(),
    memberPromoteWeight: kindWeight(),
    memberRemoveWeight: kindWeight(),
    leaderRemoveWeight: kindWeight(),
    memberReplaceWeight: kindWeight(),
    churnIntervalMsMin,
    churnIntervalMsMax: churnIntervalMsMin + randomInt(random, 50, 800),
    autoPromote: random() < 0.75 ? 1 : 0,
  };
}

/** The profile every fault-free run and unit test uses: no faults, the cluster's usual limits. */
export function quietProfile(): SwarmProfile {
  return {
    latencyMsMin: 1,
    latencyMsMax: 5,
    lossProbabilityMax: 0,
    duplicateProbabilityMax: 0,
    reorderProbabilityMax: 0,
    reorderDelayMsMax: 50,
    faultIntervalMsMin: 100,
    faultIntervalMsMax: 600,
    partitionWeight: 0,
    isolateWeight: 0,
    oneWayCutWeight: 0,
    bridgeWeight: 0,
    healWeight: 1,
    partitionMsMin: 0,
    partitionMsMax: 0,
    crashWeight: 0,
    restartWeight: 1,
    wipeWeight: 0,
    linkFaultsWeight: 0,
    timedFaultWeight: 0,
    clockFaultWeight: 0,
    staleLeaderWeight: 0,
    lostDiskAnswerWeight: 0,
    leaderCrashFraction: 0,
    inflightSurvivesCrashProbability: 0,
    clockSkewMax: 0,
    clockPauseMsMax: 50,
    clockRateMin: 1,
    clockRateMax: 1,
    syncDelayMsMin: 1,
    syncDelayMsMax: 10,
    ...diskFields(perfectDiskFaults),
    entriesPerProposalMax: 64,
    inflightProposalsMax: 64,
    electionTimeoutTicks: 10,
    heartbeatTicks: 1,
    snapshotEntriesThreshold: 150,
    ...quietChurn,
  };
}

/** `key=value,...` in the field order above: what a failing seed prints. */
export function formatSwarmProfile(profile: SwarmProfile): string {
  return Object.entries(profile)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(",");
}

/** Parses `formatSwarmProfile`'s output; returns the reason when the text is not a whole, valid profile. */
export function parseSwarmProfile(text: string): { ok: true; profile: SwarmProfile } | { ok: false; reason: string } {
  const fields: Record<string, number> = {};
  for (const pair of text.split(",")) {
    const separator = pair.indexOf("=");
    if (separator <= 0) return { ok: false, reason: `expected key=value, got "${pair}"` };
    const value = Number(pair.slice(separator + 1));
    if (!Number.isFinite(value)) return { ok: false, reason: `${pair.slice(0, separator)}: not a number` };
    fields[pair.slice(0, separator)] = value;
  }
  const parsed = SwarmProfileSchema.safeParse(fields);
  if (!parsed.success) return { ok: false, reason: parsed.error.issues.map((issue) => `${issue.path.join(".") || "profile"}: ${issue.message}`).join("; ") };
  return { ok: true, profile: parsed.data };
}

/** Draws one of `choices` with probability proportional to its weight; null when every weight is 0. */
export function pickWeighted<T>(random: RandomSource, choices: ReadonlyArray<readonly [T, number]>): T | null {
  let total = 0;
  for (const [, weightOf] of choices) total += weightOf;
  if (total <= 0) return null;
  let point = random() * total;
  let last: T | null = null;
  for (const [choice, weightOf] of choices) {
    if (weightOf <= 0) continue;
    if (point < weightOf) return choice;
    point -= weightOf;
    last = choice;
  }
  // Rounding can leave the point a hair past the end: it belongs to the last weighted choice.
  return last;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

type DiskFields = Pick<SwarmProfile, "diskCrashWriteKeptProbability" | "diskCrashWriteTornProbability" | "diskCrashSizeWithoutDataProbability" | "diskCrashStaleSectorProbability" | "diskCrashDirectoryChangeKeptProbability" | "diskCrashBitFlipProbability" | "diskReadErrorProbability" | "diskWriteErrorProbability" | "diskNoSpaceProbability" | "diskFsyncErrorProbability" | "diskPowerCutDuringWriteProbability">;

function diskFields(faults: DiskFaults): DiskFields {
  return {
    diskCrashWriteKeptProbability: faults.crashWriteKeptProbability,
    diskCrashWriteTornProbability: faults.crashWriteTornProbability,
    diskCrashSizeWithoutDataProbability: faults.crashSizeWithoutDataProbability,
    diskCrashStaleSectorProbability: faults.crashStaleSectorProbability,
    diskCrashDirectoryChangeKeptProbability: faults.crashDirectoryChangeKeptProbability,
    diskCrashBitFlipProbability: faults.crashBitFlipProbability,
    diskReadErrorProbability: faults.readErrorProbability,
    diskWriteErrorProbability: faults.writeErrorProbability,
    diskNoSpaceProbability: faults.noSpaceProbability,
    diskFsyncErrorProbability: faults.fsyncErrorProbability,
    diskPowerCutDuringWriteProbability: faults.powerCutDuringWriteProbability,
  };
}

/** The simulated disk's faults of a profile; its syncs take the profile's sync delays. */
export function diskFaultsOf(profile: SwarmProfile): DiskFaults {
  return {
    fsyncDelayMsMin: profile.syncDelayMsMin,
    fsyncDelayMsMax: profile.syncDelayMsMax,
    crashWriteKeptProbability: profile.diskCrashWriteKeptProbability,
    crashWriteTornProbability: profile.diskCrashWriteTornProbability,
    crashSizeWithoutDataProbability: profile.diskCrashSizeWithoutDataProbability,
    crashStaleSectorProbability: profile.diskCrashStaleSectorProbability,
    crashDirectoryChangeKeptProbability: profile.diskCrashDirectoryChangeKeptProbability,
    crashBitFlipProbability: profile.diskCrashBitFlipProbability,
    readErrorProbability: profile.diskReadErrorProbability,
    writeErrorProbability: profile.diskWriteErrorProbability,
    noSpaceProbability: profile.diskNoSpaceProbability,
    fsyncErrorProbability: profile.diskFsyncErrorProbability,
    powerCutDuringWriteProbability: profile.diskPowerCutDuringWriteProbability,
  };
}
