import type { HistoryReport, NodeId } from "@lockstep/protocol";

/**
 * What an empty voter learned from the other voters' HistoryReports (DESIGN.md §9, protocol-aware
 * repair). A voter whose storage holds nothing cannot tell a cluster's first start from a disk
 * that was wiped or lost: if it voted with its empty log after a loss it could help elect a
 * leader without a committed entry (two disk losses of one entry's majority are not needed: one
 * wiped voter plus one lagging one suffice), or vote twice in a term it already voted in. Nor
 * does it know the term it had reached: a leader of an older term, cut off and still leading it,
 * could commit with its acknowledgments over entries that a later leader committed with the ones
 * it lost. So the check waits for every other voter's answer: each answer's term is at least the
 * term that voter had when the disk was lost, and every term in which the lost disk acknowledged
 * an entry or granted a vote is still held by some voter (the candidate it voted for, or a member
 * of the majority that elected the leader it acknowledged), so the largest term reported bounds
 * them all.
 *
 * - `history`: some voter holds log entries or a snapshot, so the cluster has run: take the
 *   largest term reported (`termAtLeast`), as if it had voted in it, and stay out of elections
 *   until a leader of that term or a later one has brought this log up to date.
 * - `first_start`: every other voter answered with an empty log, so no entry was ever appended
 *   and nothing can be lost; `termAtLeast` is the largest term any of them reported (a vote this
 *   node may have cast before its loss was in a term some candidate still holds).
 * - `waiting`: some voter has not answered yet.
 */
/**
 * `commitIndexAtLeast` (with `history`): the largest commit index reported. Each answer came after
 * the loss, so it is a commit index the cluster had reached by then; a leader's commit index
 * below it, as a late or duplicated Proposal carries, cannot end the recovery.
 */
export type HistoryCheckOutcome =
  | { kind: "waiting" }
  | { kind: "history"; from: NodeId; termAtLeast: number; commitIndexAtLeast: number }
  | { kind: "first_start"; termAtLeast: number };

export class HistoryCheck {
  private readonly unanswered: Set<NodeId>;
  private largestTerm = 0;
  private largestCommitIndex = 0;
  /** The first voter that reported a log, if any did. */
  private historyFrom: NodeId | null = null;

  constructor(otherVoters: readonly NodeId[]) {
    this.unanswered = new Set(otherVoters);
  }

  /** The voters still to ask, in a stable order. */
  get waitingFor(): NodeId[] {
    return [...this.unanswered].sort();
  }

  /** Records one voter's answer; a voter's later answers (duplicates, answers to later probes) change nothing. */
  record(from: NodeId, report: HistoryReport): HistoryCheckOutcome {
    if (!this.unanswered.delete(from)) return { kind: "waiting" };
    this.largestTerm = Math.max(this.largestTerm, report.term);
    this.largestCommitIndex = Math.max(this.largestCommitIndex, report.commitIndex ?? 0);
    if (this.historyFrom === null && (report.lastIndex > 0 || report.snapshotIndex > 0)) this.historyFrom = from;
    if (this.unanswered.size > 0) return { kind: "waiting" };
    return this.historyFrom === null ? { kind: "first_start", termAtLeast: this.largestTerm } : { kind: "history", from: this.historyFrom, termAtLeast: this.largestTerm, commitIndexAtLeast: this.largestCommitIndex };
  }
}
