import type { ClientSession, Command, Entry, Member, NodeId, TokenCreateCommand, TokenRevokeCommand } from "@lockstep/protocol";
import type { MembershipChange, MembershipChangeRefusal } from "../configuration.js";
import { sameStoreLimits, Store } from "@lockstep/state-machine";
import type { ApplyResult, Definition, StoreLimits } from "@lockstep/state-machine";
import type { Clock, Logger, RandomSource, Snapshot, Storage, TimerHandle, Transport } from "../interfaces.js";
import { silentLogger } from "../interfaces.js";
import type { MetricsSink } from "../metrics-sink.js";
import { noopMetrics } from "../metrics-sink.js";
import { estimateEntryBytes } from "../entry-size.js";
import { RaftCore } from "../raft-core.js";
import { storeCommand } from "../store-command.js";
import type { CoreStatus } from "../raft-core.js";
import type { Ready, SoftState } from "../ready.js";
import { defaultDriverConfig } from "./driver-config.js";
import { DroppedMessageLog } from "./dropped-message-log.js";
import type { DriverConfig } from "./driver-config.js";
import { PendingCommands, type CommandOutcome } from "./pending-commands.js";
import { PendingReads } from "./pending-reads.js";
import type { ReadFailureCode } from "./pending-reads.js";
import { LocalSession, type RegisterOutcome } from "./local-session.js";
import { PendingRequests } from "./pending-requests.js";
import { sessionWrite, type WriteRequest } from "./session-write.js";
import type { PendingCommand, RequestFailure } from "./pending-requests.js";
import { CounterBatch, CounterCell } from "./counter-batch.js";
import { PersistTimes } from "./persist-times.js";
import { StoreMetrics } from "./store-metrics.js";
import { StoreEncodes, type StoreEncodingOutcome } from "./store-encodes.js";

export interface ConsensusNodeOptions {
  id: NodeId;
  cluster: string;
  /**
   * The bootstrap configuration (DESIGN.md §9): used only while this node's storage holds no
   * configuration (a new cluster's first leader writes it into the log once); ignored after that.
   * A bare id is a voter with unknown addresses. Empty for a node that joins a running cluster.
   */
  members: ReadonlyArray<NodeId | Member>;
  definition: Definition;
  transport: Transport;
  storage: Storage;
  clock: Clock;
  /** Seeded in the simulator; backed by crypto randomness in a real node. */
  random: RandomSource;
  /**
   * This process's incarnation, in [1, 2^32) (`CoreConfig.incarnation`): a new one at every start,
   * so that a leader tells the answers of this process from those of the one before it. Omitted:
   * drawn from `random`.
   */
  incarnation?: number;
  config?: Partial<DriverConfig>;
  metrics?: MetricsSink;
  logger?: Logger;
  /**
   * Called once if the node halts because its storage or state machine failed: it can no longer
   * promise durability, so the process should stop (and be restarted, recovering from disk).
   */
  onFatal?: (error: unknown) => void;
  /**
   * The store limits (quota, sessions) this node is configured with. Limits are replicated state:
   * a store starts with the defaults and, when this node is leader and the store's limits differ,
   * it proposes a `limits` entry. Omitted: this node never proposes one.
   */
  storeLimits?: StoreLimits;
  /** Called for every applied entry from the very first one (before `start` resolves), in log order. */
  onApplied?: (event: AppliedEvent) => void;
  /**
   * Runs a callback soon, after the current event: proposals made until then go to the core as
   * one batch. A real node passes `setImmediate` (batching every request of one I/O turn); the
   * default, `queueMicrotask`, keeps the simulator deterministic.
   */
  schedule?: (callback: () => void) => void;
}

/** What a transition request ends with: the state machine's answer, or a failure whose outcome is unknown. */
export type TransitionOutcome = ApplyResult | RequestFailure;

export type ReadOutcome =
  | { ok: true; key: string; state: string; revision: number; storeRevision: number }
  | { ok: false; code: ReadFailureCode };

/** A committed entry after the local state machine applied it. */
export interface AppliedEvent {
  index: number;
  term: number;
  command: Command;
  result: ApplyResult;
}

/** The core's view, with the applied index of this node's store and the driver's own facts. */
export interface NodeStatus extends Pick<CoreStatus, "id" | "role" | "term" | "leader" | "commitIndex" | "recovering"> {
  /** What the local store has applied (the core's applied index lags it inside a Ready). */
  appliedIndex: number;
  /** Ids of the configuration this node has applied. */
  members: NodeId[];
  /**
   * The configuration this node has applied, each member with its replication progress: its
   * `matchIndex` and `lag` (entries behind the leader's last index) are known on the leader only.
   */
  configuration: Array<Member & { matchIndex: number | null; lag: number | null }>;
  /** Replication progress of each follower; known only on the leader. */
  progress: Array<{ id: NodeId; matchIndex: number; recovering: boolean }>;
  stopped: boolean;
}

/** What `ConsensusNode.summary()` returns: `NodeStatus` without the copies of the configuration and the progress. */
export interface NodeSummary extends Pick<NodeStatus, "id" | "role" | "term" | "leader" | "commitIndex" | "appliedIndex"> {
  /** Ids of the configuration this node has applied (as `NodeStatus.members`); shared, never changed in place. */
  members: readonly NodeId[];
}

type AppliedListener = (event: AppliedEvent) => void;

/** The answer of `changeMembership`. `timeout`: the outcome is unknown (look at `members()`). */
export type MembershipChangeOutcome =
  | { ok: true; index: number; members: Member[] }
  | { ok: false; reason: MembershipChangeRefusal | "timeout"; leader?: NodeId };

/** Join-token commands a leader awaits at once; they are rare (one per join), so a small bound. */
const pendingCommandsMax = 256;

/** Backups waiting for the store's bytes at once; they share one encoding, so a few are plenty. */
const storeEncodesWaitingMax = 16;

/** The commands `proposeCommand` appends: they carry no client session. */
type JoinTokenCommand = Extract<Command, { kind: "join_token_create" | "join_token_use" | "join_token_revoke" }>;

