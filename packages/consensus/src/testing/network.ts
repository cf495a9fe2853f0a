import type { Command, ConsensusEnvelope, Entry, Envelope, NodeId } from "@lockstep/protocol";
import { defaultCoreConfig, type CoreConfig } from "../core-config.js";
import type { HardState, PersistedState, Snapshot } from "../interfaces.js";
import { RaftCore } from "../raft-core.js";
import type { DroppedMessages, Ready, ReadFailure, ReadState } from "../ready.js";
import { seededRandom } from "./seeded-random.js";

/** What a simulated node has made durable: what a restart reads back. */
interface SimulatedStorage {
  hardState: HardState;
  snapshot: Snapshot | null;
  entries: Entry[];
}

export interface NetworkOptions {
  seed?: number;
  /** Probability that any message is lost. */
  dropRate?: number;
  /** Deliver queued messages in a random order instead of FIFO. */
  reorder?: boolean;
  config?: Partial<Omit<CoreConfig, "id" | "members" | "random" | "cluster">>;
}

/** Bounds every `deliverAll` so a livelock fails the test instead of hanging it. */
const deliveriesPerRunMax = 1_000_000;

/**
 * An in-process network of RaftCore instances for tests (etcd's raft_test.go "network"). Delivery
 * is synchronous and explicit; persistence is simulated by the Ready loop in `processReady`, which
 * follows the ordering rules of ready.ts. Every step and tick is followed by `assertInvariants`,
 * and every applied entry is checked against what other nodes applied at that index.
 */
export class Network {
  readonly cluster = "test-cluster";
  readonly ids: NodeId[];
  readonly nodes = new Map<NodeId, RaftCore>();
  readonly storage = new Map<NodeId, SimulatedStorage>();
  readonly applied = new Map<NodeId, Entry[]>();
  readonly readStates = new Map<NodeId, ReadState[]>();
  readonly readFailures = new Map<NodeId, ReadFailure[]>();
  readonly snapshotsInstalled = new Map<NodeId, Snapshot[]>();
  /** What each node's core dropped (hostile or broken messages), in Ready order. */
  readonly dropped = new Map<NodeId, DroppedMessages[]>();
  /** Every Ready processed, per node, for tests that inspect ordering. */
  readonly readyLog = new Map<NodeId, Ready[]>();
  keepReadyLog = false;
  /** Called with every Ready as it is taken, in the order the network processes them (golden scenario files print them). */
  onReady: ((id: NodeId, ready: Ready) => void) | null = null;
  /** Called with every message the network lost (isolation, a cut, the filter, the drop rate) as it would have been delivered. */
  onLost: ((envelope: Envelope) => void) | null = null;
  /** Called for every message about to be delivered; return false to drop it. */
  filter: ((envelope: Envelope) => boolean) | null = null;
  deliveredCount = 0;
  /** Probability that any message is lost; may be changed between phases of a test. */
  dropRate: number;

  /** The bootstrap list every original node starts with; a node that joined starts with none. */
  private readonly initialIds: NodeId[];
  private readonly bootstrapMembers = new Map<NodeId, NodeId[]>();
  private queue: Envelope[] = [];
  private readonly cuts = new Set<string>();
  private readonly isolated = new Set<NodeId>();
  private readonly random: () => number;
  /** Node starts so far: the incarnation of the next one. */
  private starts = 0;
  private readonly appliedAtIndex = new Map<number, Entry>();
  private readonly options: NetworkOptions;

  constructor(size: number, options: NetworkOptions = {}) {
    this.options = options;
    this.dropRate = options.dropRate ?? 0;
    this.ids = Array.from({ length: size }, (_, position) => `n${position + 1}`);
    this.initialIds = [...this.ids];
    this.random = seededRandom(options.seed ?? 1);
    for (const id of this.ids) {
      this.storage.set(id, { hardState: { term: 0, votedFor: null, commitIndex: 0 }, snapshot: null, entries: [] });
      this.applied.set(id, []);
      this.readStates.set(id, []);
      this.readFailures.set(id, []);
      this.snapshotsInstalled.set(id, []);
      this.dropped.set(id, []);
      this.readyLog.set(id, []);
      this.start(id);
    }
    this.settleFirstStart();
  }

