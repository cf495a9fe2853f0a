import { protocolVersion, type ConsensusEnvelope, type ConsensusMessage, type ConsensusMessageType, type Entry, type NodeId } from "@lockstep/protocol";
import type { DroppedMessages } from "./ready.js";

/**
 * The largest term the core accepts from a peer or reaches itself. A term is adopted and made
 * durable as soon as a message carries it, so one forged message with a term near
 * `Number.MAX_SAFE_INTEGER` would leave no room for the next election, for good. 2^48 leaves
 * 2^53 - 2^48 terms of headroom and is still more elections than a cluster holds in thousands of
 * years at one per millisecond.
 */
export const termMax = 2 ** 48;

/**
 * Why the core dropped a peer message it cannot accept. These are never normal protocol outcomes
 * (a stale term, a lost race): each one means a broken, misrouted or hostile sender, so each is
 * counted (`messages_dropped_total{type,reason}`) and logged.
 */
export type DropReason =
  | "wrong_version"
  | "wrong_cluster"
  | "misaddressed"
  | "from_self"
  | "not_a_member"
  | "term_too_large"
  | "entry_term_above_message"
  | "entries_not_contiguous"
  | "entry_terms_decrease"
  | "log_term_above_message"
  | "index_beyond_log"
  | "stale_epoch"
  | "stale_probe"
  | "forward_not_a_client_command"
  | "timeout_now_not_from_leader"
  | "snapshot_invalid"
  | "snapshot_above_last_index";

/** What the receiving core knows when it checks an envelope's addressing. */
export interface AddressingView {
  cluster: string;
  self: NodeId;
  /** Whether `id` belongs to the configuration this node knows (voter or learner). */
  isMember(id: NodeId): boolean;
  /** This node's commit index (absent: 0). */
  commitIndex?: number;
}

/**
 * Checks what every envelope must satisfy before any rule looks at it: version, cluster,
 * addressee, sender, and the parts of the message that cannot be right whatever the receiver's
 * state (a term beyond `termMax`, entries of a later term than the message, entries out of order).
 * Never throws; returns the reason to drop, or null.
 */
export function checkEnvelope(envelope: ConsensusEnvelope, view: AddressingView): DropReason | null {
  // The type says v is always 1, but envelopes come off the wire: check what actually arrived.
  const version: number = envelope.v;
  if (version !== protocolVersion) return "wrong_version";
  if (envelope.cluster !== view.cluster) return "wrong_cluster";
  if (envelope.to !== view.self) return "misaddressed";
  if (envelope.from === view.self) return "from_self";
  // A leader's messages are taken from a sender this node does not know as a member: this node's
  // configuration may be behind (it learns the commit that added the sender only from the sender),
  // or it is joining and knows none yet. The term rules and the checks below still apply.
  // So is a HistoryReport: an empty voter asks the voters of the newest configuration the answers
  // told it, which its own (a config file's list) may lack; a report only raises what it waits for.
  // And a node outside its own configuration takes VoteRequests and HistoryProbes from anyone:
  // that configuration may be behind (a member that joined and restarted with an older commit
  // index than the entries that added it and its peers knows none of them; seed 3000113), and
  // dropping them could leave the configuration it belongs to without the votes to elect anyone.
  // The vote rules still apply (`ignoreVoteRequest`). Not the rest: a leader that removed itself
  // is outside its configuration too, and keeps no progress for a stranger's Forward.
  if (!view.isMember(envelope.from) && !sentByLeaders(envelope.body) && !answeredOutsideConfiguration(envelope.body, view)) return "not_a_member";
  return checkMessage(envelope.body);
}

/**
 * What a node takes from a sender it does not know as a member (see `checkEnvelope`). Also a
 * VoteRequest whose sender knows more committed than this node does: this node's configuration is
 * then behind, and the sender may be a voter added since (seed 7004599: a restarted n3 counting
 * {n1, n2, n3} dropped the votes asked by n4, promoted while it was down, and with n1 on an empty
 * disk no one could be elected). A removed node that does not know of its removal knows less
 * committed than the members that do, so those still drop its requests; the vote rules decide the
 * rest.
 */
