import type {
  HistoryProbe,
  HistoryReport,
  Acknowledgment,
  Command,
  CommitHint,
  Commit,
  ConsensusEnvelope,
  ConsensusMessage,
  Entry,
  Envelope,
  Forward,
  Member,
  NodeId,
  Proposal,
  ReadIndexRequest,
  ReadIndexResponse,
  Reject,
  SnapshotAck,
  SnapshotChunk,
  TimeoutNow,
  Vote,
  VoteRequest,
} from "@lockstep/protocol";
import { entriesPerMessageMax } from "@lockstep/protocol";
import { encodeBase64 } from "./base64.js";
import { HistoryCheck } from "./history-check.js";
import { assertCoreConfig, defaultSnapshotBytesMax, type CoreConfig } from "./core-config.js";
import { silentLogger, type HardState, type Logger, type PersistedState, type Snapshot } from "./interfaces.js";
import { Configuration, type ConfigurationChange, type MembershipChangeRefusal } from "./configuration.js";
import { checkEnvelope, DropCounter, termMax, type DropReason } from "./message-validation.js";
import { Outbox } from "./outbox.js";
import { Progress, type ProgressState } from "./progress.js";
import { hasQuorum, majorityIndex, voteResult } from "./quorum.js";
import type { VoteAnswer } from "./quorum.js";
import { RaftLog } from "./raft-log.js";
import { ReadIndexTracker, type PendingRead } from "./read-index.js";
import type { ProposeResult, Ready, ReadFailure, ReadRequestResult, ReadState, Role, SoftState } from "./ready.js";
import { SnapshotAssembler } from "./snapshot-assembler.js";

/**
 * A leader whose removal is committed waits at most this many election timeouts for most of the
 * remaining voters to show they know, then hands over and steps down anyway (check-quorum, when
 * on, steps it down sooner if it loses them).
 */
const leavingElectionTimeoutsMax = 4;

export interface ProgressStatus {
  id: NodeId;
  voter: boolean;
  matchIndex: number;
  nextIndex: number;
  state: ProgressState;
  /** The member's last answer said it is recovering from a possible storage loss (`demoteRecoveringVoter`). */
  recovering: boolean;
}

export interface CoreStatus {
  id: NodeId;
  role: Role;
  term: number;
  leader: NodeId | null;
  commitIndex: number;
  appliedIndex: number;
  lastIndex: number;
  firstIndex: number;
  /** The configuration in effect here (the last one this node knows committed). */
  members: Member[];
  /** Storage reported a possible loss at start: until a leader has brought the log up to date, its vote counts only where every voter grants. */
  recovering: boolean;
  /** The leader's view of every member (itself included); empty on other roles. */
  progress: ProgressStatus[];
}

/** The part of `CoreStatus` that costs no copy: for callers that look after every event (the simulator). */
export type CoreSummary = Pick<CoreStatus, "role" | "term" | "leader" | "commitIndex">;

type CampaignKind = "preVote" | "election" | "transfer";

/** The answer of `proposeMembershipChange`. */
export type MembershipProposal =
  | { ok: true; index: number; members: Member[] }
  | { ok: false; reason: MembershipChangeRefusal; leader?: NodeId };

/** Why a message was not acted upon; `null` means it was. Logged at debug. */
type IgnoreReason = string | null;

/**
 * The pure Raft core: a deterministic state machine fed `step`, `tick`, `propose`, `read`,
 * whose every effect leaves through `ready()` (see ready.ts for the ordering rules). It follows
 * etcd-io/raft's structure: term rules first in `step`, then a flat switch per role.
 */
export class RaftCore {
  private readonly config: CoreConfig;
  private readonly logger: Logger;
  private readonly id: NodeId;
  /**
   * The configuration in effect: the one of the last `members` entry this node knows committed
   * (or of its snapshot, or the bootstrap list while the log holds none). Single-server changes
   * take effect at commit (README: "Membership").
   */
  private configuration: Configuration;
  /** Every member but this node (voters and learners): whom a leader replicates to. */
  private peers: NodeId[] = [];
  /** Voters but this node: whom a candidate asks for votes. */
  private voterPeers: NodeId[] = [];
  /** Committed entries up to here were looked at for configuration changes. */
  private configurationScannedIndex: number;
  /**
   * The index of the entry or snapshot that holds `configuration` (0: the bootstrap list), as a
   * HistoryReport tells it: committed configurations form one history, ordered by this index.
   */
  private configurationIndex: number;
  /** Leader: the index of its last configuration entry (its whole log at election); no new change until it commits. */
  private pendingConfigurationIndex = 0;
  /**
   * Leader: the configuration entries its log held above its commit index when it was elected,
   * with their voters; dropped as the commit index passes them (`maybeCommit`).
   */
  private inheritedConfigurations: { index: number; voters: readonly NodeId[] }[] = [];
  /**
   * Leader: the configuration change it committed last, until a majority of its voters has shown
   * it knows the commit (`onAnnouncementAcknowledgment`); then `knownConfigurationIndex`.
   */
  private announcing: { index: number; firstRound: number; sinceTick: number; informed: Set<NodeId> } | null = null;
  private knownConfigurationIndex = 0;
  /**
   * The index of this node's own removal (or demotion) once a majority of the remaining voters
   * had shown it knows the commit before this node stepped down; kept across the step-down, for
   * the driver's answer (`leaveKnownIndex`).
   */
  private leaveKnownIndex = 0;
  /**
   * Leader: the index of this term's first entry (its no-op). A follower that holds it has been
   * brought up to date by this leader, so it is not recovering from a lost disk (it would grant
   * no vote until a leader caught it up).
   */
  private termFirstIndex = 0;
  /** Leader: the tick each member was last heard from (for `would_lose_quorum` and dead-member removal). */
  private readonly lastHeardTick = new Map<NodeId, number>();
  /** Leader: for each learner, how many ticks in a row it has been within `promoteLagEntriesMax`. */
  private readonly learnerCaughtUpTicks = new Map<NodeId, number>();
  /** Leader: the tick it was elected (a member never heard from counts as silent since then). */
  private leaderSinceTick = 0;
  /**
   * Leader whose own removal (or demotion) is committed: it leads on, taking no new entries, until
   * a majority of the voters of the new configuration has shown it knows the removal is committed
   * (`onLeavingAcknowledgment`), then hands over and steps down (`stepDownRemoved`). A configuration
   * takes effect once committed, so a voter that holds the removal without knowing it committed
   * still counts this leader among the voters and cannot elect without it; once this node's
   * machine is gone, such voters alone could never elect again.
   */
  private leaving: { removalIndex: number; firstRound: number; sinceTick: number; informed: Set<NodeId> } | null = null;

  private term: number;
  private votedFor: NodeId | null;
  private role: Role = "follower";
  private leader: NodeId | null = null;
  private readonly log: RaftLog;
  private appliedIndex: number;
  /**
   * Set when storage may have lost acknowledged entries or a vote (`PersistedState.possibleLoss`):
   * a plain vote or a plain win with such a log could elect a leader without a committed entry, so
   * until a leader has brought it up to date (`finishRecovery`) this node's vote, its own included,
   * counts only in an election that every voter grants (`voteResult`).
   */
  private recovering: boolean;
  /**
   * Set while this voter holds no log and no snapshot and is recovering (a first start, or a disk
   * that was wiped): it asks the other voters whether the cluster has a history (`HistoryCheck`).
   */
  private historyCheck: HistoryCheck | null = null;
  /** As a follower: the epoch of this node's progress that the leader of `leaderEpochTerm` last sent (`Proposal.epoch`). */
  private leaderEpoch = 0;
  private leaderEpochTerm = 0;
  /** As the leader: the last progress epoch issued in this term, to any member (`Progress.epoch`). */
  private epochsIssued = 0;
  /** The largest commit index the other voters reported after this disk was lost: a leader's commit index must reach it to end the recovery. */
  private recoveryCommitIndexMin = 0;
  private ticksSinceHistoryProbe = 0;

  private electionElapsedTicks = 0;
  private heartbeatElapsedTicks = 0;
  private randomizedElectionTimeoutTicks: number;

  private readonly progress = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, VoteAnswer>();
  private leadTransferee: NodeId | null = null;
  private transferElapsedTicks = 0;

  private readonly reads = new ReadIndexTracker();
  /**
   * Reads this follower forwarded to `leader` in `term`, by context, in the order they were sent
   * (`sentTick`): a read without an answer after `forwardedReadTimeoutTicks` is failed and
   * forgotten, so that lost answers never fill the table.
   */
  private readonly forwardedReads = new Map<number, { term: number; leader: NodeId; sentTick: number }>();
  /** Ticks since this core started: the clock of `forwardedReads`. */
  private ticksElapsed = 0;
  private readonly drops = new DropCounter();

  /** The latest snapshot this node holds, kept to send to followers that fell behind a compaction. */
  private retainedSnapshot: Snapshot | null;
  private readonly assembler: SnapshotAssembler;
  /** A snapshot installed from the leader, to be handed to the driver in the next Ready. */
  private pendingSnapshot: Snapshot | null = null;

  private readonly outbox: Outbox;
  private readStates: ReadState[] = [];
  private readFailures: ReadFailure[] = [];
  private lastSoftState: SoftState;
  private lastHardState: HardState;
  private outstandingReady: Ready | null = null;

  private readonly matchScratch: number[] = [];
  private readonly sortScratch: number[] = [];
  /** For assertInvariants: what was true at the last check, to catch regressions. */
  private checked = { term: 0, votedFor: null as NodeId | null, commitIndex: 0 };

  constructor(config: CoreConfig, persisted: PersistedState) {
    assertCoreConfig(config);
    this.config = config;
    this.id = config.id;
    this.logger = (config.logger ?? silentLogger).child({ nodeId: config.id });
    if (config.unsafeBreakRule !== undefined) this.logger.error({ rule: config.unsafeBreakRule }, "UNSAFE: a Raft rule is broken on purpose (test-only setting)");
    this.term = persisted.hardState.term;
    this.votedFor = persisted.hardState.votedFor;
    this.recovering = persisted.possibleLoss === true || persisted.hardState.recovering === true;
    // A bound learned before a crash in the middle of a recovery (see `HardState.recoveryCommitIndexMin`).
    if (persisted.hardState.recovering === true) this.recoveryCommitIndexMin = persisted.hardState.recoveryCommitIndexMin ?? 0;
    if (this.recovering) this.logger.warn({ term: this.term }, "storage may have lost acknowledged data: until a leader brings this log up to date, this node's vote counts only in an election that every voter grants");
    const snapshotMeta = persisted.snapshot?.meta;
    this.log = new RaftLog(snapshotMeta?.index ?? 0, snapshotMeta?.term ?? 0, persisted.entries, persisted.hardState.commitIndex);
    // The driver restores the state machine from the persisted snapshot before the first Ready.
    this.appliedIndex = this.log.snapshotIndex;
    this.retainedSnapshot = persisted.snapshot;
    this.assembler = new SnapshotAssembler(config.snapshotBytesMax ?? defaultSnapshotBytesMax);
    this.outbox = new Outbox(config.cluster, config.id);
    // The bootstrap list counts only while neither a snapshot nor a committed entry says otherwise.
    this.configuration = persisted.snapshot === null ? Configuration.fromBootstrap(config.members) : new Configuration(persisted.snapshot.meta.members);
    this.configurationScannedIndex = this.log.snapshotIndex;
    this.configurationIndex = persisted.snapshot === null ? 0 : this.log.snapshotIndex;
    this.setConfiguration(this.configuration);
    this.startHistoryCheck(persisted);
    this.noteCommitted();
    this.randomizedElectionTimeoutTicks = this.randomElectionTimeout();
    this.lastSoftState = this.softState();
    // What is on disk: a recovery that began at this start is written with the first Ready.
    this.lastHardState = persisted.hardState.recovering === true ? this.hardState() : { term: this.term, votedFor: this.votedFor, commitIndex: this.log.commitIndex };
    if (this.log.lastTerm() > this.term) {
      // A power cut kept entries of a later term but not the hard state written with them (both
      // were in one write that was never synced, so nothing was acknowledged or voted on their
      // strength). Entries of term T come only from a leader of T, so this node had adopted T: it
      // resumes in T with no vote, and writes that with its next Ready.
      this.logger.warn({ term: this.term, lastTerm: this.log.lastTerm() }, "log holds a later term than the hard state: resuming in that term");
      this.term = this.log.lastTerm();
      this.votedFor = null;
    }
    this.checked = { term: this.term, votedFor: this.votedFor, commitIndex: this.log.commitIndex };
  }

