import type { Entry } from "@lockstep/protocol";
import { estimateEntryBytes } from "./entry-size.js";

/** When at least this many dropped entries sit at the front of the array, copy the rest down. */
const compactionSlackEntriesMin = 4096;

/** Bounds on one slice of the log handed to a Proposal. */
export interface SliceLimits {
  entriesMax: number;
  bytesMax: number;
}

/** `truncatedFrom`: the first index whose entry the append replaced (null if it replaced none). */
export type AppendResult = { ok: true; lastNewIndex: number; truncatedFrom: number | null } | { ok: false };

/**
 * The replicated log of one node: a snapshot point `(snapshotIndex, snapshotTerm)` followed by
 * contiguous entries. Entries live in one array read from an offset, so that dropping a prefix
 * (compaction) costs nothing per entry; the array is copied down only when the dead prefix is
 * large, in one go (amortized O(1) per entry, no `shift`).
 *
 * Three watermarks, all indexes: `commitIndex` (known committed), `persistedIndex` (durable on this
 * node), `handedIndex` (already given to the driver in a Ready to persist). Truncating a conflicting
 * suffix pulls the last two back.
 */
export class RaftLog {
  private entries: Entry[] = [];
  /** Position in `entries` of the entry with index `snapshotIndex + 1`. */
  private start = 0;
  snapshotIndex: number;
  snapshotTerm: number;
  commitIndex: number;
  persistedIndex: number;
  handedIndex: number;
  /** Entries up to here passed `assertInvariants`; pulled back when entries are replaced. */
  private verifiedIndex = 0;

  constructor(snapshotIndex: number, snapshotTerm: number, entries: readonly Entry[], commitIndex: number) {
    this.snapshotIndex = snapshotIndex;
    this.snapshotTerm = snapshotTerm;
    for (const entry of entries) {
      if (entry.index <= snapshotIndex) continue;
      if (entry.index !== this.lastIndex() + 1) {
        throw new Error(`raft log: persisted entries not contiguous at index ${entry.index} (last ${this.lastIndex()})`);
      }
      this.entries.push(entry);
    }
    this.persistedIndex = this.lastIndex();
    this.handedIndex = this.lastIndex();
    // A persisted commit hint beyond the persisted log (a torn write) is capped: it can be relearned.
    this.commitIndex = Math.min(Math.max(commitIndex, snapshotIndex), this.lastIndex());
  }

  firstIndex(): number {
    return this.snapshotIndex + 1;
  }

  lastIndex(): number {
    return this.snapshotIndex + this.entries.length - this.start;
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0;
  }

  /** The term of the entry at `index`; undefined when it was compacted away or does not exist yet. */
  term(index: number): number | undefined {
    if (index === this.snapshotIndex) return this.snapshotTerm;
    return this.entryAt(index)?.term;
  }

  entryAt(index: number): Entry | undefined {
    if (index <= this.snapshotIndex || index > this.lastIndex()) return undefined;
    return this.entries[this.start + index - this.snapshotIndex - 1];
  }

  /** Entries `[from, to]` (inclusive), both inside the log. */
  slice(from: number, to: number): Entry[] {
    if (from > to) return [];
    this.assertRange(from, to);
    const base = this.start - this.snapshotIndex - 1;
    return this.entries.slice(base + from, base + to + 1);
  }

  /** Entries from `from` up to the last, at most `limits` worth, but always at least one if any exist. */
  sliceLimited(from: number, limits: SliceLimits): Entry[] {
    const last = this.lastIndex();
    if (from > last) return [];
    this.assertRange(from, from);
    const base = this.start - this.snapshotIndex - 1;
    let to = from;
    let bytes = 0;
    const indexMax = Math.min(last, from + limits.entriesMax - 1);
    for (; to <= indexMax; to++) {
      const entry = this.entries[base + to];
      if (entry === undefined) break;
      bytes += estimateEntryBytes(entry);
      if (bytes > limits.bytesMax && to > from) break;
    }
    return this.entries.slice(base + from, base + to);
  }

