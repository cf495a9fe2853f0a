import type { Envelope } from "@lockstep/protocol";
import { describe, expect, it } from "vitest";
import { matches, SendHistory } from "./timed-faults.js";

function envelope(body: Envelope["body"]): Envelope {
  return { v: 1, cluster: "sim", from: "n1", to: "n2", body };
}
const entry = { index: 5, term: 3, command: { kind: "noop" as const } };

describe("timed faults", () => {
  it("recognise a new leader's first Proposal and a commit index that moved, from the messages alone", () => {
    const history = new SendHistory();
    const heartbeat = envelope({ type: "Proposal", term: 3, prevIndex: 4, prevTerm: 2, entries: [], commitIndex: 4 });
    const first = envelope({ type: "Proposal", term: 3, prevIndex: 4, prevTerm: 2, entries: [entry], commitIndex: 4 });
    expect(history.observe("n1", heartbeat)).toEqual({ firstProposalOfTerm: false, commitAdvanced: false });
    expect(history.observe("n1", first)).toEqual({ firstProposalOfTerm: true, commitAdvanced: false });
    expect(history.observe("n1", first)).toEqual({ firstProposalOfTerm: false, commitAdvanced: false });
    const commit = envelope({ type: "Commit", term: 3, commitIndex: 5 });
    const facts = history.observe("n1", commit);
    expect(facts).toEqual({ firstProposalOfTerm: false, commitAdvanced: true });
    expect(matches("crash_after_commit", commit, facts)).toBe(true);
    expect(history.observe("n1", commit).commitAdvanced).toBe(false);
    // A new term starts a new baseline.
    expect(history.observe("n1", envelope({ type: "Proposal", term: 4, prevIndex: 5, prevTerm: 3, entries: [entry], commitIndex: 5 }))).toEqual({ firstProposalOfTerm: true, commitAdvanced: false });
  });

  it("match acknowledgments and granted votes, never pre-votes or refusals", () => {
    const none = { firstProposalOfTerm: false, commitAdvanced: false };
    expect(matches("crash_after_acknowledgment", envelope({ type: "Acknowledgment", term: 3, matchIndex: 5 }), none)).toBe(true);
    expect(matches("crash_before_vote", envelope({ type: "Vote", term: 3, granted: true, preVote: false }), none)).toBe(true);
    expect(matches("crash_before_vote", envelope({ type: "Vote", term: 3, granted: true, preVote: true }), none)).toBe(false);
    expect(matches("crash_after_vote", envelope({ type: "Vote", term: 3, granted: false, preVote: false }), none)).toBe(false);
  });
});
