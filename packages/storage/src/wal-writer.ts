import { performance } from "node:perf_hooks";
import type { MetricLabels, MetricsSink } from "@lockstep/consensus";
import { syncDirectory, writeAll } from "./data-directory.js";
import type { FileHandle, FileSystem } from "./file-system.js";
import type { StorageError} from "./storage-error.js";
import { storageErrorFromSystem } from "./storage-error.js";
import { encodeSyncMark, syncMarkRecordBytes } from "./wal-records.js";
import { preallocationTarget, writeZeros } from "./segment-preallocation.js";
import { segmentPath } from "./wal-segment.js";

export type FsyncPolicy = "always" | "none";

export interface WalWriterOptions {
  fileSystem: FileSystem;
  directory: string;
  fsyncPolicy: FsyncPolicy;
  /** One flush writes at most this many bytes (one write and one fdatasync per segment touched). */
  batchBytesMax: number;
  /** A segment rotates once it holds this many bytes; its zeroed region grows in steps no larger. */
  segmentBytesMax: number;
  metrics: MetricsSink;
  metricLabels: MetricLabels;
}

/**
 * The segment the writer appends to: `bytes` of log, of which `syncedBytes` are synced, and synced
 * zeros up to `preallocatedBytes` (`segment-preallocation.ts`; 0 without fsync).
 */
export interface OpenSegment {
  sequence: number;
  nonce: number;
  handle: FileHandle;
  bytes: number;
  syncedBytes: number;
  preallocatedBytes: number;
}

/** One append: `bytes` go at `position` of segment `sequence`; sync marks sit at `markOffsets` within them. */
export interface Append {
  sequence: number;
  nonce: number;
  position: number;
  bytes: Buffer;
  markOffsets: readonly number[];
}

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

type QueueItem =
  | ({ kind: "append"; waiter: Waiter } & Append)
  | { kind: "task"; run: () => Promise<void>; waiter: Waiter };

/**
 * The single writer of the log. Appends queued while a flush is in flight are written together
 * and covered by one fdatasync (group commit); tasks (snapshot files, segment deletion) run alone,
 * in queue order with the appends. All I/O goes through `fs.promises`, on libuv's thread pool.
 * After any failure every queued and later call rejects: a failed sync leaves the page cache in an
 * unknown state, so nothing written afterwards could be trusted.
 */
export class WalWriter {
  private readonly queue: QueueItem[] = [];
  private running = false;
  /** Whether the active segment holds bytes not yet covered by an fdatasync. */
  private unsynced = false;
  private failure: StorageError | null = null;

  constructor(
    private readonly options: WalWriterOptions,
    private active: OpenSegment,
  ) {}

  get pendingCount(): number {
    return this.queue.length;
  }

  get failed(): StorageError | null {
    return this.failure;
  }

  /** Writes an append to the active segment, or to the next one (a new file). */
  append(append: Append): Promise<void> {
    return this.enqueue((waiter) => ({ kind: "append", ...append, waiter }));
  }

  runTask(run: () => Promise<void>): Promise<void> {
    return this.enqueue((waiter) => ({ kind: "task", run, waiter }));
  }

  /** Waits for everything queued, cuts the active segment's unused zeros, then closes it. */
  async close(): Promise<void> {
    await this.runTask(() => this.trimActive()).catch(() => undefined);
    await this.active.handle.close().catch(() => undefined);
  }

