import { AssertionError } from "node:assert";
import type { Entry } from "@lockstep/protocol";
import type { SnapshotMeta } from "@lockstep/consensus";

/** The shape of a log that both storages share: entries `firstIndex..lastIndex`, after a snapshot. */
export interface LogBounds {
  /** Index of the oldest entry still held (entries at or below it may be covered by the snapshot). */
  firstIndex: number;
  /** Index of the newest entry; `firstIndex - 1` when the log is empty. */
  lastIndex: number;
  /** Index the saved snapshot covers up to; 0 without one. */
  snapshotIndex: number;
}

/**
 * Why `entries` cannot be written to a log with these bounds, or null when they can. A write may
 * start anywhere after the snapshot up to one past the end: at an existing index it replaces that
 * entry and everything after it (Raft §5.3).
 */
export function whyEntriesDoNotFit(bounds: LogBounds, entries: readonly Entry[]): string | null {
  const first = entries[0];
  if (first === undefined) return null;
  if (first.index <= bounds.snapshotIndex) {
    return `entry ${first.index} is at or below the snapshot (index ${bounds.snapshotIndex})`;
  }
  if (first.index > bounds.lastIndex + 1) {
    return `entry ${first.index} would leave a gap after the last entry ${bounds.lastIndex}`;
  }
  for (let position = 1; position < entries.length; position += 1) {
    const previous = entries[position - 1];
    const current = entries[position];
    if (previous !== undefined && current !== undefined && current.index !== previous.index + 1) {
      return `entries are not contiguous: ${current.index} follows ${previous.index}`;
    }
  }
  return null;
}

/**
 * Raft §7: a snapshot keeps the log after it only when the log holds the snapshot's last entry
 * with the same term; otherwise the whole log is discarded and restarts after the snapshot.
 */
export function snapshotKeepsLog(meta: SnapshotMeta, termAtSnapshotIndex: number | undefined): boolean {
  return termAtSnapshotIndex === meta.term;
}

/** Programmer errors (misuse of the Storage contract) crash rather than return. */
export function assertStorage(condition: boolean, message: string): asserts condition {
  if (!condition) throw new AssertionError({ message: `storage misuse: ${message}` });
}
