import { defaultCoreConfig, type UnsafeBrokenRule } from "../core-config.js";

/**
 * The driver's knobs (DESIGN.md §6). Every default works on loopback; each name carries its unit.
 */
export interface DriverConfig {
  /** Wall-clock length of one core tick. Election and heartbeat timeouts are counted in ticks. */
  tickMs: number;
  /** Base election timeout; each election draws from [electionTimeoutTicks, 2 * electionTimeoutTicks). */
  electionTimeoutTicks: number;
  /** The leader sends a heartbeat every this many ticks. */
  heartbeatTicks: number;
  /** How long a client request may wait for its commit before it fails with `timeout` (outcome unknown). */
  consensusTimeoutMs: number;
  /** Client requests waiting for an answer on this node; beyond this, new ones fail with `overloaded`. */
  pendingRequestsMax: number;
  /** Linearizable reads waiting on this node; beyond this, new ones fail with `overloaded`. */
  pendingReadsMax: number;
  /** Take a state-machine snapshot and compact the log every this many applied entries. */
  snapshotEntriesThreshold: number;
  /**
   * The log kept in memory since the last snapshot has a byte limit: once the entries applied
   * since then pass this many bytes (their encoded size, as `estimateEntryBytes` counts it), the
   * node snapshots and compacts at once instead of waiting for `snapshotEntriesThreshold`.
   * Entries not yet applied are bounded apart from this, by `uncommittedEntriesMax`.
   */
  logBytesInMemoryMax: number;
  /** Entries and bytes one Proposal message may carry. */
  entriesPerProposalMax: number;
  bytesPerProposalMax: number;
  /** Proposals in flight per follower before the leader waits for acknowledgments. */
  inflightProposalsMax: number;
  /** Entries appended but not yet committed; beyond this, proposals fail with `overloaded`. */
  uncommittedEntriesMax: number;
  /** Raw snapshot bytes per SnapshotChunk message. */
  snapshotChunkBytesMax: number;
  preVote: boolean;
  checkQuorum: boolean;
  /** The leader promotes a learner by itself once it has caught up (below). On by default. */
  autoPromote: boolean;
  /** A learner within this many entries of the leader's log counts as caught up. */
  promoteLagEntriesMax: number;
  /** ...and is promoted once it has stayed caught up this long. */
  promoteStableMs: number;
  /** Dead-server cleanup (off unless set): the leader removes a voter it has not heard from for this long. */
  deadMemberRemoveAfterMs?: number;
  /** Dead-server cleanup never takes the number of voters below this. */
  votersMin: number;
  /** Test-only: break one Raft rule on purpose (see CoreConfig.unsafeBreakRule). */
  unsafeBreakRule?: UnsafeBrokenRule;
}

/**
 * The knobs the driver passes on to the core take the core's defaults, so the two can never
 * disagree; only the driver's own knobs are set here.
 */
export const defaultDriverConfig: DriverConfig = Object.freeze({
  electionTimeoutTicks: defaultCoreConfig.electionTimeoutTicks,
  heartbeatTicks: defaultCoreConfig.heartbeatTicks,
  pendingReadsMax: defaultCoreConfig.pendingReadsMax,
  entriesPerProposalMax: defaultCoreConfig.entriesPerProposalMax,
  bytesPerProposalMax: defaultCoreConfig.bytesPerProposalMax,
  inflightProposalsMax: defaultCoreConfig.inflightProposalsMax,
  uncommittedEntriesMax: defaultCoreConfig.uncommittedEntriesMax,
  snapshotChunkBytesMax: defaultCoreConfig.snapshotChunkBytesMax,
  preVote: defaultCoreConfig.preVote,
  checkQuorum: defaultCoreConfig.checkQuorum,
  autoPromote: defaultCoreConfig.autoPromote,
  promoteLagEntriesMax: defaultCoreConfig.promoteLagEntriesMax,
  votersMin: defaultCoreConfig.votersMin,
  promoteStableMs: 1_000,
  tickMs: 50,
  consensusTimeoutMs: 5_000,
  pendingRequestsMax: 20_000,
  snapshotEntriesThreshold: 100_000,
  logBytesInMemoryMax: 64 * 1024 * 1024,
});
