import type { Member, NodeId, Proposal } from "@lockstep/protocol";
import type { ConfigurationLogView, DurableLogView } from "./commit-quorum.js";

/**
 * The rules of single-server membership changes (Raft thesis §4.1), checked in what leaders send:
 * every Proposal that carries a configuration entry of the leader's own term (a change this
 * leader made) is judged against the leader's commit index in that Proposal and its own log.
 *
 * - *An entry of its own term committed first* (the fix Ongaro published in 2015): a new leader
 *   may hold a change of an earlier leader that is not committed; a change of its own made before
 *   the no-op of its term is committed can give two configurations that decide independently.
 * - *One change at a time*: between the commit index and the new change there is no other
 *   configuration entry, so any two configurations in use differ in at most one voter.
 * - *One voter per change*: the new configuration's voters differ from those of the configuration
 *   before it in the leader's log (its last `members` entry below, or its snapshot's) in at most
 *   one member. A change built on an older configuration than that one (seed 258: a demotion
 *   built on the configuration before the leader's own demotion) passes the rule above and not
 *   this one.
 *
 * A cluster's very first entry (commit index 0: nothing is committed anywhere) is the bootstrap
 * configuration, which no rule above concerns.
 */
export class MembershipChangeCheck {
  /** Changes already judged, by leader, term and index. Bounded: the oldest are forgotten first. */
  private readonly judged = new Set<string>();
  private readonly judgedMax = 10_000;

  /** Returns a violation's detail, or null. `own` is the sending leader's durable log. */
  observeProposal(leader: NodeId, proposal: Proposal, own: ConfigurationLogView & DurableLogView): string | null {
    for (const entry of proposal.entries) {
      if (entry.command.kind !== "members" || entry.term !== proposal.term) continue;
      const key = `${leader}@${proposal.term}@${entry.index}`;
      if (this.judged.has(key)) continue;
      this.remember(key);
      const commitIndex = proposal.commitIndex;
      if (commitIndex === 0) continue;
      const commitTerm = termAt(commitIndex, proposal, own);
      if (commitTerm !== null && commitTerm !== proposal.term) {
        return `${leader} (term ${proposal.term}) made a configuration change at index ${entry.index} before committing an entry of its own term (its commit index ${commitIndex} is of term ${commitTerm}; thesis §4.1 and the 2015 fix)`;
      }
      const other = otherChangeBetween(commitIndex, entry.index, proposal, own);
      if (other !== null) {
        return `${leader} (term ${proposal.term}) has two configuration changes uncommitted at once: index ${other} and index ${entry.index} (commit index ${commitIndex}; single-server changes go one at a time)`;
      }
      const before = configurationBefore(entry.index, proposal, own);
      if (before !== null) {
        const voters = votersOf(entry.command.members);
        const previous = votersOf(before.members);
        const changed = [...voters].filter((id) => !previous.has(id)).concat([...previous].filter((id) => !voters.has(id)));
        if (changed.length > 1) {
          return `${leader} (term ${proposal.term}) made a configuration change at index ${entry.index} that changes ${changed.length} voters (${changed.sort().join(", ")}) from the configuration before it (index ${before.index}); a single-server change changes at most one`;
        }
      }
    }
    return null;
  }

  private remember(key: string): void {
    this.judged.add(key);
    if (this.judged.size <= this.judgedMax) return;
    const oldest = this.judged.values().next().value;
    if (oldest !== undefined) this.judged.delete(oldest);
  }
}

/** The term of the leader's entry at `index`: from the Proposal itself, else from its durable log. */
function termAt(index: number, proposal: Proposal, own: DurableLogView): number | null {
  if (index === proposal.prevIndex) return proposal.prevTerm;
  const carried = proposal.entries[index - proposal.prevIndex - 1];
  if (carried !== undefined && carried.index === index) return carried.term;
  return own.durableTermAt(index);
}

/**
 * The configuration before `index` in the leader's log: its last `members` entry below it (in the
 * Proposal or its durable log), else its snapshot's; null when neither names one (the bootstrap
 * list, which no log entry holds before the cluster's first).
 */
function configurationBefore(index: number, proposal: Proposal, own: ConfigurationLogView): { index: number; members: readonly Member[] } | null {
  const snapshotIndex = own.durableSnapshotIndex();
  for (let position = index - 1; position > snapshotIndex; position--) {
    const carried = position > proposal.prevIndex ? proposal.entries[position - proposal.prevIndex - 1] : undefined;
    if (carried !== undefined && carried.index === position) {
      if (carried.command.kind === "members") return { index: position, members: carried.command.members };
      continue;
    }
    const durable = own.durableEntryAt(position);
    if (durable === undefined) return null;
    if (durable.members !== undefined) return { index: position, members: durable.members };
  }
  const members = own.durableSnapshotMembers();
  return members === null || members.length === 0 ? null : { index: snapshotIndex, members };
}

function votersOf(members: readonly Member[]): Set<NodeId> {
  return new Set(members.filter((member) => member.voter).map((member) => member.id));
}

/** A configuration entry strictly between the commit index and `index`, in the Proposal or the leader's durable log below it. */
function otherChangeBetween(commitIndex: number, index: number, proposal: Proposal, own: ConfigurationLogView): number | null {
  for (let position = commitIndex + 1; position < index; position++) {
    const carried = position > proposal.prevIndex ? proposal.entries[position - proposal.prevIndex - 1] : undefined;
    if (carried !== undefined && carried.index === position) {
      if (carried.command.kind === "members") return position;
      continue;
    }
    if (own.durableEntryAt(position)?.members !== undefined) return position;
  }
  return null;
}
