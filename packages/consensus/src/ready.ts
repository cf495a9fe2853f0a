import type { Entry, Envelope, NodeId } from "@lockstep/protocol";
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

/** A read that can no longer be served (leader lost, term changed): the caller fails it. */
export interface ReadFailure {
  context: number;
  reason: "no_leader" | "leadership_lost";
}

/**
 * Everything the pure core wants done, in one value. The caller handles the fields in this order,
 * then calls `advance(ready)`; the next `ready()` is taken only after that.
 *
 * 1. `messages`: may be sent at once, before the writes below are durable. Only the leader's
 *    Proposals (and Commits, heartbeats) land here: a leader may send entries before its own
 *    write completes, because it counts itself toward a majority only after `advance`.
 * 2. `snapshot`, then `hardState` and `entries`: persisted durably, in that order, in one write.
 * 3. `messagesAfterPersist`: sent only AFTER step 2 is durable. Acknowledgments, votes and
 *    anything else that promises durability lands here (Raft: "respond after persisting").
 * 4. `committedEntries`: applied to the state machine in order (after `snapshot` was restored).
 * 5. `readStates` are served once the store has applied their index; `readFailures` are failed.
 */
export interface Ready {
  softState: SoftState | null;
  hardState: HardState | null;
  snapshot: Snapshot | null;
  entries: Entry[];
  messages: Envelope[];
  messagesAfterPersist: Envelope[];
  committedEntries: Entry[];
  readStates: ReadState[];
  readFailures: ReadFailure[];
}

/** The answer of `propose`: the command was appended (leader), forwarded (follower), or refused. */
export type ProposeResult =
  | { ok: true; forwarded: false; index: number; term: number }
  | { ok: true; forwarded: true; leader: NodeId }
  | { ok: false; reason: "no_leader" | "transfer_in_progress" | "overloaded" };

export type ReadRequestResult =
  | { ok: true }
  | { ok: false; reason: "no_leader" | "overloaded" };