/**
 * Runs the pure core over a Transport, a Storage and a Clock: it ticks the core, feeds it
 * messages, persists and sends what each `Ready` asks in the order `Ready` documents, applies
 * committed entries to the store and answers the clients waiting on them.
 *
 * Group commit falls out of the loop's shape: while one `Ready` is being persisted, new
 * messages and proposals keep stepping the core, and all of them go out in the next `Ready`.
 */
export class ConsensusNode {
  private readonly config: DriverConfig;
  private readonly metrics: MetricsSink;
  private readonly logger: Logger;
  private readonly pendingRequests: PendingRequests<ApplyResult>;
  private readonly localSession: LocalSession;
  private readonly storeMetrics: StoreMetrics;
  /** Sums the counters of a batch of applied entries (transitions_total, proposals_total) into one report per series. */
  private readonly counterBatch: CounterBatch;
  /** The series of proposals_total per result code, built once each (the result codes are a fixed set). */
  private readonly proposalCells = new Map<string, CounterCell>();
  private readonly okProposalCell = new CounterCell("proposals_total", Object.freeze({ result: "ok" }));
  private registrations = 0;
  private readonly pendingReads: PendingReads;
  private readonly pendingCommands: PendingCommands;
  private readonly appliedListeners = new Set<AppliedListener>();
  private readonly localClientId: string;
  private tickTimer: TimerHandle | null = null;
  private readyLoopRunning = false;
  private readyLoopIdle: Promise<void> = Promise.resolve();
  private stopping = false;
  private stopped = false;
  private soft: SoftState;
  private lastAppliedTerm = 0;
  private lastSnapshotIndex = 0;
  /** Encoded bytes of the entries applied since the last snapshot: what compaction would free (`logBytesInMemoryMax`). */
  private appliedBytesSinceSnapshot = 0;
  /** The store the core's `verifySnapshot` decoded, kept so that restoring it does not decode it twice. */
  private verifiedSnapshot: { data: Uint8Array; store: Store } | null = null;
  private readonly droppedMessageLog: DroppedMessageLog;
  /** The configuration as of the store's applied index (what `members()` answers). */
  private appliedMembers: Member[];
  /** The ids of `appliedMembers`, frozen, built on first use after each change: `summary()` copies nothing. */
  private appliedMemberIds: readonly NodeId[] | null = null;
  private readonly membersListeners = new Set<(members: Member[]) => void>();
  /** Membership changes proposed here, by log index, waiting to be applied (or to time out). */
  private readonly pendingChanges = new Map<number, { term: number; deadlineMs: number; resolve: (outcome: MembershipChangeOutcome) => void }>();
  /**
   * This leader's own removal, applied: answered once the core has handed leadership over (it
   * leads until most of the remaining voters know the removal committed), so that an operator who
   * retires the machine on the answer leaves voters that can elect without it. At most one: the
   * core makes one change at a time.
   */
  private leavingChange: { deadlineMs: number; outcome: MembershipChangeOutcome; resolve: (outcome: MembershipChangeOutcome) => void } | null = null;
  /**
   * A committed change that took a voter away, answered once a majority of the voters has shown
   * it knows the commit (`RaftCore.configurationKnownIndex`): the operator retires the removed
   * machine on the answer.
   */
  private announcedChange: { index: number; deadlineMs: number; outcome: MembershipChangeOutcome; resolve: (outcome: MembershipChangeOutcome) => void } | null = null;
  /** Transitions waiting for the next scheduled batch proposal. */
  private proposalBatch: PendingCommand[] = [];
  private readonly schedule: (callback: () => void) => void;
  /** When the leader's own writes of its entries finished (for the replicate stage). */
  private readonly persistTimes = new PersistTimes();
  /** Backups waiting for the store's bytes, served by the Ready loop between Readys. */
  private readonly storeEncodes = new StoreEncodes(storeEncodesWaitingMax);

  private constructor(
    private readonly options: ConsensusNodeOptions,
    private readonly core: RaftCore,
    private store: Store,
    snapshotIndex: number,
  ) {
    this.config = { ...defaultDriverConfig, ...options.config };
    this.metrics = options.metrics ?? noopMetrics;
    this.counterBatch = new CounterBatch(this.metrics);
    this.logger = options.logger ?? silentLogger;
    this.pendingRequests = new PendingRequests(options.clock, this.config.pendingRequestsMax, this.config.consensusTimeoutMs, (command, outcome) =>
      this.countProposal(command, outcome),
    );
    this.pendingReads = new PendingReads(options.clock, options.random, this.config.pendingReadsMax, this.config.consensusTimeoutMs);
    this.pendingCommands = new PendingCommands(options.clock, pendingCommandsMax, this.config.consensusTimeoutMs);
    this.droppedMessageLog = new DroppedMessageLog(this.metrics, this.logger);
    // Registration nonces unique per incarnation, so two incarnations never take each other's session.
    this.localClientId = `${options.id}-${Math.floor(options.random() * 2 ** 48).toString(36)}`;
    this.localSession = new LocalSession(() => this.registerSession());
    this.storeMetrics = new StoreMetrics(this.metrics, options.definition, this.counterBatch);
    if (options.onApplied !== undefined) this.appliedListeners.add(options.onApplied);
    this.lastSnapshotIndex = snapshotIndex;
    this.schedule = options.schedule ?? queueMicrotask;
    const status = core.status();
    this.soft = { role: status.role, leader: status.leader, term: status.term };
    this.appliedMembers = core.configurationAt(snapshotIndex);
  }

