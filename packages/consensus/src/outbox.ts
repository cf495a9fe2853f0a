import { protocolVersion, type ConsensusMessage, type Envelope, type NodeId } from "@lockstep/protocol";

/**
 * Whether a message may leave before the Ready's writes are durable. Acknowledgments and Rejects
 * speak for the follower's log, Votes and VoteRequests for its term and vote: all of them promise
 * something about durable state, so they wait (Raft Figure 2, "respond after persisting"). The
 * leader's Proposals may go first because the leader counts itself only after its own write.
 * Forward and ReadIndexRequest promise nothing.
 */
export function sendsBeforePersist(message: ConsensusMessage): boolean {
  switch (message.type) {
    case "Proposal":
    case "Commit":
    case "SnapshotChunk":
    case "TimeoutNow":
    case "ReadIndexResponse":
    case "Forward":
    case "ReadIndexRequest":
    // A report from memory is never less than what is durable, and the asker only grows more
    // cautious on a larger one (it stays recovering, or skips a larger term).
    case "HistoryProbe":
    case "HistoryReport":
      return true;
    case "Acknowledgment":
    case "Reject":
    case "VoteRequest":
    case "Vote":
    case "SnapshotAck":
      return false;
  }
}

/** The messages one node produced since its last Ready, already sorted by their ordering rule. */
export class Outbox {
  messages: Envelope[] = [];
  messagesAfterPersist: Envelope[] = [];

  constructor(
    private readonly cluster: string,
    private readonly self: NodeId,
  ) {}

  send(to: NodeId, body: ConsensusMessage): void {
    const envelope: Envelope = { v: protocolVersion, cluster: this.cluster, from: this.self, to, body };
    if (sendsBeforePersist(body)) this.messages.push(envelope);
    else this.messagesAfterPersist.push(envelope);
  }

  /**
   * Withdraws the queued Acknowledgments that claim an entry at or after `index`: the log no longer
   * holds what they speak for. They wait for this Ready's write, but that write now holds other
   * entries there (a new leader's, or a snapshot), so sending them would tell the old leader of
   * entries never made durable here, and it could count them towards a commit. A dropped
   * acknowledgment only costs the old leader a resend, which this node now refuses.
   */
  withdrawAcknowledgmentsFrom(index: number): void {
    this.messagesAfterPersist = this.messagesAfterPersist.filter((envelope) => envelope.body.type !== "Acknowledgment" || envelope.body.matchIndex < index);
  }

  isEmpty(): boolean {
    return this.messages.length === 0 && this.messagesAfterPersist.length === 0;
  }

  /** Hands over the messages that may be sent before persisting; the others stay. */
  takeMessages(): Envelope[] {
    const taken = this.messages;
    this.messages = [];
    return taken;
  }

  /** Hands over everything queued and starts empty. */
  take(): { messages: Envelope[]; messagesAfterPersist: Envelope[] } {
    const taken = { messages: this.messages, messagesAfterPersist: this.messagesAfterPersist };
    this.messages = [];
    this.messagesAfterPersist = [];
    return taken;
  }
}
