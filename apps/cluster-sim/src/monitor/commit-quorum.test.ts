import type { Command, Member } from "@lockstep/protocol";
import { describe, expect, it } from "vitest";
import { CommitQuorumCheck } from "./commit-quorum.js";
import type { ConfigurationLogView, DurableLogView } from "./commit-quorum.js";

function log(terms: Record<number, number>, snapshotIndex = 0): DurableLogView {
  return { durableTermAt: (index) => terms[index] ?? null, durableSnapshotIndex: () => snapshotIndex };
}

function members(voters: string[], learners: string[] = []): Member[] {
  return [...voters.map((id) => ({ id, peerAddress: "", clientUrl: "", voter: true })), ...learners.map((id) => ({ id, peerAddress: "", clientUrl: "", voter: false }))];
}

/** A leader's own log: `commands` by index (a plain noop elsewhere), after an optional snapshot. */
function ownLog(commands: Record<number, Command>, snapshot: { index: number; members: Member[] } | null = null, durableLast = 1_000): ConfigurationLogView {
  return {
    durableEntryAt: (index) => {
      if (index <= (snapshot?.index ?? 0) || index > durableLast) return undefined;
      const command = commands[index];
      return command?.kind === "members" ? { term: 1, members: command.members } : { term: 1 };
    },
    durableSnapshotIndex: () => snapshot?.index ?? 0,
    durableLastIndex: () => durableLast,
    durableSnapshotMembers: () => snapshot?.members ?? null,
  };
}

const bootstrap = ["n1", "n2", "n3"];
const noConfiguration = ownLog({});