  /** Loads durable state, restores the store from the latest snapshot and starts ticking. */
  static async start(options: ConsensusNodeOptions): Promise<ConsensusNode> {
    const config = { ...defaultDriverConfig, ...options.config };
    const persisted = await options.storage.load();
    let store = new Store(options.definition, { members: options.members.map((member) => (typeof member === "string" ? member : member.id)) });
    if (persisted.snapshot !== null) {
      const restored = Store.restore(options.definition, persisted.snapshot.data);
      if (!restored.ok) throw new Error(`snapshot at index ${persisted.snapshot.meta.index} cannot be restored: ${restored.reason}: ${restored.detail}`);
      store = restored.store;
    }
    // Assigned once the node exists: the core calls it only from `step`, after construction.
    let verifySnapshot: (snapshot: Snapshot) => { ok: true } | { ok: false; reason: string } = () => ({ ok: false, reason: "node not started" });
    const core = new RaftCore(
      {
        id: options.id,
        cluster: options.cluster,
        members: options.members,
        random: options.random,
        incarnation: options.incarnation ?? 1 + Math.floor(options.random() * 0xffff_fffe),
        electionTimeoutTicks: config.electionTimeoutTicks,
        heartbeatTicks: config.heartbeatTicks,
        preVote: config.preVote,
        checkQuorum: config.checkQuorum,
        entriesPerProposalMax: config.entriesPerProposalMax,
        bytesPerProposalMax: config.bytesPerProposalMax,
        inflightProposalsMax: config.inflightProposalsMax,
        uncommittedEntriesMax: config.uncommittedEntriesMax,
        pendingReadsMax: config.pendingReadsMax,
        snapshotChunkBytesMax: config.snapshotChunkBytesMax,
        autoPromote: config.autoPromote,
        promoteLagEntriesMax: config.promoteLagEntriesMax,
        promoteStableTicks: Math.max(1, Math.ceil(config.promoteStableMs / config.tickMs)),
        votersMin: config.votersMin,
        ...(config.deadMemberRemoveAfterMs === undefined ? {} : { deadMemberRemoveAfterTicks: Math.max(1, Math.ceil(config.deadMemberRemoveAfterMs / config.tickMs)) }),
        forwardedReadTimeoutTicks: Math.max(1, Math.ceil(config.consensusTimeoutMs / config.tickMs)),
        verifySnapshot: (snapshot) => verifySnapshot(snapshot),
        ...(options.logger === undefined ? {} : { logger: options.logger }),
        ...(config.unsafeBreakRule === undefined ? {} : { unsafeBreakRule: config.unsafeBreakRule }),
      },
      persisted,
    );
    const node = new ConsensusNode(options, core, store, persisted.snapshot?.meta.index ?? 0);
    verifySnapshot = (snapshot) => node.verifySnapshot(snapshot);
    node.lastAppliedTerm = persisted.snapshot?.meta.term ?? 0;
    options.transport.onMessage((envelope) => node.onEnvelope(envelope));
    node.metrics.set("cluster_members", {}, node.appliedMembers.filter((member) => member.voter).length);
    node.scheduleTick();
    node.kick();
    return node;
  }

  /** Proposes a transition and resolves with the state machine's answer once it is applied here. */
  transition(request: { key: string; to: string; expect?: string; session?: ClientSession }): Promise<TransitionOutcome> {
    return this.write({ kind: "transition", key: request.key, to: request.to, expect: request.expect }, request.session);
  }

  /** Proposes the delete of a key and resolves with the state machine's answer once it is applied here. */
  delete(request: { key: string; expect?: string; session?: ClientSession }): Promise<TransitionOutcome> {
    return this.write({ kind: "delete", key: request.key, expect: request.expect }, request.session);
  }

  /** Registers a client session through the log; its id is the registering entry's index. */
  async registerSession(): Promise<RegisterOutcome> {
    const nonce = `${this.localClientId}.${++this.registrations}`;
    const outcome = await this.submit({ kind: "register_session", nonce });
    if (outcome.ok && outcome.kind === "register_session") return { ok: true, clientId: outcome.clientId };
    if (!outcome.ok && isRequestFailure(outcome)) return outcome;
    throw new Error(`consensus invariant violated: a registration was answered ${JSON.stringify(outcome)}`);
  }

  /**
   * A write with the caller's session, or with this node's own. An own-session write whose first
   * applied copy was refused for its session (expired, or a seq the window left behind) was
   * certainly not applied, so it is sent again with a fresh session or seq.
   */
  private write(request: WriteRequest, session: ClientSession | undefined): Promise<TransitionOutcome> {
    return session !== undefined ? this.submit(sessionWrite(request, session)) : this.writeWithLocalSession(request);
  }

  private async writeWithLocalSession(request: WriteRequest): Promise<TransitionOutcome> {
    for (let attempt = 0; ; attempt++) {
      const local = await this.localSession.next();
      if (!local.ok) return local;
      const outcome = await this.submit(sessionWrite(request, local.session));
      if (outcome.ok || outcome.code !== "session_expired" || attempt >= localSessionRetriesMax) return outcome;
      if (outcome.reason === "unknown_session") this.localSession.forget(local.session.clientId);
    }
  }

  private submit(command: PendingCommand): Promise<TransitionOutcome> {
    if (this.stopping) return Promise.resolve({ ok: false, code: "shutting_down" });
    // Every answer is counted by `countProposal` as it is given.
    const { outcome, accepted } = this.pendingRequests.add(command);
    // A retry of a request still pending is proposed again too: its first proposal may have been
    // lost on the way to the leader, and the session makes a second copy harmless.
    if (accepted) this.enqueueProposal(command);
    return outcome;
  }

  /** Counts one answer to `submit` (each waiter's): in `PendingRequests`, which saves a promise per write. */
  private countProposal(command: PendingCommand, outcome: TransitionOutcome): void {
    // Registrations are counted by sessions_registered_total; proposals_total counts writes.
    if (command.kind === "register_session") return;
    if (outcome.ok) return this.counterBatch.increment(this.okProposalCell);
    const result = resultCode(outcome);
    let cell = this.proposalCells.get(result);
    if (cell === undefined) this.proposalCells.set(result, (cell = new CounterCell("proposals_total", Object.freeze({ result }))));
    this.counterBatch.increment(cell);
  }

