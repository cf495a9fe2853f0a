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

/** The outcome of an election among `members` given the answers received so far. */
export function voteResult(members: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  let granted = 0;
  let rejected = 0;
  for (const member of members) {
    const vote = votes.get(member);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  const majority = majoritySize(members.length);
  if (granted >= majority) return "won";
  if (members.length - rejected < majority) return "lost";
  return "pending";
}

/** Whether `activeCount` members (the caller included) form a majority of `memberCount`. */
export function hasQuorum(activeCount: number, memberCount: number): boolean {
  return activeCount >= majoritySize(memberCount);
}
