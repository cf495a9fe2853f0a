import type { Command, Entry, Member, Proposal } from "@lockstep/protocol";
import { describe, expect, it } from "vitest";
import type { ConfigurationLogView, DurableLogView } from "./commit-quorum.js";
import { MembershipChangeCheck } from "./membership-change-check.js";

function members(voters: string[], learners: string[] = []): Member[] {
  return [...voters.map((id) => ({ id, peerAddress: "", clientUrl: "", voter: true })), ...learners.map((id) => ({ id, peerAddress: "", clientUrl: "", voter: false }))];
}

/** A leader's durable log of term 2: `commands` by index (a noop elsewhere) through `lastIndex`. */
function ownLog(commands: Record<number, Command>, lastIndex: number): ConfigurationLogView & DurableLogView {
  return {
    durableEntryAt: (index) => {
      if (index < 1 || index > lastIndex) return undefined;
      const command = commands[index];
      return command?.kind === "members" ? { term: 2, members: command.members } : { term: 2 };
    },
    durableTermAt: (index) => (index >= 1 && index <= lastIndex ? 2 : null),
    durableSnapshotIndex: () => 0,
    durableLastIndex: () => lastIndex,
    durableSnapshotMembers: () => null,
  };
}

function proposal(prevIndex: number, commitIndex: number, entries: Entry[]): Proposal {
  return { type: "Proposal", term: 2, prevIndex, prevTerm: 2, entries, commitIndex };
}

describe("MembershipChangeCheck: one voter per change", () => {
  // Seed 258's shape: index 23 demotes n3 (committed at 24, not yet in effect); index 25 was built
  // on the configuration before 23 and demotes n2 while making n3 a voter again.
  const before23: Command = { kind: "members", members: members(["n1", "n2", "n3", "n4", "n5"]) };
  const at23: Command = { kind: "members", members: members(["n1", "n2", "n4", "n5"], ["n3"]) };

  it("reports a change two voters apart from the configuration before it in the leader's log", () => {
    const own = ownLog({ 10: before23, 23: at23 }, 24);
    const stale: Entry = { index: 25, term: 2, command: { kind: "members", members: members(["n1", "n3", "n4", "n5"], ["n2"]) } };
    expect(new MembershipChangeCheck().observeProposal("n3", proposal(24, 24, [stale]), own)).toContain("changes 2 voters (n2, n3)");
  });

  it("accepts the same demotion built on the configuration in effect", () => {
    const own = ownLog({ 10: before23, 23: at23 }, 24);
    const sound: Entry = { index: 25, term: 2, command: { kind: "members", members: members(["n1", "n4", "n5"], ["n2", "n3"]) } };
    expect(new MembershipChangeCheck().observeProposal("n3", proposal(24, 24, [sound]), own)).toBeNull();
  });

  it("reads the configuration before the change from the Proposal itself when it carries it", () => {
    const own = ownLog({ 10: before23 }, 20);
    const entries: Entry[] = [
      { index: 21, term: 2, command: { kind: "noop" } },
      { index: 22, term: 2, command: { kind: "members", members: members(["n1", "n2", "n3", "n4"], ["n5"]) } },
    ];
    expect(new MembershipChangeCheck().observeProposal("n1", proposal(20, 21, entries), own)).toBeNull();
  });
});