  // ---------------------------------------------------------------------------------------------
  // Inputs

  tick(): void {
    this.ticksElapsed++;
    this.expireForwardedReads();
    if (this.role === "leader") this.tickLeader();
    else this.tickElection();
    this.noteCommitted();
  }

  step(envelope: ConsensusEnvelope): void {
    const refused = checkEnvelope(envelope, { cluster: this.config.cluster, self: this.id, isMember: (id) => this.configuration.isMember(id), commitIndex: this.log.commitIndex });
    if (refused !== null) {
      this.drop(envelope.from, envelope.body, refused);
      // What committed is sound to learn from any member's election message, even one this node's
      // configuration does not count (yet): a node whose configuration is behind drops the
      // VoteRequests of voters added since, and learns of their addition only this way (seed
      // 7004599: n3 restarted counting {n1, n2, n3}; n2 had been removed and n4 promoted).
      if (refused === "not_a_member") {
        this.learnCommit(envelope.body);
        this.noteCommitted();
      }
      return;
    }
    this.learnCommit(envelope.body);
    this.stepRole(envelope.from, envelope.body);
    this.noteCommitted();
  }

  private stepRole(from: NodeId, message: ConsensusMessage): void {
    // Neither history message speaks for a leader or a candidate: no term rule applies to them.
    if (message.type === "HistoryProbe") {
      const report: HistoryReport = {
        type: "HistoryReport",
        term: this.term,
        lastIndex: this.log.lastIndex(),
        snapshotIndex: this.log.snapshotIndex,
        commitIndex: this.log.commitIndex,
        configuration: { index: this.configurationIndex, voters: [...this.configuration.voters] },
      };
      if (message.incarnation !== undefined) report.probeIncarnation = message.incarnation;
      this.outbox.send(from, report);
      return;
    }
    if (message.type === "HistoryReport") {
      this.onHistoryReport(from, message);
      return;
    }
    if (!this.stepTerm(from, message)) return;
    switch (this.role) {
      case "leader":
        this.lastHeardTick.set(from, this.ticksElapsed);
        this.stepLeader(from, message);
        return;
      case "candidate":
      case "precandidate":
        this.stepCandidate(from, message);
        return;
      case "follower":
        this.stepFollower(from, message);
        return;
    }
  }

  propose(commands: Command[]): ProposeResult {
    if (commands.length === 0) throw new Error("propose: no commands");
    if (this.role === "leader") {
      if (this.leadTransferee !== null || this.leaving !== null) return { ok: false, reason: "transfer_in_progress" };
      if (this.isOverloaded(commands.length)) return { ok: false, reason: "overloaded" };
      const last = this.appendCommands(commands);
      this.noteCommitted();
      return { ok: true, forwarded: false, index: last.index, term: last.term };
    }
    if (this.leader === null) return { ok: false, reason: "no_leader" };
    for (let start = 0; start < commands.length; start += entriesPerMessageMax) {
      const forward: Forward = { type: "Forward", term: this.term, commands: commands.slice(start, start + entriesPerMessageMax) };
      this.outbox.send(this.leader, forward);
    }
    return { ok: true, forwarded: true, leader: this.leader };
  }

  read(context: number): ReadRequestResult {
    if (this.role === "leader") {
      if (this.reads.count >= this.config.pendingReadsMax) return { ok: false, reason: "overloaded" };
      this.startReads([{ context, origin: this.id }]);
      return { ok: true };
    }
    if (this.leader === null) return { ok: false, reason: "no_leader" };
    if (this.forwardedReads.size >= this.config.pendingReadsMax && !this.forwardedReads.has(context)) return { ok: false, reason: "overloaded" };
    // Deleted first so that a retried read moves to the end of the send order.
    this.forwardedReads.delete(context);
    this.forwardedReads.set(context, { term: this.term, leader: this.leader, sentTick: this.ticksElapsed });
    const request: ReadIndexRequest = { type: "ReadIndexRequest", term: this.term, context };
    this.outbox.send(this.leader, request);
    return { ok: true };
  }

  transferLeadership(to: NodeId): boolean {
    if (this.role !== "leader" || this.leaving !== null || to === this.id || !this.configuration.isVoter(to)) return false;
    if (this.leadTransferee === to) return true;
    this.leadTransferee = to;
    this.transferElapsedTicks = 0;
    const progress = this.progressOf(to);
    if (progress.matchIndex === this.log.lastIndex()) {
      this.sendTimeoutNow(to);
      return true;
    }
    // Catch the target up now rather than after a stall: resend from its known match point.
    if (progress.state === "replicate") progress.becomeProbe();
    this.sendProposals(to);
    return true;
  }

  compact(snapshot: Snapshot): void {
    const { index, term } = snapshot.meta;
    // The driver may snapshot while handling a Ready, after applying its committed entries and
    // before `advance`: those entries are durable and applied, so they count as applied here.
    const outstanding = this.outstandingReady;
    const appliedMax = Math.max(
      this.appliedIndex,
      outstanding?.committedEntries.at(-1)?.index ?? 0,
      outstanding?.snapshot?.meta.index ?? 0,
    );
    if (index > appliedMax) throw new Error(`compact: snapshot index ${index} beyond applied ${appliedMax}`);
    if (index <= this.log.snapshotIndex) return;
    const termAtIndex = this.log.term(index);
    if (termAtIndex !== term) throw new Error(`compact: snapshot term ${term} but the log has ${termAtIndex} at ${index}`);
    this.log.compact(index, term);
    this.retainedSnapshot = snapshot;
  }

  // ---------------------------------------------------------------------------------------------
  // Ready / advance

  /** True when `ready()` has something to hand over; always false while a Ready awaits `advance`. */
  hasReady(): boolean {
    if (this.outstandingReady !== null) return false;
    return (
      this.role !== this.lastSoftState.role ||
      this.leader !== this.lastSoftState.leader ||
      this.durableFieldsChanged() ||
      this.pendingSnapshot !== null ||
      this.log.handedIndex < this.log.lastIndex() ||
      !this.outbox.isEmpty() ||
      this.applicableIndex() > this.applyFloor() ||
      this.readStates.length > 0 ||
      this.readFailures.length > 0 ||
      !this.drops.isEmpty
    );
  }

  ready(): Ready {
    if (this.outstandingReady !== null) throw new Error("ready: the previous Ready was not advanced");
    const softState = this.softState();
    const lastIndex = this.log.lastIndex();
    const entries = this.log.slice(this.log.handedIndex + 1, lastIndex);
    const snapshot = this.pendingSnapshot;
    const hardState = this.hardStateToWrite(entries.length > 0 || snapshot !== null);
    const { messages, messagesAfterPersist } = this.outbox.take();
    // Only entries already durable here: written by an earlier Ready (or read back at start).
    // Committed entries of this Ready's own `entries` follow in the next Ready, once durable.
    const committedEntries = this.log.slice(this.applyFloor() + 1, this.applicableIndex());
    if (snapshot !== null && committedEntries.length > 0) throw new Error("ready: committed entries in a Ready that installs a snapshot");
    const ready: Ready = {
      softState: sameSoftState(softState, this.lastSoftState) ? null : softState,
      mustSync: hardState !== null || entries.length > 0 || snapshot !== null,
      hardState,
      snapshot,
      entries,
      messages,
      messagesAfterPersist,
      committedEntries,
      commitIndex: this.log.commitIndex,
      readStates: this.readStates,
      readFailures: this.readFailures,
      droppedMessages: this.drops.take(),
    };
    this.lastSoftState = softState;
    if (hardState !== null) this.lastHardState = hardState;
    this.pendingSnapshot = null;
    this.log.handedIndex = lastIndex;
    this.readStates = [];
    this.readFailures = [];
    this.outstandingReady = ready;
    return ready;
  }

  /**
   * Takes the messages that may leave before any write is durable (what the next Ready's
   * `messages` would hold), even while a Ready awaits `advance`. A leader's driver calls it to
   * send new entries to followers while its own write is still in flight: the leader counts
   * itself only after `advance`, so replication can overlap its write (Raft §10.2.1).
   * Messages that promise durability stay for `messagesAfterPersist`.
   */
  takeMessages(): Envelope[] {
    return this.outbox.takeMessages();
  }

  /** The driver persisted, sent and applied everything in `ready` (in that order). */
  advance(ready: Ready): void {
    if (ready !== this.outstandingReady) throw new Error("advance: not the Ready last returned by ready()");
    this.outstandingReady = null;
    if (ready.snapshot !== null) {
      this.appliedIndex = Math.max(this.appliedIndex, ready.snapshot.meta.index);
      if (this.log.snapshotIndex === ready.snapshot.meta.index) {
        this.log.persistedIndex = Math.max(this.log.persistedIndex, ready.snapshot.meta.index);
      }
    }
    const lastPersisted = ready.entries.at(-1);
    if (lastPersisted !== undefined) this.log.persistedTo(lastPersisted.index, lastPersisted.term);
    const lastApplied = ready.committedEntries.at(-1);
    if (lastApplied !== undefined) this.appliedIndex = Math.max(this.appliedIndex, lastApplied.index);
    if (this.role === "leader" && this.progress.has(this.id)) {
      // The leader counts its own log toward a majority only once it is durable (Raft §10.2.1).
      this.progressOf(this.id).maybeUpdate(this.log.persistedIndex);
      if (this.maybeCommit()) this.replicateCommit();
    }
    this.noteCommitted();
  }

  // ---------------------------------------------------------------------------------------------
  // Observation

