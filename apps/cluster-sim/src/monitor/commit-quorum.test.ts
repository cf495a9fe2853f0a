import { describe, expect, it } from "vitest";
import { CommitQuorumCheck } from "./commit-quorum.js";
import type { DurableLogView } from "./commit-quorum.js";

function log(terms: Record<number, number>, snapshotIndex = 0): DurableLogView {
  return { durableTermAt: (index) => terms[index] ?? null, durableSnapshotIndex: () => snapshotIndex };
}

describe("CommitQuorumCheck", () => {
  const voters = ["n1", "n2", "n3"];

  it("accepts a commit that a majority holds durably (a snapshot covering it counts)", () => {
    const check = new CommitQuorumCheck();
    const logs = new Map([["n1", log({ 5: 2 })], ["n2", log({}, 5)], ["n3", log({})]]);
    expect(check.observe("n1", 2, 4, voters, logs)).toBeNull();
    expect(check.observe("n1", 2, 5, voters, logs)).toBeNull();
  });

  it("flags a commit held by a minority, or by a majority with another term at that index", () => {
    const check = new CommitQuorumCheck();
    const minority = new Map([["n1", log({ 5: 2 })], ["n2", log({})], ["n3", log({})]]);
    expect(check.observe("n1", 2, 4, voters, minority)).toBeNull();
    expect(check.observe("n1", 2, 5, voters, minority)).toContain("held durably by only 1 of 3 voters (n1)");
    const otherTerm = new Map([["n1", log({ 6: 2 })], ["n2", log({ 6: 1 })], ["n3", log({})]]);
    expect(check.observe("n1", 2, 6, voters, otherTerm)).toContain("only 1 of 3");
  });

  it("counts only voters: a learner holding the entry does not make a majority", () => {
    const check = new CommitQuorumCheck();
    const logs = new Map([["n1", log({ 3: 1 })], ["n2", log({})], ["n3", log({})], ["n4", log({ 3: 1 })]]);
    expect(check.observe("n1", 1, 2, voters, logs)).toBeNull();
    expect(check.observe("n1", 1, 3, voters, logs)).toContain("only 1 of 3");
  });
});
