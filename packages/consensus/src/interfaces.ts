import type { ConsensusEnvelope, Entry, Envelope, Member, NodeId } from "@lockstep/protocol";

/**
 * The part of a node's state that must survive a crash before it answers anyone (Raft Figure 2):
 * the current term and the vote cast in it. `commitIndex` is stored as a hint so that a restarted
 * node can re-apply what it knows is committed without waiting for a leader.
 */
export interface HardState {
  term: number;
  votedFor: NodeId | null;
  commitIndex: number;
  /**
   * Set while this node recovers from a possible storage loss (`PersistedState.possibleLoss`):
   * until a leader has brought its log up to date, its vote counts only in an election that every
   * voter grants. Durable, so that a crash during the recovery does not end it: the restarted node
   * would otherwise cast plain votes with data lost.
   */
  recovering?: true | undefined;
  /**
   * With `recovering`: the commit index the other voters' HistoryReports showed the cluster had
   * reached when this node's disk was lost; the recovery ends only at a leader commit index at
   * least this. Durable, so that a crash during the recovery does not forget it: the restarted
   * node would take a late Proposal's old commit index for the leader's (seed 7016221).
   */
  recoveryCommitIndexMin?: number | undefined;
}

export const emptyHardState: HardState = Object.freeze({ term: 0, votedFor: null, commitIndex: 0 });

/** What a snapshot covers: every entry up to `index` (whose term was `term`), and the configuration then (voters, learners, their addresses). */
export interface SnapshotMeta {
  index: number;
  term: number;
  members: Member[];
}

/** A snapshot: its metadata and the state machine's serialized store (opaque bytes to consensus). */
export interface Snapshot {
  meta: SnapshotMeta;
  data: Uint8Array;
}

/** Everything a node reads back when it starts. `entries` follow the snapshot (or index 1), contiguous. */
export interface PersistedState {
  hardState: HardState;
  snapshot: Snapshot | null;
  entries: Entry[];
  /**
   * True when the storage cut damaged data at the end of its log that it cannot prove was never
   * synced: the node may have acknowledged (or voted with) what it lost. The core then refuses to
   * vote or campaign until a leader has brought its log up to date.
   */
  possibleLoss?: boolean;
}

/** One durable write. Entries whose index already exists replace that entry and everything after it. */
export interface StorageWrite {
  hardState?: HardState;
  entries: Entry[];
}

/**
 * Durable state for one node. Every promise resolves only once the data is durable under the
 * storage's fsync policy; a rejected promise means the node must stop (it can no longer promise
 * durability). Writes are applied in call order; an implementation may merge writes that arrive
 * while an earlier one is in flight into one sync (group commit).
 */
export interface Storage {
  load(): Promise<PersistedState>;
  persist(write: StorageWrite): Promise<void>;
  /** Durably stores a snapshot; entries at or below its index may then be dropped. */
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  /** Drops log entries at or below `index` (which a saved snapshot covers). */
  compact(index: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Moves envelopes between nodes. It promises only what a network does: a message may be lost,
 * duplicated, delayed or reordered. `send` never throws and never blocks; a message it cannot
 * deliver is dropped (and counted by the transport).
 */
export interface Transport {
  send(envelope: Envelope): void;
  /**
   * Optional: hands what `send` queued to the network now rather than at the transport's own
   * moment (the TCP transport writes once per event-loop turn). The node calls it before its log
   * write, so that a follower's write and fdatasync overlap the leader's instead of following it.
   */
  flush?(): void;
  /** Sets the one handler for inbound consensus messages addressed to this node. */
  onMessage(handler: (envelope: ConsensusEnvelope) => void): void;
  close(): Promise<void>;
}

/** Opaque handle returned by `Clock.setTimeout`. */
export type TimerHandle = { readonly timerId: number };

/** Time, injected so that the simulator can run on virtual time. */
export interface Clock {
  /** Milliseconds, monotonic. */
  nowMs(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** A seeded source of randomness in [0, 1). The core never calls Math.random. */
export type RandomSource = () => number;

/** The subset of pino's API the libraries log through; pino loggers satisfy it as they are. */
export interface Logger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
  child(fields: object): Logger;
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