describe("CommitQuorumCheck", () => {
  it("reads a configuration the leader folded into a snapshot before the check scanned it (fresh seed 2500711)", () => {
    // Voters n1, n2; index 5 promotes n3 and is folded into a snapshot at 5 before the check
    // looks again; index 7 is then held by n1 and n3, a majority of {n1, n2, n3}.
    const entries: Record<number, Command> = { 1: { kind: "members", members: members(["n1", "n2"], ["n3"]) }, 5: { kind: "members", members: members(["n1", "n2", "n3"]) } };
    let snapshot: { index: number; members: Member[] } | null = null;
    const own: ConfigurationLogView = {
      durableEntryAt: (index) => (index <= (snapshot?.index ?? 0) ? undefined : ownLog(entries).durableEntryAt(index)),
      durableSnapshotIndex: () => snapshot?.index ?? 0,
      durableLastIndex: () => 1_000,
      durableSnapshotMembers: () => snapshot?.members ?? null,
    };
    const check = new CommitQuorumCheck(bootstrap);
    const logs = new Map([["n1", log({ 7: 1 })], ["n2", log({})], ["n3", log({ 7: 1 })]]);
    expect(check.observe("n1", 1, 2, own, logs)).toBeNull();
    snapshot = { index: 5, members: members(["n1", "n2", "n3"]) };
    expect(check.observe("n1", 1, 6, own, logs)).toBeNull();
    expect(check.observe("n1", 1, 7, own, logs)).toBeNull();
    // Without n3's copy, 7 is held by one of three.
    const minority = new Map([["n1", log({ 8: 1 })], ["n2", log({})], ["n3", log({})]]);
    expect(check.observe("n1", 1, 8, own, minority)).toContain("only 1 of 3");
  });

  it("reads the configuration of an entry folded into a snapshot in the same event that committed it", () => {
    const entries: Record<number, Command> = { 1: { kind: "members", members: members(["n1", "n2"], ["n3"]) }, 5: { kind: "members", members: members(["n1", "n2", "n3"]) } };
    const own: ConfigurationLogView = {
      durableEntryAt: (index) => (index <= 5 ? undefined : ownLog(entries).durableEntryAt(index)),
      durableSnapshotIndex: () => 5,
      durableLastIndex: () => 1_000,
      durableSnapshotMembers: () => members(["n1", "n2", "n3"]),
    };
    const check = new CommitQuorumCheck(bootstrap);
    const logs = new Map([["n1", log({ 7: 1 })], ["n2", log({}, 5)], ["n3", log({ 7: 1 }, 5)]]);
    expect(check.observe("n1", 1, 4, ownLog(entries), logs)).toBeNull();
    expect(check.observe("n1", 1, 5, own, logs)).toBeNull();
    expect(check.observe("n1", 1, 7, own, logs)).toBeNull();
  });

  it("accepts a commit that a majority holds durably (a snapshot covering it counts)", () => {
    const check = new CommitQuorumCheck(bootstrap);
    const logs = new Map([["n1", log({ 5: 2 })], ["n2", log({}, 5)], ["n3", log({})]]);
    expect(check.observe("n1", 2, 4, noConfiguration, logs)).toBeNull();
    expect(check.observe("n1", 2, 5, noConfiguration, logs)).toBeNull();
  });

  it("flags a commit held by a minority, or by a majority with another term at that index", () => {
    const check = new CommitQuorumCheck(bootstrap);
    const minority = new Map([["n1", log({ 5: 2 })], ["n2", log({})], ["n3", log({})]]);
    expect(check.observe("n1", 2, 4, noConfiguration, minority)).toBeNull();
    expect(check.observe("n1", 2, 5, noConfiguration, minority)).toContain("held durably by only 1 of 3 voters (n1)");
    const otherTerm = new Map([["n1", log({ 6: 2 })], ["n2", log({ 6: 1 })], ["n3", log({})]]);
    expect(check.observe("n1", 2, 6, noConfiguration, otherTerm)).toContain("only 1 of 3");
  });

  it("counts only voters: a learner of the configuration holding the entry does not make a majority", () => {
    const check = new CommitQuorumCheck(bootstrap);
    const own = ownLog({ 1: { kind: "members", members: members(["n1", "n2", "n3"], ["n4"]) } });
    const logs = new Map([["n1", log({ 3: 1 })], ["n2", log({})], ["n3", log({})], ["n4", log({ 3: 1 })]]);
    expect(check.observe("n1", 1, 2, own, logs)).toBeNull();
    expect(check.observe("n1", 1, 3, own, logs)).toContain("only 1 of 3");
  });

  it("judges each commit by the configuration the leader's log had in force at its previous commit index", () => {
    // Index 4 promotes n4 (voters n1..n4, a majority is 3). Committing up to 4 is decided in the
    // old configuration; once 4 is committed, index 6 needs three of the four voters.
    const own = ownLog({ 1: { kind: "members", members: members(["n1", "n2", "n3"], ["n4"]) }, 4: { kind: "members", members: members(["n1", "n2", "n3", "n4"]) } });
    const check = new CommitQuorumCheck(bootstrap);
    const logs = new Map([["n1", log({ 4: 1, 5: 1, 6: 1 })], ["n2", log({ 4: 1, 5: 1, 6: 1 })], ["n3", log({})], ["n4", log({})]]);
    expect(check.observe("n1", 1, 2, own, logs)).toBeNull();
    expect(check.observe("n1", 1, 4, own, logs)).toBeNull();
    expect(check.observe("n1", 1, 5, own, logs)).toContain("held durably by only 2 of 4 voters (n1, n2)");
  });

  it("follows a removal: after it the removed voter no longer counts and the majority shrinks", () => {
    const own = ownLog({ 3: { kind: "members", members: members(["n1", "n2"]) } });
    const check = new CommitQuorumCheck(bootstrap);
    // n3 holds index 5 but was removed at index 3: n1 alone is not a majority of n1, n2.
    const logs = new Map([["n1", log({ 3: 1, 5: 1 })], ["n2", log({ 3: 1 })], ["n3", log({ 3: 1, 5: 1 })]]);
    expect(check.observe("n1", 1, 2, own, logs)).toBeNull();
    expect(check.observe("n1", 1, 3, own, logs)).toBeNull();
    expect(check.observe("n1", 1, 5, own, logs)).toContain("only 1 of 2 voters (n1)");
  });

  it("takes the configuration from the leader's snapshot when the log after it names none", () => {
    const own = ownLog({}, { index: 10, members: members(["n1", "n2", "n3", "n4", "n5"]) });
    const check = new CommitQuorumCheck(bootstrap);
    const logs = new Map([["n1", log({ 12: 2 })], ["n2", log({ 12: 2 })], ["n3", log({})], ["n4", log({})], ["n5", log({})]]);
    expect(check.observe("n1", 2, 11, own, logs)).toBeNull();
    expect(check.observe("n1", 2, 12, own, logs)).toContain("only 2 of 5");
  });
});

describe("CommitQuorumCheck, several commits in one event", () => {
  it("accepts a move past a removal when the configuration after it decided the last step", () => {
    // Seen at once: commit 2 -> 3 (the removal of n3, in n1..n3) and 3 -> 5 (in n1, n2).
    const own = ownLog({ 3: { kind: "members", members: members(["n1", "n2"]) } });
    const check = new CommitQuorumCheck(bootstrap);
    const logs = new Map([["n1", log({ 3: 1, 5: 1 })], ["n2", log({ 3: 1, 5: 1 })], ["n3", log({})]]);
    expect(check.observe("n1", 1, 2, own, logs)).toBeNull();
    expect(check.observe("n1", 1, 5, own, logs)).toBeNull();
  });

  it("still flags a move that no configuration between the two commit indexes backs", () => {
    const own = ownLog({ 3: { kind: "members", members: members(["n1", "n2", "n3", "n4"]) } });
    const check = new CommitQuorumCheck(bootstrap);
    const logs = new Map([["n1", log({ 3: 1, 5: 1 })], ["n2", log({})], ["n3", log({})], ["n4", log({ 5: 1 })]]);
    expect(check.observe("n1", 1, 2, own, logs)).toBeNull();
    expect(check.observe("n1", 1, 5, own, logs)).toContain("only 1 of 3 voters (n1)");
  });
});