  /**
   * Appends a join-token command on the leader and resolves with the state machine's answer once
   * it is applied here. Only a leader proposes these (a follower's caller forwards the request to
   * the leader): `not_leader` names the leader when one is known.
   */
  proposeCommand(command: JoinTokenCommand): Promise<CommandOutcome | { ok: false; code: "not_leader"; leader: NodeId | null }> {
    if (this.stopping) return Promise.resolve({ ok: false, code: "shutting_down" });
    const status = this.core.status();
    if (status.role !== "leader") return Promise.resolve({ ok: false, code: "not_leader", leader: status.leader });
    if (this.pendingCommands.size >= pendingCommandsMax) return Promise.resolve({ ok: false, code: "overloaded" });
    const proposed = this.core.propose([command]);
    if (!proposed.ok || proposed.forwarded) {
      return Promise.resolve(proposed.ok || proposed.reason !== "overloaded" ? { ok: false, code: "no_quorum" } : { ok: false, code: "overloaded" });
    }
    const outcome = this.pendingCommands.add(proposed.index, proposed.term)!;
    this.kick();
    return outcome;
  }

  /**
   * Proposes a command that carries no client session (a token change): it is forwarded to the
   * leader like a transition, but nothing here waits for it. The caller learns the outcome from
   * `onApplied` by matching the command's `proposalId`, and proposes again on `no_leader`.
   */
  proposeDetached(command: TokenCreateCommand | TokenRevokeCommand): { ok: true } | { ok: false; reason: "no_leader" | "overloaded" | "transfer_in_progress" | "shutting_down" } {
    if (this.stopping || this.stopped) return { ok: false, reason: "shutting_down" };
    const proposed = this.core.propose([command]);
    this.kick();
    return proposed.ok ? { ok: true } : { ok: false, reason: proposed.reason };
  }

  /** Reads one key: linearizable (ReadIndex) unless `stale`, which answers from the local store at once. */
  async read(key: string, consistency: "linearizable" | "stale" = "linearizable"): Promise<ReadOutcome> {
    if (consistency === "linearizable") {
      const barrier = await this.readBarrier();
      if (!barrier.ok) return barrier;
    }
    const machine = this.store.get(key);
    return { ok: true, key, state: machine.state, revision: machine.revision, storeRevision: this.store.appliedIndex };
  }

  /**
   * Resolves once this node's store reflects every write committed before the call (ReadIndex,
   * Raft thesis §6.4). Read the store right after it resolves, in the same turn.
   */
  readBarrier(): Promise<{ ok: true } | { ok: false; code: ReadFailureCode }> {
    if (this.stopping) return Promise.resolve({ ok: false, code: "shutting_down" });
    return new Promise((resolve) => {
      const context = this.pendingReads.add(resolve);
      if (context === null) {
        resolve({ ok: false, code: "overloaded" });
        return;
      }
      const requested = this.core.read(context);
      if (!requested.ok && requested.reason === "overloaded") this.pendingReads.fail(context, "overloaded");
      // With no leader the read waits: it is re-requested when a leader appears, or times out.
      this.kick();
    });
  }

  /**
   * The store's bytes (a backup), with the index, term and configuration they are as of. Encoded
   * in steps by the Ready loop between two Readys: heartbeats, votes and Proposals keep flowing
   * while a large store is encoded, and nothing applies meanwhile, so the bytes are of one index.
   * Call it after `readBarrier` for a backup that holds every write acknowledged before: the
   * index is then at least the barrier's. Requests that wait together share one encoding.
   */
  encodeStore(): Promise<StoreEncodingOutcome> {
    if (this.stopping || this.stopped) return Promise.resolve({ ok: false, code: "shutting_down" });
    const outcome = this.storeEncodes.add();
    this.kick();
    return outcome;
  }

  /** The local store. Its contents are as of this node's applied index: for a stale read. */
  get localStore(): Store {
    return this.store;
  }

  status(): NodeStatus {
    const core = this.core.status();
    return {
      id: this.options.id,
      role: core.role,
      term: core.term,
      leader: core.leader,
      commitIndex: core.commitIndex,
      recovering: core.recovering,
      appliedIndex: this.store.appliedIndex,
      members: this.appliedMembers.map((member) => member.id),
      configuration: this.appliedMembers.map((member) => {
        const progress = core.progress.find((entry) => entry.id === member.id);
        return { ...member, matchIndex: progress?.matchIndex ?? null, lag: progress === undefined ? null : core.lastIndex - progress.matchIndex };
      }),
      progress: core.progress.map((progress) => ({ id: progress.id, matchIndex: progress.matchIndex, recovering: progress.recovering })),
      stopped: this.stopped,
    };
  }

  /**
   * The same role, term, leader and indexes as `status()`, without copying the configuration and
   * the replication progress: cheap enough to call after every event (the simulator does).
   */
  summary(): NodeSummary {
    const core = this.core.summary();
    this.appliedMemberIds ??= Object.freeze(this.appliedMembers.map((member) => member.id));
    return { id: this.options.id, role: core.role, term: core.term, leader: core.leader, commitIndex: core.commitIndex, appliedIndex: this.store.appliedIndex, members: this.appliedMemberIds };
  }

  /** Calls `listener` for every entry applied from now on, in log order. Returns the unsubscribe function. */
  onApplied(listener: AppliedListener): () => void {
    this.appliedListeners.add(listener);
    return () => this.appliedListeners.delete(listener);
  }

  /**
   * Proposes one configuration change (single-server, through the log) and resolves once it is
   * applied here, or with the reason it was refused. Only the leader proposes: elsewhere the
   * answer is `not_leader` with the leader's id (the caller forwards), or `no_leader`.
   */
  changeMembership(change: MembershipChange): Promise<MembershipChangeOutcome> {
    if (this.stopping) return Promise.resolve({ ok: false, reason: "timeout" });
    const proposed = this.core.proposeMembershipChange(change);
    if (!proposed.ok) return Promise.resolve(proposed);
    this.kick();
    return new Promise((resolve) => {
      this.pendingChanges.set(proposed.index, { term: this.core.status().term, deadlineMs: this.options.clock.nowMs() + this.config.consensusTimeoutMs, resolve });
    });
  }

