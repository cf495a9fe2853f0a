import type { NodeId } from "@lockstep/protocol";
import { majorityIndex } from "./quorum.js";

/** A linearizable read waiting at the leader (Raft thesis §6.4). */
export interface PendingRead {
  context: number;
  /** Who asked: the leader itself, or a follower that sent a ReadIndexRequest. */
  origin: NodeId;
  /** The commit index when the read arrived: the read may be served once that is applied. */
  index: number;
  /** The heartbeat round that confirms leadership for this read; 0 while waiting for a current-term commit. */
  round: number;
}

/**
 * The leader's ReadIndex bookkeeping. Each read gets a heartbeat round number, which followers
 * echo as `context` in their Acknowledgment. Rounds increase, so a member that acknowledged round r
 * has acknowledged this leader after every read of round <= r arrived: a read is confirmed once a
 * majority (the leader included) acknowledged its round or a later one. Round numbers are private to
 * the leader, so clients' contexts from different nodes never collide.
 */
export class ReadIndexTracker {
  private queue: PendingRead[] = [];
  private head = 0;
  /** Reads that arrived before this leader committed an entry of its term (thesis §6.4 step 1). */
  private awaiting: PendingRead[] = [];
  private lastRound = 0;
  private readonly ackedRounds = new Map<NodeId, number>();
  private readonly roundScratch: number[] = [];
  private readonly sortScratch: number[] = [];

  get count(): number {
    return this.queue.length - this.head + this.awaiting.length;
  }

  awaitCommit(context: number, origin: NodeId): void {
    this.awaiting.push({ context, origin, index: 0, round: 0 });
  }

  /** The reads that waited for a current-term commit, now to be started; the list is emptied. */
  takeAwaiting(): PendingRead[] {
    const awaiting = this.awaiting;
    this.awaiting = [];
    return awaiting;
  }

  /** Opens a new heartbeat round; reads added next belong to it. */
  openRound(): number {
    this.lastRound++;
    return this.lastRound;
  }

  add(context: number, origin: NodeId, index: number, round: number): void {
    this.queue.push({ context, origin, index, round });
  }

  acknowledge(member: NodeId, round: number): void {
    if (round > this.lastRound) return;
    if (round > (this.ackedRounds.get(member) ?? 0)) this.ackedRounds.set(member, round);
  }

  /** Removes and returns the reads a majority has now confirmed, oldest first. */
  releaseConfirmed(members: readonly NodeId[], self: NodeId): PendingRead[] {
    if (this.head >= this.queue.length) return [];
    this.roundScratch.length = 0;
    for (const member of members) {
      this.roundScratch.push(member === self ? this.lastRound : (this.ackedRounds.get(member) ?? 0));
    }
    const confirmedRound = majorityIndex(this.roundScratch, this.sortScratch);
    const released: PendingRead[] = [];
    while (this.head < this.queue.length) {
      const read = this.queue[this.head] as PendingRead;
      if (read.round > confirmedRound) break;
      released.push(read);
      this.head++;
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    return released;
  }

  /** Empties the tracker (leadership lost) and returns every read that was waiting. */
  drain(): PendingRead[] {
    const pending = this.queue.slice(this.head).concat(this.awaiting);
    this.queue = [];
    this.head = 0;
    this.awaiting = [];
    this.ackedRounds.clear();
    return pending;
  }
}
