import { AssertionError } from "node:assert";
import { emptyHardState } from "@lockstep/consensus";
import type { HardState, PersistedState, RandomSource, Snapshot, Storage, StorageWrite, TimerHandle } from "@lockstep/consensus";
import type { Entry } from "@lockstep/protocol";
import { randomInt } from "@lockstep/transport-memory";
import type { VirtualClock } from "@lockstep/transport-memory";

export interface SimStorageOptions {
  clock: VirtualClock;
  /** Draws each write's sync delay and, when on, its fsync failure. */
  random: RandomSource;
  /** A sync takes a whole number of virtual ms in [syncDelayMsMin, syncDelayMsMax]. */
  syncDelayMsMin?: number;
  syncDelayMsMax?: number;
  /** Chance that a sync fails (the write is then not durable, and the storage refuses everything after). */
  fsyncFailureProbability?: number;
  /** Unsynced operations at most; more are refused with `overloaded`. */
  pendingWritesMax?: number;
}

/**
 * - `fsync_failed`: this write's sync failed; it is not durable and the node must stop.
 * - `failed`: an earlier sync failed, so nothing after it can be promised (fsyncgate semantics).
 * - `closed`: used after `close()`.
 * - `overloaded`: more than `pendingWritesMax` operations waiting for their sync.
 */
export type SimStorageErrorCode = "fsync_failed" | "failed" | "closed" | "overloaded";