describe("CommitQuorumCheck, a leader whose log is not all durable yet", () => {
  it("does not judge a move past a configuration entry its durable log does not hold yet, and judges the next once it does", () => {
    // n2 led with commit index 4 learned as a follower while only index 2 was durable here;
    // index 3 promotes n4 (majority of four: 3).
    const commands: Record<number, Command> = { 3: { kind: "members", members: members(["n1", "n2", "n3", "n4"]) } };
    const check = new CommitQuorumCheck(bootstrap);
    const logs = new Map([["n1", log({})], ["n2", log({ 5: 2, 6: 2 })], ["n3", log({})], ["n4", log({ 5: 2, 6: 2 })]]);
    expect(check.observe("n2", 2, 4, ownLog(commands, null, 2), logs)).toBeNull();
    expect(check.observe("n2", 2, 5, ownLog(commands, null, 2), logs)).toBeNull();
    expect(check.observe("n2", 2, 6, ownLog(commands, null, 6), logs)).toContain("only 2 of 4 voters (n2, n4)");
  });
});

describe("CommitQuorumCheck, entries folded into a snapshot in the event that commits past them", () => {
  // n5 led {n1, n2, n3, n5} with commit index 106 and an inherited removal of n1 at 114; in one
  // event it committed 122 (held by n3 and n5, a majority of {n2, n3, n5}) and took a snapshot at
  // 122, so its log no longer showed the entry at 114 (seed 8066178).
  const before = members(["n1", "n2", "n3", "n5"]);
  const after = members(["n2", "n3", "n5"]);
  const holders = () => new Map([["n1", log({})], ["n2", log({})], ["n3", log({ 122: 4 })], ["n4", log({})], ["n5", log({ 122: 4 }, 122)]]);
  function leaderLog(snapshot: { index: number; members: Member[] }, last = 122): ConfigurationLogView {
    const entries: Record<number, Command> = { 114: { kind: "members", members: after } };
    return {
      durableEntryAt: (index) => (index <= snapshot.index || index > last ? undefined : index === 122 ? { term: 4 } : ownLog(entries).durableEntryAt(index)),
      durableSnapshotIndex: () => snapshot.index,
      durableLastIndex: () => Math.max(last, snapshot.index),
      durableSnapshotMembers: () => snapshot.members,
    };
  }

  it("remembers the configuration entry it saw above the commit index before the snapshot folded it", () => {
    const check = new CommitQuorumCheck(bootstrap);
    expect(check.observe("n5", 4, 106, leaderLog({ index: 102, members: before }), holders())).toBeNull();
    expect(check.observe("n5", 4, 122, leaderLog({ index: 122, members: after }), holders())).toBeNull();
  });

  it("still judges by the older configuration when no configuration entry lay in between", () => {
    const check = new CommitQuorumCheck(bootstrap);
    const plain: ConfigurationLogView = { ...leaderLog({ index: 102, members: before }), durableEntryAt: (index) => (index > 102 && index <= 122 ? { term: index === 122 ? 4 : 3 } : undefined) };
    expect(check.observe("n5", 4, 106, plain, holders())).toBeNull();
    const folded: ConfigurationLogView = { ...plain, durableEntryAt: () => undefined, durableSnapshotIndex: () => 122, durableSnapshotMembers: () => before };
    expect(check.observe("n5", 4, 122, folded, holders())).toContain("only 2 of 4 voters (n3, n5)");
  });

  it("judges nothing when the entries were folded before the check could read them", () => {
    const check = new CommitQuorumCheck(bootstrap);
    // First seen with only index 106 durable, then 107..122 written and folded in one event.
    expect(check.observe("n5", 4, 106, leaderLog({ index: 102, members: before }, 106), holders())).toBeNull();
    expect(check.observe("n5", 4, 122, leaderLog({ index: 122, members: after }), holders())).toBeNull();
  });
});

describe("CommitQuorumCheck, a leader on a replaced disk", () => {
  // n2's first disk held index 6 at term 5; it was replaced, and n2, leader of term 9 on the new
  // disk, committed its own index 6 (term 9) with n1 and n3 before its own write of it was durable
  // (seed 9098713). The wider view of n2 (new disk, else old) answers term 5 at 6.
  const combined = log({ 5: 9, 6: 5 });
  const fresh = log({ 5: 9 });
  const followers = (): Map<string, DurableLogView> => new Map([["n1", log({ 5: 9, 6: 9 })], ["n2", combined], ["n3", log({ 5: 9, 6: 9 })]]);

  it("takes the entry's term from the leader's current disk, not from what its old disk held", () => {
    const check = new CommitQuorumCheck(bootstrap);
    expect(check.observe("n2", 9, 5, noConfiguration, followers(), fresh)).toBeNull();
    expect(check.observe("n2", 9, 6, noConfiguration, followers(), fresh)).toBeNull();
    // Without the current disk, the old disk's term 5 is compared with the followers' 9.
    const blind = new CommitQuorumCheck(bootstrap);
    expect(blind.observe("n2", 9, 5, noConfiguration, followers())).toBeNull();
    expect(blind.observe("n2", 9, 6, noConfiguration, followers())).toContain("only 1 of 3 voters (n2)");
  });
});
