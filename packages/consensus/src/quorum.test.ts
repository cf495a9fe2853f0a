import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { majorityIndex, voteResult } from "./quorum.js";
import type { VoteAnswer } from "./quorum.js";

/** Naive reference: the largest value v such that more than half of the members have >= v. */
function naiveMajorityIndex(indexes: number[]): number {
  let best = 0;
  for (const candidate of indexes) {
    const holders = indexes.filter((index) => index >= candidate).length;
    if (holders * 2 > indexes.length && candidate > best) best = candidate;
  }
  return best;
}

/**
 * Naive reference: won if plain grants are more than half, or if every member granted, recovering
 * or not; lost if neither can still happen with the missing answers.
 */
function naiveVoteResult(members: string[], votes: Map<string, string>): string {
  const granted = members.filter((member) => votes.get(member) === "granted").length;
  const recovering = members.filter((member) => votes.get(member) === "recovering").length;
  const missing = members.filter((member) => !votes.has(member)).length;
  if (granted * 2 > members.length) return "won";
  if (granted + recovering === members.length) return "won";
  const plainPossible = (granted + missing) * 2 > members.length;
  const everyonePossible = members.every((member) => votes.get(member) !== "refused");
  return plainPossible || everyonePossible ? "pending" : "lost";
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
      fc.property(fc.uniqueArray(member, { minLength: 1, maxLength: 7 }), fc.dictionary(member, fc.constantFrom<VoteAnswer>("granted", "refused", "recovering")), (members, answers) => {
        const votes = new Map<string, VoteAnswer>(Object.entries(answers));
        expect(voteResult(members, votes)).toBe(naiveVoteResult(members, votes));
      }),
      { numRuns: 2000 },
    );
  });

  it("splits votes as the paper says: 2 of 4 is not a majority", () => {
    const members = ["a", "b", "c", "d"];
    expect(voteResult(members, new Map<string, VoteAnswer>([["a", "granted"], ["b", "granted"], ["c", "refused"]]))).toBe("pending");
    expect(voteResult(members, new Map<string, VoteAnswer>([["a", "granted"], ["b", "granted"], ["c", "refused"], ["d", "refused"]]))).toBe("lost");
  });

  it("counts a recovering answer only when every member grants", () => {
    const members = ["a", "b", "c"];
    // A plain grant and a recovering one are not a majority: c may be the only member that held a committed entry.
    expect(voteResult(members, new Map<string, VoteAnswer>([["a", "granted"], ["b", "recovering"]]))).toBe("pending");
    expect(voteResult(members, new Map<string, VoteAnswer>([["a", "granted"], ["b", "recovering"], ["c", "recovering"]]))).toBe("won");
    expect(voteResult(members, new Map<string, VoteAnswer>([["a", "recovering"], ["b", "recovering"], ["c", "recovering"]]))).toBe("won");
    expect(voteResult(members, new Map<string, VoteAnswer>([["a", "granted"], ["b", "recovering"], ["c", "refused"]]))).toBe("lost");
    // Two plain grants of three win whatever the third says.
    expect(voteResult(members, new Map<string, VoteAnswer>([["a", "recovering"], ["b", "granted"], ["c", "granted"]]))).toBe("won");
  });
});
