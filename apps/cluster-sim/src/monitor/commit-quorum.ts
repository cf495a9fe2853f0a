import type { NodeId } from "@lockstep/protocol";

/** What the check reads of one member's storage: the durable term at an index (null if not held). */
export interface DurableLogView {
  durableTermAt(index: number): number | null;
  durableSnapshotIndex(): number;
}

/**
 * "Committed" means "durable on a majority of the voters" (Raft §5.3, and §4 of the thesis for a
 * changing configuration): at the instant a leader's commit index moves to c, a majority of the
 * voters of the configuration it decides in must durably hold the entry at c, with the leader's
 * term for it. A leader that counts a stale match index, a follower that acknowledges what it
 * lost, or two configurations whose majorities do not meet, all show up here at the commit itself,
 * before any node applies the entry.
 */
export class CommitQuorumCheck {
  /** The commit index each (leader, term) was last seen with. */
  private readonly lastCommit = new Map<string, number>();
  /** Leaders remembered at most; old terms are forgotten first (a bound on the map). */
  private readonly leadersMax = 1_000;

  /** Returns a violation's detail, or null when the commit is backed by a durable majority. */
  observe(leader: NodeId, term: number, commitIndex: number, voters: readonly NodeId[], logs: ReadonlyMap<NodeId, DurableLogView>): string | null {
    const key = `${leader}@${term}`;
    const previous = this.lastCommit.get(key);
    this.lastCommit.set(key, commitIndex);
    if (this.lastCommit.size > this.leadersMax) {
      const oldest = this.lastCommit.keys().next().value;
      if (oldest !== undefined) this.lastCommit.delete(oldest);
    }
    // The first sighting of a leader sets the baseline: its commit index came from before.
    if (previous === undefined || commitIndex <= previous) return null;
    const leaderLog = logs.get(leader);
    const entryTerm = leaderLog?.durableTermAt(commitIndex) ?? null;
    // Already folded into a snapshot here: the entry's term is no longer known to compare with.
    if (entryTerm === null) return null;
    const holders = voters.filter((id) => {
      const log = logs.get(id);
      if (log === undefined) return false;
      return log.durableTermAt(commitIndex) === entryTerm || log.durableSnapshotIndex() >= commitIndex;
    });
    const majority = Math.floor(voters.length / 2) + 1;
    if (holders.length >= majority) return null;
    return `${leader} (term ${term}) committed index ${commitIndex} (term ${entryTerm}) held durably by only ${holders.length} of ${voters.length} voters (${holders.join(", ") || "none"}); a majority is ${majority}`;
  }
}
