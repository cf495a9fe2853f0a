import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { majorityIndex, voteResult } from "./quorum.js";

/** Naive reference: the largest value v such that more than half of the members have >= v. */
function naiveMajorityIndex(indexes: number[]): number {
  let best = 0;
  for (const candidate of indexes) {
    const holders = indexes.filter((index) => index >= candidate).length;
    if (holders * 2 > indexes.length && candidate > best) best = candidate;
  }
  return best;
}

/** Naive reference: won if granted > half; lost if even all missing answers could not reach half. */
function naiveVoteResult(members: string[], votes: Map<string, boolean>): string {
  const granted = members.filter((member) => votes.get(member) === true).length;
  const missing = members.filter((member) => !votes.has(member)).length;
  if (granted * 2 > members.length) return "won";
  if ((granted + missing) * 2 <= members.length) return "lost";
  return "pending";
}

describe("quorum arithmetic (Raft §5.2, §5.3)", () => {
  it("majorityIndex agrees with a naive reference", () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 50 }), { minLength: 1, maxLength: 9 }), (indexes) => {
        expect(majorityIndex(indexes)).toBe(naiveMajorityIndex(indexes));
      }),
      { numRuns: 2000 },
    );
  });

  it("majorityIndex does not disturb its input", () => {
    const indexes = [5, 1, 3];
    expect(majorityIndex(indexes, [])).toBe(3);
    expect(indexes).toEqual([5, 1, 3]);
  });

  it("voteResult agrees with a naive reference", () => {
    const member = fc.constantFrom("a", "b", "c", "d", "e", "f", "g");
    fc.assert(
      fc.property(fc.uniqueArray(member, { minLength: 1, maxLength: 7 }), fc.dictionary(member, fc.boolean()), (members, answers) => {
        const votes = new Map(Object.entries(answers));
        expect(voteResult(members, votes)).toBe(naiveVoteResult(members, votes));
      }),
      { numRuns: 2000 },
    );
  });

  it("splits votes as the paper says: 2 of 4 is not a majority", () => {
    const members = ["a", "b", "c", "d"];
    expect(voteResult(members, new Map([["a", true], ["b", true], ["c", false]]))).toBe("pending");
    expect(voteResult(members, new Map([["a", true], ["b", true], ["c", false], ["d", false]]))).toBe("lost");
  });
});