  /** A candidate's log is at least as up to date as ours (Raft §5.4.1). */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourLastTerm = this.lastTerm();
    return lastTerm > ourLastTerm || (lastTerm === ourLastTerm && lastIndex >= this.lastIndex());
  }

  /** Appends entries that directly follow the last one (the leader's own proposals). */
  append(entries: readonly Entry[]): void {
    for (const entry of entries) {
      if (entry.index !== this.lastIndex() + 1) throw new Error(`raft log: append of index ${entry.index} after ${this.lastIndex()}`);
      this.entries.push(entry);
    }
  }

  /**
   * The follower side of a Proposal (Raft §5.3): if our log holds `(prevIndex, prevTerm)`, keep the
   * entries that already agree, truncate at the first conflict and append the rest, then commit up
   * to min(leaderCommit, last new entry). Never truncates a committed entry.
   */
  maybeAppend(prevIndex: number, prevTerm: number, leaderCommit: number, entries: readonly Entry[]): AppendResult {
    if (this.term(prevIndex) !== prevTerm) return { ok: false };
    const lastNewIndex = prevIndex + entries.length;
    const conflictPosition = this.findConflictPosition(entries);
    let truncatedFrom: number | null = null;
    if (conflictPosition < entries.length) {
      const conflictIndex = prevIndex + 1 + conflictPosition;
      if (conflictIndex <= this.commitIndex) {
        throw new Error(`raft log: conflict at committed index ${conflictIndex} (commit ${this.commitIndex})`);
      }
      if (conflictIndex <= this.lastIndex()) truncatedFrom = conflictIndex;
      this.truncateFrom(conflictIndex);
      for (let position = conflictPosition; position < entries.length; position++) {
        this.entries.push(entries[position] as Entry);
      }
    }
    this.commitTo(Math.min(leaderCommit, lastNewIndex));
    return { ok: true, lastNewIndex, truncatedFrom };
  }

  /**
   * The largest index at or below `index` whose term is at or below `term` (etcd's
   * findConflictByTerm): the fast-backup hint of a Reject, and the leader's use of that hint.
   * Stops at the snapshot point, whose term is known.
   */
  findConflictByTerm(index: number, term: number): number {
    let candidate = Math.min(index, this.lastIndex());
    while (candidate > this.snapshotIndex) {
      const candidateTerm = this.term(candidate) ?? 0;
      if (candidateTerm <= term) return candidate;
      candidate--;
    }
    return candidate;
  }

  commitTo(index: number): void {
    if (index <= this.commitIndex) return;
    if (index > this.lastIndex()) throw new Error(`raft log: commit ${index} beyond last index ${this.lastIndex()}`);
    this.commitIndex = index;
  }

  /** Marks entries up to `(index, term)` durable, unless that entry was since replaced. */
  persistedTo(index: number, term: number): void {
    if (index > this.persistedIndex && this.term(index) === term) this.persistedIndex = index;
  }

  /** Drops every entry at or below `index` (covered by a snapshot whose last entry has `term`). */
  compact(index: number, term: number): void {
    if (index <= this.snapshotIndex) return;
    if (index > this.lastIndex()) throw new Error(`raft log: compact to ${index} beyond last index ${this.lastIndex()}`);
    this.start += index - this.snapshotIndex;
    this.snapshotIndex = index;
    this.snapshotTerm = term;
    if (this.start >= compactionSlackEntriesMin && this.start * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.start);
      this.start = 0;
    }
  }

  /** Replaces the whole log by a snapshot point (a follower installing a leader's snapshot). */
  restore(index: number, term: number): void {
    this.entries = [];
    this.start = 0;
    this.snapshotIndex = index;
    this.snapshotTerm = term;
    this.commitIndex = index;
    this.persistedIndex = Math.min(this.persistedIndex, index);
    this.handedIndex = index;
    this.verifiedIndex = index;
  }

  /**
   * Throws if the log's own structure is broken (assertInvariants). Entries are checked from the
   * last verified point on, so that checking after every event stays O(new entries).
   */
  assertInvariants(): void {
    const verifiedFrom = Math.max(this.verifiedIndex, this.snapshotIndex);
    let previousTerm = this.term(verifiedFrom) ?? 0;
    let expectedIndex = verifiedFrom + 1;
    for (let position = this.start + verifiedFrom - this.snapshotIndex; position < this.entries.length; position++) {
      const entry = this.entries[position] as Entry;
      if (entry.index !== expectedIndex) throw new Error(`raft log: index ${entry.index} where ${expectedIndex} expected`);
      if (entry.term < previousTerm) throw new Error(`raft log: term decreases at index ${entry.index}`);
      previousTerm = entry.term;
      expectedIndex++;
    }
    this.verifiedIndex = this.lastIndex();
    if (this.commitIndex > this.lastIndex()) throw new Error(`raft log: commit ${this.commitIndex} > last ${this.lastIndex()}`);
    if (this.commitIndex < this.snapshotIndex) throw new Error(`raft log: commit ${this.commitIndex} < snapshot ${this.snapshotIndex}`);
    if (this.persistedIndex > this.lastIndex()) throw new Error(`raft log: persisted ${this.persistedIndex} > last ${this.lastIndex()}`);
    if (this.handedIndex > this.lastIndex()) throw new Error(`raft log: handed ${this.handedIndex} > last ${this.lastIndex()}`);
  }

  /** Position in `entries` (the argument) of the first entry that is new or conflicts with ours. */
  private findConflictPosition(entries: readonly Entry[]): number {
    const last = this.lastIndex();
    for (let position = 0; position < entries.length; position++) {
      const entry = entries[position] as Entry;
      if (entry.index > last) return position;
      // Entries at or below the snapshot point are committed and therefore agree.
      if (entry.index <= this.snapshotIndex) continue;
      if (this.term(entry.index) !== entry.term) return position;
    }
    return entries.length;
  }

  private truncateFrom(index: number): void {
    if (index > this.lastIndex()) return;
    this.entries.length = this.start + index - this.snapshotIndex - 1;
    this.persistedIndex = Math.min(this.persistedIndex, index - 1);
    this.handedIndex = Math.min(this.handedIndex, index - 1);
    this.verifiedIndex = Math.min(this.verifiedIndex, index - 1);
  }

  private assertRange(from: number, to: number): void {
    if (from <= this.snapshotIndex || to > this.lastIndex()) {
      throw new Error(`raft log: slice [${from}, ${to}] outside (${this.snapshotIndex}, ${this.lastIndex()}]`);
    }
  }
}
