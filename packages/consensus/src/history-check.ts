import type { HistoryReport, NodeId, ReportedConfiguration } from "@lockstep/protocol";

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
 *
 * Whose answers it waits for: the voters of the newest configuration it knows. It starts with
 * the member list it was given (its config file: the disk names no configuration), and each
 * answer tells the sender's configuration in effect (the last it knows committed) with the index
 * that holds it. Committed configurations form one history, so the one with the largest index is
 * the newest, and from then on the check waits for its voters instead. That lets it finish when a
 * voter it was given has since been removed and its machine retired (it would never answer), and
 * makes it ask a voter added since. Why the bound is kept (an argument, checked by the
 * simulator's membership churn with wiped disks, not a proof): the newest configuration is
 * learned only from a voter that knows it committed, so a majority of the configuration before it
 * took the term that committed it, and with single-server changes all but at most one of that
 * majority are voters of the newest configuration, which are all asked; a term of the lost disk
 * that only a removed voter still holds would need a majority without the voters asked, which
 * two configurations one change apart do not have. Answers of voters that are no longer waited
 * for still count: each came after the loss.
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
  private readonly self: NodeId;
  /** Every voter that answered at least once. */
  private readonly answered = new Set<NodeId>();
  /** The other voters of the newest configuration known: whose answers the check waits for. */
  private required: ReadonlySet<NodeId>;
  /** The index of that configuration; the given member list counts as index 0. */
  private requiredConfigurationIndex = 0;
  private largestTerm = 0;
  private largestCommitIndex = 0;
  /** The first voter that reported a log, if any did. */
  private historyFrom: NodeId | null = null;

  constructor(self: NodeId, givenVoters: readonly NodeId[]) {
    this.self = self;
    this.required = new Set(givenVoters.filter((voter) => voter !== self));
  }

  /** The voters still to hear from, in a stable order. */
  get waitingFor(): NodeId[] {
    return [...this.required].filter((voter) => !this.answered.has(voter)).sort();
  }

  /**
   * The voters to probe: every voter of the newest configuration, those that answered too, so
   * that a configuration changed while the check waits (a voter removed and gone) is learned.
   */
  get toProbe(): NodeId[] {
    return [...this.required].sort();
  }

  /** Records one answer; later answers of the same voter count too (each came after the loss). */
  record(from: NodeId, report: HistoryReport): HistoryCheckOutcome {
    this.answered.add(from);
    this.largestTerm = Math.max(this.largestTerm, report.term);
    this.largestCommitIndex = Math.max(this.largestCommitIndex, report.commitIndex ?? 0);
    if (this.historyFrom === null && (report.lastIndex > 0 || report.snapshotIndex > 0)) this.historyFrom = from;
    if (report.configuration !== undefined) this.noteConfiguration(report.configuration);
    if (this.waitingFor.length > 0) return { kind: "waiting" };
    return this.historyFrom === null ? { kind: "first_start", termAtLeast: this.largestTerm } : { kind: "history", from: this.historyFrom, termAtLeast: this.largestTerm, commitIndexAtLeast: this.largestCommitIndex };
  }

  private noteConfiguration(configuration: ReportedConfiguration): void {
    if (configuration.index <= this.requiredConfigurationIndex) return;
    this.requiredConfigurationIndex = configuration.index;
    this.required = new Set(configuration.voters.filter((voter) => voter !== this.self));
  }
}
