import type { ConsensusMessageType, Entry, Envelope, NodeId } from "@lockstep/protocol";
import type { DropReason } from "./message-validation.js";
import type { HardState, Snapshot } from "./interfaces.js";

export type Role = "follower" | "candidate" | "precandidate" | "leader";

/** Volatile facts about the node, reported when they change. */
export interface SoftState {
  role: Role;
  /** The leader of the current term, when known. */
  leader: NodeId | null;
  term: number;
}

/** A linearizable read whose index is now known: serve it once the store has applied `index`. */
export interface ReadState {
  context: number;
  index: number;
}

/** A read that can no longer be served (leader lost, term changed, no answer in time): the caller fails it. */
export interface ReadFailure {
  context: number;
  reason: "no_leader" | "leadership_lost" | "timeout";
}

/**
 * Peer messages the core dropped because it cannot accept them (hostile or broken input, never a
 * normal protocol outcome such as a stale term), aggregated since the last Ready. The caller counts
 * them (`messages_dropped_total{type,reason}`) and logs them, rate-limited per peer.
 */
export interface DroppedMessages {
  from: NodeId;
  type: ConsensusMessageType;
  reason: DropReason;
  count: number;
}

/**
 * Everything the pure core wants done, in one value. This is the whole contract between the core
 * and its caller: the caller handles the fields in the order below, as a fixed sequence with no
 * decisions of its own, then calls `advance(ready)`; the next `ready()` is taken only after that.
 * The core alone decides what must be durable before which message leaves (etcd-io/raft's
 * `Ready.MustSync`).
 *
 * 1. `messages`: send at once, before, during or after the write of step 3. They promise nothing
 *    about this node's durable state: the leader's Proposals, Commits and heartbeats (a leader
 *    counts its own entries toward a majority only after `advance`, Raft §10.2.1), snapshot
 *    chunks, TimeoutNow, Forwards and read requests. While this Ready is outstanding, further such
 *    messages may be taken with `takeMessages()` and sent at once as well: that is how replication
 *    overlaps the leader's own write.
 * 2. `committedEntries`: apply to the state machine in order. Every one of them is already durable
 *    on this node (written by an earlier Ready, or read back at start), so they may be applied
 *    before, while or after step 3 runs (the driver: a leader before, to answer its clients
 *    sooner; a follower after step 4, so that applying does not delay its Acknowledgment). Entries of this Ready's own `entries` that are already committed
 *    come in the next Ready, after they are durable. A Ready with a `snapshot` has none.
 * 3. When `mustSync`: durably write `snapshot` (if present, replacing the whole log), then
 *    `hardState` (if present) and `entries` in one write. When `mustSync` is false there is
 *    nothing to write: `hardState`, `entries` and `snapshot` are all empty. A hard state is handed
 *    out only when its term or vote changed, or together with entries or a snapshot: a change of
 *    the commit index alone is not worth an fsync (Raft does not need it durable; it rides along
 *    with the next write).
 * 4. `messagesAfterPersist`: send only AFTER step 3 is durable. Acknowledgments, Rejects, votes,
 *    VoteRequests and SnapshotAcks promise durable state (Raft Figure 2: "respond after persisting").
 * 5. `snapshot`: restore the state machine from it, after step 3.
 * 6. `readStates`: serve each once the state machine has applied its `index`; fail `readFailures`.
 * 7. `droppedMessages`: count and log (any time).
 */
export interface Ready {
  softState: SoftState | null;
  /** Whether step 3 must write and sync anything: `hardState`, `entries` or `snapshot` is present. */
  mustSync: boolean;
  hardState: HardState | null;
  snapshot: Snapshot | null;
  entries: Entry[];
  messages: Envelope[];
  messagesAfterPersist: Envelope[];
  committedEntries: Entry[];
  /** The commit index known now (durable or not), for observation. */
  commitIndex: number;
  readStates: ReadState[];
  readFailures: ReadFailure[];
  droppedMessages: DroppedMessages[];
}

/** The answer of `propose`: the command was appended (leader), forwarded (follower), or refused. */
export type ProposeResult =
  | { ok: true; forwarded: false; index: number; term: number }
  | { ok: true; forwarded: true; leader: NodeId }
  | { ok: false; reason: "no_leader" | "transfer_in_progress" | "overloaded" };

export type ReadRequestResult =
  | { ok: true }
  | { ok: false; reason: "no_leader" | "overloaded" };
