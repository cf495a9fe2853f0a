import type { Entry } from "@lockstep/protocol";
import { freezeEntry } from "./entry-freeze.js";
import { emptyHardState } from "@lockstep/consensus";
import type { HardState, PersistedState, Snapshot, Storage, StorageWrite } from "@lockstep/consensus";
import { assertStorage, snapshotKeepsLog, whyEntriesDoNotFit } from "./log-rules.js";
import type { LogBounds } from "./log-rules.js";
import { StorageError } from "./storage-error.js";

export interface MemoryStorageOptions {
  /**
   * Freeze every entry kept (`freezeEntry`), so that code changing an entry after handing it over
   * throws where it does: a check for tests. Off by default, as in `FileStorage`.
   */
  freezeEntries?: boolean;
}

/**
 * A `Storage` that keeps everything in memory, for tests, the simulator and the in-process bench.
 * It keeps and returns the entry objects it is given, not copies (entries are immutable by
 * contract: nobody changes one after creating it); the hard state and snapshot are copied.
 * "Durable" here means "survives as long as this object does".
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = { ...emptyHardState };
  private snapshot: Snapshot | null = null;
  /** `entries[0]` has index `firstIndex`. */
  private entries: Entry[] = [];
  private firstIndex = 1;
  private closed = false;
  private readonly freezeEntries: boolean;

  constructor(options: MemoryStorageOptions = {}) {
    this.freezeEntries = options.freezeEntries === true;
  }

  load(): Promise<PersistedState> {
    return this.run(() => ({
      hardState: { ...this.hardState },
      snapshot: this.snapshot === null ? null : copySnapshot(this.snapshot),
      entries: this.entries.slice(this.positionOf(this.bounds().snapshotIndex + 1)),
    }));
  }

  persist(write: StorageWrite): Promise<void> {
    return this.run(() => {
      const reason = whyEntriesDoNotFit(this.bounds(), write.entries);
      assertStorage(reason === null, reason ?? "");
      if (write.hardState !== undefined) this.hardState = { ...write.hardState };
      const first = write.entries[0];
      if (first === undefined) return;
      this.entries.length = this.positionOf(first.index);
      for (const entry of write.entries) this.entries.push(this.freezeEntries ? freezeEntry(entry) : entry);
    });
  }

  saveSnapshot(snapshot: Snapshot): Promise<void> {
    return this.run(() => {
      const { meta } = snapshot;
      const bounds = this.bounds();
      assertStorage(meta.index > bounds.snapshotIndex, `snapshot ${meta.index} is not newer than ${bounds.snapshotIndex}`);
      if (!snapshotKeepsLog(meta, this.termAt(meta.index))) {
        this.entries = [];
        this.firstIndex = meta.index + 1;
      }
      this.snapshot = copySnapshot(snapshot);
    });
  }

  compact(index: number): Promise<void> {
    return this.run(() => {
      const bounds = this.bounds();
      assertStorage(index <= bounds.snapshotIndex, `compact(${index}) beyond the snapshot ${bounds.snapshotIndex}`);
      if (index < this.firstIndex) return;
      this.entries = this.entries.slice(this.positionOf(index + 1));
      this.firstIndex = index + 1;
    });
  }

  /** Entries `lo` (inclusive) to `hi` (exclusive), which must lie within the held log. */
  readEntries(lo: number, hi: number): Promise<Entry[]> {
    return this.run(() => {
      const bounds = this.bounds();
      assertStorage(lo >= bounds.firstIndex && lo <= hi && hi <= bounds.lastIndex + 1, `readEntries(${lo}, ${hi}) outside ${bounds.firstIndex}..${bounds.lastIndex}`);
      return this.entries.slice(this.positionOf(lo), this.positionOf(hi));
    });
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  private bounds(): LogBounds {
    return {
      firstIndex: this.firstIndex,
      lastIndex: this.firstIndex + this.entries.length - 1,
      snapshotIndex: this.snapshot?.meta.index ?? 0,
    };
  }

  private positionOf(index: number): number {
    return Math.max(0, index - this.firstIndex);
  }

  private termAt(index: number): number | undefined {
    return index >= this.firstIndex ? this.entries[index - this.firstIndex]?.term : undefined;
  }

  /** Runs `operation` now, answering through a promise as the interface asks; misuse rejects. */
  private run<T>(operation: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new StorageError("closed", "memory", "MemoryStorage used after close()"));
    try {
      return Promise.resolve(operation());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

function copySnapshot(snapshot: Snapshot): Snapshot {
  return {
    meta: { index: snapshot.meta.index, term: snapshot.meta.term, members: [...snapshot.meta.members] },
    data: new Uint8Array(snapshot.data),
  };
}
