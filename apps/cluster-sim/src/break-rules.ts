import type { UnsafeBrokenRule } from "@lockstep/consensus";
import type { Violation } from "./monitor/safety-monitor.js";

/**
 * Every rule `--break-rule` can break, with the checkers that must catch it. A `Record` over the
 * core's union: a rule added to the core without an entry here does not compile, so no broken
 * rule goes untested (test/break-rules.test.ts runs CI's seeds with each).
 */
export const breakRules: Readonly<Record<UnsafeBrokenRule, { caughtBy: ReadonlyArray<Violation["rule"]>; what: string }>> = {
  vote_without_log_check: {
    caughtBy: ["state_machine_safety", "commit_quorum", "leader_completeness", "linearizability", "log_matching"],
    what: "votes without the election restriction (Raft §5.4.1): a stale log can win and overwrite committed entries",
  },
  commit_old_term_by_count: {
    caughtBy: ["state_machine_safety", "commit_quorum", "leader_completeness", "linearizability", "log_matching"],
    what: "commits an entry of an earlier term by counting replicas (Raft §5.4.2, Figure 8)",
  },
  hard_state_before_entries: {
    caughtBy: ["state_machine_safety", "leader_completeness", "linearizability", "log_matching", "storage_durability"],
    what: "storage writes a batch's hard state before the entries it covers and trusts its commit index at recovery",
  },
  membership_changes_concurrent: {
    caughtBy: ["membership_safety", "invariant", "commit_quorum", "state_machine_safety", "leader_completeness", "linearizability", "log_matching"],
    what: "lets a leader make a configuration change while another is uncommitted (single-server changes go one at a time, thesis §4.1)",
  },
  membership_change_before_term_commit: {
    caughtBy: ["membership_safety", "commit_quorum", "state_machine_safety", "leader_completeness", "linearizability", "log_matching"],
    what: "lets a new leader change the configuration before it has committed an entry of its own term (the bug Ongaro published in 2015)",
  },
  learner_counts_toward_commit: {
    caughtBy: ["commit_quorum", "state_machine_safety", "leader_completeness", "linearizability", "log_matching"],
    what: "counts learners' acknowledgments toward a commit (only voters count, thesis §4.2.1)",
  },
  trust_answers_of_lost_disks: {
    caughtBy: ["commit_quorum", "state_machine_safety", "leader_completeness", "linearizability", "log_matching"],
    what: "counts an Acknowledgment a member sent before it said its disk may have lost entries (no per-follower epoch, no forget on the news), so a late one commits what only the leader holds",
  },
  ack_before_persist: {
    caughtBy: ["ack_before_persist", "vote_before_persist"],
    what: "answers (votes, acknowledgments) before the write they promise is durable (Raft Figure 2)",
  },
};

export const breakRuleNames = Object.keys(breakRules) as UnsafeBrokenRule[];

export function isBreakRule(text: string): text is UnsafeBrokenRule {
  return (breakRuleNames as string[]).includes(text);
}
