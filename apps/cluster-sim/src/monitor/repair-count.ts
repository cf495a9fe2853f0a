import type { Member } from "@lockstep/protocol";

/** How often the cluster repaired a voter that may have lost data (issue 11, point 5). */
export interface RepairCount {
  /** Voters the leader demoted to learner while they said they were recovering. */
  repairDemoted: number;
  /** Of those, how many a later configuration made voters again. */
  repairPromoted: number;
}

/**
 * Counts, in the committed history (index order), each member that turns from voter to learner
 * (only the leader's protocol-aware repair demotes: the churn nemesis never does) and each of those
 * that is a voter again in a later configuration. Indexes no node applied (snapshots only) are
 * skipped, so this is a count for the run's report, not a check.
 */
export function countRepairs(committed: ReadonlyMap<number, { commandJson: string }>): RepairCount {
  const count: RepairCount = { repairDemoted: 0, repairPromoted: 0 };
  const indexes = [...committed.keys()].sort((left, right) => left - right);
  let voters: ReadonlySet<string> | null = null;
  const demoted = new Set<string>();
  for (const index of indexes) {
    const commandJson = committed.get(index)?.commandJson ?? "";
    if (!commandJson.includes('"kind":"members"')) continue;
    const members = (JSON.parse(commandJson) as { members: Member[] }).members;
    const next = new Set(members.filter((member) => member.voter).map((member) => member.id));
    for (const member of members) {
      if (voters?.has(member.id) === true && !member.voter) {
        count.repairDemoted++;
        demoted.add(member.id);
      } else if (member.voter && demoted.has(member.id)) {
        count.repairPromoted++;
        demoted.delete(member.id);
      }
    }
    voters = next;
  }
  return count;
}
