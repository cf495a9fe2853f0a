import type { ConsensusEnvelope, NodeId } from "@lockstep/protocol";
import type { DurableLogView } from "./commit-quorum.js";

/** (leader, term) pairs remembered at most; the oldest are forgotten first (a bound on the map). */
const leaderTermsMax = 1_024;

interface DiskHistory {
  /** Every disk the node had, oldest first; the last is the one it has now. */
  disks: DurableLogView[];
  /** For each disk after the first, the node's incarnation that died with the disk before it. */
  replacedAtIncarnation: number[];
}

/**
 * What each member's disks hold, as a given leader may count them toward a commit.
 *
 * A member whose disk was replaced gave its Acknowledgments from the old disk: what those
 * promised was durable when it was sent, and a leader that counts them before it has heard from
 * the new disk decides on what it was told (one lost disk is one failure, which the recovery
 * protocol covers). Once the leader has received an answer sent from the new disk, it has been
 * told the disk is new: from then on, in that term, only that disk (and any later one it has not
 * heard from yet) counts. A leader that still counts the old disk then (an Acknowledgment held
 * back across the loss, `lost-disk-answer-scenario.ts`) commits what only its own disk may hold,
 * and the commit-quorum check sees it.
 */
export class ReplacedDiskViews {
  private readonly histories = new Map<NodeId, DiskHistory>();
  /** Per `leader@term`: per member, the newest of its disks the leader received an answer from. */
  private readonly heard = new Map<string, Map<NodeId, number>>();
  private readonly cached = new Map<string, { version: number; logs: ReadonlyMap<NodeId, DurableLogView> }>();
  private version = 0;

  add(id: NodeId, disk: DurableLogView): void {
    this.histories.set(id, { disks: [disk], replacedAtIncarnation: [] });
    this.version++;
  }

  /** `id`'s disk was replaced by `disk` while its incarnation `deadIncarnation` was down. */
  replaced(id: NodeId, disk: DurableLogView, deadIncarnation: number): void {
    const history = this.histories.get(id);
    if (history === undefined) return this.add(id, disk);
    history.disks.push(disk);
    history.replacedAtIncarnation.push(deadIncarnation);
    this.version++;
  }

  /** Whether `id` ever had its disk replaced: only then does what a leader heard from it matter. */
  wasReplaced(id: NodeId): boolean {
    return (this.histories.get(id)?.disks.length ?? 1) > 1;
  }

  /**
   * Called as `receiver` (leading in `leaderTerm`, or null) is handed `envelope`; `senderIncarnation`
   * is the sender's incarnation now. The network drops what a crashed incarnation had in flight
   * when the node starts again, so a message delivered after a start came from the disk the
   * sender started on.
   */
  delivered(receiver: NodeId, leaderTerm: number | null, envelope: ConsensusEnvelope, senderIncarnation: number): void {
    if (leaderTerm === null || envelope.body.term !== leaderTerm) return;
    const type = envelope.body.type;
    if (type !== "Acknowledgment" && type !== "Reject") return;
    const history = this.histories.get(envelope.from);
    if (history === undefined || history.disks.length === 1) return;
    const disk = diskOfIncarnation(history, senderIncarnation);
    const key = `${receiver}@${leaderTerm}`;
    let members = this.heard.get(key);
    if (members === undefined) {
      members = new Map();
      this.heard.set(key, members);
      if (this.heard.size > leaderTermsMax) this.forgetOldest();
    }
    if ((members.get(envelope.from) ?? -1) >= disk) return;
    members.set(envelope.from, disk);
    this.version++;
  }

  /** Whether `leader`, in `term`, has received an answer sent from `id`'s current disk. */
  heardFromCurrentDisk(leader: NodeId, term: number, id: NodeId): boolean {
    const history = this.histories.get(id);
    if (history === undefined) return false;
    return (this.heard.get(`${leader}@${term}`)?.get(id) ?? -1) === history.disks.length - 1;
  }

  /** Every member's durable log as `leader`, in `term`, may count it. */
  logsFor(leader: NodeId, term: number): ReadonlyMap<NodeId, DurableLogView> {
    const key = `${leader}@${term}`;
    const cached = this.cached.get(key);
    if (cached !== undefined && cached.version === this.version) return cached.logs;
    const heard = this.heard.get(key);
    const logs = new Map<NodeId, DurableLogView>();
    for (const [id, history] of this.histories) logs.set(id, viewFrom(history.disks, heard?.get(id) ?? 0));
    this.cached.set(key, { version: this.version, logs });
    if (this.cached.size > leaderTermsMax) this.cached.delete(this.cached.keys().next().value as string);
    return logs;
  }

  private forgetOldest(): void {
    const oldest = this.heard.keys().next().value as string;
    this.heard.delete(oldest);
    this.cached.delete(oldest);
  }
}

/** The index in `history.disks` of the disk incarnation `incarnation` ran on. */
function diskOfIncarnation(history: DiskHistory, incarnation: number): number {
  let disk = 0;
  for (let i = 0; i < history.replacedAtIncarnation.length; i++) if (incarnation > (history.replacedAtIncarnation[i] as number)) disk = i + 1;
  return disk;
}

/** The disks from `first` on, newest first: an entry counts if one of them holds it. */
function viewFrom(disks: readonly DurableLogView[], first: number): DurableLogView {
  const kept = disks.slice(first).reverse();
  if (kept.length === 1) return kept[0] as DurableLogView;
  return {
    durableTermAt: (index) => {
      for (const disk of kept) {
        const term = disk.durableTermAt(index);
        if (term !== null) return term;
      }
      return null;
    },
    durableSnapshotIndex: () => Math.max(...kept.map((disk) => disk.durableSnapshotIndex())),
  };
}
