import type { NodeId } from "@lockstep/protocol";

/**
 * Quorum arithmetic for a single majority configuration (Raft §5.2, §5.3). Kept apart from the
 * protocol so that it can be checked against a deliberately naive reference.
 */

/** How many members make a majority of `memberCount`. */
export function majoritySize(memberCount: number): number {
  return Math.floor(memberCount / 2) + 1;
}

/**
 * The largest index that at least a majority of `matchIndexes` (one per member) has reached.
 * `scratch` may be passed to avoid an allocation on the hot path; it is overwritten.
 */
export function majorityIndex(matchIndexes: readonly number[], scratch: number[] = []): number {
  const count = matchIndexes.length;
  if (count === 0) return 0;
  scratch.length = count;
  for (let position = 0; position < count; position++) scratch[position] = matchIndexes[position] ?? 0;
  // Sorted descending, the value at position (majority - 1) is held by `majority` members.
  scratch.sort((left, right) => right - left);
  return scratch[majoritySize(count) - 1] ?? 0;
}

export type VoteResult = "won" | "lost" | "pending";

/**
 * One voter's answer in an election. `recovering`: the voter may have lost acknowledged entries or
 * a vote (its storage reported a possible loss) and would otherwise grant; see `voteResult`.
 */
export type VoteAnswer = "granted" | "refused" | "recovering";

/**
 * The outcome of an election among `members` given the answers received so far. A candidate wins
 * with a majority of plain grants (Raft §5.2), or when every member answers `granted` or
 * `recovering`. The second rule is what lets a cluster elect again when too many members are
 * recovering for a plain majority: with every member's answer, any other majority of the same term
 * shares a member with it, and that member can only have voted twice if it really lost its vote;
 * any committed entry sits on a majority, so on some member that did not lose it, which granted
 * only because this candidate's log is at least as up to date (§5.4.1). Both hold as long as at
 * most a minority of the members really lost data, the assumption every majority protocol makes.
 * A recovering answer never counts toward a plain majority: that majority may meet the one that
 * committed an entry only in the member that lost it.
 */
export function voteResult(members: readonly NodeId[], votes: ReadonlyMap<NodeId, VoteAnswer>): VoteResult {
  let granted = 0;
  let refused = 0;
  let recovering = 0;
  for (const member of members) {
    const vote = votes.get(member);
    if (vote === "granted") granted++;
    else if (vote === "refused") refused++;
    else if (vote === "recovering") recovering++;
  }
  const majority = majoritySize(members.length);
  if (granted >= majority || (members.length > 0 && granted + recovering === members.length)) return "won";
  const majorityPossible = members.length - refused - recovering >= majority;
  const everyMemberPossible = refused === 0;
  if (!majorityPossible && !everyMemberPossible) return "lost";
  return "pending";
}

/** Whether `activeCount` members (the caller included) form a majority of `memberCount`. */
export function hasQuorum(activeCount: number, memberCount: number): boolean {
  return activeCount >= majoritySize(memberCount);
}
