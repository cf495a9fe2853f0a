import type { HistoryReport, NodeId } from "@lockstep/protocol";

/**
 * What an empty voter learned from the other voters' HistoryReports (DESIGN.md §9, protocol-aware
 * repair). A voter whose storage holds nothing cannot tell a cluster's first start from a disk
 * that was wiped or lost: if it voted with its empty log after a loss it could help elect a
 * leader without a committed entry (two disk losses of one entry's majority are not needed: one
 * wiped voter plus one lagging one suffice), or vote twice in a term it already voted in.
 *
 * - `history`: some voter holds log entries or a snapshot, so the cluster has run: stay out of
 *   elections until a leader has brought this log up to date.
 * - `first_start`: every other voter answered with an empty log, so no entry was ever appended
 *   and nothing can be lost; `termAtLeast` is the largest term any of them reported (a vote this
 *   node may have cast before its loss was in a term some candidate still holds).
 * - `waiting`: some voter has not answered yet.
 */
export type HistoryCheckOutcome = { kind: "waiting" } | { kind: "history"; from: NodeId } | { kind: "first_start"; termAtLeast: number };

export class HistoryCheck {
  private readonly unanswered: Set<NodeId>;
  private largestTerm = 0;

  constructor(otherVoters: readonly NodeId[]) {
    this.unanswered = new Set(otherVoters);
  }

  /** The voters still to ask, in a stable order. */
  get waitingFor(): NodeId[] {
    return [...this.unanswered].sort();
  }

  record(from: NodeId, report: HistoryReport): HistoryCheckOutcome {
    if (report.lastIndex > 0 || report.snapshotIndex > 0) return { kind: "history", from };
    if (!this.unanswered.delete(from)) return { kind: "waiting" };
    this.largestTerm = Math.max(this.largestTerm, report.term);
    return this.unanswered.size === 0 ? { kind: "first_start", termAtLeast: this.largestTerm } : { kind: "waiting" };
  }
}
