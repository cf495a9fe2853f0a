import type { Member, NodeId } from "@lockstep/protocol";

/** What the check reads of one member's storage: the durable term at an index (null if not held). */
export interface DurableLogView {
  durableTermAt(index: number): number | null;
  durableSnapshotIndex(): number;
}

/** What the check reads of a leader's own durable log to know which configuration it decides in. */
export interface ConfigurationLogView {
  /** The durable entry at `index`: its term, and the configuration it names if it is a `members` entry. */
  durableEntryAt(index: number): { term: number; members?: readonly Member[] } | undefined;
  /** The last index the durable log holds (its snapshot's when it holds no entry after it). */
  durableLastIndex(): number;
  durableSnapshotIndex(): number;
  durableSnapshotMembers(): readonly Member[] | null;
}

/** The configuration a leader decides in, as the check last derived it from that leader's log. */
interface LeaderView {
  commitIndex: number;
  /** The leader's durable log was read for configuration entries up to here. */
  scannedIndex: number;
  /** Voters of the last configuration entry at or below `scannedIndex` in the leader's log; null: none found (bootstrap). */
  voters: readonly NodeId[] | null;
  /**
   * Configuration entries seen in the leader's durable log above its commit index, by index: the
   * leader may fold them into a snapshot in the same event that commits past them (seed 8066178),
   * and a leader never rewrites its own log within its term, so what was seen stays true.
   */
  ahead: Map<number, readonly NodeId[]>;
  /** The leader's durable log was read for `ahead` up to here. */
  aheadScannedIndex: number;
  /** Index ranges folded into a snapshot before the check could read them: configurations unknown. */
  unseen: Array<{ from: number; to: number }>;
}

/** Configuration entries remembered above a leader's commit index at most; beyond, the rest is unseen. */
const aheadMax = 64;

/**
 * "Committed" means "durable on a majority of the voters" (Raft §5.3, and thesis §4 for a changing
 * configuration): at the instant a leader's commit index moves from k to c, a majority of the
 * voters of the configuration in force durably hold the entry at c, with the leader's term for it.
 *
 * The configuration in force is derived here from the leader's own durable log, never taken from
 * the node: lockstep puts a configuration into effect once committed (consensus README,
 * "Membership"), so a leader moving its commit index from k decides in the configuration of the
 * last `members` entry at or below k (or its snapshot's, or the bootstrap voters before any).
 * The check looks after every event, and one event can move a commit index more than once (an
 * Acknowledgment, then the leader's own write): a move from k to c that passes configuration
 * entries may have been decided, in its last step, in any configuration from the one at k to
 * the last one before c, so a majority of one of those must hold c. The single-server rule keeps
 * each of them one voter away from the next, so every two deciding majorities meet. A leader that
 * counts a stale match index, a learner, a follower that acknowledges what it lost, or a voter set
 * of its own, shows up here at the commit itself, before any node applies the entry.
 */
export class CommitQuorumCheck {
  private readonly leaders = new Map<string, LeaderView>();
  /** Leaders remembered at most; old terms are forgotten first (a bound on the map). */
  private readonly leadersMax = 1_000;

  constructor(private readonly bootstrapVoters: readonly NodeId[]) {}

  /**
   * Returns a violation's detail, or null when the commit is backed by a durable majority.
   * `leaderDisk` is the leader's current disk when `logs` holds a wider view of it (a replaced
   * disk counts in `logs` with what the old one held, for the acknowledgments it gave): the
   * leader's own entry and its own share of the majority are what its current disk holds.
   */
  observe(leader: NodeId, term: number, commitIndex: number, own: ConfigurationLogView, logs: ReadonlyMap<NodeId, DurableLogView>, leaderDisk?: DurableLogView): string | null {
    const key = `${leader}@${term}`;
    const view = this.leaders.get(key);
    // The first sighting of a leader sets the baseline: its commit index came from before.
    if (view === undefined) {
      // A new leader's commit index can cover entries it has not made durable yet (it learned
      // them as a follower): the scan starts from what its durable log holds.
      const scannedIndex = Math.min(commitIndex, own.durableLastIndex());
      const fresh: LeaderView = { commitIndex, scannedIndex, voters: scanDown(scannedIndex, own), ahead: new Map(), aheadScannedIndex: commitIndex, unseen: [] };
      this.leaders.set(key, fresh);
      rememberAhead(fresh, own);
      if (this.leaders.size > this.leadersMax) {
        const oldest = this.leaders.keys().next().value;
        if (oldest !== undefined) this.leaders.delete(oldest);
      }
      return null;
    }
    rememberAhead(view, own);
    if (commitIndex <= view.commitIndex) return null;
    const previous = view.commitIndex;
    const verdict = this.judge(view, leader, term, previous, commitIndex, own, logs, leaderDisk ?? logs.get(leader));
    forgetUpTo(view, commitIndex);
    return verdict;
  }