  /** The configuration this node has applied: every member, voter or learner, with its addresses. */
  members(): Member[] {
    return this.appliedMembers.map((member) => ({ ...member }));
  }

  /** Calls `listener` with the new member list each time this node applies a configuration change. */
  onMembersChanged(listener: (members: Member[]) => void): void {
    this.membersListeners.add(listener);
  }

  transferLeadership(to: NodeId): boolean {
    const started = this.core.transferLeadership(to);
    this.kick();
    return started;
  }

  /**
   * Stops cleanly: refuses new requests, waits up to `drainMs` for requests in flight to be
   * answered, then fails what is left with `shutting_down` and stops ticking. The caller closes
   * the transport and the storage afterwards.
   */
  async stop(drainMs = 2_000): Promise<void> {
    if (this.stopped) return;
    this.stopping = true;
    const deadline = this.options.clock.nowMs() + drainMs;
    while (this.pendingRequests.size > 0 && this.options.clock.nowMs() < deadline) {
      await this.sleep(Math.min(20, this.config.tickMs));
    }
    await this.handOffLeadership(deadline);
    this.halt();
    await this.readyLoopIdle;
  }

  /**
   * A leader that stops on purpose hands leadership to its most caught-up follower first
   * (Raft thesis §3.10), so the cluster does not wait out an election timeout. Bounded by the
   * drain deadline and by one election timeout; if no follower takes over, the others elect one.
   */
  private async handOffLeadership(deadlineMs: number): Promise<void> {
    const status = this.core.status();
    if (status.role !== "leader") return;
    const target = status.progress
      .filter((progress) => progress.id !== this.options.id)
      .sort((a, b) => b.matchIndex - a.matchIndex)[0];
    if (target === undefined || !this.transferLeadership(target.id)) return;
    const handOffDeadlineMs = Math.min(deadlineMs, this.options.clock.nowMs() + this.config.electionTimeoutTicks * this.config.tickMs);
    while (this.core.summary().role === "leader" && this.options.clock.nowMs() < handOffDeadlineMs) {
      await this.sleep(this.config.tickMs);
    }
    this.logger.info({ to: target.id, handedOff: this.core.summary().role !== "leader" }, "leadership hand-off on stop");
  }

  private sleep(delayMs: number): Promise<void> {
    return new Promise<void>((resolve) => this.options.clock.setTimeout(resolve, delayMs));
  }

  /** Stops at once, as a crash would: no more ticks, messages or writes. Waiting clients learn nothing was decided. */
  halt(): void {
    if (this.stopped) return;
    this.stopping = true;
    this.stopped = true;
    if (this.tickTimer !== null) this.options.clock.clearTimeout(this.tickTimer);
    this.tickTimer = null;
    this.pendingRequests.failAll({ ok: false, code: "shutting_down" });
    this.pendingReads.failAll("shutting_down");
    for (const pending of this.pendingChanges.values()) pending.resolve({ ok: false, reason: "timeout" });
    this.pendingChanges.clear();
    this.leavingChange?.resolve({ ok: false, reason: "timeout" });
    this.leavingChange = null;
    this.announcedChange?.resolve({ ok: false, reason: "timeout" });
    this.announcedChange = null;
    this.pendingCommands.failAll({ ok: false, code: "shutting_down" });
    this.storeEncodes.failAll();
  }

  /** For tests and the simulator: the core's own invariant checks. */
  assertInvariants(): void {
    this.core.assertInvariants();
  }

  private onEnvelope(envelope: Parameters<RaftCore["step"]>[0]): void {
    if (this.stopped) return;
    const startedMs = this.options.clock.nowMs();
    this.core.step(envelope);
    this.metrics.observe("message_processing_seconds", { type: envelope.body.type }, (this.options.clock.nowMs() - startedMs) / 1000);
    this.kick();
  }

  private scheduleTick(): void {
    this.tickTimer = this.options.clock.setTimeout(() => {
      if (this.stopped) return;
      const nowMs = this.options.clock.nowMs();
      this.pendingRequests.expireDue(nowMs);
      this.pendingReads.expireDue(nowMs);
      this.expireMembershipChanges(nowMs);
      this.pendingCommands.expireDue(nowMs);
      this.core.tick();
      this.kick();
      this.scheduleTick();
    }, this.config.tickMs);
  }

  private expireMembershipChanges(nowMs: number): void {
    for (const [index, pending] of this.pendingChanges) {
      if (pending.deadlineMs > nowMs) continue;
      this.pendingChanges.delete(index);
      pending.resolve({ ok: false, reason: "timeout" });
    }
    // Committed, but the remaining voters did not all answer in time: the outcome for the
    // operator is unknown (`members()` shows the removal; another leader may not be elected yet).
    if (this.leavingChange !== null && this.leavingChange.deadlineMs <= nowMs) {
      this.leavingChange.resolve({ ok: false, reason: "timeout" });
      this.leavingChange = null;
    }
    const announced = this.announcedChange;
    if (announced !== null && (this.core.configurationKnownIndex() >= announced.index || announced.deadlineMs <= nowMs || this.soft.role !== "leader")) {
      this.announcedChange = null;
      // Known to a majority: answered. Not in time, or leadership lost first: the change is
      // committed but whether the voters know is not, so the operator reads the members.
      announced.resolve(this.core.configurationKnownIndex() >= announced.index ? announced.outcome : { ok: false, reason: "timeout" });
    }
  }

  /** Queues a transition for the next batch: one log append and one Proposal per follower for many requests. */
  private enqueueProposal(command: PendingCommand): void {
    this.proposalBatch.push(command);
    if (this.proposalBatch.length === 1) this.schedule(() => this.flushProposals());
    else if (this.proposalBatch.length >= this.config.entriesPerProposalMax) this.flushProposals();
  }