function answeredOutsideConfiguration(message: ConsensusMessage, view: AddressingView): boolean {
  if (message.type === "HistoryReport") return true;
  if (message.type === "VoteRequest" && (message.committed?.index ?? 0) > (view.commitIndex ?? 0)) return true;
  return (message.type === "VoteRequest" || message.type === "HistoryProbe") && !view.isMember(view.self);
}

/** Messages only a leader sends. */
function sentByLeaders(message: ConsensusMessage): boolean {
  switch (message.type) {
    case "Proposal":
    case "Commit":
    case "SnapshotChunk":
    case "TimeoutNow":
    case "ReadIndexResponse":
      return true;
    case "Acknowledgment":
    case "Reject":
    case "VoteRequest":
    case "Vote":
    case "SnapshotAck":
    case "Forward":
    case "ReadIndexRequest":
    case "HistoryProbe":
    case "HistoryReport":
      return false;
  }
}

/** The checks of `checkEnvelope` that need only the message itself. */
const clientCommandKinds: ReadonlySet<string> = new Set(["transition", "delete", "register_session", "token_create", "token_revoke"]);

export function checkMessage(message: ConsensusMessage): DropReason | null {
  if (message.term > termMax) return "term_too_large";
  switch (message.type) {
    case "Proposal":
      if (message.prevTerm > message.term) return "log_term_above_message";
      return checkEntries(message.entries, message.prevIndex, message.prevTerm, message.term);
    case "VoteRequest":
      return message.lastTerm > message.term ? "log_term_above_message" : null;
    case "SnapshotChunk":
      return message.snapshotTerm > message.term ? "log_term_above_message" : null;
    case "Reject":
      return message.hintTerm !== undefined && message.hintTerm > message.term ? "log_term_above_message" : null;
    case "Forward":
      // Only client commands travel in a Forward (transitions, deletes, session registrations, and
      // the client-token changes an admin asked a follower for): a no-op, a limits entry or a
      // configuration change is the leader's own to propose, never a peer's.
      return message.commands.every((command) => clientCommandKinds.has(command.kind)) ? null : "forward_not_a_client_command";
    case "Acknowledgment":
    case "Commit":
    case "Vote":
    case "SnapshotAck":
    case "TimeoutNow":
    case "ReadIndexRequest":
    case "ReadIndexResponse":
    case "HistoryProbe":
      return null;
    case "HistoryReport":
      return message.snapshotIndex > message.lastIndex ? "snapshot_above_last_index" : null;
  }
}

/** Entries of a Proposal must follow `prevIndex` one by one, with terms that never decrease and never pass the message's. */
function checkEntries(entries: readonly Entry[], prevIndex: number, prevTerm: number, term: number): DropReason | null {
  let previousTerm = prevTerm;
  for (let position = 0; position < entries.length; position++) {
    const entry = entries[position] as Entry;
    if (entry.index !== prevIndex + 1 + position) return "entries_not_contiguous";
    if (entry.term > term) return "entry_term_above_message";
    if (entry.term < previousTerm) return "entry_terms_decrease";
    previousTerm = entry.term;
  }
  return null;
}

/** Bound on the distinct (sender, type, reason) triples aggregated between two Readies. */
export const droppedKindsMax = 256;

/** The sender recorded for drops past `droppedKindsMax`, so that a flood of made-up ids stays bounded. */
export const otherSendersLabel = "(other)";

/** Drops aggregated between two Readies, bounded by `droppedKindsMax` distinct kinds. */
export class DropCounter {
  private byKind = new Map<string, DroppedMessages>();

  get isEmpty(): boolean {
    return this.byKind.size === 0;
  }

  add(from: NodeId, type: ConsensusMessageType, reason: DropReason): void {
    let sender = from;
    let key = `${sender}\u0000${type}\u0000${reason}`;
    if (!this.byKind.has(key) && this.byKind.size >= droppedKindsMax - 1) {
      sender = otherSendersLabel;
      key = `${sender}\u0000${type}\u0000${reason}`;
    }
    const known = this.byKind.get(key);
    if (known === undefined) this.byKind.set(key, { from: sender, type, reason, count: 1 });
    else known.count++;
  }

  take(): DroppedMessages[] {
    if (this.byKind.size === 0) return [];
    const taken = [...this.byKind.values()];
    this.byKind = new Map();
    return taken;
  }
}
