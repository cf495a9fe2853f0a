import type { Envelope } from "@lockstep/protocol";
import { describe, expect, it } from "vitest";
import { SafetyMonitor } from "./safety-monitor.js";
import type { DurableView } from "./safety-monitor.js";

/** A durable log up to `coveredUpTo`, every entry of `entryTerm` (the hard state's term unless given). */
function durable(coveredUpTo: number, term: number, votedFor: string | null, entryTerm = term): DurableView {
  return {
    durableCovers: (index) => index <= coveredUpTo,
    durableTermAt: (index) => (index >= 1 && index <= coveredUpTo ? entryTerm : null),
    durableHardState: () => ({ term, votedFor }),
  };
}

function envelope(from: string, to: string, body: Envelope["body"]): Envelope {
  return { v: 1, cluster: "sim", from, to, body };
}

describe("SafetyMonitor", () => {
  it("flags an Acknowledgment of an entry that is not durable yet (ack before persist)", () => {
    const monitor = new SafetyMonitor(() => 0);
    monitor.observeSend("n2", envelope("n2", "n1", { type: "Acknowledgment", term: 3, matchIndex: 7 }), durable(7, 3, "n1"));
    expect(monitor.violations).toEqual([]);
    monitor.observeSend("n2", envelope("n2", "n1", { type: "Acknowledgment", term: 3, matchIndex: 8 }), durable(7, 3, "n1"));
    expect(monitor.violations.map((violation) => violation.rule)).toEqual(["ack_before_persist"]);
  });

  it("flags an Acknowledgment in term T of an index whose durable entry is of a later term: what it spoke for was replaced", () => {
    const monitor = new SafetyMonitor(() => 0);
    monitor.observeSend("n5", envelope("n5", "n2", { type: "Acknowledgment", term: 5, matchIndex: 36 }), durable(36, 5, null, 5));
    monitor.observeSend("n5", envelope("n5", "n4", { type: "Acknowledgment", term: 5, matchIndex: 36 }), durable(36, 5, null, 4));
    expect(monitor.violations).toEqual([]);
    monitor.observeSend("n5", envelope("n5", "n4", { type: "Acknowledgment", term: 4, matchIndex: 36 }), durable(36, 5, null, 5));
    expect(monitor.violations.map((violation) => violation.detail)).toEqual(["n5 acknowledged index 36 in term 4 to n4, but its durable entry there is of term 5"]);
  });

  it("flags a granted vote whose term and vote are not durable (Raft Figure 2)", () => {
    const monitor = new SafetyMonitor(() => 0);
    const vote = envelope("n2", "n3", { type: "Vote", term: 5, granted: true, preVote: false });
    monitor.observeSend("n2", vote, durable(0, 5, "n3"));
    expect(monitor.violations).toEqual([]);
    monitor.observeSend("n2", vote, durable(0, 4, "n3"));
    // A later durable term also makes the vote safe: the node cannot vote in term 5 again.
    monitor.observeSend("n2", vote, durable(0, 6, null));
    // A pre-vote promises nothing durable, so it is never flagged.
    monitor.observeSend("n2", envelope("n2", "n3", { type: "Vote", term: 6, granted: true, preVote: true }), durable(0, 4, null));
    expect(monitor.violations.map((violation) => violation.rule)).toEqual(["vote_before_persist"]);
  });

  it("flags two leaders in one term, and two different entries applied at one index", () => {
    const monitor = new SafetyMonitor(() => 0);
    monitor.observeLeader("n1", 2);
    monitor.observeLeader("n1", 2);
    monitor.observeLeader("n2", 3);
    expect(monitor.violations).toEqual([]);
    monitor.observeLeader("n3", 3);
    monitor.observeApplied("n1", 4, 2, { kind: "noop" });
    monitor.observeApplied("n2", 4, 2, { kind: "noop" });
    monitor.observeApplied("n3", 4, 3, { kind: "noop" });
    expect(monitor.violations.map((violation) => violation.rule)).toEqual(["election_safety", "state_machine_safety"]);
  });
});
