import type { Entry } from "@lockstep/protocol";
import { freezeEntry } from "./entry-freeze.js";

/**
 * The newest entries, held in memory so that the common reads (the tail of the log) touch no
 * disk. It always holds one contiguous run that ends at the log's last entry:
 * `firstIndex..nextIndex - 1`, possibly empty.
 */
export class EntryCache {
  private readonly entries = new Map<number, Entry>();
  private firstCachedIndex: number;
  private nextIndex: number;

  /** `freezeEntries`: every entry appended is frozen (`freezeEntry`), the storages' check for tests and the simulator. */
  constructor(
    nextIndex: number,
    private readonly freezeEntries = false,
  ) {
    this.firstCachedIndex = nextIndex;
    this.nextIndex = nextIndex;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The oldest cached index; `lastIndex + 1` when nothing is cached. */
  get firstIndex(): number {
    return this.firstCachedIndex;
  }

  get(index: number): Entry | undefined {
    return this.entries.get(index);
  }

  /** Appends the entry that follows the cached run (callers truncate first when replacing). */
  append(entry: Entry): void {
    if (entry.index !== this.nextIndex) throw new Error(`cache: entry ${entry.index} does not follow ${this.nextIndex - 1}`);
    this.entries.set(entry.index, this.freezeEntries ? freezeEntry(entry) : entry);
    this.nextIndex += 1;
  }

  /** Forgets `index` and everything after it; the next append is `index`. */
  truncateFrom(index: number): void {
    for (let cached = Math.max(index, this.firstCachedIndex); cached < this.nextIndex; cached += 1) {
      this.entries.delete(cached);
    }
    this.nextIndex = index;
    if (this.firstCachedIndex > index) this.firstCachedIndex = index;
  }

  /** The log restarts after `index` (a snapshot replaced it). */
  resetAfter(index: number): void {
    this.entries.clear();
    this.firstCachedIndex = index + 1;
    this.nextIndex = index + 1;
  }

  /** Forgets `index` and everything before it (compaction). */
  dropThrough(index: number): void {
    if (index + 1 >= this.nextIndex) {
      this.resetAfter(index);
      return;
    }
    for (let cached = this.firstCachedIndex; cached <= index; cached += 1) this.entries.delete(cached);
    this.firstCachedIndex = Math.max(this.firstCachedIndex, index + 1);
  }

  /**
   * Drops the oldest entries until at most `entriesMax` remain, never one at or after
   * `keepFromIndex` (entries not yet written to disk must stay readable from here).
   */
  evict(entriesMax: number, keepFromIndex: number): void {
    while (this.entries.size > entriesMax && this.firstCachedIndex < keepFromIndex) {
      this.entries.delete(this.firstCachedIndex);
      this.firstCachedIndex += 1;
    }
  }
}
