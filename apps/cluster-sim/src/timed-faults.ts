import type { Envelope, NodeId } from "@lockstep/protocol";

/**
 * A fault timed against one message: the moment a node sends the message a trigger waits for,
 * the node crashes (right after the message leaves, or just before: between its write and its
 * send) or is cut off. These are the instants where a protocol's promises are tightest: an
 * Acknowledgment promises the entries are durable, a Vote that the term and vote are, a Commit that
 * a majority holds the entries.
 */
export type TimedFaultKind =
  | "crash_after_acknowledgment"
  | "crash_before_acknowledgment"
  | "crash_after_vote"
  | "crash_before_vote"
  | "crash_after_commit"
  | "isolate_after_commit"
  | "crash_after_first_proposal"
  | "isolate_after_first_proposal"
  | "crash_after_snapshot_ack";

export const timedFaultKinds: readonly TimedFaultKind[] = [
  "crash_after_acknowledgment",
  "crash_before_acknowledgment",
  "crash_after_vote",
  "crash_before_vote",
  "crash_after_commit",
  "isolate_after_commit",
  "crash_after_first_proposal",
  "isolate_after_first_proposal",
  "crash_after_snapshot_ack",
];

/** What the fault does to the sender once its message matched. */
export interface TimedFaultAction {
  /** The matching message itself is sent (after) or dropped (before: the node died between its write and its send). */
  messageLeaves: boolean;
  effect: "crash" | "isolate";
}

export function actionOf(kind: TimedFaultKind): TimedFaultAction {
  switch (kind) {
    case "crash_after_acknowledgment":
    case "crash_after_vote":
    case "crash_after_commit":
    case "crash_after_first_proposal":
    case "crash_after_snapshot_ack":
      return { messageLeaves: true, effect: "crash" };
    case "crash_before_acknowledgment":
    case "crash_before_vote":
      return { messageLeaves: false, effect: "crash" };
    case "isolate_after_commit":
    case "isolate_after_first_proposal":
      return { messageLeaves: true, effect: "isolate" };
  }
}

/**
 * What a node has said in its current term, so that "the first Proposal of a new leader" and "a
 * commit index that moved" can be recognised from the messages alone, without reading the core.
 */
export class SendHistory {
  private readonly byNode = new Map<NodeId, { term: number; proposedEntries: boolean; commitIndexSent: number }>();

  /** Facts about `envelope` relative to what its sender said before; then records it. */
  observe(from: NodeId, envelope: Envelope): { firstProposalOfTerm: boolean; commitAdvanced: boolean } {
    const body = envelope.body;
    if (body.type !== "Proposal" && body.type !== "Commit") return { firstProposalOfTerm: false, commitAdvanced: false };
    let record = this.byNode.get(from);
    if (record === undefined || record.term !== body.term) {
      // A node's first leader message of a term sets the baseline: its commit index from before.
      record = { term: body.term, proposedEntries: false, commitIndexSent: body.commitIndex };
      this.byNode.set(from, record);
    }
    const firstProposalOfTerm = body.type === "Proposal" && body.entries.length > 0 && !record.proposedEntries;
    if (body.type === "Proposal" && body.entries.length > 0) record.proposedEntries = true;
    const commitAdvanced = body.commitIndex > record.commitIndexSent;
    record.commitIndexSent = Math.max(record.commitIndexSent, body.commitIndex);
    return { firstProposalOfTerm, commitAdvanced };
  }

  /** A crashed node starts over: its next incarnation's messages set a new baseline. */
  forget(id: NodeId): void {
    this.byNode.delete(id);
  }
}

/** Whether `envelope` (with the facts `SendHistory` found) is the message `kind` waits for. */
export function matches(kind: TimedFaultKind, envelope: Envelope, facts: { firstProposalOfTerm: boolean; commitAdvanced: boolean }): boolean {
  const body = envelope.body;
  switch (kind) {
    case "crash_after_acknowledgment":
    case "crash_before_acknowledgment":
      return body.type === "Acknowledgment" && body.matchIndex > 0 && body.context === undefined;
    case "crash_after_vote":
    case "crash_before_vote":
      return body.type === "Vote" && body.granted && !body.preVote;
    case "crash_after_commit":
    case "isolate_after_commit":
      return facts.commitAdvanced;
    case "crash_after_first_proposal":
    case "isolate_after_first_proposal":
      return facts.firstProposalOfTerm;
    case "crash_after_snapshot_ack":
      return body.type === "SnapshotAck";
  }
}