  status(): CoreStatus {
    const progress: ProgressStatus[] = [];
    if (this.role === "leader") {
      for (const member of this.configuration.members) {
        const entry = this.progressOf(member.id);
        progress.push({ id: member.id, voter: member.voter, matchIndex: entry.matchIndex, nextIndex: entry.nextIndex, state: entry.state, recovering: member.id === this.id ? this.recovering : entry.recovering });
      }
    }
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      leader: this.leader,
      commitIndex: this.log.commitIndex,
      appliedIndex: this.appliedIndex,
      lastIndex: this.log.lastIndex(),
      firstIndex: this.log.firstIndex(),
      members: this.configuration.toMembers(),
      recovering: this.recovering,
      progress,
    };
  }

  /** Role, term, leader and commit index, without the copies `status()` makes of members and progress. */
  summary(): CoreSummary {
    return { role: this.role, term: this.term, leader: this.leader, commitIndex: this.log.commitIndex };
  }

  assertInvariants(): void {
    this.log.assertInvariants();
    const fail = (what: string): never => {
      throw new Error(`raft core ${this.id}: invariant broken: ${what}`);
    };
    if (this.appliedIndex > this.log.commitIndex) fail(`applied ${this.appliedIndex} > commit ${this.log.commitIndex}`);
    if (this.term < this.checked.term) fail(`term went back from ${this.checked.term} to ${this.term}`);
    if (this.log.commitIndex < this.checked.commitIndex) fail(`commit went back from ${this.checked.commitIndex}`);
    if (this.term === this.checked.term && this.checked.votedFor !== null && this.votedFor !== this.checked.votedFor) {
      fail(`second vote in term ${this.term}: ${this.checked.votedFor} then ${String(this.votedFor)}`);
    }
    if (this.log.lastTerm() > this.term) fail(`last log term ${this.log.lastTerm()} > term ${this.term}`);
    switch (this.role) {
      case "leader":
        if (this.leader !== this.id) fail("leader does not know itself as leader");
        if (!this.configuration.isVoter(this.id) && this.leaving === null) fail("leader is not a voter of its configuration");
        if (this.leaving !== null && this.configuration.isVoter(this.id)) fail("a leader that is a voter is leaving");
        // Its own entries: an inherited log may hold more (see `inheritedConfigurations`).
        if (this.countConfigurationEntries(Math.max(this.log.commitIndex + 1, this.termFirstIndex), this.log.lastIndex()) > 1) fail("more than one configuration change uncommitted");
        for (const { id: member } of this.configuration.members) {
          const entry = this.progressOf(member);
          if (entry.matchIndex > this.log.lastIndex()) fail(`match of ${member} ${entry.matchIndex} > last ${this.log.lastIndex()}`);
          if (entry.nextIndex < 1 || entry.nextIndex > this.log.lastIndex() + 1) fail(`next of ${member} is ${entry.nextIndex}`);
        }
        if ((this.progress.get(this.id)?.matchIndex ?? 0) > this.log.persistedIndex) fail("leader counts unpersisted entries");
        break;
      case "candidate":
        if (this.votedFor !== this.id) fail("candidate did not vote for itself");
        if (!this.configuration.isVoter(this.id)) fail("a non-voter campaigns");
        break;
      case "precandidate":
        if (!this.configuration.isVoter(this.id)) fail("a non-voter campaigns");
        break;
      case "follower":
        break;
    }
    if (this.reads.count > this.config.pendingReadsMax) fail("too many pending reads");
    this.checked = { term: this.term, votedFor: this.votedFor, commitIndex: this.log.commitIndex };
  }

  // ---------------------------------------------------------------------------------------------
  // Term rules (Raft §5.1, thesis §9.6 for pre-vote, §6.2 for the leader lease)

  /** Applies the rules every role shares; returns whether the role handler should see the message. */
  private stepTerm(from: NodeId, message: ConsensusMessage): boolean {
    if (message.term > this.term) {
      if (message.type === "VoteRequest") {
        // A node that heard from a live leader recently ignores elections: a partitioned node
        // coming back must not depose a healthy leader. A transfer is the leader's own wish.
        if (!message.transfer && this.inLeaderLease()) {
          this.logger.debug({ from, term: message.term }, "vote request ignored: leader lease");
          return false;
        }
        if (message.preVote) return true;
      }
      // A granted pre-vote carries the term the candidate will use; it must not bump ours.
      if (message.type === "Vote" && message.preVote && (message.granted || message.recovering === true)) return true;
      this.becomeFollower(message.term, isFromLeader(message) ? from : null);
      return true;
    }
    if (message.term < this.term) {
      this.onStaleTerm(from, message);
      return false;
    }
    return true;
  }

  /** A message from an older term: tell a stale leader or candidate our term, ignore the rest. */
  private onStaleTerm(from: NodeId, message: ConsensusMessage): void {
    switch (message.type) {
      case "Proposal":
      case "Commit":
      case "SnapshotChunk": {
        const reject: Reject = {
          type: "Reject",
          term: this.term,
          reason: "stale_term",
          rejectedIndex: message.type === "Proposal" ? message.prevIndex : 0,
        };
        this.outbox.send(from, reject);
        return;
      }
      case "VoteRequest":
        this.sendVote(from, { type: "Vote", term: this.term, granted: false, preVote: message.preVote });
        return;
      case "Acknowledgment":
      case "Reject":
      case "Vote":
      case "SnapshotAck":
      case "TimeoutNow":
      case "Forward":
      case "ReadIndexRequest":
      case "ReadIndexResponse":
        this.logger.debug({ from, type: message.type, term: message.term }, "stale message ignored");
        return;
      case "HistoryProbe":
      case "HistoryReport":
        // Answered in stepRole before any term rule: they never reach here.
        return;
    }
  }

  private inLeaderLease(): boolean {
    return this.config.checkQuorum && this.leader !== null && this.electionElapsedTicks < this.config.electionTimeoutTicks;
  }

  // ---------------------------------------------------------------------------------------------
  // Per-role dispatch

  private stepLeader(from: NodeId, message: ConsensusMessage): void {
    switch (message.type) {
      case "Acknowledgment":
        this.onAcknowledgment(from, message);
        return;
      case "Reject":
        this.onReject(from, message);
        return;
      case "SnapshotAck":
        this.onSnapshotAck(from, message);
        return;
      case "VoteRequest":
        this.onVoteRequest(from, message);
        return;
      case "Forward":
        this.onForward(from, message);
        return;
      case "ReadIndexRequest":
        this.onReadIndexRequest(from, message);
        return;
      case "Proposal":
      case "Commit":
      case "SnapshotChunk":
      case "TimeoutNow":
      case "ReadIndexResponse":
        // Another leader in our own term would break election safety: never act on it.
        this.logger.warn({ from, type: message.type, term: message.term }, "leader message from a peer in our term ignored");
        return;
      case "Vote":
        this.logger.debug({ from, type: message.type }, "vote after the election ignored");
        return;
      case "HistoryProbe":
      case "HistoryReport":
        // Answered in stepRole before any term rule: they never reach here.
        return;
    }
  }

  private stepCandidate(from: NodeId, message: ConsensusMessage): void {
    switch (message.type) {
      case "Proposal":
      case "Commit":
      case "SnapshotChunk":
        if (this.ignoreLeaderMessage() !== null) {
          this.logger.debug({ from, type: message.type, term: message.term, reason: this.ignoreLeaderMessage() }, "leader message ignored");
          return;
        }
        // A leader exists in our term (or, for a pre-candidate, in the term we are in): follow it.
        this.becomeFollower(this.term, from);
        this.stepFollower(from, message);
        return;
      case "Vote":
        this.onVote(from, message);
        return;
      case "VoteRequest":
        this.onVoteRequest(from, message);
        return;
      case "Acknowledgment":
      case "Reject":
      case "SnapshotAck":
      case "TimeoutNow":
      case "Forward":
      case "ReadIndexRequest":
      case "ReadIndexResponse":
        this.logger.debug({ from, type: message.type, role: this.role }, "message ignored by candidate");
        return;
      case "HistoryProbe":
      case "HistoryReport":
        // Answered in stepRole before any term rule: they never reach here.
        return;
    }
  }

  /**
   * An empty voter still asking the others whether the cluster has a history does not know the
   * term its lost disk had reached: the sender may lead a term that a later leader has replaced
   * with this disk's acknowledgments, and it could commit over that leader's entries with this
   * node's. It takes no leader until every other voter has answered (`HistoryCheck`).
   */
  private ignoreLeaderMessage(): IgnoreReason {
    return this.historyCheck === null ? null : "an empty log still waiting for every voter's HistoryReport takes no leader";
  }

  private stepFollower(from: NodeId, message: ConsensusMessage): void {
    if (message.type === "Proposal" || message.type === "Commit" || message.type === "SnapshotChunk") {
      const ignored = this.ignoreLeaderMessage();
      if (ignored !== null) {
        this.logger.debug({ from, type: message.type, term: message.term, reason: ignored }, "leader message ignored");
        return;
      }
    }
    switch (message.type) {
      case "Proposal":
        this.onProposal(from, message);
        return;
      case "Commit":
        this.onCommit(from, message);
        return;
      case "SnapshotChunk":
        this.onSnapshotChunk(from, message);
        return;
      case "TimeoutNow":
        this.onTimeoutNow(from, message);
        return;
      case "ReadIndexResponse":
        this.onReadIndexResponse(message);
        return;
      case "VoteRequest":
        this.onVoteRequest(from, message);
        return;
      case "Acknowledgment":
      case "Reject":
      case "Vote":
      case "SnapshotAck":
      case "Forward":
      case "ReadIndexRequest":
        // Followers do not relay: the sender's driver times out and retries against the leader.
        this.logger.debug({ from, type: message.type }, "message ignored by follower");
        return;
      case "HistoryProbe":
      case "HistoryReport":
        // Answered in stepRole before any term rule: they never reach here.
        return;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Roles (only these change `role`)

  private becomeFollower(term: number, leader: NodeId | null): void {
    if (term < this.term) throw new Error(`becomeFollower: term ${term} < ${this.term}`);
    this.failReadsOnChange(term, leader);
    if (term > this.term) {
      this.term = term;
      this.votedFor = null;
    }
    this.role = "follower";
    this.leader = leader;
    this.resetRoleState();
  }

  private becomePreCandidate(): void {
    if (this.role === "leader") throw new Error("becomePreCandidate: already leader");
    // A pre-candidate changes neither its term nor its vote (thesis §9.6): that is the point.
    this.failReadsOnChange(this.term, null);
    this.role = "precandidate";
    this.leader = null;
    this.resetRoleState();
    this.votes.set(this.id, this.ownVote());
  }

  private becomeCandidate(): void {
    if (this.role === "leader") throw new Error("becomeCandidate: already leader");
    this.failReadsOnChange(this.term + 1, null);
    this.term += 1;
    this.votedFor = this.id;
    this.role = "candidate";
    this.leader = null;
    this.resetRoleState();
    this.votes.set(this.id, this.ownVote());
  }

  /** A recovering candidate's log may lack what it acknowledged: its own vote counts as a recovering one. */
  private ownVote(): VoteAnswer {
    return this.recovering ? "recovering" : "granted";
  }

  private becomeLeader(): void {
    if (this.role !== "candidate") throw new Error(`becomeLeader: role is ${this.role}`);
    const everyVoterAnswered = this.configuration.voters.every((voter) => this.votes.has(voter) && this.votes.get(voter) !== "refused");
    this.role = "leader";
    this.leader = this.id;
    this.resetRoleState();
    this.leaderSinceTick = this.ticksElapsed;
    for (const { id: member } of this.configuration.members) this.addProgress(member);
    this.lastHeardTick.clear();
    this.learnerCaughtUpTicks.clear();
    // No configuration change until everything in the log at election is committed, which the
    // entry appended below implies (the fix to single-server changes published in 2015: a leader
    // changes the configuration only after committing an entry of its own term).
    this.pendingConfigurationIndex = this.config.unsafeBreakRule === "membership_change_before_term_commit" ? 0 : this.log.lastIndex();
    this.termFirstIndex = this.log.lastIndex() + 1;
    this.inheritedConfigurations = [];
    for (let index = Math.max(this.log.commitIndex + 1, this.log.firstIndex()); index <= this.log.lastIndex(); index++) {
      const command = this.log.entryAt(index)?.command;
      if (command?.kind === "members") this.inheritedConfigurations.push({ index, voters: new Configuration(command.members).voters });
    }
    this.logger.info({ term: this.term }, "became leader");
    // Won with every voter's answer: each had a term at most this one when it answered, after
    // this disk was lost, so this term bounds the one the disk lost, which is what a pending
    // history check waits to learn. A win by a plain majority of the others proves that of those
    // only: the check goes on (probes from the leader's ticks too).
    if (everyVoterAnswered) this.historyCheck = null;
    if (this.log.lastIndex() === 0) {
      // The cluster's first entry: the bootstrap configuration, written once into the log so that
      // from now on the configuration comes from the log, never from flags. Being of this term it
      // also serves as the new leader's no-op.
      this.appendCommands([{ kind: "members", members: this.configuration.toMembers() }]);
      this.pendingConfigurationIndex = 1;
      return;
    }
    // A no-op of the new term lets the leader commit everything before it (Raft §5.4.2, §8).
    this.appendCommands([{ kind: "noop" }]);
  }

  private addProgress(member: NodeId): void {
    const progress = new Progress(this.log.lastIndex() + 1, this.config.inflightProposalsMax);
    // A member added again in a term that already forgot a match gets an epoch none of its earlier
    // answers can carry; before any forget, every epoch is 0 and the wire is unchanged.
    if (this.epochsIssued > 0) progress.epoch = ++this.epochsIssued;
    progress.recentActive = true;
    if (member === this.id) {
      progress.matchIndex = this.log.persistedIndex;
      progress.state = "replicate";
    }
    this.progress.set(member, progress);
  }

  private resetRoleState(): void {
    this.electionElapsedTicks = 0;
    this.heartbeatElapsedTicks = 0;
    this.randomizedElectionTimeoutTicks = this.randomElectionTimeout();
    this.votes.clear();
    this.progress.clear();
    this.epochsIssued = 0;
    this.leadTransferee = null;
    this.transferElapsedTicks = 0;
    this.leaving = null;
    this.announcing = null;
    this.knownConfigurationIndex = 0;
  }

  /** Fails reads that depended on the current leadership when the term or the leader changes. */
  private failReadsOnChange(nextTerm: number, nextLeader: NodeId | null): void {
    if (this.role === "leader" && (nextTerm !== this.term || nextLeader !== this.id)) {
      for (const read of this.reads.drain()) {
        if (read.origin === this.id) this.readFailures.push({ context: read.context, reason: "leadership_lost" });
      }
    }
    if (this.forwardedReads.size > 0 && (nextTerm !== this.term || nextLeader !== this.leader)) {
      for (const context of this.forwardedReads.keys()) this.readFailures.push({ context, reason: "no_leader" });
      this.forwardedReads.clear();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Ticks

  private tickElection(): void {
    // An empty log asks the other voters whether the cluster has a history (HistoryProbe).
    if (this.recovering) this.tickHistoryCheck();
    // Counted while recovering too: the leader lease (`inLeaderLease`) must expire when the leader
    // goes, or this node would ignore every election for good. A recovering node campaigns as well;
    // it wins only if every voter grants (`voteResult`), since its log may lack what it acknowledged.
    this.electionElapsedTicks++;
    // A learner, a removed node and a node that joins (no configuration yet) never campaign:
    // they count ticks only for the leader lease.
    if (!this.configuration.isVoter(this.id)) return;
    if (this.electionElapsedTicks < this.randomizedElectionTimeoutTicks) return;
    this.electionElapsedTicks = 0;
    this.campaign(this.config.preVote ? "preVote" : "election");
  }

  private tickLeader(): void {
    this.tickHistoryCheck();
    this.heartbeatElapsedTicks++;
    this.electionElapsedTicks++;
    if (this.leadTransferee !== null && ++this.transferElapsedTicks >= this.config.electionTimeoutTicks) {
      this.logger.info({ to: this.leadTransferee }, "leadership transfer timed out");
      this.leadTransferee = null;
    }
    if (this.electionElapsedTicks >= this.config.electionTimeoutTicks) {
      this.electionElapsedTicks = 0;
      // Not while leaving: the wait for the remaining voters to know of the removal has its own
      // bound (`leavingElectionTimeoutsMax`), and a check in the middle of it, counting voters that
      // no longer include this node, stepped it down before they had answered (real processes:
      // apps/node/test/membership-changes.test.ts, where the removal was then answered `timeout`).
      if (this.config.checkQuorum && this.leaving === null && !this.checkQuorumActive()) {
        this.logger.warn({ term: this.term }, "stepping down: no contact with a majority");
        this.becomeFollower(this.term, null);
        return;
      }
    }
    if (this.announcing !== null && this.ticksElapsed - this.announcing.sinceTick >= leavingElectionTimeoutsMax * this.config.electionTimeoutTicks) {
      this.logger.warn({ index: this.announcing.index, informed: [...this.announcing.informed] }, "configuration change: a majority of the voters did not show in time that they know it committed");
      this.announcing = null;
    }
    if (this.leaving !== null && this.ticksElapsed - this.leaving.sinceTick >= leavingElectionTimeoutsMax * this.config.electionTimeoutTicks) {
      this.logger.warn({ informed: [...this.leaving.informed] }, "leaving: the remaining voters did not all answer in time");
      this.stepDownRemoved();
      return;
    }
    for (const peer of this.peers) this.tickProgress(peer, this.progressOf(peer));
    this.tickMembership();
    if (this.heartbeatElapsedTicks >= this.config.heartbeatTicks) {
      this.heartbeatElapsedTicks = 0;
      // Leaving or announcing a change, each heartbeat opens a round: an answer to it shows its
      // sender knows the commit.
      this.broadcastHeartbeat(this.leaving === null && this.announcing === null ? undefined : this.reads.openRound());
    }
  }

  /** Retransmission: a snapshot chunk or a replicate stream that made no progress for an election timeout. */
  private tickProgress(peer: NodeId, progress: Progress): void {
    switch (progress.state) {
      case "snapshot":
        if (++progress.snapshotIdleTicks >= this.config.electionTimeoutTicks) this.sendSnapshotChunk(peer, progress);
        return;
      case "replicate":
        if (progress.inflights.count === 0) {
          progress.stalledTicks = 0;
          return;
        }
        // A lost last Proposal leaves nothing to reject it: fall back to probing from the match.
        if (++progress.stalledTicks >= this.config.electionTimeoutTicks) {
          progress.becomeProbe();
          this.sendProposals(peer);
        }
        return;
      case "probe":
        return;
    }
  }

  /** Every member heard from in the last election timeout, the leader included (thesis §6.2). */
  private checkQuorumActive(): boolean {
    let active = 0;
    for (const { id: member } of this.configuration.members) {
      const progress = this.progressOf(member);
      if (this.configuration.isVoter(member) && (member === this.id || progress.recentActive)) active++;
      progress.recentActive = false;
    }
    return hasQuorum(active, this.configuration.voters.length);
  }

  // ---------------------------------------------------------------------------------------------
  // Elections (Raft §5.2, §5.4.1; thesis §9.6 pre-vote, §3.10 transfer)

  private campaign(kind: CampaignKind): void {
    if (!this.configuration.isVoter(this.id)) {
      this.logger.debug({ kind }, "not campaigning: not a voter of the configuration");
      return;
    }
    if (this.term >= termMax) {
      this.logger.error({ term: this.term, termMax }, "not campaigning: the term reached its bound");
      return;
    }
    if (kind === "preVote") this.becomePreCandidate();
    else this.becomeCandidate();
    const voteTerm = kind === "preVote" ? this.term + 1 : this.term;
    if (voteResult(this.configuration.voters, this.votes) === "won") {
      // A single-member cluster wins at once.
      if (kind === "preVote") this.campaign("election");
      else this.becomeLeader();
      return;
    }
    this.logger.info({ term: voteTerm, kind }, "starting election");
    for (const peer of this.voterPeers) {
      const request: VoteRequest = {
        type: "VoteRequest",
        term: voteTerm,
        lastIndex: this.log.lastIndex(),
        lastTerm: this.log.lastTerm(),
        preVote: kind === "preVote",
        transfer: kind === "transfer",
        ...this.commitHint(),
      };
      this.outbox.send(peer, request);
    }
  }

  private ignoreVoteRequest(from: NodeId, request: VoteRequest): IgnoreReason {
    // A learner, and a node outside its own configuration that holds a log, vote when asked
    // (etcd-io/raft's do the same): a learner may have been promoted by an entry committed without
    // it, a member may have restarted with an older commit index than the entry that added it,
    // and the voters of a removed node may not know its removal committed; each candidate asking
    // counts it as a voter, and refusing could leave that configuration unable to elect anyone.
    // The election restriction below still applies, and a candidate whose configuration does
    // not count this node cannot win with its vote. A node that holds nothing and knows itself
    // in no configuration (it is joining) never votes: its empty disk could be a lost voter's.
    if (!this.configuration.isMember(this.id) && this.log.lastIndex() === 0) return "joining: holds no log and is in no configuration";
    const canVote =
      this.votedFor === from ||
      (this.votedFor === null && this.leader === null) ||
      (request.preVote && request.term > this.term);
    if (!canVote) return `already voted for ${String(this.votedFor)} or following ${String(this.leader)}`;
    // Election restriction (Raft §5.4.1): only a log at least as up to date as ours.
    const restrictionBroken = this.config.unsafeBreakRule === "vote_without_log_check";
    if (!restrictionBroken && !this.log.isUpToDate(request.lastIndex, request.lastTerm)) return "candidate log is behind ours";
    return null;
  }

  private onVoteRequest(from: NodeId, request: VoteRequest): void {
    const refused = this.ignoreVoteRequest(from, request);
    if (refused !== null) {
      this.logger.debug({ from, term: request.term, preVote: request.preVote, reason: refused }, "vote refused");
      this.sendVote(from, { type: "Vote", term: this.term, granted: false, preVote: request.preVote });
      return;
    }
    if (!request.preVote) {
      // Recorded in hardState and sent in messagesAfterPersist: durable before it is answered (§5.2).
      // A recovering node records it too: its vote may decide an election that every voter grants.
      this.votedFor = from;
      this.electionElapsedTicks = 0;
    }
    if (this.recovering) {
      this.logger.debug({ from, term: request.term, preVote: request.preVote }, "vote granted as recovering: it counts only if every voter grants");
      this.sendVote(from, { type: "Vote", term: request.term, granted: false, preVote: request.preVote, recovering: true });
      return;
    }
    this.sendVote(from, { type: "Vote", term: request.term, granted: true, preVote: request.preVote });
  }

  private sendVote(to: NodeId, vote: Vote): void {
    this.outbox.send(to, { ...vote, ...this.commitHint() });
  }

  /** What this node knows committed, for election messages (`CommitHint`). */
  private commitHint(): { committed?: CommitHint } {
    const index = this.log.commitIndex;
    const term = this.log.term(index);
    return index === 0 || term === undefined ? {} : { committed: { index, term } };
  }

  /**
   * Takes the commit index another node's election message reports, where this log holds the
   * same entry there (Log Matching: then it holds the same log up to it). A leader keeps its own
   * count. Without this, a removal that committed and whose leader went before telling the others
   * left them counting a voter whose machine is gone, unable to elect (seeds 3101962, 3102276).
   */
  private learnCommit(message: ConsensusMessage): void {
    if (this.role === "leader" || (message.type !== "VoteRequest" && message.type !== "Vote")) return;
    const hint = message.committed;
    if (hint === undefined || hint.index <= this.log.commitIndex || hint.index > this.log.lastIndex()) return;
    if (this.log.term(hint.index) !== hint.term) return;
    this.logger.debug({ index: hint.index, previous: this.log.commitIndex }, "commit index learned from an election message");
    this.log.commitTo(hint.index);
  }

  private ignoreVote(vote: Vote): IgnoreReason {
    if (this.role === "precandidate") {
      if (!vote.preVote) return "election vote during pre-vote";
      if ((vote.granted || vote.recovering === true) && vote.term !== this.term + 1) return `pre-vote for term ${vote.term}`;
      return null;
    }
    if (vote.preVote) return "pre-vote answer during election";
    return null;
  }

  private onVote(from: NodeId, vote: Vote): void {
    const ignored = this.ignoreVote(vote);
    if (ignored !== null) {
      this.logger.debug({ from, reason: ignored }, "vote ignored");
      return;
    }
    this.votes.set(from, vote.recovering === true ? "recovering" : vote.granted ? "granted" : "refused");
    switch (voteResult(this.configuration.voters, this.votes)) {
      case "won":
        if (this.role === "precandidate") this.campaign("election");
        else this.becomeLeader();
        return;
      case "lost":
        this.becomeFollower(this.term, null);
        return;
      case "pending":
        return;
    }
  }

  private onTimeoutNow(from: NodeId, message: TimeoutNow): void {
    // Only the leader of this term may hand its leadership over.
    if (from !== this.leader) {
      this.drop(from, message, "timeout_now_not_from_leader");
      return;
    }
    if (this.recovering) {
      this.logger.info({ from }, "leadership transfer refused: recovering from a possible storage loss");
      return;
    }
    this.logger.info({ from }, "leadership transfer: starting election now");
    // A transfer skips pre-vote: the old leader asked for it, so nobody is partitioned.
    this.campaign("transfer");
  }

  // ---------------------------------------------------------------------------------------------
  // Follower: replication (Raft §5.3)

  private followLeader(from: NodeId): void {
    this.electionElapsedTicks = 0;
    if (this.leader !== from) {
      this.failReadsOnChange(this.term, from);
      this.leader = from;
    }
  }

  private onProposal(from: NodeId, proposal: Proposal): void {
    this.followLeader(from);
    this.noteLeaderEpoch(proposal.epoch);
    if (proposal.prevIndex < this.log.commitIndex) {
      // Everything up to our commit index already agrees with the leader: say how far we are.
      this.sendAcknowledgment(from, this.log.commitIndex, proposal.context);
      return;
    }
    const result = this.log.maybeAppend(proposal.prevIndex, proposal.prevTerm, proposal.commitIndex, proposal.entries);
    if (result.ok) {
      if (result.truncatedFrom !== null) this.outbox.withdrawAcknowledgmentsFrom(result.truncatedFrom);
      this.finishRecovery(proposal.commitIndex, result.lastNewIndex);
      this.sendAcknowledgment(from, result.lastNewIndex, proposal.context);
      return;
    }
    // Fast backup: the largest index at or below the probe whose term is at most the probe's term.
    const hintIndex = this.log.findConflictByTerm(Math.min(proposal.prevIndex, this.log.lastIndex()), proposal.prevTerm);
    const reject: Reject = {
      type: "Reject",
      term: this.term,
      reason: "log_mismatch",
      rejectedIndex: proposal.prevIndex,
      hintIndex,
      hintTerm: this.log.term(hintIndex) ?? 0,
    };
    if (this.recovering) reject.recovering = true;
    const epoch = this.leaderEpochToEcho();
    if (epoch > 0) reject.epoch = epoch;
    if (this.config.incarnation !== undefined) reject.incarnation = this.config.incarnation;
    this.outbox.send(from, reject);
  }

  /**
   * A voter that holds nothing (no entries, no snapshot) and has never voted or seen a term, or is
   * recovering from a loss, cannot know whether the cluster ran before: a wiped disk looks exactly
   * like a first start. It recovers (its vote counts only where every voter grants) and asks the other voters (DESIGN.md §9).
   */
  private startHistoryCheck(persisted: PersistedState): void {
    const holdsNothing = persisted.entries.length === 0 && persisted.snapshot === null;
    const neverStarted = persisted.hardState.term === 0 && persisted.hardState.votedFor === null;
    if (!holdsNothing || !(neverStarted || this.recovering) || !this.configuration.isVoter(this.id)) return;
    const otherVoters = this.configuration.voters.filter((voter) => voter !== this.id);
    if (otherVoters.length === 0) return;
    this.recovering = true;
    this.historyCheck = new HistoryCheck(this.id, otherVoters);
    this.ticksSinceHistoryProbe = this.config.electionTimeoutTicks;
    this.logger.info({ voters: otherVoters }, "empty log: asking the other voters whether the cluster has a history before voting");
  }

  /** Asks the voters of the newest configuration known, once per election timeout (`HistoryCheck.toProbe`). */
  private tickHistoryCheck(): void {
    if (this.historyCheck === null) return;
    this.ticksSinceHistoryProbe++;
    if (this.ticksSinceHistoryProbe < this.config.electionTimeoutTicks) return;
    this.ticksSinceHistoryProbe = 0;
    const probe: HistoryProbe = { type: "HistoryProbe", term: this.term };
    if (this.config.incarnation !== undefined) probe.incarnation = this.config.incarnation;
    for (const voter of this.historyCheck.toProbe) this.outbox.send(voter, probe);
  }

  private onHistoryReport(from: NodeId, report: HistoryReport): void {
    if (this.historyCheck === null || !this.recovering) return;
    // What the voter held when an earlier process of this node probed may predate commits this
    // process must not end its recovery below (a report without the echo is from an older version).
    if (report.probeIncarnation !== undefined && this.config.incarnation !== undefined && report.probeIncarnation !== this.config.incarnation) {
      this.drop(from, report, "stale_probe");
      return;
    }
    const outcome = this.historyCheck.record(from, report);
    switch (outcome.kind) {
      case "waiting":
        return;
      case "history": {
        // A leader catches this log up (finishRecovery); until then its vote is a recovering one.
        // The term this disk lost is at most the largest reported (history-check.ts): from that
        // term on, a leader of an older one is refused as stale, and in that term itself this
        // node counts as having voted, as on a first start.
        this.historyCheck = null;
        this.recoveryCommitIndexMin = outcome.commitIndexAtLeast;
        const reported = outcome.termAtLeast;
        if (reported > this.term) this.becomeFollower(reported, null);
        if (reported === this.term && this.votedFor === null) this.votedFor = this.id;
        if (this.role === "leader" && this.log.term(this.log.commitIndex) === this.term) {
          // Elected by a plain majority of the others while the check went on, and an entry of
          // this term is committed: the same proof as at a commit (maybeCommit), now with the bound.
          this.recovering = false;
          this.logger.info({ term: this.term, commitIndex: this.log.commitIndex }, "recovered from a possible storage loss: every voter answered and this leader's term is committed");
          return;
        }
        this.logger.warn({ from: outcome.from, term: this.term }, "the cluster has a history this empty log lacks: until a leader brings this log up to date, this node's vote counts only in an election that every voter grants");
        return;
      }
      case "first_start": {
        this.historyCheck = null;
        this.recovering = false;
        // A vote this node may have cast before it lost its disk was cast before every report, so
        // in a term its candidate still held when it reported: at most the largest term reported.
        // Terms above it are free; in that term itself this node counts as having voted. At
        // least term 1, so that the settled first start is durable: a node that restarts before
        // its first vote is no longer mistaken for an empty disk in a cluster with a history.
        const reported = outcome.termAtLeast;
        const term = Math.max(this.term, reported, 1);
        if (term > this.term) this.becomeFollower(term, null);
        if (term === reported && this.votedFor === null) this.votedFor = this.id;
        this.logger.info({ term: this.term }, "no voter holds a log: the cluster's first start, taking part in elections");
        return;
      }
    }
  }

  /**
   * Ends the recovery from a possible storage loss once this log matches the leader's through the
   * leader's commit index and that entry is of the leader's own term: by leader completeness
   * (§5.4) the log then holds every entry committed before, lost ones included. Votes leave only
   * after the Ready that holds those entries is persisted, so nothing is promised from memory.
   */
  private finishRecovery(leaderCommitIndex: number, matchedIndex: number): void {
    if (!this.recovering || leaderCommitIndex > matchedIndex || this.log.term(leaderCommitIndex) !== this.term) return;
    // A late or duplicated Proposal of this leader carries an older commit index: the log then holds
    // what was committed up to it, not what was committed when this disk was lost (seed 2604236).
    if (leaderCommitIndex < this.recoveryCommitIndexMin) return;
    this.recovering = false;
    this.historyCheck = null;
    this.logger.info({ term: this.term, commitIndex: leaderCommitIndex }, "recovered from a possible storage loss: the leader brought this log up to date");
  }

  /** Remembers the epoch of the leader's latest Proposal or SnapshotChunk, to echo on our answers. */
  private noteLeaderEpoch(epoch: number | undefined): void {
    this.leaderEpoch = epoch ?? 0;
    this.leaderEpochTerm = this.term;
  }

  /** The epoch our answers carry: the last one this term's leader sent (0 before any, or in another term). */
  private leaderEpochToEcho(): number {
    return this.leaderEpochTerm === this.term ? this.leaderEpoch : 0;
  }

  private sendAcknowledgment(to: NodeId, matchIndex: number, context: number | undefined): void {
    const acknowledgment: Acknowledgment =
      context === undefined
        ? { type: "Acknowledgment", term: this.term, matchIndex }
        : { type: "Acknowledgment", term: this.term, matchIndex, context };
    // The leader demotes a recovering voter to learner until it has caught up (`tickMembership`).
    if (this.recovering) acknowledgment.recovering = true;
    const epoch = this.leaderEpochToEcho();
    if (epoch > 0) acknowledgment.epoch = epoch;
    if (this.config.incarnation !== undefined) acknowledgment.incarnation = this.config.incarnation;
    this.outbox.send(to, acknowledgment);
  }

  private onCommit(from: NodeId, commit: Commit): void {
    this.followLeader(from);
    // The leader sends at most what it knows we hold, so this never commits a divergent entry.
    this.log.commitTo(Math.min(commit.commitIndex, this.log.lastIndex()));
  }

  private onSnapshotChunk(from: NodeId, chunk: SnapshotChunk): void {
    this.followLeader(from);
    this.noteLeaderEpoch(chunk.epoch);
    if (chunk.snapshotIndex <= this.log.commitIndex) {
      this.assembler.reset();
      this.sendAcknowledgment(from, this.log.commitIndex, undefined);
      return;
    }
    const outcome = this.assembler.accept(chunk, chunk.members ?? this.configuration.toMembers());
    switch (outcome.kind) {
      case "refused":
        this.logger.debug({ from, snapshotIndex: chunk.snapshotIndex, reason: outcome.reason }, "snapshot chunk refused");
        this.sendSnapshotAck(from, chunk.snapshotIndex, outcome.expectedOffset, false);
        return;
      case "partial":
        this.sendSnapshotAck(from, chunk.snapshotIndex, outcome.offset, true);
        return;
      case "complete": {
        // Checked before anything is kept or acknowledged: an undecodable snapshot made durable
        // would stop this node on every restart. No answer: the leader resends after a timeout.
        const verified = this.config.verifySnapshot?.(outcome.snapshot) ?? { ok: true };
        if (!verified.ok) {
          this.logger.warn({ from, snapshotIndex: chunk.snapshotIndex, reason: verified.reason }, "snapshot from the leader refused: it does not verify");
          this.drop(from, chunk, "snapshot_invalid");
          return;
        }
        this.installSnapshot(from, outcome.snapshot);
        return;
      }
    }
  }

  private sendSnapshotAck(to: NodeId, snapshotIndex: number, offset: number, accepted: boolean): void {
    const ack: SnapshotAck = { type: "SnapshotAck", term: this.term, snapshotIndex, offset, done: false, accepted };
    this.outbox.send(to, ack);
  }

  private installSnapshot(from: NodeId, snapshot: Snapshot): void {
    const { index, term } = snapshot.meta;
    if (this.log.term(index) === term) {
      // Our log already holds the snapshot's last entry, hence everything before it: just commit.
      this.log.commitTo(index);
    } else {
      this.logger.info({ index, term }, "installing snapshot from leader");
      // Every entry after the old snapshot point is discarded, so nothing queued may claim one.
      this.outbox.withdrawAcknowledgmentsFrom(this.log.snapshotIndex + 1);
      this.log.restore(index, term);
      this.pendingSnapshot = snapshot;
      this.retainedSnapshot = snapshot;
      // The snapshot's configuration is the one at its index; later entries may change it again.
      this.configurationScannedIndex = index;
      if (snapshot.meta.members.length > 0) {
        this.configurationIndex = index;
        this.setConfiguration(new Configuration(snapshot.meta.members));
      }
    }
    // In messagesAfterPersist: the leader learns of the snapshot only once it is durable here.
    this.sendAcknowledgment(from, index, undefined);
  }

  private onReadIndexResponse(response: ReadIndexResponse): void {
    const pending = this.forwardedReads.get(response.context);
    if (pending?.term !== response.term) return;
    this.forwardedReads.delete(response.context);
    this.readStates.push({ context: response.context, index: response.index });
  }

  // ---------------------------------------------------------------------------------------------
  // Leader: replication, commit, reads, transfer

  private isOverloaded(commandCount: number): boolean {
    return this.log.lastIndex() - this.log.commitIndex + commandCount > this.config.uncommittedEntriesMax;
  }

  private appendCommands(commands: readonly Command[]): Entry {
    const term = this.term;
    let index = this.log.lastIndex();
    const entries: Entry[] = new Array<Entry>(commands.length);
    for (let position = 0; position < commands.length; position++) {
      entries[position] = { index: ++index, term, command: commands[position] as Command };
    }
    this.log.append(entries);
    this.progressOf(this.id).nextIndex = index + 1;
    for (const peer of this.peers) this.sendProposals(peer);
    return entries[entries.length - 1] as Entry;
  }

  private onForward(from: NodeId, forward: Forward): void {
    this.progressOf(from).recentActive = true;
    let ignored: IgnoreReason = null;
    if (this.leadTransferee !== null) ignored = "transfer in progress";
    else if (this.leaving !== null) ignored = "leaving: this leader's removal is committed";
    else if (this.isOverloaded(forward.commands.length)) ignored = "overloaded";
    if (ignored !== null) {
      // No reply: the forwarding node's driver times the request out and the client retries.
      this.logger.debug({ from, commands: forward.commands.length, reason: ignored }, "forward dropped");
      return;
    }
    const last = this.appendCommands(forward.commands);
    const progress = this.progressOf(from);
    progress.awaitedIndex = Math.max(progress.awaitedIndex, last.index);
  }

  /** Sends as many Proposals to `peer` as its progress state allows (bounded by the inflight window). */
  private sendProposals(peer: NodeId): void {
    for (let sent = 0; sent < this.config.inflightProposalsMax; sent++) {
      if (!this.sendProposal(peer)) return;
    }
  }

  /** Sends one Proposal with the entries `peer` needs next; returns false when there was nothing to send. */
  private sendProposal(peer: NodeId): boolean {
    const progress = this.progressOf(peer);
    if (progress.isPaused()) return false;
    const prevIndex = progress.nextIndex - 1;
    const prevTerm = this.log.term(prevIndex);
    if (prevTerm === undefined) return this.startSnapshot(peer, progress);
    const entries = this.log.sliceLimited(progress.nextIndex, {
      entriesMax: this.config.entriesPerProposalMax,
      bytesMax: this.config.bytesPerProposalMax,
    });
    // In replicate state an empty Proposal says nothing a heartbeat would not; a probe always goes.
    if (entries.length === 0 && progress.state === "replicate") return false;
    const lastIndex = prevIndex + entries.length;
    const commitIndex = this.log.commitIndex;
    const proposal: Proposal = { type: "Proposal", term: this.term, prevIndex, prevTerm, entries, commitIndex };
    if (progress.epoch > 0) proposal.epoch = progress.epoch;
    this.outbox.send(peer, proposal);
    progress.commitSent = Math.max(progress.commitSent, Math.min(commitIndex, lastIndex));
    if (progress.state === "replicate") {
      progress.nextIndex = lastIndex + 1;
      progress.inflights.add(lastIndex);
    } else {
      progress.probeSent = true;
    }
    return true;
  }

  /**
   * A heartbeat is an empty Proposal at the follower's known match point, so it always matches and
   * never causes a spurious Reject; `context` (a read round) asks the follower to echo it. It
   * carries this leader's whole commit index: the follower commits only through the heartbeat's
   * matching prefix (`maybeAppend`), and a recovering follower may end its recovery only when its
   * log reaches the leader's true commit index (`finishRecovery`). Capped at the match point (as
   * etcd's heartbeat is), a follower that had lost committed entries above it took the cap for the
   * commit index, ended its recovery without them, and with the leader gone elected a log that
   * overwrote one (possible-loss.test.ts, "is sent the leader's whole commit index in heartbeats").
   */
  private broadcastHeartbeat(context: number | undefined): void {
    for (const peer of this.peers) {
      const progress = this.progressOf(peer);
      let prevIndex = progress.matchIndex;
      let prevTerm = this.log.term(prevIndex);
      if (prevTerm === undefined) {
        // The match point was compacted: index 0 is below every follower's commit index.
        prevIndex = 0;
        prevTerm = 0;
      }
      const commitIndex = this.log.commitIndex;
      const heartbeat: Proposal =
        context === undefined
          ? { type: "Proposal", term: this.term, prevIndex, prevTerm, entries: [], commitIndex }
          : { type: "Proposal", term: this.term, prevIndex, prevTerm, entries: [], commitIndex, context };
      if (progress.epoch > 0) heartbeat.epoch = progress.epoch;
      this.outbox.send(peer, heartbeat);
      progress.commitSent = Math.max(progress.commitSent, Math.min(commitIndex, prevIndex));
    }
  }

  /** The test-only broken rule that counts answers a member gave before it lost its disk. */
  private trustsLostDisks(): boolean {
    return this.config.unsafeBreakRule === "trust_answers_of_lost_disks";
  }

  private onAcknowledgment(from: NodeId, acknowledgment: Acknowledgment): void {
    // A follower acknowledges at most what this leader sent it; more would commit what nobody holds.
    if (acknowledgment.matchIndex > this.log.lastIndex()) {
      this.drop(from, acknowledgment, "index_beyond_log");
      return;
    }
    const progress = this.progressOf(from);
    if ((acknowledgment.epoch ?? 0) !== progress.epoch && !this.trustsLostDisks()) {
      this.drop(from, acknowledgment, "stale_epoch");
      return;
    }
    progress.recentActive = true;
    const lossNews = progress.noteAnswer(acknowledgment.recovering === true, acknowledgment.incarnation, this.ticksElapsed) && !this.trustsLostDisks();
    if (acknowledgment.context !== undefined) this.onReadAcknowledgment(from, acknowledgment.context);
    if (lossNews) {
      // What this member acknowledged before may be gone with its disk: only what it says now,
      // and answers to the Proposals of the new epoch, count from here on.
      progress.forgetMatch(acknowledgment.matchIndex, ++this.epochsIssued);
      this.sendProposals(from);
      return;
    }
    const updated = progress.maybeUpdate(acknowledgment.matchIndex);
    switch (progress.state) {
      case "snapshot":
        if (progress.matchIndex >= progress.snapshotIndex) progress.becomeReplicate();
        break;
      case "probe":
        if (updated) progress.becomeReplicate();
        // Any answer shows the follower is reachable: the next probe may go (etcd: heartbeat response).
        progress.probeSent = false;
        break;
      case "replicate":
        progress.inflights.freeTo(acknowledgment.matchIndex);
        break;
    }
    if (updated && this.maybeCommit()) this.replicateCommit();
    else if (!this.sendAppend(from)) this.notifyWaitingMember(from);
    if (from === this.leadTransferee && progress.matchIndex === this.log.lastIndex()) this.sendTimeoutNow(from);
    if (this.leaving !== null) this.onLeavingAcknowledgment(from, acknowledgment);
    if (this.announcing !== null) this.onAnnouncementAcknowledgment(from, acknowledgment);
  }

  /** As `onLeavingAcknowledgment`, for a change that keeps this leader a voter. */
  private onAnnouncementAcknowledgment(from: NodeId, acknowledgment: Acknowledgment): void {
    const announcing = this.announcing;
    if (announcing === null || !this.showsCommitKnown(from, acknowledgment, announcing.firstRound, announcing.index)) return;
    announcing.informed.add(from);
    if (!hasQuorum(announcing.informed.size, this.configuration.voters.length)) return;
    this.knownConfigurationIndex = announcing.index;
    this.announcing = null;
  }

  /**
   * The index of the last configuration change this leader committed that a majority of its
   * voters has shown it knows committed (0 if none in this term). The driver answers a removal
   * only then: a voter that holds the removal without knowing it committed still counts the
   * removed member, and an operator retires that machine on the answer (seed 3104638: the leader
   * crashed right after the commit, nobody else knew, and with the removed machine gone and one
   * voter on a replaced disk no one could be elected).
   */
  configurationKnownIndex(): number {
    return this.role === "leader" ? this.knownConfigurationIndex : 0;
  }

  /**
   * The index of this node's own removal or demotion if, when it stepped down as leader, a
   * majority of the remaining voters had shown it knows the commit (0 otherwise): the driver
   * answers that change only then. Stepping down for another reason (check-quorum, the wait's
   * bound) leaves the voters' knowledge unknown (seed 6004471: the answer came on a check-quorum
   * step-down, the machine was retired, and no other voter durably knew of the removal).
   */
  leftKnownIndex(): number {
    return this.leaveKnownIndex;
  }

  /**
   * Whether an Acknowledgment shows that a voter knows the entry at `index` committed: it answers
   * a heartbeat of a round opened (`firstRound` on) after that commit, at a match index covering
   * it. That heartbeat carried a commit index at least `index`, and the follower took it (it
   * answers with its own commit index or with the heartbeat's matching prefix).
   */
  private showsCommitKnown(from: NodeId, acknowledgment: Acknowledgment, firstRound: number, index: number): boolean {
    if (acknowledgment.context === undefined || acknowledgment.context < firstRound) return false;
    return acknowledgment.matchIndex >= index && this.configuration.isVoter(from);
  }

  /** This leader's removal committed: counts the voters that show they know it (`showsCommitKnown`), and hands over once most do. */
  private onLeavingAcknowledgment(from: NodeId, acknowledgment: Acknowledgment): void {
    const leaving = this.leaving;
    if (leaving === null || !this.showsCommitKnown(from, acknowledgment, leaving.firstRound, leaving.removalIndex)) return;
    leaving.informed.add(from);
    if (!hasQuorum(leaving.informed.size, this.configuration.voters.length)) return;
    this.leaveKnownIndex = leaving.removalIndex;
    this.stepDownRemoved();
  }

  private onReject(from: NodeId, reject: Reject): void {
    // This leader never sent a Proposal after its last index: a Reject of one would move the
    // follower's next index past the log.
    if (reject.rejectedIndex > this.log.lastIndex()) {
      this.drop(from, reject, "index_beyond_log");
      return;
    }
    const progress = this.progressOf(from);
    progress.recentActive = true;
    if (reject.reason !== "log_mismatch") {
      this.logger.warn({ from, reason: reject.reason }, "proposal rejected");
      return;
    }
    // A Reject older than a forgotten match could make the leader forget again, and one of its
    // probes answered twice: only the current epoch's answers move the progress.
    if ((reject.epoch ?? 0) !== progress.epoch) {
      this.drop(from, reject, "stale_epoch");
      return;
    }
    const lossNews = progress.noteAnswer(reject.recovering === true, reject.incarnation, this.ticksElapsed) && !this.trustsLostDisks();
    // Back up a whole term per round trip using the follower's hint (Raft §5.3, fast backup).
    const nextProbeIndex =
      reject.hintIndex !== undefined && reject.hintTerm !== undefined
        ? this.log.findConflictByTerm(reject.hintIndex, reject.hintTerm) + 1
        : reject.rejectedIndex;
    // The hint is at or above every index the follower holds in agreement with this leader (the
    // terms of matching entries are at most the probe's), so a hint below the match also says
    // the follower's log ends below what it acknowledged: a Proposal pipelined above the match.
    const lacksAcknowledged = reject.rejectedIndex <= progress.matchIndex || (reject.hintIndex !== undefined && reject.hintIndex < progress.matchIndex);
    if (lossNews || (lacksAcknowledged && progress.state !== "snapshot")) {
      // The follower lacks an entry it acknowledged: its disk lost it (PersistedState.possibleLoss),
      // or this Reject is older than that acknowledgment. Probing again from below is safe either
      // way; trusting the old match would count the lost entry and probe the same index forever.
      // The new epoch makes every answer sent before this one stale, Acknowledgments of the lost
      // entries among them (stale-acknowledgment.test.ts).
      progress.forgetMatch(Math.min(reject.rejectedIndex, nextProbeIndex) - 1, ++this.epochsIssued);
      this.sendProposals(from);
      return;
    }
    if (!progress.maybeDecrease(reject.rejectedIndex, nextProbeIndex)) {
      this.logger.debug({ from, rejectedIndex: reject.rejectedIndex }, "stale reject ignored");
      return;
    }
    this.sendProposals(from);
  }

  /** Raft §5.4.2 / Figure 8: commit only an index a majority holds whose entry is of this term. */
  private maybeCommit(): boolean {
    this.matchScratch.length = 0;
    // Voters only: a learner's log never counts toward a commit (thesis §4.2.1); nor does a
    // recovering follower's, while the others can make a majority (`countsRecoveringMatches`).
    const countRecovering = this.countsRecoveringMatches();
    for (const member of this.configuration.voters) {
      const progress = this.progressOf(member);
      this.matchScratch.push(countRecovering || member === this.id || !progress.recovering ? progress.matchIndex : 0);
    }
    if (this.config.unsafeBreakRule === "learner_counts_toward_commit") {
      // Broken on purpose: learners' matches stand in for the lowest voters' (a majority of the voters' count, from any member).
      for (const learner of this.configuration.learners) this.matchScratch.push(this.progressOf(learner).matchIndex);
      this.matchScratch.sort((left, right) => right - left);
      this.matchScratch.length = this.configuration.voters.length;
    }
    let index = majorityIndex(this.matchScratch, this.sortScratch);
    // A log inherited at election may hold two configuration entries above this leader's commit
    // index (a follower learns the commit index only from the next Proposal or heartbeat, so it
    // may hold X committed and the next change Y, proposed once X was, without knowing X is). The
    // configuration in effect here is then two changes behind Y, and a majority of it need not
    // meet a majority of Y: an index passes an inherited entry only with a majority of that
    // entry's voters too (seed 3004801).
    for (const inherited of this.inheritedConfigurations) {
      if (inherited.index > index) break;
      index = Math.min(index, majorityIndex(inherited.voters.map((voter) => this.progress.get(voter)?.matchIndex ?? 0), this.sortScratch));
    }
    const figure8Broken = this.config.unsafeBreakRule === "commit_old_term_by_count";
    if (index <= this.log.commitIndex || (!figure8Broken && this.log.term(index) !== this.term)) return false;
    const firstOfTerm = this.log.term(this.log.commitIndex) !== this.term;
    this.log.commitTo(index);
    while (this.inheritedConfigurations.length > 0 && (this.inheritedConfigurations[0]?.index ?? 0) <= index) this.inheritedConfigurations.shift();
    if (this.recovering && this.historyCheck === null && this.log.term(index) === this.term) {
      // Elected while recovering (every voter granted, or a plain majority of the others): its log
      // held every committed entry then (§5.4), and now a majority holds its own: it is up to date.
      this.recovering = false;
      this.logger.info({ term: this.term, commitIndex: index }, "recovered from a possible storage loss: committed an entry of this leader's own term");
    }
    if (firstOfTerm) {
      const awaiting = this.reads.takeAwaiting();
      if (awaiting.length > 0) this.startReads(awaiting);
    }
    return true;
  }

  /**
   * Whether a commit counts the matches of followers that say they are recovering from a possible
   * storage loss: only when the voters that do not (this leader among them: its election proved
   * its log complete) are too few for a majority. That is the cluster that elected with every
   * voter's grant; left out there, their matches would leave it committing nothing. Otherwise a
   * recovering follower counts toward no commit until it has caught up (or is demoted: protocol-
   * aware repair); leaving a match out only ever commits less.
   */
  private countsRecoveringMatches(): boolean {
    let sound = 0;
    for (const voter of this.configuration.voters) if (voter === this.id || !this.progressOf(voter).recovering) sound++;
    return !hasQuorum(sound, this.configuration.voters.length);
  }

  /** Tells every follower about a new commit index now: for what must not wait for a heartbeat. */
  private broadcastCommit(): void {
    for (const peer of this.peers) this.sendAppendOrCommit(peer);
  }

  /**
   * After the commit index advanced in the normal course of replication: a follower that may take
   * entries gets them now, and its Proposal carries the new commit index; the others learn it from
   * their next Proposal or the next heartbeat, at most `heartbeatTicks` later (a heartbeat carries
   * the commit index too). A Commit per advance would cost every follower a message to decode and
   * a Ready to run, and the leader a socket write per follower, for every commit: at one client
   * that was half of all messages (issue 13).
   */
  private replicateCommit(): void {
    for (const peer of this.peers) if (!this.sendAppend(peer)) this.notifyWaitingMember(peer);
  }

  /**
   * A member that forwarded entries answers its clients only once it knows the index committed,
   * and with nothing more to replicate its next Proposal could be a heartbeat away (a tick of
   * waiting for every forwarded request). It gets a `Commit` as soon as the commit index passes
   * what it waits for and what it is known to hold.
   */
  private notifyWaitingMember(peer: NodeId): void {
    const progress = this.progressOf(peer);
    if (progress.awaitedIndex > progress.commitSent) this.sendCommit(peer);
  }

  /** Sends `peer` its next entries if it may take them; returns whether anything was sent. */
  private sendAppend(peer: NodeId): boolean {
    const progress = this.progressOf(peer);
    // A probe goes even with nothing new to send when the member may lack entries: a member added
    // to the configuration starts probing at the end of the log, and its answer backs it up.
    const lastIndex = this.log.lastIndex();
    if (progress.isPaused() || !(progress.nextIndex <= lastIndex || (progress.state === "probe" && progress.matchIndex < lastIndex))) return false;
    this.sendProposals(peer);
    return true;
  }

  /** Sends `peer` its next entries if it may take them, else a `Commit` if it lags our commit index. */
  private sendAppendOrCommit(peer: NodeId): void {
    if (!this.sendAppend(peer)) this.sendCommit(peer);
  }

  /** Sends `peer` a `Commit` if it lags our commit index in what it is known to hold. */
  private sendCommit(peer: NodeId): void {
    const progress = this.progressOf(peer);
    // At most what the follower is known to hold: a Commit must never cover a divergent entry.
    const commitIndex = Math.min(this.log.commitIndex, progress.matchIndex);
    if (commitIndex <= progress.commitSent) return;
    const commit: Commit = { type: "Commit", term: this.term, commitIndex };
    this.outbox.send(peer, commit);
    progress.commitSent = commitIndex;
  }

  private sendTimeoutNow(to: NodeId): void {
    this.logger.info({ to }, "leadership transfer: target caught up");
    this.outbox.send(to, { type: "TimeoutNow", term: this.term });
  }

  // ReadIndex (Raft thesis §6.4)

  private onReadIndexRequest(from: NodeId, request: ReadIndexRequest): void {
    this.progressOf(from).recentActive = true;
    if (this.reads.count >= this.config.pendingReadsMax) {
      this.logger.debug({ from }, "read index request dropped: overloaded");
      return;
    }
    this.startReads([{ context: request.context, origin: from }]);
  }

  private startReads(requests: ReadonlyArray<Pick<PendingRead, "context" | "origin">>): void {
    // Until an entry of this term commits, this leader may not know the latest commit index.
    if (this.log.term(this.log.commitIndex) !== this.term) {
      for (const request of requests) this.reads.awaitCommit(request.context, request.origin);
      return;
    }
    const round = this.reads.openRound();
    for (const request of requests) this.reads.add(request.context, request.origin, this.log.commitIndex, round);
    if (this.voterPeers.length === 0) this.releaseReads();
    else this.broadcastHeartbeat(round);
  }

  private onReadAcknowledgment(from: NodeId, round: number): void {
    this.reads.acknowledge(from, round);
    this.releaseReads();
  }

  private releaseReads(): void {
    for (const read of this.reads.releaseConfirmed(this.configuration.voters, this.id)) {
      if (read.origin === this.id) {
        this.readStates.push({ context: read.context, index: read.index });
      } else {
        const response: ReadIndexResponse = { type: "ReadIndexResponse", term: this.term, context: read.context, index: read.index };
        this.outbox.send(read.origin, response);
      }
    }
  }

  // Membership (Raft thesis §4: single-server changes, in effect once committed)

  /**
   * Proposes one configuration change. Only a leader that has committed an entry of its own term
   * and has no other change uncommitted may propose one (thesis §4.1 and its 2015 fix); a
   * removal must leave a majority of the remaining voters reachable from this leader.
   */
  proposeMembershipChange(change: ConfigurationChange): MembershipProposal {
    // The change applies to the configuration in effect: inside a step the commit index may
    // have just passed a configuration entry not yet put into effect (seed 258: a demotion then
    // proposed on an Acknowledgment, built on the configuration before it, also undid the
    // leader's own demotion, two voters apart from the configuration in effect).
    this.noteCommitted();
    if (this.role !== "leader") return this.leader === null ? { ok: false, reason: "no_leader" } : { ok: false, reason: "not_leader", leader: this.leader };
    if (this.leadTransferee !== null || this.leaving !== null || this.configurationChangePending()) return { ok: false, reason: "change_in_progress" };
    const next = this.configuration.apply(change);
    if (!next.ok) return next;
    if (change.kind === "promote" && !this.learnerHoldsCurrentLog(change.id)) return { ok: false, reason: "learner_not_caught_up" };
    const nextConfiguration = new Configuration(next.members);
    if (!this.keepsReachableMajority(nextConfiguration)) return { ok: false, reason: "would_lose_quorum" };
    const entry = this.appendCommands([{ kind: "members", members: next.members }]);
    this.pendingConfigurationIndex = entry.index;
    this.logger.info({ change, index: entry.index }, "configuration change proposed");
    this.noteCommitted();
    return { ok: true, index: entry.index, members: next.members };
  }

  /** The configuration in effect on this node (the last it knows committed). */
  members(): Member[] {
    return this.configuration.toMembers();
  }

  /**
   * The configuration as of `index` (at or after this node's snapshot, at most its last index):
   * what a state-machine snapshot taken at `index` must carry.
   */
  configurationAt(index: number): Member[] {
    if (index < this.log.snapshotIndex || index > this.log.lastIndex()) throw new Error(`configurationAt: ${index} outside [${this.log.snapshotIndex}, ${this.log.lastIndex()}]`);
    for (let position = index; position > this.log.snapshotIndex; position--) {
      const command = this.log.entryAt(position)?.command;
      if (command?.kind === "members") return command.members.map((member) => ({ ...member }));
    }
    const snapshot = this.retainedSnapshot;
    if (snapshot !== null && snapshot.meta.index === this.log.snapshotIndex && snapshot.meta.members.length > 0) return snapshot.meta.members.map((member) => ({ ...member }));
    return Configuration.fromBootstrap(this.config.members).toMembers();
  }

  private configurationChangePending(): boolean {
    const broken = this.config.unsafeBreakRule;
    const changeUncommitted = broken !== "membership_changes_concurrent" && this.pendingConfigurationIndex > this.log.commitIndex;
    const ownTermUncommitted = broken !== "membership_change_before_term_commit" && this.log.term(this.log.commitIndex) !== this.term;
    return changeUncommitted || ownTermUncommitted;
  }

  /**
   * `would_lose_quorum`: the voters of `next` that can elect a leader must be a majority of it:
   * this leader (if it stays a voter), and each other voter it heard from within an election
   * timeout that holds an entry of this term. A voter without one may be recovering from a lost
   * disk and then grants no vote until a leader has caught it up; a configuration whose majority
   * needs its vote could elect no one once this leader is gone (its own removal) or down.
   */
  private keepsReachableMajority(next: Configuration): boolean {
    if (next.voters.length === 0) return false;
    let able = 0;
    for (const voter of next.voters) {
      if (voter === this.id) {
        able++;
        continue;
      }
      const heard = this.ticksElapsed - (this.lastHeardTick.get(voter) ?? Number.NEGATIVE_INFINITY) < this.config.electionTimeoutTicks;
      const progress = this.progress.get(voter);
      // One that says it is recovering grants no vote that a plain majority counts either.
      const current = progress !== undefined && progress.matchIndex >= this.termFirstIndex && !progress.recovering;
      if (heard && current) able++;
    }
    return hasQuorum(able, next.voters.length);
  }

  /** Looks at newly committed entries for configuration changes and puts each into effect, in order. */
  private noteCommitted(): void {
    const commitIndex = this.log.commitIndex;
    if (this.configurationScannedIndex >= commitIndex) return;
    let changed: Configuration | null = null;
    for (let index = Math.max(this.configurationScannedIndex, this.log.snapshotIndex) + 1; index <= commitIndex; index++) {
      const command = this.log.entryAt(index)?.command;
      if (command?.kind === "members") {
        changed = new Configuration(command.members);
        this.configurationIndex = index;
      }
    }
    this.configurationScannedIndex = commitIndex;
    if (changed !== null && !changed.equals(this.configuration)) this.setConfiguration(changed);
  }

  /** Puts a configuration into effect: who is replicated to, who votes, and whether this node still may lead. */
  private setConfiguration(next: Configuration): void {
    const previous = this.configuration;
    this.configuration = next;
    this.peers = next.members.map((member) => member.id).filter((id) => id !== this.id);
    this.voterPeers = next.voters.filter((id) => id !== this.id);
    this.followConfiguration(next, previous.voters.some((voter) => !next.isVoter(voter)));
    // Logged once the role's state matches the configuration (a leader's progress covers every
    // member): a logger may read status() on every line, as the node's term mixin does.
    if (previous !== next) this.logger.info({ voters: next.voters, learners: next.learners }, "configuration in effect");
  }

  private followConfiguration(next: Configuration, tookVoterAway: boolean): void {
    switch (this.role) {
      case "leader":
        this.onLeaderConfiguration(next, tookVoterAway);
        return;
      case "candidate":
      case "precandidate":
        if (!next.isVoter(this.id)) this.becomeFollower(this.term, null);
        return;
      case "follower":
        return;
    }
  }

  private onLeaderConfiguration(next: Configuration, tookVoterAway: boolean): void {
    for (const member of next.members) {
      if (this.progress.has(member.id)) continue;
      this.addProgress(member.id);
      // A new member gets its first probe now rather than at the next heartbeat.
      if (member.id !== this.id) this.sendProposals(member.id);
    }
    for (const [member, progress] of [...this.progress]) {
      if (next.isMember(member)) continue;
      // A last word to the removed member: one probe with the log from its match point and the
      // commit index, so that it learns of its removal and stops campaigning (thesis §4.2.3). A
      // leader that removed itself already knows, and sends nothing to itself.
      if (member !== this.id) {
        progress.becomeProbe();
        this.sendProposal(member);
      }
      this.progress.delete(member);
      this.learnerCaughtUpTicks.delete(member);
    }
    for (const learner of next.learners) if (!this.learnerCaughtUpTicks.has(learner)) this.learnerCaughtUpTicks.set(learner, 0);
    for (const voter of next.voters) this.learnerCaughtUpTicks.delete(voter);
    if (next.isVoter(this.id)) {
      // New learners get their first entries now rather than at the next heartbeat.
      for (const peer of this.peers) this.sendAppendOrCommit(peer);
      if (tookVoterAway) this.startAnnouncing();
      return;
    }
    this.startLeaving();
  }

  /**
   * A change that took a voter away is committed: a heartbeat round (and one per heartbeat until a
   * majority answered) tells the voters. Only such a change needs it: its member may be retired.
   */
  private startAnnouncing(): void {
    const round = this.reads.openRound();
    this.announcing = { index: this.configurationIndex, firstRound: round, sinceTick: this.ticksElapsed, informed: new Set([this.id]) };
    if (hasQuorum(1, this.configuration.voters.length)) {
      this.knownConfigurationIndex = this.configurationIndex;
      this.announcing = null;
      return;
    }
    this.broadcastHeartbeat(round);
  }

  /** This leader's removal is committed: it tells every member, and leads on until a majority of the voters knows. */
  private startLeaving(): void {
    if (this.leaving !== null) return;
    const round = this.reads.openRound();
    this.leaving = { removalIndex: this.log.commitIndex, firstRound: round, sinceTick: this.ticksElapsed, informed: new Set() };
    this.logger.info({ voters: this.configuration.voters, removalIndex: this.log.commitIndex }, "leaving: this node's removal or demotion is committed; leading until the remaining voters know");
    this.broadcastCommit();
    this.broadcastHeartbeat(round);
  }

  /**
   * This leader's own removal is committed and known (or the wait for it timed out): it hands
   * leadership to the most caught-up remaining voter that knows (TimeoutNow, thesis §3.10) and
   * steps down. It no longer counts toward anything and, not being a voter, never campaigns again.
   */
  private stepDownRemoved(): void {
    this.broadcastCommit();
    const informed = this.leaving?.informed;
    let successor: NodeId | null = null;
    let successorMatch = -1;
    for (const voter of this.voterPeers) {
      if (informed !== undefined && informed.size > 0 && !informed.has(voter)) continue;
      const match = this.progressOf(voter).matchIndex;
      if (match > successorMatch) {
        successor = voter;
        successorMatch = match;
      }
    }
    if (successor !== null && successorMatch === this.log.lastIndex()) this.sendTimeoutNow(successor);
    this.logger.info({ successor, handedOver: successorMatch === this.log.lastIndex() }, "stepping down: this node's removal or demotion is committed");
    this.becomeFollower(this.term, null);
  }

  /**
   * Whether a learner's acknowledgments show it holds, durably, this leader's first entry and the
   * configuration in effect (which names it): only then may it become a voter. Within
   * `promoteLagEntriesMax` of a short log alone, a learner that had acknowledged nothing was
   * promoted; restarted on a disk that had kept none of what it received (never acknowledged, so
   * allowed to go), it knew itself in no configuration, refused every vote as a joining node,
   * and the four voters, one of them on an empty disk, could elect no one (seed 3000113).
   */
  private learnerHoldsCurrentLog(learner: NodeId): boolean {
    return this.progressOf(learner).matchIndex >= Math.max(this.termFirstIndex, this.configurationIndex);
  }

  /**
   * The leader's share of membership upkeep, once per tick: promote a learner that has stayed
   * within `promoteLagEntriesMax` of the log for `promoteStableTicks`, and (when enabled) remove
   * a voter not heard from for `deadMemberRemoveAfterTicks`, never below `votersMin` voters.
   */
  private tickMembership(): void {
    const lastIndex = this.log.lastIndex();
    for (const learner of this.configuration.learners) {
      const progress = this.progressOf(learner);
      // A learner still recovering from a possible storage loss is not caught up, however close
      // its log: it may lack what a majority relies on it for (protocol-aware repair, below).
      const caughtUp = !progress.recovering && this.learnerHoldsCurrentLog(learner) && lastIndex - progress.matchIndex <= this.config.promoteLagEntriesMax;
      this.learnerCaughtUpTicks.set(learner, caughtUp ? (this.learnerCaughtUpTicks.get(learner) ?? 0) + 1 : 0);
    }
    if (this.configurationChangePending() || this.leadTransferee !== null || this.leaving !== null) return;
    if (this.demoteRecoveringVoter()) return;
    if (this.config.autoPromote) {
      for (const learner of this.configuration.learners) {
        if ((this.learnerCaughtUpTicks.get(learner) ?? 0) < this.config.promoteStableTicks) continue;
        const proposed = this.proposeMembershipChange({ kind: "promote", id: learner });
        this.logger.info({ learner, proposed: proposed.ok }, "learner caught up: promoting it to voter");
        return;
      }
    }
    const removeAfterTicks = this.config.deadMemberRemoveAfterTicks;
    if (removeAfterTicks === undefined || this.configuration.voters.length <= this.config.votersMin) return;
    for (const voter of this.voterPeers) {
      const silentTicks = this.ticksElapsed - (this.lastHeardTick.get(voter) ?? this.leaderSinceTick);
      if (silentTicks < removeAfterTicks) continue;
      const proposed = this.proposeMembershipChange({ kind: "remove", id: voter });
      this.logger.warn({ voter, silentTicks, proposed: proposed.ok ? true : proposed.reason }, "voter unreachable too long: removing it");
      if (proposed.ok) return;
    }
  }

  /**
   * Protocol-aware repair (Alagappan et al., FAST 2018): a voter that says it is recovering from a
   * possible storage loss (a wiped disk under a known id, or damage found in its log) is demoted
   * to learner through the log once it has said so for an election timeout, so that it neither
   * votes nor counts toward a commit until it has caught up; `autoPromote` then makes it a voter
   * again once it is no longer recovering and within `promoteLagEntriesMax`, with no operator.
   * Only with `autoPromote` on (with it off, only an operator would promote it again, and the node
   * stays a recovering voter, whose vote counts only in an election every voter grants), and
   * never when the demotion would lose quorum (`keepsReachableMajority`). Returns whether it
   * proposed one.
   */
  private demoteRecoveringVoter(): boolean {
    if (!this.config.autoPromote) return false;
    for (const voter of this.voterPeers) {
      const since = this.progressOf(voter).recoveringSinceTick;
      // A repair that ends within an election timeout (a founder a moment late at a cluster's
      // first start, a short log to catch up) is over before a demotion could commit: it would
      // cost two configuration entries and a voter for nothing. Until then its vote and its
      // match count as a recovering voter's (`countsRecoveringMatches`).
      if (since === null || this.ticksElapsed - since < this.config.electionTimeoutTicks) continue;
      const proposed = this.proposeMembershipChange({ kind: "demote", id: voter });
      if (proposed.ok) {
        this.logger.warn({ voter, index: proposed.index }, "voter recovering from a possible storage loss: demoting it to learner until it has caught up");
        return true;
      }
      // Retried every tick while it lasts (a change in progress, or quorum would be lost): quiet.
      this.logger.debug({ voter, reason: proposed.reason }, "recovering voter not demoted yet");
    }
    return false;
  }

  /** How many configuration entries lie in `[from, to]` of the log. */
  private countConfigurationEntries(from: number, to: number): number {
    let count = 0;
    for (let index = Math.max(from, this.log.firstIndex()); index <= to; index++) {
      if (this.log.entryAt(index)?.command.kind === "members") count++;
    }
    return count;
  }

  // Snapshots (Raft §7)

  private startSnapshot(peer: NodeId, progress: Progress): boolean {
    const snapshot = this.retainedSnapshot;
    if (snapshot === null) throw new Error(`no snapshot to send to ${peer}: log compacted without one`);
    this.logger.info({ peer, snapshotIndex: snapshot.meta.index }, "follower behind the log: sending snapshot");
    progress.becomeSnapshot(snapshot.meta.index);
    this.sendSnapshotChunk(peer, progress);
    return true;
  }

  /** Sends the chunk at the acknowledged offset: one chunk in flight per follower. */
  private sendSnapshotChunk(peer: NodeId, progress: Progress): void {
    const snapshot = this.retainedSnapshot;
    if (snapshot === null) return;
    if (progress.snapshotIndex !== snapshot.meta.index) {
      // A newer compaction replaced the snapshot being sent: start the new one from the beginning.
      progress.snapshotIndex = snapshot.meta.index;
      progress.snapshotOffset = 0;
    }
    const offset = progress.snapshotOffset;
    const end = Math.min(snapshot.data.length, offset + this.config.snapshotChunkBytesMax);
    const chunk: SnapshotChunk = {
      type: "SnapshotChunk",
      term: this.term,
      snapshotIndex: snapshot.meta.index,
      snapshotTerm: snapshot.meta.term,
      offset,
      data: encodeBase64(snapshot.data.subarray(offset, end)),
      done: end >= snapshot.data.length,
      members: snapshot.meta.members,
    };
    if (progress.epoch > 0) chunk.epoch = progress.epoch;
    this.outbox.send(peer, chunk);
    progress.snapshotIdleTicks = 0;
  }

  private onSnapshotAck(from: NodeId, ack: SnapshotAck): void {
    const progress = this.progressOf(from);
    progress.recentActive = true;
    const size = this.retainedSnapshot?.data.length ?? 0;
    if (progress.state !== "snapshot" || ack.snapshotIndex !== progress.snapshotIndex) {
      this.logger.debug({ from, snapshotIndex: ack.snapshotIndex }, "stale snapshot ack ignored");
      return;
    }
    if (!ack.accepted) {
      progress.snapshotOffset = ack.offset <= size ? ack.offset : 0;
      this.sendSnapshotChunk(from, progress);
      return;
    }
    if (ack.offset <= progress.snapshotOffset || ack.offset > size) return;
    progress.snapshotOffset = ack.offset;
    if (ack.offset < size) this.sendSnapshotChunk(from, progress);
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private progressOf(member: NodeId): Progress {
    const progress = this.progress.get(member);
    if (progress === undefined) throw new Error(`no progress for ${member} (role ${this.role})`);
    return progress;
  }

  private applyFloor(): number {
    return Math.max(this.appliedIndex, this.log.snapshotIndex);
  }

  /** The highest index that is both committed and durable here: what a Ready may hand out to apply. */
  private applicableIndex(): number {
    return Math.min(this.log.commitIndex, this.log.persistedIndex);
  }

  /**
   * The hard state to write with this Ready, or null. A change of term or vote must be durable
   * before any vote or acknowledgment leaves; a change of the commit index alone is not worth an
   * fsync (Raft does not need it durable) and rides along with the next write of entries.
   */
  private hardStateToWrite(writesLog: boolean): HardState | null {
    const current = this.hardState();
    const last = this.lastHardState;
    const termOrVoteChanged = this.durableFieldsChanged();
    // A commit index that passed a configuration entry is written and synced now: the
    // configuration in effect after a restart comes from it, and a voter that answered a
    // leader's round about a removal must still know it after a power cut (seed 6004471).
    const passedConfiguration = current.commitIndex !== last.commitIndex && this.configurationIndex > last.commitIndex;
    if (termOrVoteChanged || passedConfiguration || (writesLog && current.commitIndex !== last.commitIndex)) return current;
    return null;
  }

  /**
   * Whether a field of the hard state that must be durable before anything is promised (term,
   * vote, recovery and its commit bound) differs from the last one written. One predicate for
   * `hasReady` and `hardStateToWrite`: a recovery bound learned in a term and vote already written
   * made no Ready of its own, so a crash before the next one lost it (the class of seed 7016221).
   */
  private durableFieldsChanged(): boolean {
    const last = this.lastHardState;
    const bound = this.recovering && this.recoveryCommitIndexMin > 0 ? this.recoveryCommitIndexMin : undefined;
    return this.term !== last.term || this.votedFor !== last.votedFor || this.recovering !== (last.recovering === true) || bound !== last.recoveryCommitIndexMin;
  }

  /** Counts and drops a peer message the core cannot accept (see message-validation.ts). */
  private drop(from: NodeId, message: ConsensusMessage, reason: DropReason): void {
    this.logger.debug({ from, type: message.type, term: message.term, reason }, "message dropped");
    this.drops.add(from, message.type, reason);
  }

  /** Fails forwarded reads that got no answer within `forwardedReadTimeoutTicks` (the answer or the request was lost). */
  private expireForwardedReads(): void {
    for (const [context, pending] of this.forwardedReads) {
      if (this.ticksElapsed - pending.sentTick < this.config.forwardedReadTimeoutTicks) return;
      this.forwardedReads.delete(context);
      this.readFailures.push({ context, reason: "timeout" });
    }
  }

  private randomElectionTimeout(): number {
    const base = this.config.electionTimeoutTicks;
    const offset = Math.floor(this.config.random() * base);
    return base + Math.min(Math.max(offset, 0), base - 1);
  }

  private softState(): SoftState {
    return { role: this.role, leader: this.leader, term: this.term };
  }

  private hardState(): HardState {
    const hardState: HardState = { term: this.term, votedFor: this.votedFor, commitIndex: this.log.commitIndex };
    if (this.recovering) hardState.recovering = true;
    if (this.recovering && this.recoveryCommitIndexMin > 0) hardState.recoveryCommitIndexMin = this.recoveryCommitIndexMin;
    return hardState;
  }
}

function isFromLeader(message: ConsensusMessage): boolean {
  return (
    message.type === "Proposal" ||
    message.type === "Commit" ||
    message.type === "SnapshotChunk" ||
    message.type === "TimeoutNow" ||
    message.type === "ReadIndexResponse"
  );
}

function sameSoftState(left: SoftState, right: SoftState): boolean {
  return left.role === right.role && left.leader === right.leader && left.term === right.term;
}