  private judge(
    view: LeaderView,
    leader: NodeId,
    term: number,
    previous: number,
    commitIndex: number,
    own: ConfigurationLogView,
    logs: ReadonlyMap<NodeId, DurableLogView>,
    leaderLog: DurableLogView | undefined,
  ): string | null {
    view.commitIndex = commitIndex;
    const durableLast = own.durableLastIndex();
    // The configuration at the previous commit index, then each one the move passed.
    scanTo(view, Math.min(previous, durableLast), own);
    if (view.scannedIndex < previous) return null;
    const candidates: Array<readonly NodeId[]> = [view.voters ?? this.bootstrapVoters];
    const snapshotIndex = own.durableSnapshotIndex();
    // Entries the move passed that the leader has already folded into a snapshot: the
    // configurations between its previous commit index and the snapshot are not known here.
    if (snapshotIndex > previous && snapshotIndex < commitIndex) return null;
    // Entries the move passed that were folded into a snapshot before the check read them.
    if (view.unseen.some((range) => range.from < commitIndex && range.to > previous)) return null;
    for (let position = previous + 1; position <= Math.min(commitIndex, durableLast); position++) {
      // The entry at the new commit index may be in a snapshot already (taken in the same event).
      const snapshotMembers = position === snapshotIndex ? own.durableSnapshotMembers() : null;
      const logged = own.durableEntryAt(position)?.members;
      const voters = logged !== undefined ? votersOf(logged) : (view.ahead.get(position) ?? (snapshotMembers !== null && snapshotMembers.length > 0 ? votersOf(snapshotMembers) : undefined));
      view.scannedIndex = position;
      if (voters === undefined) continue;
      view.voters = voters;
      if (position < commitIndex) candidates.push(view.voters);
    }
    // Entries the move passed that the leader's durable log does not hold yet: their configurations are unknown here.
    if (view.scannedIndex < commitIndex - 1) return null;
    // Not on the leader's current disk yet (its followers made the majority before its own write
    // was durable), or already folded into a snapshot: the entry's term is not known to compare with.
    const entryTerm = leaderLog?.durableTermAt(commitIndex) ?? null;
    if (entryTerm === null) return null;
    let best: { voters: readonly NodeId[]; holders: NodeId[] } | null = null;
    for (const voters of candidates) {
      const holders = voters.filter((id) => {
        const log = id === leader ? leaderLog : logs.get(id);
        if (log === undefined) return false;
        return log.durableTermAt(commitIndex) === entryTerm || log.durableSnapshotIndex() >= commitIndex;
      });
      if (holders.length >= Math.floor(voters.length / 2) + 1) return null;
      best ??= { voters, holders };
    }
    if (best === null) return null;
    const majority = Math.floor(best.voters.length / 2) + 1;
    return `${leader} (term ${term}) committed index ${commitIndex} (term ${entryTerm}) held durably by only ${best.holders.length} of ${best.voters.length} voters (${best.holders.join(", ") || "none"}) of the configuration in force at its previous commit index ${previous} (voters ${best.voters.join(", ")}); a majority is ${majority}`;
  }
}

/**
 * Reads the leader's durable log past what was read for `ahead` and remembers its configuration
 * entries. Indexes already folded into a snapshot when first reached are recorded as unseen.
 */
function rememberAhead(view: LeaderView, own: ConfigurationLogView): void {
  const snapshotIndex = own.durableSnapshotIndex();
  if (snapshotIndex > view.aheadScannedIndex) {
    view.unseen.push({ from: view.aheadScannedIndex + 1, to: snapshotIndex });
    view.aheadScannedIndex = snapshotIndex;
  }
  const durableLast = own.durableLastIndex();
  for (let position = view.aheadScannedIndex + 1; position <= durableLast; position++) {
    const members = own.durableEntryAt(position)?.members;
    if (members !== undefined) {
      if (view.ahead.size >= aheadMax) {
        view.unseen.push({ from: position, to: durableLast });
        view.aheadScannedIndex = durableLast;
        return;
      }
      view.ahead.set(position, votersOf(members));
    }
    view.aheadScannedIndex = position;
  }
}

/** Drops what `ahead` and `unseen` hold at or below a commit index already judged. */
function forgetUpTo(view: LeaderView, commitIndex: number): void {
  for (const index of view.ahead.keys()) if (index <= commitIndex) view.ahead.delete(index);
  view.unseen = view.unseen.filter((range) => range.to > commitIndex);
}

/**
 * Reads the leader's durable log for configuration entries from the view's scan point up to
 * `index`. Entries the leader folded into a snapshot before they were scanned are read from the
 * snapshot's configuration (the one at its index); one past `index` says nothing about `index`,
 * so the scan stops short and the caller judges nothing (a promotion folded into a snapshot went
 * unseen, and a commit was judged against the configuration before it: fresh seed 2500711).
 */
function scanTo(view: LeaderView, index: number, log: ConfigurationLogView): void {
  const snapshotIndex = log.durableSnapshotIndex();
  if (view.scannedIndex < snapshotIndex) {
    if (snapshotIndex > index) return;
    const members = log.durableSnapshotMembers();
    if (members !== null && members.length > 0) view.voters = votersOf(members);
    view.scannedIndex = snapshotIndex;
  }
  for (let position = view.scannedIndex + 1; position <= index; position++) {
    const members = log.durableEntryAt(position)?.members;
    if (members !== undefined) view.voters = votersOf(members);
    view.scannedIndex = position;
  }
}

function scanDown(index: number, log: ConfigurationLogView): readonly NodeId[] | null {
  const snapshotIndex = log.durableSnapshotIndex();
  for (let position = index; position > snapshotIndex; position--) {
    const logged = log.durableEntryAt(position)?.members;
    if (logged !== undefined) return votersOf(logged);
  }
  const members = log.durableSnapshotMembers();
  return members === null ? null : votersOf(members);
}

function votersOf(members: readonly Member[]): NodeId[] {
  return members.filter((member) => member.voter).map((member) => member.id);
}
