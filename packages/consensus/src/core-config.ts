import { entriesPerMessageMax, snapshotChunkCharactersMax, type Member, type NodeId } from "@lockstep/protocol";
import type { Logger, RandomSource, Snapshot } from "./interfaces.js";

/** How one RaftCore behaves. Every count is a bound with its unit last. */
export interface CoreConfig {
  id: NodeId;
  cluster: string;
  /**
   * The bootstrap configuration: used only while neither the persisted snapshot nor a committed
   * `members` entry names one (a new cluster's first leader writes it into the log at index 1).
   * A bare id is a voter whose addresses are unknown. Empty for a node that joins a running
   * cluster: it learns its configuration from the leader and never campaigns until it is a voter.
   */
  members: ReadonlyArray<NodeId | Member>;
  /** A follower starts an election after a random timeout in [e, 2e) ticks without a leader. */
  electionTimeoutTicks: number;
  /** The leader sends a heartbeat every this many ticks. */
  heartbeatTicks: number;
  random: RandomSource;
  /**
   * This process's incarnation, in [1, 2^32): drawn at every start, so that a restarted process
   * (a replaced disk above all) answers with another. Sent on Acknowledgments and Rejects; a
   * leader that sees it change forgets the member's match (`Acknowledgment.incarnation`).
   * Omitted: answers carry none, and the leader learns of a restart only from their content.
   */
  incarnation?: number;
  /** Ask "would you vote for me?" before bumping the term (Raft thesis §9.6). */
  preVote: boolean;
  /** A leader steps down when it has not heard from a majority within an election timeout (thesis §6.2). */
  checkQuorum: boolean;
  /** Batching bounds of one Proposal message. */
  entriesPerProposalMax: number;
  bytesPerProposalMax: number;
  /** Pipelining: unacknowledged Proposals per follower in replicate state. */
  inflightProposalsMax: number;
  /** `propose` answers `overloaded` when this many entries are appended but not committed. */
  uncommittedEntriesMax: number;
  /** `read` answers `overloaded` when this many reads wait. */
  pendingReadsMax: number;
  /** Raw snapshot bytes per SnapshotChunk (the chunk carries their base64). */
  snapshotChunkBytesMax: number;
  /** A follower refuses a snapshot larger than this; defaults to `defaultSnapshotBytesMax`. */
  snapshotBytesMax?: number;
  /**
   * A read forwarded to the leader that has no answer after this many ticks is failed with
   * `timeout` and forgotten (the request or its answer was lost).
   */
  forwardedReadTimeoutTicks: number;
  /**
   * Checks a snapshot received from the leader (decodes it, verifies its checksum) before the core
   * hands it out to be kept or acknowledges it. Without it every assembled snapshot is accepted.
   * Must be pure and must not throw.
   */
  verifySnapshot?: (snapshot: Snapshot) => { ok: true } | { ok: false; reason: string };
  /** The leader promotes a learner that stays caught up (below) by itself. */
  autoPromote: boolean;
  /** A learner within this many entries of the leader's last index counts as caught up. */
  promoteLagEntriesMax: number;
  /** ...and is promoted once it has stayed caught up for this many ticks in a row. */
  promoteStableTicks: number;
  /** When set, the leader removes a voter it has not heard from for this many ticks (dead-server cleanup). */
  deadMemberRemoveAfterTicks?: number;
  /** Dead-server cleanup never takes the number of voters below this. */
  votersMin: number;
  logger?: Logger;
  /**
   * Breaks one Raft rule on purpose, so that tests can show the simulator's checkers catch it.
   * Test-only: nothing outside tests and `pnpm sim --break-rule` sets it, and a node logs an
   * error at start when it is set.
   */
  unsafeBreakRule?: UnsafeBrokenRule;
}

