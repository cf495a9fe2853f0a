import type { Command } from "@lockstep/protocol";

/** How often the cluster repaired a voter that may have lost data (issue 11, point 5). */
export interface RepairCount {
  /** Voters the leader demoted to learner while they said they were recovering. */
  demoted: number;
  /** Of those, how many a later configuration made voters again. */
  promotedAgain: number;
}

/**
 * Counts, in the committed history (index order), each member that turns from voter to learner
 * (only the leader's protocol-aware repair demotes: the churn nemesis never does) and each of those
 * that is a voter again in a later configuration. Indexes no node applied (snapshots only) are
 * skipped, so this is a count for the run's report, not a check.
 */
export function countRepairs(committed: ReadonlyMap<number, { commandJson: string }>): RepairCount {
  const count: RepairCount = { demoted: 0, promotedAgain: 0 };
  const indexes = [...committed.keys()].sort((left, right) => left - right);
  let voters: ReadonlySet<string> | null = null;
  const awaitingPromotion = new Set<string>();
  for (const index of indexes) {
    const commandJson = committed.get(index)?.commandJson ?? "";
    // A cheap filter first; a key or a state name could hold the same text, so the kind decides.
    if (!commandJson.includes('"kind":"members"')) continue;
    const command = JSON.parse(commandJson) as Command;
    if (command.kind !== "members") continue;
    const members = command.members;
    const next = new Set(members.filter((member) => member.voter).map((member) => member.id));
    for (const member of members) {
      if (voters?.has(member.id) === true && !member.voter) {
        count.demoted++;
        awaitingPromotion.add(member.id);
      } else if (member.voter && awaitingPromotion.has(member.id)) {
        count.promotedAgain++;
        awaitingPromotion.delete(member.id);
      }
    }
    voters = next;
  }
  return count;
}