export class SimStorageError extends Error {
  override readonly name = "SimStorageError";
  constructor(
    readonly code: SimStorageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface SimStorageStats {
  /** Operations accepted (persist, saveSnapshot, compact). */
  operations: number;
  /** Operations that became durable. */
  synced: number;
  /** Operations lost to a crash before their sync. */
  lost: number;
  /** Operations refused or rejected by an fsync failure. */
  failed: number;
}

type Operation = { kind: "persist"; write: StorageWrite } | { kind: "snapshot"; snapshot: Snapshot } | { kind: "compact"; index: number };

interface Pending {
  operation: Operation;
  fails: boolean;
  timer: TimerHandle;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * The simulator's disk: memory that behaves like a disk under power cuts. Each operation takes
 * effect in call order, but becomes durable only when its promise resolves, after a sync delay
 * drawn on the virtual clock; syncs complete in call order. `crash()` loses every operation not
 * yet resolved (its promise never settles: the process is gone) and keeps everything resolved.
 * The durable view (`durable...` methods) lets checkers confirm that a node never acknowledged an
 * entry or granted a vote before it was durable.
 */
export class SimStorage implements Storage {
  private durable = new LogModel();
  /** The durable state plus every operation still waiting for its sync. */
  private latest = new LogModel();
  private pending: Pending[] = [];
  private lastSyncDueMs = 0;
  private failed = false;
  private closed = false;
  private closeWaiters: (() => void)[] = [];
  private fsyncFailureProbability: number;
  private failNextSyncs = 0;
  private readonly counters: SimStorageStats = { operations: 0, synced: 0, lost: 0, failed: 0 };
  private readonly syncDelayMsMin: number;
  private readonly syncDelayMsMax: number;
  private readonly pendingWritesMax: number;

  constructor(private readonly options: SimStorageOptions) {
    this.syncDelayMsMin = options.syncDelayMsMin ?? 1;
    this.syncDelayMsMax = options.syncDelayMsMax ?? 10;
    this.pendingWritesMax = options.pendingWritesMax ?? 10_000;
    this.fsyncFailureProbability = options.fsyncFailureProbability ?? 0;
    if (!(this.syncDelayMsMin >= 0 && this.syncDelayMsMin <= this.syncDelayMsMax)) {
      throw new Error(`SimStorage: need 0 <= syncDelayMsMin <= syncDelayMsMax, got ${this.syncDelayMsMin}, ${this.syncDelayMsMax}`);
    }
  }

  /** What a restarted process reads back: every operation it issued that the crash did not take. */
  load(): Promise<PersistedState> {
    if (this.closed) return Promise.reject(new SimStorageError("closed", "SimStorage used after close()"));
    return Promise.resolve(this.latest.persistedState());
  }

  persist(write: StorageWrite): Promise<void> {
    return this.enqueue({ kind: "persist", write: { ...(write.hardState === undefined ? {} : { hardState: { ...write.hardState } }), entries: write.entries.map(copyEntry) } });
  }

  saveSnapshot(snapshot: Snapshot): Promise<void> {
    return this.enqueue({ kind: "snapshot", snapshot: copySnapshot(snapshot) });
  }

  compact(index: number): Promise<void> {
    return this.enqueue({ kind: "compact", index });
  }

  /** Resolves once every accepted operation has synced or failed; later operations are refused. */
  close(): Promise<void> {
    this.closed = true;
    if (this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  /**
   * A power cut: every unsynced operation is lost and its promise never settles. What was synced
   * stays. The storage is then ready for the restarted node (not closed, not failed).
   */
  crash(): void {
    for (const waiting of this.pending) this.options.clock.clearTimeout(waiting.timer);
    this.counters.lost += this.pending.length;
    this.pending = [];
    this.closeWaiters = [];
    this.latest = this.durable.clone();
    this.failed = false;
    this.closed = false;
  }

  /** Makes the next `count` syncs fail with `fsync_failed`. */
  failNextSync(count = 1): void {
    this.failNextSyncs += count;
  }

  setFsyncFailureProbability(probability: number): void {
    this.fsyncFailureProbability = probability;
  }

  durableHardState(): HardState {
    return { ...this.durable.hardState };
  }

  /** Copies of the durable log entries (after the durable snapshot, if any). */
  durableEntries(): Entry[] {
    return this.durable.entries.map(copyEntry);
  }

  durableSnapshotIndex(): number {
    return this.durable.snapshot?.meta.index ?? 0;
  }

  /** The term of the durable entry at `index` (or of the durable snapshot's last entry); null if neither holds it. */
  durableTermAt(index: number): number | null {
    return this.durable.termAt(index);
  }

  /** True if `index` is durable here: held in the durable log, or covered by the durable snapshot. */
  durableCovers(index: number): boolean {
    return index <= this.durableSnapshotIndex() || this.durable.termAt(index) !== null;
  }

  pendingOperations(): number {
    return this.pending.length;
  }

  stats(): SimStorageStats {
    return { ...this.counters };
  }

  private enqueue(operation: Operation): Promise<void> {
    if (this.closed) return this.refuse("closed", "SimStorage used after close()");
    if (this.failed) return this.refuse("failed", "an earlier sync failed; nothing more can be made durable");
    if (this.pending.length >= this.pendingWritesMax) return this.refuse("overloaded", `more than ${this.pendingWritesMax} operations waiting to sync`);
    try {
      this.latest.apply(operation);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    this.counters.operations++;
    const { clock, random } = this.options;
    // Syncs complete in call order, as one disk queue would: never before the previous one.
    const dueMs = Math.max(this.lastSyncDueMs, clock.nowMs() + randomInt(random, this.syncDelayMsMin, this.syncDelayMsMax + 1));
    this.lastSyncDueMs = dueMs;
    const fails = this.failNextSyncs > 0 || (this.fsyncFailureProbability > 0 && random() < this.fsyncFailureProbability);
    if (this.failNextSyncs > 0) this.failNextSyncs--;
    return new Promise<void>((resolve, reject) => {
      const timer = clock.setTimeout(() => this.sync(), dueMs - clock.nowMs());
      this.pending.push({ operation, fails, timer, resolve, reject });
    });
  }

  private sync(): void {
    const head = this.pending.shift();
    if (head === undefined) throw new AssertionError({ message: "SimStorage: a sync fired with nothing pending" });
    if (head.fails) {
      this.failAll(head);
    } else {
      this.durable.apply(head.operation);
      this.counters.synced++;
      head.resolve();
    }
    if (this.pending.length === 0) this.wakeCloseWaiters();
  }

  /** After a failed sync nothing later can be promised: reject it and everything queued behind it. */
  private failAll(head: Pending): void {
    this.failed = true;
    this.counters.failed += 1 + this.pending.length;
    head.reject(new SimStorageError("fsync_failed", "simulated fsync failure"));
    for (const waiting of this.pending) {
      this.options.clock.clearTimeout(waiting.timer);
      waiting.reject(new SimStorageError("failed", "an earlier sync failed"));
    }
    this.pending = [];
  }

  private refuse(code: SimStorageErrorCode, message: string): Promise<void> {
    this.counters.failed++;
    return Promise.reject(new SimStorageError(code, message));
  }

  private wakeCloseWaiters(): void {
    const waiters = this.closeWaiters;
    this.closeWaiters = [];
    for (const wake of waiters) wake();
  }
}

/** One node's log as a disk would hold it: hard state, snapshot, then entries `firstIndex...`. */
class LogModel {
  hardState: HardState = { ...emptyHardState };
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];
  firstIndex = 1;

  clone(): LogModel {
    const copy = new LogModel();
    copy.hardState = { ...this.hardState };
    copy.snapshot = this.snapshot === null ? null : copySnapshot(this.snapshot);
    copy.entries = this.entries.map(copyEntry);
    copy.firstIndex = this.firstIndex;
    return copy;
  }

  persistedState(): PersistedState {
    return { hardState: { ...this.hardState }, snapshot: this.snapshot === null ? null : copySnapshot(this.snapshot), entries: this.entries.map(copyEntry) };
  }

  termAt(index: number): number | null {
    const entry = index >= this.firstIndex ? this.entries[index - this.firstIndex] : undefined;
    if (entry !== undefined) return entry.term;
    return this.snapshot !== null && this.snapshot.meta.index === index ? this.snapshot.meta.term : null;
  }

  /** Applies one operation; a misuse of the Storage contract throws an AssertionError and changes nothing. */
  apply(operation: Operation): void {
    switch (operation.kind) {
      case "persist":
        return this.applyWrite(operation.write);
      case "snapshot":
        return this.applySnapshot(operation.snapshot);
      case "compact":
        return this.applyCompact(operation.index);
    }
  }

  private applyWrite(write: StorageWrite): void {
    const snapshotIndex = this.snapshot?.meta.index ?? 0;
    const lastIndex = this.firstIndex + this.entries.length - 1;
    const first = write.entries[0];
    if (first !== undefined) {
      assertStorage(first.index > snapshotIndex, `entry ${first.index} is at or below the snapshot (index ${snapshotIndex})`);
      assertStorage(first.index <= lastIndex + 1, `entry ${first.index} would leave a gap after the last entry ${lastIndex}`);
      write.entries.forEach((entry, position) => assertStorage(entry.index === first.index + position, `entries are not contiguous at ${entry.index}`));
    }
    if (write.hardState !== undefined) this.hardState = { ...write.hardState };
    if (first === undefined) return;
    // Raft §5.3: a write at an existing index replaces that entry and everything after it.
    this.entries.length = Math.max(0, first.index - this.firstIndex);
    this.entries.push(...write.entries);
  }

  private applySnapshot(snapshot: Snapshot): void {
    const snapshotIndex = this.snapshot?.meta.index ?? 0;
    assertStorage(snapshot.meta.index > snapshotIndex, `snapshot ${snapshot.meta.index} is not newer than ${snapshotIndex}`);
    // Raft §7: keep the log after the snapshot only if it holds the snapshot's last entry with its term.
    if (this.termAt(snapshot.meta.index) !== snapshot.meta.term) {
      this.entries = [];
      this.firstIndex = snapshot.meta.index + 1;
    }
    this.snapshot = snapshot;
  }

  private applyCompact(index: number): void {
    const snapshotIndex = this.snapshot?.meta.index ?? 0;
    assertStorage(index <= snapshotIndex, `compact(${index}) beyond the snapshot ${snapshotIndex}`);
    if (index < this.firstIndex) return;
    this.entries = this.entries.slice(index + 1 - this.firstIndex);
    this.firstIndex = index + 1;
  }
}

function assertStorage(condition: boolean, message: string): asserts condition {
  if (!condition) throw new AssertionError({ message: `storage misuse: ${message}` });
}

function copyEntry(entry: Entry): Entry {
  return structuredClone(entry);
}

function copySnapshot(snapshot: Snapshot): Snapshot {
  return { meta: { ...snapshot.meta, members: [...snapshot.meta.members] }, data: new Uint8Array(snapshot.data) };
}
