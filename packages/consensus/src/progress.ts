import { Inflights } from "./inflights.js";

export type ProgressState = "probe" | "replicate" | "snapshot";

/**
 * The leader's view of one member (etcd's tracker.Progress).
 *
 * - probe: the leader does not know where the follower's log matches; it sends one Proposal at a
 *   time and waits for the answer (an Acknowledgment or a Reject with a backup hint).
 * - replicate: the follower's log is known to match up to `matchIndex`; the leader streams
 *   Proposals optimistically, at most `inflights.capacityMax` unacknowledged at once.
 * - snapshot: the entries the follower needs were compacted; the leader sends the retained
 *   snapshot, one chunk in flight, and waits for the follower to acknowledge its installation.
 */
export class Progress {
  matchIndex = 0;
  nextIndex: number;
  state: ProgressState = "probe";
  /** In probe state: a probe is outstanding, so send nothing more until an answer or a heartbeat reply. */
  probeSent = false;
  /** Heard from in the current check-quorum window (Raft thesis §6.2). */
  recentActive = false;
  readonly inflights: Inflights;
  /** In snapshot state: the index of the snapshot being sent and the next byte offset to send. */
  snapshotIndex = 0;
  snapshotOffset = 0;
  /** Ticks since the last chunk was sent or acknowledged; a chunk is resent after an election timeout. */
  snapshotIdleTicks = 0;
  /** In replicate state: ticks with Proposals outstanding and no acknowledgment progress (loss detection). */
  stalledTicks = 0;
  /** The commit index last sent to this member, so that a `Commit` is sent only when it says something new. */
  commitSent = 0;
  /**
   * The last index this leader appended for a `Forward` of this member: the member's clients wait
   * until it knows that index is committed, so the commit is sent at once (`notifyWaitingMember`)
   * instead of with the next Proposal or heartbeat. (A read needs nothing of the kind: the
   * heartbeat round that confirms it carries the commit index.)
   */
  awaitedIndex = 0;
  /**
   * Set to a new value, unique in the leader's term, each time this leader forgets a match the
   * member acknowledged (`forgetMatch`): sent on every Proposal and SnapshotChunk, echoed on the
   * member's answers. Only answers of the current epoch count, so an Acknowledgment sent before
   * the member's disk lost the entries cannot raise the match again when it arrives late.
   */
  epoch = 0;
  /**
   * The leader's tick when the member's answers started saying it is recovering from a possible
   * storage loss; null while its last Acknowledgment or Reject did not say so.
   */
  recoveringSinceTick: number | null = null;
  /** The incarnation of the member's last answer that counted (`Acknowledgment.incarnation`); null before any. */
  incarnation: number | null = null;

  constructor(nextIndex: number, inflightProposalsMax: number) {
    this.nextIndex = nextIndex;
    this.inflights = new Inflights(inflightProposalsMax);
  }

  /**
   * The member's last Acknowledgment or Reject said it is recovering: the leader demotes such a
   * voter to learner and promotes it again only once this is false.
   */
  get recovering(): boolean {
    return this.recoveringSinceTick !== null;
  }

  /**
   * Records what the member's latest answer (of the current epoch) says of its sender, at the
   * leader's tick `nowTick`: whether it is recovering, and from which process (`incarnation`,
   * absent from older senders). Returns true when the answer is news of a possible loss: the first
   * from another process of the member, or the first to say it is recovering. The member's earlier
   * answers may then describe a disk it no longer has, so the caller forgets the match with a new
   * epoch. The incarnation catches what the flag cannot: a disk lost again while the member is
   * still counted as recovering (simulator seed 187).
   */
  noteAnswer(recovering: boolean, incarnation: number | undefined, nowTick: number): boolean {
    const restarted = incarnation !== undefined && this.incarnation !== null && this.incarnation !== incarnation;
    if (incarnation !== undefined) this.incarnation = incarnation;
    const startsRecovering = recovering && this.recoveringSinceTick === null;
    if (!recovering) this.recoveringSinceTick = null;
    else if (startsRecovering) this.recoveringSinceTick = nowTick;
    return restarted || startsRecovering;
  }

  becomeProbe(): void {
    // After a snapshot, the follower has at least the snapshot's entries.
    const floor = this.state === "snapshot" ? Math.max(this.matchIndex, this.snapshotIndex) : this.matchIndex;
    this.resetState("probe");
    this.nextIndex = floor + 1;
  }

  becomeReplicate(): void {
    this.resetState("replicate");
    this.nextIndex = this.matchIndex + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState("snapshot");
    this.snapshotIndex = snapshotIndex;
  }

  /** An acknowledgment of `index`: returns whether it told the leader something new. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (index > this.matchIndex) {
      this.matchIndex = index;
      this.stalledTicks = 0;
      this.probeSent = false;
      updated = true;
    }
    this.nextIndex = Math.max(this.nextIndex, index + 1);
    return updated;
  }

  /**
   * A Reject of the Proposal sent at `rejectedIndex`, with the leader-computed restart point
   * `nextProbeIndex` (from the follower's fast-backup hint). Returns false for a stale Reject (of a
   * Proposal older than what we know). In replicate state a fresh Reject drops back to probe.
   */
  maybeDecrease(rejectedIndex: number, nextProbeIndex: number): boolean {
    switch (this.state) {
      case "snapshot":
        return false;
      case "replicate":
        if (rejectedIndex <= this.matchIndex) return false;
        this.resetState("probe");
        break;
      case "probe":
        // In probe state only the answer to the outstanding probe counts.
        if (this.nextIndex - 1 !== rejectedIndex) return false;
        this.probeSent = false;
        break;
    }
    this.nextIndex = Math.max(Math.min(rejectedIndex, nextProbeIndex), this.matchIndex + 1);
    return true;
  }

  /** The follower no longer holds what it acknowledged past `index`: probe again from there. */
  forgetMatch(index: number, epoch: number): void {
    this.epoch = epoch;
    this.matchIndex = Math.max(0, Math.min(this.matchIndex, index));
    this.resetState("probe");
    this.nextIndex = this.matchIndex + 1;
  }

  /** Whether the leader must hold back further Proposals to this member for now. */
  isPaused(): boolean {
    switch (this.state) {
      case "probe":
        return this.probeSent;
      case "replicate":
        return this.inflights.isFull();
      case "snapshot":
        return true;
    }
  }

  private resetState(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.snapshotIndex = 0;
    this.snapshotOffset = 0;
    this.snapshotIdleTicks = 0;
    this.stalledTicks = 0;
    this.inflights.reset();
  }
}