/**
 * The rules `unsafeBreakRule` can break: the election restriction (§5.4.1), Figure 8's commit rule
 * (§5.4.2), (in the driver) "persist before you answer" (Figure 2), and (in storage, which the
 * simulator configures from it; the core ignores it) "write the hard state after the entries it
 * covers and never trust a commit index you cannot prove" (`hard_state_before_entries`), and the
 * rules of single-server membership changes (thesis §4.1): one change uncommitted at a time
 * (`membership_changes_concurrent`), none before the leader has committed an entry of its own
 * term (`membership_change_before_term_commit`, the bug Ongaro published in 2015), and only voters
 * count toward a commit (`learner_counts_toward_commit`, thesis §4.2.1), and a leader counts no
 * answer a member gave before it said its disk may have lost entries (`trust_answers_of_lost_disks`:
 * the per-follower epochs of `Progress.epoch` ignored, and no forget on the news of a loss or of a
 * new incarnation).
 */
export type UnsafeBrokenRule =
  | "vote_without_log_check"
  | "commit_old_term_by_count"
  | "ack_before_persist"
  | "hard_state_before_entries"
  | "membership_changes_concurrent"
  | "membership_change_before_term_commit"
  | "learner_counts_toward_commit"
  | "trust_answers_of_lost_disks";

export const defaultCoreConfig: Omit<CoreConfig, "id" | "cluster" | "members" | "random"> = Object.freeze({
  electionTimeoutTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  entriesPerProposalMax: 1024,
  bytesPerProposalMax: 1024 * 1024,
  inflightProposalsMax: 64,
  uncommittedEntriesMax: 20_000,
  pendingReadsMax: 20_000,
  snapshotChunkBytesMax: 512 * 1024,
  forwardedReadTimeoutTicks: 100,
  autoPromote: true,
  promoteLagEntriesMax: 64,
  promoteStableTicks: 20,
  votersMin: 3,
});

/** The largest snapshot a follower assembles unless `snapshotBytesMax` says otherwise. */
export const defaultSnapshotBytesMax = 1024 * 1024 * 1024;

/** Throws on a configuration that cannot work (a programmer error: the caller validates user input). */
export function assertCoreConfig(config: CoreConfig): void {
  const problems: string[] = [];
  const ids = config.members.map((member) => (typeof member === "string" ? member : member.id));
  if (new Set(ids).size !== ids.length) problems.push("members must be unique");
  const positive: Array<[string, number]> = [
    ["electionTimeoutTicks", config.electionTimeoutTicks],
    ["heartbeatTicks", config.heartbeatTicks],
    ["entriesPerProposalMax", config.entriesPerProposalMax],
    ["bytesPerProposalMax", config.bytesPerProposalMax],
    ["inflightProposalsMax", config.inflightProposalsMax],
    ["uncommittedEntriesMax", config.uncommittedEntriesMax],
    ["pendingReadsMax", config.pendingReadsMax],
    ["snapshotChunkBytesMax", config.snapshotChunkBytesMax],
    ["forwardedReadTimeoutTicks", config.forwardedReadTimeoutTicks],
    ["promoteStableTicks", config.promoteStableTicks],
    ["votersMin", config.votersMin],
    ["deadMemberRemoveAfterTicks", config.deadMemberRemoveAfterTicks ?? 1],
    ["snapshotBytesMax", config.snapshotBytesMax ?? defaultSnapshotBytesMax],
  ];
  for (const [name, value] of positive) {
    if (!Number.isInteger(value) || value < 1) problems.push(`${name} must be a positive integer, got ${value}`);
  }
  if (!Number.isInteger(config.promoteLagEntriesMax) || config.promoteLagEntriesMax < 0) problems.push(`promoteLagEntriesMax must be a non-negative integer, got ${config.promoteLagEntriesMax}`);
  if (config.heartbeatTicks >= config.electionTimeoutTicks) problems.push("heartbeatTicks must be below electionTimeoutTicks");
  if (config.entriesPerProposalMax > entriesPerMessageMax) problems.push(`entriesPerProposalMax must be <= ${entriesPerMessageMax}`);
  if (Math.ceil(config.snapshotChunkBytesMax / 3) * 4 > snapshotChunkCharactersMax) {
    problems.push(`snapshotChunkBytesMax must encode to <= ${snapshotChunkCharactersMax} base64 characters`);
  }
  if (problems.length > 0) throw new Error(`invalid consensus config: ${problems.join("; ")}`);
}
