import { emptyHardState } from "@lockstep/consensus";
import type { HardState, SnapshotMeta } from "@lockstep/consensus";
import { EntryCache } from "./entry-cache.js";
import { EntryIndex } from "./entry-index.js";
import type { ScannedRecord } from "./wal-segment.js";

export interface SegmentSummary {
  sequence: number;
  /** Salts the checksum of every record after the segment's header. */
  nonce: number;
  /** The highest entry index ever written to this segment (0 for none): compaction's test. */
  maxEntryIndex: number;
}

/** A record that does not fit the log rebuilt so far: damage, since we never write such a thing. */
export interface ReplayMismatch {
  offset: number;
  detail: string;
}

/** How the replayed log relates to the newest snapshot (Raft §7, checked again at every start). */
export type SnapshotReconciliation = { kind: "keep" } | { kind: "reset" } | { kind: "corrupt"; detail: string };

/**
 * Rebuilds the log from segments in order, applying each record exactly as the writer applied
 * it: an entry at an existing index replaces it and all after it, a reset empties the log, and
 * each segment header restates the log's last index (checked) and the hard state.
 */
export class LogReplay {
  hardState: HardState = { ...emptyHardState };
  readonly index = new EntryIndex(1);
  readonly cache: EntryCache;
  readonly segments: SegmentSummary[] = [];

  /**
   * `trustCommitIndex` is the test-only broken rule `hard_state_before_entries`: take a hard
   * state's commit index as it was written, capped only at the end of the replayed log.
   */
  constructor(
    private readonly entriesInMemoryMax: number,
    private readonly trustCommitIndex = false,
    freezeEntries = false,
  ) {
    this.cache = new EntryCache(1, freezeEntries);
  }

  applySegment(sequence: number, nonce: number, records: readonly ScannedRecord[]): ReplayMismatch | null {
    const [first, ...rest] = records;
    if (first?.record.type !== "segment_header") return { offset: 0, detail: "segment does not start with a header" };
    const { header } = first.record;
    if (header.sequence !== sequence) return { offset: 0, detail: `header names segment ${header.sequence}` };
    if (this.segments.length === 0) {
      this.index.resetAfter(header.lastIndexBefore);
      this.cache.resetAfter(header.lastIndexBefore);
    } else if (header.lastIndexBefore !== this.index.lastIndex) {
      return { offset: 0, detail: `header says the log ended at ${header.lastIndexBefore}, replay reached ${this.index.lastIndex}` };
    }
    this.adoptHardState(header.hardState);
    const summary: SegmentSummary = { sequence, nonce, maxEntryIndex: 0 };
    this.segments.push(summary);
    for (const scanned of rest) {
      const mismatch = this.applyRecord(scanned, summary);
      if (mismatch !== null) return mismatch;
    }
    return null;
  }

  private applyRecord({ record, offset, bytes }: ScannedRecord, summary: SegmentSummary): ReplayMismatch | null {
    switch (record.type) {
      case "segment_header":
        return { offset, detail: "a second segment header" };
      case "hard_state":
        this.adoptHardState(record.hardState);
        return null;
      case "sync_mark":
        return null;
      case "log_reset":
        this.index.resetAfter(record.afterIndex);
        this.cache.resetAfter(record.afterIndex);
        return null;
      case "entry": {
        const { entry } = record;
        if (entry.index > this.index.lastIndex + 1) {
          return { offset, detail: `entry ${entry.index} leaves a gap after ${this.index.lastIndex}` };
        }
        this.index.truncateFrom(entry.index);
        this.cache.truncateFrom(entry.index);
        this.index.append(entry.index, entry.term, { sequence: summary.sequence, offset, bytes });
        this.cache.append(entry);
        this.cache.evict(this.entriesInMemoryMax, Number.POSITIVE_INFINITY);
        summary.maxEntryIndex = Math.max(summary.maxEntryIndex, entry.index);
        return null;
      }
    }
  }

  /**
   * A hard state's commit index counts only as far as the log reached where it was written: the
   * writer puts it after the entries it covers, and a record is read only if everything before
   * it was, so a commit index is never taken for entries that did not make it to the disk.
   */
  private adoptHardState(hardState: HardState): void {
    const commitIndex = this.trustCommitIndex ? hardState.commitIndex : Math.min(hardState.commitIndex, this.index.lastIndex);
    this.hardState = { ...hardState, commitIndex };
  }

  /**
   * The hard state a restarted node may act on: a commit index never above the replayed log, and
   * a term at least that of the last entry. A write holds its entries before its hard state, so a
   * crash can keep entries of a new term and lose the hard state that named it; the vote of that
   * lost hard state was never sent (votes leave after their write), so the term is raised with no
   * vote.
   */
  provenHardState(snapshot: SnapshotMeta | null): HardState {
    const commitIndex = Math.min(this.hardState.commitIndex, this.index.lastIndex);
    const lastIndex = this.index.lastIndex;
    const lastTerm = Math.max(this.index.term(lastIndex) ?? 0, snapshot !== null && snapshot.index >= lastIndex ? snapshot.term : 0);
    if (lastTerm > this.hardState.term) {
      const recovery = this.hardState.recovering === true ? { recovering: true as const, ...(this.hardState.recoveryCommitIndexMin === undefined ? {} : { recoveryCommitIndexMin: this.hardState.recoveryCommitIndexMin }) } : {};
      return { term: lastTerm, votedFor: null, commitIndex, ...recovery };
    }
    return { ...this.hardState, commitIndex };
  }

  /**
   * Recovery cut damage that may have been synced: the hard state it writes into the next segment
   * header says so (`recovering`), and the core then grants no vote until a leader caught it up.
   */
  markRecovering(): void {
    this.hardState = { ...this.hardState, recovering: true };
  }

  /** Decides what the newest snapshot means for the replayed log, and applies a reset. */
  reconcile(snapshot: SnapshotMeta | null): SnapshotReconciliation {
    const snapshotIndex = snapshot?.index ?? 0;
    const { firstIndex, lastIndex } = this.index;
    let decision: SnapshotReconciliation;
    if (snapshot !== null && lastIndex < snapshot.index) decision = { kind: "reset" };
    else if (snapshot !== null && firstIndex <= snapshot.index) {
      decision = this.index.term(snapshot.index) === snapshot.term ? { kind: "keep" } : { kind: "reset" };
    } else if (firstIndex > snapshotIndex + 1) {
      decision = { kind: "corrupt", detail: `entries ${snapshotIndex + 1}..${firstIndex - 1} are missing: no segment or snapshot holds them` };
    } else decision = { kind: "keep" };
    if (decision.kind === "reset") {
      this.index.resetAfter(snapshotIndex);
      this.cache.resetAfter(snapshotIndex);
    }
    return decision;
  }
}