  private enqueue(makeItem: (waiter: Waiter) => QueueItem): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.queue.push(makeItem({ resolve, reject }));
      if (!this.running) {
        this.running = true;
        // A microtask, not a synchronous start: writers woken by the previous flush enqueue
        // their next write in the microtasks already queued, and all of them join this batch.
        queueMicrotask(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    // Each pass removes at least one item; the queue's length bounds the loop.
    while (this.queue.length > 0) {
      const batch = this.takeBatch();
      try {
        await this.process(batch);
        for (const item of batch) item.waiter.resolve();
      } catch (error) {
        this.fail(storageErrorFromSystem(error, this.options.directory, "log write failed in"), batch);
      }
    }
    this.running = false;
  }

  private takeBatch(): QueueItem[] {
    const head = this.queue[0];
    if (head?.kind === "task") return this.queue.splice(0, 1);
    let count = 0;
    let bytes = 0;
    for (const item of this.queue) {
      if (item.kind !== "append" || (count > 0 && bytes + item.bytes.byteLength > this.options.batchBytesMax)) break;
      count += 1;
      bytes += item.bytes.byteLength;
    }
    return this.queue.splice(0, count);
  }

  private async process(batch: readonly QueueItem[]): Promise<void> {
    const [first] = batch;
    if (first?.kind === "task") {
      await first.run();
      return;
    }
    let createdSegment = false;
    let start = 0;
    // Consecutive appends to one segment go down in one write; a batch spans at most a rotation.
    while (start < batch.length) {
      const sequence = appendAt(batch, start).sequence;
      let end = start;
      while (end < batch.length && appendAt(batch, end).sequence === sequence) end += 1;
      if (sequence !== this.active.sequence) {
        await this.rotateTo(sequence, appendAt(batch, start).nonce);
        createdSegment = true;
      }
      const group = batch.slice(start, end).map((_, offset) => appendAt(batch, start + offset));
      await this.writeGroup(group);
      start = end;
    }
    await this.syncActive();
    if (createdSegment && this.options.fsyncPolicy === "always") await syncDirectory(this.options.fileSystem, this.options.directory);
  }

  private async writeGroup(group: readonly Append[]): Promise<void> {
    const position = group[0]?.position ?? this.active.bytes;
    if (position !== this.active.bytes) {
      throw new Error(`log writer: append at ${position} but segment ${this.active.sequence} is ${this.active.bytes} bytes`);
    }
    for (const item of group) this.stampSyncMarks(item);
    const bytes = group.length === 1 ? (group[0]?.bytes ?? Buffer.alloc(0)) : Buffer.concat(group.map((item) => item.bytes));
    await this.preallocate(position + bytes.byteLength);
    await writeAll(this.active.handle, bytes, position);
    this.active.bytes += bytes.byteLength;
    this.unsynced = true;
    this.options.metrics.increment("wal_bytes_written_total", this.options.metricLabels, bytes.byteLength);
  }

  /**
   * Writes into each sync mark how far the segment is synced right now: recovery reads a sound
   * mark after damaged bytes as proof that the disk lost what it had promised (not a crash).
   */
  private stampSyncMarks(item: Append): void {
    for (const markOffset of item.markOffsets) {
      const mark = encodeSyncMark(this.active.syncedBytes, { nonce: this.active.nonce, offset: item.position + markOffset });
      if (mark.byteLength !== syncMarkRecordBytes) throw new Error("log writer: a sync mark of the wrong size");
      item.bytes.set(mark, markOffset);
    }
  }

  private async rotateTo(sequence: number, nonce: number): Promise<void> {
    if (sequence !== this.active.sequence + 1) throw new Error(`log writer: segment ${sequence} after ${this.active.sequence}`);
    await this.syncActive();
    await this.trimActive();
    await this.active.handle.close();
    const handle = await this.options.fileSystem.open(segmentPath(this.options.directory, sequence), "createExclusive");
    this.active = { sequence, nonce, handle, bytes: 0, syncedBytes: 0, preallocatedBytes: 0 };
  }

  /** Extends the synced zeros of the active segment past `end` before a write reaches there. */
  private async preallocate(end: number): Promise<void> {
    if (this.options.fsyncPolicy === "none" || end <= this.active.preallocatedBytes) return;
    const target = preallocationTarget(end, this.active.preallocatedBytes, this.options.segmentBytesMax);
    await writeZeros(this.active.handle, this.active.preallocatedBytes, target);
    // Not a group commit: `wal_fsyncs_total` keeps counting those alone (it divides bytes into batches).
    await this.active.handle.datasync();
    this.active.preallocatedBytes = target;
  }

  /** A segment that takes no more writes keeps no unused zeros (they cost disk, and say nothing). */
  private async trimActive(): Promise<void> {
    if (this.active.preallocatedBytes <= this.active.bytes) return;
    await this.active.handle.truncate(this.active.bytes);
    await this.active.handle.datasync();
    this.active.preallocatedBytes = this.active.bytes;
  }

  private async syncActive(): Promise<void> {
    if (this.options.fsyncPolicy === "none" || !this.unsynced) return;
    const started = performance.now();
    await this.active.handle.datasync();
    this.options.metrics.observe("wal_fsync_seconds", this.options.metricLabels, (performance.now() - started) / 1000);
    this.options.metrics.increment("wal_fsyncs_total", this.options.metricLabels);
    this.unsynced = false;
    this.active.syncedBytes = this.active.bytes;
  }

  private fail(error: StorageError, batch: readonly QueueItem[]): void {
    this.failure = error;
    for (const item of [...batch, ...this.queue.splice(0)]) item.waiter.reject(error);
  }
}

function appendAt(batch: readonly QueueItem[], position: number): Extract<QueueItem, { kind: "append" }> {
  const item = batch[position];
  if (item?.kind !== "append") throw new Error("log writer: a task inside an append batch");
  return item;
}