  private flushProposals(): void {
    const batch = this.proposalBatch;
    if (batch.length === 0 || this.stopped) return;
    this.proposalBatch = [];
    const proposed = this.core.propose(batch);
    for (const command of batch) {
      if (proposed.ok) this.pendingRequests.markProposed(command);
      else if (proposed.reason === "overloaded") this.pendingRequests.fail(command, { ok: false, code: "overloaded" });
    }
    // `no_leader` and `transfer_in_progress`: the requests stay pending and are proposed again
    // when a leader is known, until their timeout.
    this.kick();
  }

  /** Starts the Ready loop unless it is already running; it drains every Ready there is. */
  private kick(): void {
    if (this.stopped) return;
    if (this.readyLoopRunning) {
      // A write is in flight: new Proposals (and other messages that promise nothing durable)
      // leave now instead of waiting for it, so replication overlaps the leader's own write.
      for (const message of this.core.takeMessages()) this.options.transport.send(message);
      return;
    }
    if (!this.core.hasReady() && !this.storeEncodes.pending) return;
    this.readyLoopRunning = true;
    this.readyLoopIdle = this.runReadyLoop();
  }

  private async runReadyLoop(): Promise<void> {
    try {
      while (!this.stopped && (this.core.hasReady() || this.storeEncodes.pending)) {
        if (this.storeEncodes.pending) {
          await this.serveStoreEncodes();
          continue;
        }
        const ready = this.core.ready();
        await this.handleReady(ready);
        if (this.stopped) return;
        this.core.advance(ready);
        this.pendingReads.serveUpTo(this.store.appliedIndex);
      }
    } catch (error) {
      // Storage failed: this node can no longer promise durability, so it stops taking part.
      this.logger.error({ err: error }, "consensus node stopping: storage or state machine failed");
      this.halt();
      this.options.onFatal?.(error);
    } finally {
      // Cleared in the same turn as the last `hasReady()` check: a `.finally()` on the promise
      // would leave a window in which a kick finds the loop "running" and its Ready waits a tick.
      this.readyLoopRunning = false;
    }
  }

  /**
   * Handles one Ready in the fixed order ready.ts documents. The core decided what must be durable
   * before which message leaves; this only carries it out.
   */
  private async handleReady(ready: Ready): Promise<void> {
    if (ready.softState !== null) this.onSoftState(ready.softState);
    this.metrics.set("commit_index", {}, ready.commitIndex);
    if (ready.droppedMessages.length > 0) this.droppedMessageLog.record(ready.droppedMessages, this.options.clock.nowMs());
    for (const message of ready.messages) this.options.transport.send(message);
    const ackBeforePersist = this.config.unsafeBreakRule === "ack_before_persist";
    if (ackBeforePersist) for (const message of ready.messagesAfterPersist) this.options.transport.send(message);
    // Out before the log write below: a follower's write then runs while ours does (at 1 client
    // the follower's round trip, not our fdatasync, is what the commit waits for).
    if (ready.messages.length > 0) this.options.transport.flush?.();
    // Committed entries are already durable here (the core hands out nothing else), so when they
    // are applied is this node's choice. A leader applies first: its applied entries answer the
    // clients waiting on them. A follower writes first and applies after its Acknowledgments have
    // left: applying is then off the path of the leader's commit.
    const applyFirst = this.soft.role === "leader";
    if (applyFirst) this.applyEntries(ready.committedEntries);
    if (ready.mustSync) await this.persist(ready);
    if (this.stopped) return;
    if (!ackBeforePersist && ready.messagesAfterPersist.length > 0) {
      for (const message of ready.messagesAfterPersist) this.options.transport.send(message);
      this.options.transport.flush?.();
    }
    if (!applyFirst) this.applyEntries(ready.committedEntries);
    if (ready.snapshot !== null) this.restoreSnapshot(ready.snapshot.data, ready.snapshot.meta.index, ready.snapshot.meta.term, ready.snapshot.meta.members);
    for (const readState of ready.readStates) this.pendingReads.confirm(readState.context, readState.index);
    for (const failure of ready.readFailures) this.pendingReads.fail(failure.context, failure.reason === "timeout" ? "timeout" : "no_quorum");
    await this.maybeSnapshot();
  }

  /** Step 3 of a Ready: the snapshot, then the hard state and entries, durably. */
  private async persist(ready: Ready): Promise<void> {
    if (ready.snapshot !== null) await this.options.storage.saveSnapshot(ready.snapshot);
    if (ready.hardState === null && ready.entries.length === 0) return;
    const startedMs = this.options.clock.nowMs();
    await this.options.storage.persist({
      ...(ready.hardState === null ? {} : { hardState: ready.hardState }),
      entries: ready.entries,
    });
    const persistedMs = this.options.clock.nowMs();
    this.metrics.observe("entry_stage_seconds", stageLabels.persist, (persistedMs - startedMs) / 1000);
    if (this.soft.role === "leader") this.notePersisted(ready.entries, persistedMs);
  }

  /** The core's `verifySnapshot`: a snapshot from the leader must decode against our definition before it is kept. */
  private verifySnapshot(snapshot: Snapshot): { ok: true } | { ok: false; reason: string } {
    const restored = Store.restore(this.options.definition, snapshot.data);
    if (!restored.ok) {
      this.verifiedSnapshot = null;
      return { ok: false, reason: `${restored.reason}: ${restored.detail}` };
    }
    this.verifiedSnapshot = { data: snapshot.data, store: restored.store };
    return { ok: true };
  }

  private restoreSnapshot(data: Uint8Array, index: number, term: number, members: readonly Member[]): void {
    const verified = this.verifiedSnapshot;
    this.verifiedSnapshot = null;
    if (verified?.data === data) {
      this.store = verified.store;
    } else {
      const restored = Store.restore(this.options.definition, data);
      if (!restored.ok) throw new Error(`snapshot from the leader at index ${index} cannot be restored: ${restored.reason}`);
      this.store = restored.store;
    }
    this.storeMetrics.restored(this.store);
    this.setAppliedMembers(members);
    this.pendingCommands.skipTo(index);
    this.lastAppliedTerm = term;
    this.lastSnapshotIndex = index;
    this.appliedBytesSinceSnapshot = 0;
  }