  /**
   * Lets every founder learn that the cluster has no history yet (HistoryProbe/HistoryReport), as
   * the first ticks of a real cluster do, so that tests can then tick one node alone.
   */
  private settleFirstStart(roundsMax = 1000): void {
    for (let round = 0; round < roundsMax; round++) {
      if (this.ids.every((id) => !this.node(id).status().recovering)) return;
      this.tickAll();
      this.deliverAll();
    }
    throw new Error(`the founders did not settle their first start within ${roundsMax} rounds`);
  }

  node(id: NodeId): RaftCore {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  /**
   * Starts a new node with an empty data directory and no configuration, as a node that joins a
   * running cluster does: it takes part once the leader has added it (`add_learner`).
   */
  join(id: NodeId): void {
    if (this.storage.has(id)) throw new Error(`${id} exists`);
    this.ids.push(id);
    this.bootstrapMembers.set(id, []);
    this.storage.set(id, { hardState: { term: 0, votedFor: null, commitIndex: 0 }, snapshot: null, entries: [] });
    for (const map of [this.applied, this.readStates, this.readFailures, this.snapshotsInstalled, this.readyLog, this.dropped] as Array<Map<NodeId, unknown[]>>) map.set(id, []);
    this.start(id);
  }

  /** The bootstrap list `id` starts with from now on (the flags of its next restart). */
  setBootstrap(id: NodeId, members: NodeId[]): void {
    this.bootstrapMembers.set(id, members);
  }

  /** (Re)creates a node from what its storage holds, as a process restart would. */
  start(id: NodeId, possibleLoss = false): void {
    const stored = this.storage.get(id);
    if (stored === undefined) throw new Error(`no storage for ${id}`);
    const persisted: PersistedState = { hardState: { ...stored.hardState }, snapshot: stored.snapshot, entries: [...stored.entries], possibleLoss };
    const seed = Math.floor(this.random() * 2 ** 31);
    const config: CoreConfig = {
      ...defaultCoreConfig,
      ...this.options.config,
      id,
      cluster: this.cluster,
      members: this.bootstrapMembers.get(id) ?? this.initialIds,
      random: seededRandom(seed),
      // Every start is another process: its answers carry another incarnation.
      incarnation: ++this.starts,
    };
    this.nodes.set(id, new RaftCore(config, persisted));
    // The state machine restarts from the snapshot; the core re-emits committed entries after it.
    this.applied.set(id, (this.applied.get(id) ?? []).filter((entry) => entry.index <= (stored.snapshot?.meta.index ?? 0)));
  }

  /** Crash and restart: everything not persisted is lost, and so are messages to the node. */
  restart(id: NodeId): void {
    this.queue = this.queue.filter((envelope) => envelope.to !== id);
    this.start(id);
  }

  /**
   * Restarts `id` after its disk lost every durable entry above `keepThroughIndex` (damage at the
   * end of its log that storage could not prove unsynced), reporting `possibleLoss` as storage would (`false`: a storage that cut it silently).
   */
  restartAfterLoss(id: NodeId, keepThroughIndex: number, possibleLoss = true): void {
    const stored = this.storage.get(id);
    if (stored === undefined) throw new Error(`no storage for ${id}`);
    stored.entries = stored.entries.filter((entry) => entry.index <= keepThroughIndex);
    stored.hardState = { ...stored.hardState, commitIndex: Math.min(stored.hardState.commitIndex, keepThroughIndex) };
    this.queue = this.queue.filter((envelope) => envelope.to !== id);
    this.start(id, possibleLoss);
  }

  /**
   * Crash and restart on a new, empty disk under the old id, as a machine whose disk died: the
   * node is told nothing about its loss (a real one cannot tell an empty disk from a first start).
   */
  wipe(id: NodeId): void {
    this.storage.set(id, { hardState: { term: 0, votedFor: null, commitIndex: 0 }, snapshot: null, entries: [] });
    this.applied.set(id, []);
    this.queue = this.queue.filter((envelope) => envelope.to !== id);
    this.start(id);
  }

  leader(): NodeId | null {
    const leaders = this.ids.filter((id) => this.node(id).summary().role === "leader");
    if (leaders.length === 0) return null;
    // Several nodes may believe they lead in different terms: the highest term is the real one.
    leaders.sort((left, right) => this.node(right).status().term - this.node(left).status().term);
    return leaders[0] ?? null;
  }

  cut(left: NodeId, right: NodeId): void {
    this.cuts.add(`${left}>${right}`);
    this.cuts.add(`${right}>${left}`);
  }

  isolate(id: NodeId): void {
    this.isolated.add(id);
  }

  heal(): void {
    this.cuts.clear();
    this.isolated.clear();
  }

  /**
   * From now on every Proposal that carries entries to `id` is lost; heartbeats still reach it and
   * it answers them (its catch-up held back). `filter = null` lifts it.
   */
  holdEntriesTo(id: NodeId): void {
    this.filter = (envelope) => !(envelope.to === id && envelope.body.type === "Proposal" && envelope.body.entries.length > 0);
  }

  /** Drops every queued message (a burst of loss). */
  drop(): void {
    this.queue = [];
  }

  pending(): readonly Envelope[] {
    return this.queue;
  }

  tick(id: NodeId): void {
    const node = this.node(id);
    node.tick();
    node.assertInvariants();
    this.processReady(id);
  }

  tickAll(): void {
    for (const id of this.ids) this.tick(id);
  }

  /**
   * One heartbeat: ticks the leader once and delivers everything. Followers that got no Proposal
   * since the leader's commit index last moved learn it from the heartbeat (a leader sends no
   * separate Commit in the normal course of replication), so afterwards every reachable follower
   * has applied what the leader committed.
   */
  heartbeat(): void {
    const leader = this.leader();
    if (leader === null) throw new Error("heartbeat: no leader");
    this.tick(leader);
    this.deliverAll();
  }

  /** Ticks every node `ticks` times, delivering everything after each round. */
  passTime(ticks: number): void {
    for (let tick = 0; tick < ticks; tick++) {
      this.tickAll();
      this.deliverAll();
    }
  }

  /** Ticks only `id` until it becomes leader (other nodes stay quiet), delivering as it goes. */
  campaign(id: NodeId, ticksMax = 100): void {
    for (let ticks = 0; ticks < ticksMax; ticks++) {
      if (this.node(id).summary().role === "leader") return;
      this.tick(id);
      this.deliverAll();
    }
    throw new Error(`${id} did not become leader within ${ticksMax} ticks`);
  }

  propose(id: NodeId, commands: Command[]): ReturnType<RaftCore["propose"]> {
    const result = this.node(id).propose(commands);
    this.node(id).assertInvariants();
    this.processReady(id);
    return result;
  }

  read(id: NodeId, context: number): ReturnType<RaftCore["read"]> {
    const result = this.node(id).read(context);
    this.processReady(id);
    return result;
  }

  /** Takes a state-machine snapshot at `index` on `id` (which must have applied it) and compacts its log. */
  compact(id: NodeId, index: number, data: Uint8Array): void {
    const node = this.node(id);
    const entry = this.applied.get(id)?.find((applied) => applied.index === index);
    if (entry === undefined) throw new Error(`${id} has not applied index ${index}`);
    const snapshot: Snapshot = { meta: { index, term: entry.term, members: node.configurationAt(index) }, data };
    const stored = this.storage.get(id);
    if (stored === undefined) throw new Error(`no storage for ${id}`);
    stored.snapshot = snapshot;
    stored.entries = stored.entries.filter((stored) => stored.index > index);
    node.compact(snapshot);
    node.assertInvariants();
  }

  /** Runs every Ready of `id` through simulated storage, the network queue and the state machine. */
  processReady(id: NodeId): void {
    const node = this.node(id);
    while (node.hasReady()) {
      const ready = node.ready();
      if (this.keepReadyLog) this.readyLog.get(id)?.push(ready);
      this.onReady?.(id, ready);
      this.enqueue(ready.messages);
      this.assertDurable(id, ready);
      this.apply(id, ready);
      if (ready.mustSync !== (ready.hardState !== null || ready.entries.length > 0 || ready.snapshot !== null)) {
        throw new Error(`${id}: mustSync ${ready.mustSync} does not match what the Ready holds`);
      }
      if (ready.mustSync) this.persist(id, ready);
      this.enqueue(ready.messagesAfterPersist);
      this.applyReads(id, ready);
      node.advance(ready);
      node.assertInvariants();
    }
  }

  /** Delivers queued messages (and everything they cause) until the network is quiet. */
  deliverAll(): void {
    for (const id of this.ids) this.processReady(id);
    let delivered = 0;
    while (this.queue.length > 0) {
      if (++delivered > deliveriesPerRunMax) throw new Error("network did not go quiet");
      this.deliverOne();
    }
  }

  /** Delivers at most `count` queued messages. */
  deliver(count: number): void {
    for (let delivered = 0; delivered < count && this.queue.length > 0; delivered++) this.deliverOne();
  }

  private deliverOne(): void {
    const position = this.options.reorder === true ? Math.floor(this.random() * this.queue.length) : 0;
    const envelope = position === 0 ? this.queue.shift() : this.queue.splice(position, 1)[0];
    if (envelope === undefined) return;
    if (!this.shouldDeliver(envelope)) {
      this.onLost?.(envelope);
      return;
    }
    const node = this.nodes.get(envelope.to);
    if (node === undefined) return;
    this.deliveredCount++;
    node.step(envelope as ConsensusEnvelope);
    node.assertInvariants();
    this.processReady(envelope.to);
  }

  private shouldDeliver(envelope: Envelope): boolean {
    if (this.isolated.has(envelope.from) || this.isolated.has(envelope.to)) return false;
    if (this.cuts.has(`${envelope.from}>${envelope.to}`)) return false;
    if (this.filter !== null && !this.filter(envelope)) return false;
    return this.dropRate === 0 || this.random() >= this.dropRate;
  }

  private enqueue(envelopes: readonly Envelope[]): void {
    for (const envelope of envelopes) this.queue.push(envelope);
  }

  private persist(id: NodeId, ready: Ready): void {
    const stored = this.storage.get(id);
    if (stored === undefined) throw new Error(`no storage for ${id}`);
    if (ready.snapshot !== null) {
      stored.snapshot = ready.snapshot;
      stored.entries = [];
      this.snapshotsInstalled.get(id)?.push(ready.snapshot);
    }
    if (ready.hardState !== null) stored.hardState = ready.hardState;
    const first = ready.entries[0];
    if (first !== undefined) {
      // Entries replace the stored entry at their index and everything after it.
      const storedFirstIndex = stored.entries[0]?.index ?? first.index;
      const keep = Math.max(0, first.index - storedFirstIndex);
      if (keep < stored.entries.length) stored.entries.length = keep;
      for (const entry of ready.entries) stored.entries.push(entry);
    }
  }

  private apply(id: NodeId, ready: Ready): void {
    const applied = this.applied.get(id);
    if (applied === undefined) throw new Error(`no state machine for ${id}`);
    if (ready.snapshot !== null) {
      // A restored state machine: forget what was applied individually, keep the snapshot point.
      applied.length = 0;
    }
    for (const entry of ready.committedEntries) {
      const previous = applied.at(-1);
      const expected = previous === undefined ? (ready.snapshot?.meta.index ?? this.storage.get(id)?.snapshot?.meta.index ?? 0) + 1 : previous.index + 1;
      if (entry.index !== expected) throw new Error(`${id} applied ${entry.index} where ${expected} was next`);
      // State machine safety (Raft §5.4.3): no two nodes apply different entries at one index.
      const canonical = this.appliedAtIndex.get(entry.index);
      if (canonical === undefined) this.appliedAtIndex.set(entry.index, entry);
      else if (canonical !== entry && (canonical.term !== entry.term || JSON.stringify(canonical.command) !== JSON.stringify(entry.command))) {
        throw new Error(`${id} applied a different entry at index ${entry.index}`);
      }
      applied.push(entry);
    }
  }

  private applyReads(id: NodeId, ready: Ready): void {
    this.readStates.get(id)?.push(...ready.readStates);
    this.readFailures.get(id)?.push(...ready.readFailures);
    for (const dropped of ready.droppedMessages) this.dropped.get(id)?.push(dropped);
  }

  /** The Ready contract: every committed entry handed out is already durable, so it may be applied before the write. */
  private assertDurable(id: NodeId, ready: Ready): void {
    const stored = this.storage.get(id);
    if (stored === undefined) throw new Error(`no storage for ${id}`);
    const firstStored = stored.entries[0]?.index ?? 0;
    for (const entry of ready.committedEntries) {
      const durable = stored.entries[entry.index - firstStored];
      if (durable?.index !== entry.index || durable.term !== entry.term) {
        throw new Error(`${id}: committed entry ${entry.index} handed out before it is durable`);
      }
    }
  }
}

/** A transition command for tests. */
export function transition(key: string, to = "Running"): Command {
  return { kind: "transition", key, to };
}
