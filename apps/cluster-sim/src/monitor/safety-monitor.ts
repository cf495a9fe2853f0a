import type { Command, Envelope, NodeId } from "@lockstep/protocol";

/** One broken safety rule, with what a reader needs to see why. */
export interface Violation {
  rule: "election_safety" | "state_machine_safety" | "ack_before_persist" | "vote_before_persist" | "commit_quorum" | "log_matching" | "leader_completeness" | "linearizability" | "invariant" | "liveness" | "convergence" | "storage_durability" | "membership_safety" | "recovering_vote";
  detail: string;
  atMs: number;
}

/** What the monitor needs to know about a node's durable state at the moment it sends. */
export interface DurableView {
  /** Whether the entry at `index` is durable here, in the log or covered by a durable snapshot. */
  durableCovers(index: number): boolean;
  /** The term of the durable entry at `index` (or of a durable snapshot's last entry); null if neither holds it. */
  durableTermAt(index: number): number | null;
  durableHardState(): { term: number; votedFor: NodeId | null };
}

interface CommittedEntry {
  term: number;
  commandJson: string;
  firstAppliedBy: NodeId;
}

/**
 * Watches a running cluster for the rules that must hold at every instant (Raft Figure 3):
 * at most one leader per term (election safety); every node applies the same entry at each
 * index (state machine safety); nothing is acknowledged, and no vote is granted, before it is
 * durable. Collects violations rather than throwing, so a run reports all of them with its seed.
 */
export class SafetyMonitor {
  readonly violations: Violation[] = [];
  private readonly leaderByTerm = new Map<number, NodeId>();
  private readonly committed = new Map<number, CommittedEntry>();
  /** Bound on violations kept: one broken rule tends to repeat on every event after it. */
  private readonly violationsMax = 50;

  constructor(private readonly nowMs: () => number) {}

  get leaderTerms(): number {
    return this.leaderByTerm.size;
  }

  get committedEntries(): ReadonlyMap<number, { term: number; commandJson: string }> {
    return this.committed;
  }

  observeLeader(node: NodeId, term: number): void {
    const known = this.leaderByTerm.get(term);
    if (known === undefined) this.leaderByTerm.set(term, node);
    else if (known !== node) this.report("election_safety", `term ${term} has two leaders: ${known} and ${node}`);
  }

  observeApplied(node: NodeId, index: number, term: number, command: Command): void {
    const commandJson = JSON.stringify(command);
    const known = this.committed.get(index);
    if (known === undefined) {
      this.committed.set(index, { term, commandJson, firstAppliedBy: node });
      return;
    }
    if (known.term !== term || known.commandJson !== commandJson) {
      this.report(
        "state_machine_safety",
        `index ${index}: ${known.firstAppliedBy} applied term ${known.term} ${known.commandJson}, ${node} applied term ${term} ${commandJson}`,
      );
    }
  }

  /** Called for every envelope a node sends, before the network sees it. */
  observeSend(node: NodeId, envelope: Envelope, durable: DurableView): void {
    const body = envelope.body;
    if (body.type === "Acknowledgment" && body.matchIndex > 0) {
      if (!durable.durableCovers(body.matchIndex)) {
        this.report("ack_before_persist", `${node} acknowledged index ${body.matchIndex} (term ${body.term}) to ${envelope.to} before it was durable`);
      } else {
        // A term-T leader sent no entry of a later term: if the durable entry there is one, the
        // entry this acknowledgment speaks for was replaced before it was ever durable.
        const durableTerm = durable.durableTermAt(body.matchIndex);
        if (durableTerm !== null && durableTerm > body.term) {
          this.report("ack_before_persist", `${node} acknowledged index ${body.matchIndex} in term ${body.term} to ${envelope.to}, but its durable entry there is of term ${durableTerm}`);
        }
      }
    }
    if (body.type === "Vote" && body.granted && !body.preVote) {
      const hard = durable.durableHardState();
      // Safe when the vote itself is durable, or when a later term is: either way a restarted
      // node can never vote again in this term. (One Ready can grant a vote and then move on to
      // a later term when several messages arrive at once, after a pause for instance.)
      const voteDurable = hard.term === body.term && hard.votedFor === envelope.to;
      if (!voteDurable && hard.term <= body.term) {
        this.report(
          "vote_before_persist",
          `${node} granted its term-${body.term} vote to ${envelope.to} while its durable hard state was term ${hard.term}, vote ${hard.votedFor ?? "none"}`,
        );
      }
    }
  }

  report(rule: Violation["rule"], detail: string): void {
    if (this.violations.length < this.violationsMax) this.violations.push({ rule, detail, atMs: this.nowMs() });
  }
}