  /** Applies committed entries in order. */
  private applyEntries(entries: Entry[]): void {
    if (entries.length === 0) return;
    // Every entry of the batch was committed before it began: its replicate and commit stages end here.
    const startedMs = this.options.clock.nowMs();
    this.counterBatch.run(() => this.applyEach(entries, startedMs));
    this.metrics.observe("entry_stage_seconds", stageLabels.apply, (this.options.clock.nowMs() - startedMs) / 1000);
    this.metrics.set("applied_index", {}, this.store.appliedIndex);
    this.storeMetrics.update(this.store);
  }

  private applyEach(entries: Entry[], startedMs: number): void {
    for (const entry of entries) {
      // Entries a restored snapshot already covers are skipped, never applied twice.
      if (entry.index <= this.store.appliedIndex) continue;
      this.observeReplicated(entry.index, startedMs);
      const command = entry.command;
      // The store keeps the member ids; the configuration itself (roles, addresses) lives here.
      const result = this.store.apply(entry.index, storeCommand(command));
      this.lastAppliedTerm = entry.term;
      this.appliedBytesSinceSnapshot += estimateEntryBytes(entry);
      if (command.kind === "members") this.onMembersApplied(entry, command.members);
      this.onCommandApplied(entry, result, startedMs);
      if (this.appliedListeners.size === 0) continue;
      const event: AppliedEvent = { index: entry.index, term: entry.term, command: entry.command, result };
      for (const listener of this.appliedListeners) listener(event);
    }
  }

  private onMembersApplied(entry: Entry, members: Member[]): void {
    const votersBefore = this.appliedMembers.filter((member) => member.voter).map((member) => member.id);
    this.setAppliedMembers(members);
    const pending = this.pendingChanges.get(entry.index);
    if (pending === undefined) return;
    this.pendingChanges.delete(entry.index);
    // Another entry at that index means the change was overwritten: it did not take effect.
    if (pending.term !== entry.term) {
      pending.resolve({ ok: false, reason: "not_leader" });
      return;
    }
    const outcome: MembershipChangeOutcome = { ok: true, index: entry.index, members: this.members() };
    const stillVoter = members.some((member) => member.id === this.options.id && member.voter);
    const votersAfter = new Set(members.filter((member) => member.voter).map((member) => member.id));
    const tookVoterAway = votersBefore.some((voter) => !votersAfter.has(voter));
    if (stillVoter && tookVoterAway && this.core.summary().role === "leader" && this.core.configurationKnownIndex() < entry.index) {
      this.announcedChange?.resolve({ ok: false, reason: "timeout" });
      this.announcedChange = { index: entry.index, deadlineMs: this.options.clock.nowMs() + this.config.consensusTimeoutMs, outcome, resolve: pending.resolve };
      return;
    }
    if (stillVoter || this.core.summary().role !== "leader") {
      pending.resolve(outcome);
      return;
    }
    this.leavingChange?.resolve({ ok: false, reason: "timeout" });
    this.leavingChange = { deadlineMs: this.options.clock.nowMs() + this.config.consensusTimeoutMs, outcome, resolve: pending.resolve };
  }

  private setAppliedMembers(members: readonly Member[]): void {
    this.appliedMembers = members.map((member) => ({ ...member }));
    this.appliedMemberIds = null;
    this.metrics.set("cluster_members", {}, this.appliedMembers.filter((member) => member.voter).length);
    this.logger.info({ members: this.appliedMembers }, "configuration applied");
    for (const listener of this.membersListeners) listener(this.members());
  }

  /** Starts the replicate-stage clock of the leader's own entries once they are durable here. */
  private notePersisted(entries: Entry[], persistedMs: number): void {
    const first = entries[0];
    if (first !== undefined) this.persistTimes.note(first.index, first.index + entries.length - 1, persistedMs);
  }

  /** Replicate stage: from the leader's own durable write to the commit (a majority stored it). */
  private observeReplicated(index: number, committedByMs: number): void {
    if (this.persistTimes.size === 0) return;
    const persistedMs = this.persistTimes.take(index);
    if (persistedMs === undefined) return;
    this.metrics.observe("entry_stage_seconds", stageLabels.replicate, (committedByMs - persistedMs) / 1000);
  }

  private onCommandApplied(entry: Entry, result: ApplyResult, committedByMs: number): void {
    const command = entry.command;
    // Commands proposed by `proposeCommand` (membership, join tokens, client tokens) are answered by log position.
    if (command.kind !== "transition" && command.kind !== "delete" && command.kind !== "register_session") {
      if (this.pendingCommands.size > 0) this.pendingCommands.settle(entry.index, entry.term, result);
      return;
    }
    if (command.kind === "transition") this.storeMetrics.transitionApplied(command.to, result);
    if (!result.ok && (result.code === "session_expired" || result.code === "request_id_reused")) this.storeMetrics.sessionRefused(result);
    if (command.kind === "register_session" || ((command.kind === "transition" || command.kind === "delete") && command.session !== undefined)) {
      const waitedMs = this.pendingRequests.settle(command as PendingCommand, result, committedByMs);
      if (waitedMs !== null) this.metrics.observe("entry_stage_seconds", stageLabels.commit, waitedMs / 1000);
    }
  }

  /**
   * Limits are replicated state (state-machine's store-limits.ts): a leader configured with other
   * limits than the store holds proposes them, right after its no-op.
   */
  private proposeConfiguredLimits(): void {
    const limits = this.options.storeLimits;
    if (limits === undefined || sameStoreLimits(limits, this.store.limits)) return;
    const proposed = this.core.propose([{ kind: "limits", limits: { ...limits } }]);
    this.logger.info({ limits, proposed: proposed.ok }, "proposing the configured store limits");
  }

