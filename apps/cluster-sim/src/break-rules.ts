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
  ack_before_persist: {
    caughtBy: ["ack_before_persist", "vote_before_persist"],
    what: "answers (votes, acknowledgments) before the write they promise is durable (Raft Figure 2)",
  },
};

export const breakRuleNames = Object.keys(breakRules) as UnsafeBrokenRule[];

export function isBreakRule(text: string): text is UnsafeBrokenRule {
  return (breakRuleNames as string[]).includes(text);
}