  private onSoftState(soft: SoftState): void {
    const leaderChanged = soft.leader !== this.soft.leader;
    // Counted when a new leader becomes known, not when the old one is lost: one failover is one change.
    if (leaderChanged && soft.leader !== null) this.metrics.increment("leader_changes_total");
    if (leaderChanged) {
      this.logger.info({ term: soft.term, leader: soft.leader, role: soft.role }, "leader changed");
    }
    const becameLeader = soft.role === "leader" && this.soft.role !== "leader";
    // Timings of entries appended in another role or term would measure nothing meaningful.
    if (soft.role !== "leader" || soft.term !== this.soft.term) this.persistTimes.clear();
    this.soft = soft;
    if (soft.role !== "leader" && this.leavingChange !== null) {
      // The leader whose removal committed stepped down: answered if most of the remaining voters
      // knew the commit by then (it handed over); otherwise (check-quorum, the wait's bound) the
      // removal is committed but whether the voters know is not, and the operator must not
      // retire the machine on the answer.
      const { outcome } = this.leavingChange;
      this.leavingChange.resolve(outcome.ok && this.core.leftKnownIndex() >= outcome.index ? outcome : { ok: false, reason: "timeout" });
      this.leavingChange = null;
    }
    this.metrics.set("term", {}, soft.term);
    this.metrics.set("is_leader", {}, soft.role === "leader" ? 1 : 0);
    if (leaderChanged && soft.leader !== null) {
      // Requests that were refused or lost under the old leader get another chance; the
      // session makes a duplicate harmless.
      for (const command of this.pendingRequests.commands()) this.core.propose([command]);
      for (const context of this.pendingReads.unconfirmedContexts()) this.core.read(context);
    }
    if (becameLeader) this.proposeConfiguredLimits();
  }

  /**
   * The store's snapshot bytes, `snapshotKeysPerStepMax` keys per step with a turn of the event
   * loop (`schedule`) between steps, so that ticks, heartbeats and incoming messages are served
   * meanwhile. Nothing applies to the store until this returns: the Ready loop is waiting on it.
   */
  private async encodeStoreInSteps(): Promise<Uint8Array> {
    const steps = this.store.snapshotSteps(snapshotKeysPerStepMax);
    for (;;) {
      const step = steps.next();
      if (step.done === true) return step.value;
      await new Promise<void>((resolve) => this.schedule(resolve));
    }
  }

  /** Encodes the store once for every backup waiting; between two Readys, so nothing applies meanwhile. */
  private async serveStoreEncodes(): Promise<void> {
    this.storeEncodes.begin();
    const store = this.store;
    const head = { ok: true as const, index: store.appliedIndex, term: this.lastAppliedTerm, members: this.members(), definitionHash: store.definitionHash, definition: store.definition };
    const data = await this.encodeStoreInSteps();
    if (this.stopped) return;
    this.storeEncodes.finish({ ...head, data });
  }

  /**
   * Snapshots and compacts every `snapshotEntriesThreshold` applied entries, or sooner once the
   * entries applied since the last snapshot pass `logBytesInMemoryMax` bytes: the log held in
   * memory (the core's copy of every entry since the snapshot) stays bounded in bytes whatever
   * the size of the entries. Compacting, rather than dropping old entries from memory and reading
   * them back from the write-ahead log, keeps the core synchronous and pure: it never waits for
   * a disk read to build a Proposal, and a follower that needs what was compacted gets the
   * snapshot, as it would after any compaction.
   */
  private async maybeSnapshot(): Promise<void> {
    const appliedIndex = this.store.appliedIndex;
    if (appliedIndex <= this.lastSnapshotIndex) return;
    const entriesDue = appliedIndex - this.lastSnapshotIndex >= this.config.snapshotEntriesThreshold;
    const bytesDue = this.appliedBytesSinceSnapshot >= this.config.logBytesInMemoryMax;
    if (!entriesDue && !bytesDue) return;
    if (!entriesDue) {
      this.logger.info({ appliedIndex, logBytesInMemory: this.appliedBytesSinceSnapshot, logBytesInMemoryMax: this.config.logBytesInMemoryMax }, "snapshot: the log in memory passed logBytesInMemoryMax");
    }
    const bytesCovered = this.appliedBytesSinceSnapshot;
    const startedMs = this.options.clock.nowMs();
    const meta = { index: appliedIndex, term: this.lastAppliedTerm, members: this.members() };
    const data = await this.encodeStoreInSteps();
    if (this.stopped) return;
    const snapshot = { meta, data };
    await this.options.storage.saveSnapshot(snapshot);
    this.core.compact(snapshot);
    await this.options.storage.compact(appliedIndex);
    this.lastSnapshotIndex = appliedIndex;
    this.appliedBytesSinceSnapshot = Math.max(0, this.appliedBytesSinceSnapshot - bytesCovered);
    this.metrics.observe("snapshot_seconds", {}, (this.options.clock.nowMs() - startedMs) / 1000);
  }
}

/**
 * Keys encoded per turn of the event loop while a snapshot is built: at a million keys the whole
 * encoding takes seconds, which in one piece would stop heartbeats for longer than an election
 * timeout; a run of this many keys takes a few milliseconds.
 */
const snapshotKeysPerStepMax = 20_000;

/** The `entry_stage_seconds` labels, one object each: they are reported for every entry. */
const stageLabels = {
  persist: Object.freeze({ stage: "persist" }),
  replicate: Object.freeze({ stage: "replicate" }),
  commit: Object.freeze({ stage: "commit" }),
  apply: Object.freeze({ stage: "apply" }),
} as const;

/** How many times an own-session write is sent again after its session refused it. */
const localSessionRetriesMax = 3;

function isRequestFailure(outcome: TransitionOutcome): outcome is RequestFailure {
  return !outcome.ok && (outcome.code === "timeout" || outcome.code === "no_quorum" || outcome.code === "shutting_down" || outcome.code === "overloaded");
}

function resultCode(result: ApplyResult | RequestFailure): string {
  return result.ok ? "ok" : result.code;
}
