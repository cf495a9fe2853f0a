import { performance } from "node:perf_hooks";
import type { Entry } from "@lockstep/protocol";
import { noopMetrics, silentLogger } from "@lockstep/consensus";
import type {
  HardState,
  Logger,
  MetricLabels,
  MetricsSink,
  PersistedState,
  Snapshot,
  SnapshotMeta,
  Storage,
  StorageWrite,
} from "@lockstep/consensus";
import { removeFile, snapshotFileName, syncDirectory, writeFileAtomically } from "./data-directory.js";
import type { EntryCache } from "./entry-cache.js";
import type { EntryIndex } from "./entry-index.js";
import type { DirectoryLock } from "./file-system.js";
import { recoverDirectory } from "./file-storage-recovery.js";
import type { PossibleLoss } from "./possible-loss-record.js";
import { assertStorage, snapshotKeepsLog, whyEntriesDoNotFit } from "./log-rules.js";
import type { LogBounds } from "./log-rules.js";
import { readEntriesFromSegments } from "./segment-reader.js";
import type { LocatedEntry } from "./segment-reader.js";
import { encodeSnapshotFile, readSnapshotFile, snapshotPath } from "./snapshot-file.js";
import { StorageError } from "./storage-error.js";
import { encodeTextRecords, recordHeaderBytes, RecordType } from "./record-codec.js";
import {
  encodeHardStateRecord,
  encodeLogResetRecord,
  encodeSegmentHeader,
  encodeSyncMark,
  syncMarkRecordBytes,
  walFormat,
  walFormatVersion,
} from "./wal-records.js";
import type { SegmentSummary } from "./wal-replay.js";
import { endsTooCloseToSectorEnd, segmentPath } from "./wal-segment.js";
import { WalWriter } from "./wal-writer.js";
import type { FsyncPolicy } from "./wal-writer.js";
import { resolveFileStorageOptions } from "./file-storage-options.js";
import type { FileStorageOptions, ResolvedFileStorageOptions } from "./file-storage-options.js";

/** What `FileStorage.status()` reports: cheap numbers for dashboards and tests. */
export interface FileStorageStatus {
  directory: string;
  fsyncPolicy: FsyncPolicy;
  firstIndex: number;
  lastIndex: number;
  snapshotIndex: number;
  segments: number;
  entriesInMemory: number;
  pendingWrites: number;
}

/**
 * A `Storage` on a local directory: a segmented write-ahead log with group commit, atomic
 * snapshot files, and recovery that cuts a torn tail but refuses any other damage. See README.md
 * for the on-disk format. Every call updates the in-memory view at once (so calls apply in call
 * order) and resolves when its bytes are durable under the fsync policy.
 */
export class FileStorage implements Storage {
  private readonly options: ResolvedFileStorageOptions;
  private readonly logger: Logger;
  private readonly metrics: MetricsSink;
  private readonly metricLabels: MetricLabels;
  private readonly writer: WalWriter;
  /** This process's hold on the data directory, released on close. */
  private readonly lock: DirectoryLock;
  private readonly index: EntryIndex;
  private readonly cache: EntryCache;
  private readonly segments: SegmentSummary[];
  private hardState: HardState;
  private snapshotMeta: SnapshotMeta | null;
  /** A snapshot whose file is not written yet; `load()` answers from it meanwhile. */
  private snapshotInFlight: Snapshot | null = null;
  private activeSequence: number;
  private activeNonce: number;
  private activeBytes: number;
  /** Damage recovery cut that may have been acknowledged: reported by every `load()`. */
  private readonly possibleLoss: PossibleLoss | null;
  /** First entry index of each persist not yet durable, in call order (those must stay cached). */
  private readonly unwrittenFirstIndexes: number[] = [];
  private activeReads = 0;
  private readonly readsDrainedWaiters: Array<() => void> = [];
  private closed = false;

  /** Opens (creating if its parent exists) and recovers a data directory. */
  static async open(options: FileStorageOptions): Promise<FileStorage> {
    const resolved = resolveFileStorageOptions(options);
    const logger = (options.logger ?? silentLogger).child({ component: "storage", fsync_policy: resolved.fsyncPolicy });
    const recovered = await recoverDirectory({
      ...resolved,
      logger,
      nonce: resolved.nonce,
      trustCommitIndex: resolved.unsafeHardStateBeforeEntries,
      freezeEntries: resolved.freezeEntries,
    });
    return new FileStorage(resolved, logger, options.metrics ?? noopMetrics, recovered);
  }

  private constructor(
    options: ResolvedFileStorageOptions,
    logger: Logger,
    metrics: MetricsSink,
    recovered: Awaited<ReturnType<typeof recoverDirectory>>,
  ) {
    this.options = options;
    this.logger = logger;
    this.metrics = metrics;
    this.metricLabels = { fsync_policy: options.fsyncPolicy };
    const { replay, snapshotMeta, active } = recovered;
    this.index = replay.index;
    this.cache = replay.cache;
    this.segments = replay.segments;
    this.hardState = replay.provenHardState(snapshotMeta);
    this.snapshotMeta = snapshotMeta;
    this.possibleLoss = recovered.possibleLoss;
    this.activeSequence = active.sequence;
    this.activeNonce = active.nonce;
    this.activeBytes = active.bytes;
    this.writer = new WalWriter({ ...options, metrics, metricLabels: this.metricLabels }, active);
    this.lock = recovered.lock;
    this.metrics.set("wal_segments", this.metricLabels, this.segments.length);
    if (options.unsafeHardStateBeforeEntries) {
      logger.error({}, "UNSAFE: storage writes the hard state before the entries it covers and trusts it at recovery (test-only setting)");
    }
    if (options.fsyncPolicy === "none") {
      logger.warn({}, "storage: fsync_policy none: writes are NOT durable across a power loss; for tests and benchmarks only");
    }
    logger.info({ ...this.status() }, "storage: opened");
  }

  status(): FileStorageStatus {
    const bounds = this.bounds();
    return {
      directory: this.options.directory,
      fsyncPolicy: this.options.fsyncPolicy,
      firstIndex: bounds.firstIndex,
      lastIndex: bounds.lastIndex,
      snapshotIndex: bounds.snapshotIndex,
      segments: this.segments.length,
      entriesInMemory: this.cache.size,
      pendingWrites: this.writer.pendingCount,
    };
  }

  async load(): Promise<PersistedState> {
    this.throwIfUnusable();
    const snapshotIndex = this.snapshotMeta?.index ?? 0;
    const snapshot =
      this.snapshotInFlight ?? (this.snapshotMeta === null ? null : await readSnapshotFile(this.options.fileSystem, this.options.directory, snapshotIndex));
    const entries = await this.readEntries(Math.max(this.index.firstIndex, snapshotIndex + 1), this.index.lastIndex + 1);
    const state: PersistedState = { hardState: { ...this.hardState }, snapshot: snapshot === null ? null : copySnapshot(snapshot), entries };
    if (this.possibleLoss !== null) state.possibleLoss = true;
    return state;
  }

  persist(write: StorageWrite): Promise<void> {
    const refusal = this.refusal() ?? this.overload() ?? misuse(whyEntriesDoNotFit(this.bounds(), write.entries));
    if (refusal !== null) return Promise.reject(refusal);
    // Each entry is serialised once: the same string is measured, checked and written.
    const payloads = write.entries.map((entry) => JSON.stringify(entry));
    const payloadBytes = payloads.map((payload) => Buffer.byteLength(payload, "utf8"));
    const oversized = payloadBytes.find((bytes) => bytes > this.options.recordBytesMax);
    if (oversized !== undefined) return Promise.reject(misuseError(`an entry of ${oversized} bytes exceeds recordBytesMax`));

    const { sequence, nonce, position, prefix } = this.reserveAppend();
    // The hard state goes after the entries it covers: recovery reads a record only if every
    // record before it is sound, so a commit index is never read without its entries.
    const hardStateFirst = this.options.unsafeHardStateBeforeEntries;
    const parts: Buffer[] = prefix === null ? [] : [prefix];
    let offset = position + (prefix?.byteLength ?? 0);
    const markOffset = offset - position;
    parts.push(encodeSyncMark(0, { nonce, offset }));
    offset += syncMarkRecordBytes;
    const appendHardState = (): void => {
      if (write.hardState === undefined) return;
      const record = encodeHardStateRecord(write.hardState, { nonce, offset });
      parts.push(record);
      offset += record.byteLength;
    };
    if (hardStateFirst) appendHardState();
    if (write.hardState !== undefined) this.hardState = { ...write.hardState };
    const [first] = write.entries;
    if (first !== undefined) {
      this.index.truncateFrom(first.index);
      this.cache.truncateFrom(first.index);
      this.unwrittenFirstIndexes.push(first.index);
    } else this.unwrittenFirstIndexes.push(Number.POSITIVE_INFINITY);
    if (payloads.length > 0) parts.push(encodeTextRecords(RecordType.entry, payloads, payloadBytes, { nonce, offset }));
    write.entries.forEach((entry, position) => {
      const bytes = recordHeaderBytes + payloadBytes[position]!;
      this.index.append(entry.index, entry.term, { sequence, offset, bytes });
      this.cache.append(entry);
      offset += bytes;
    });
    if (!hardStateFirst) appendHardState();
    const last = write.entries.at(-1);
    const summary = this.segments.at(-1);
    if (last !== undefined && summary !== undefined) summary.maxEntryIndex = Math.max(summary.maxEntryIndex, last.index);
    const markOffsets = [markOffset];
    if (endsTooCloseToSectorEnd(offset)) {
      parts.push(encodeSyncMark(0, { nonce, offset }));
      markOffsets.push(offset - position);
      offset += syncMarkRecordBytes;
    }
    this.activeBytes = offset;
    return this.writer.append({ sequence, nonce, position, bytes: Buffer.concat(parts), markOffsets }).then(() => {
      this.unwrittenFirstIndexes.shift();
      this.trimCache();
    });
  }

  saveSnapshot(snapshot: Snapshot): Promise<void> {
    const previousIndex = this.snapshotMeta?.index ?? 0;
    const refusal = this.refusal() ?? misuse(snapshot.meta.index > previousIndex ? null : `snapshot ${snapshot.meta.index} is not newer than ${previousIndex}`);
    if (refusal !== null) return Promise.reject(refusal);
    const copy = copySnapshot(snapshot);
    const keepsLog = snapshotKeepsLog(copy.meta, this.index.term(copy.meta.index));
    this.snapshotMeta = copy.meta;
    this.snapshotInFlight = copy;
    const written = this.writer.runTask(() => this.writeSnapshotFile(copy, previousIndex));
    if (keepsLog) return written;
    // Raft §7: the log does not lead to this snapshot, so it restarts after it. The reset record
    // follows the snapshot file in the queue: a crash between them is repaired by recovery.
    // Reserve first: a new segment's header must state the log as it was before the reset.
    const { sequence, nonce, position, prefix } = this.reserveAppend();
    this.index.resetAfter(copy.meta.index);
    this.cache.resetAfter(copy.meta.index);
    const markAt = position + (prefix?.byteLength ?? 0);
    const mark = encodeSyncMark(0, { nonce, offset: markAt });
    const reset = encodeLogResetRecord(copy.meta.index, { nonce, offset: markAt + mark.byteLength });
    const resetEnd = markAt + mark.byteLength + reset.byteLength;
    // See `endsTooCloseToSectorEnd`: a second mark keeps the next write's start tellable from rot.
    const boundary = endsTooCloseToSectorEnd(resetEnd) ? [encodeSyncMark(0, { nonce, offset: resetEnd })] : [];
    const bytes = Buffer.concat([...(prefix === null ? [] : [prefix]), mark, reset, ...boundary]);
    this.activeBytes = position + bytes.byteLength;
    const append = { sequence, nonce, position, bytes, markOffsets: [markAt - position, ...(boundary.length > 0 ? [resetEnd - position] : [])] };
    return Promise.all([written, this.writer.append(append)]).then(() => undefined);
  }

  compact(index: number): Promise<void> {
    const snapshotIndex = this.snapshotMeta?.index ?? 0;
    const refusal = this.refusal() ?? misuse(index <= snapshotIndex ? null : `compact(${index}) beyond the snapshot ${snapshotIndex}`);
    if (refusal !== null) return Promise.reject(refusal);
    this.index.dropThrough(index);
    this.cache.dropThrough(index);
    const covered: SegmentSummary[] = [];
    // Only a prefix of closed segments goes, so the remaining ones still replay as a chain.
    for (let next = this.segments[0]; this.segments.length > 1 && next !== undefined && next.maxEntryIndex <= index; next = this.segments[0]) {
      covered.push(next);
      this.segments.shift();
    }
    if (covered.length === 0) return Promise.resolve();
    return this.writer.runTask(async () => {
      await this.readsDrained();
      const { fileSystem, directory } = this.options;
      for (const segment of covered) await removeFile(fileSystem, segmentPath(directory, segment.sequence));
      if (this.options.fsyncPolicy === "always") await syncDirectory(fileSystem, directory);
      this.metrics.set("wal_segments", this.metricLabels, this.segments.length);
      this.logger.info({ throughIndex: index, segmentsRemoved: covered.length }, "storage: compacted");
    });
  }

  /**
   * Entries `lo` (inclusive) to `hi` (exclusive), within `firstIndex..lastIndex + 1`. The newest
   * `entriesInMemoryMax` come from memory; older ones are read back from their segments.
   */
  async readEntries(lo: number, hi: number): Promise<Entry[]> {
    this.throwIfUnusable();
    const { firstIndex, lastIndex } = this.index;
    assertStorage(lo >= firstIndex && lo <= hi && hi <= lastIndex + 1, `readEntries(${lo}, ${hi}) outside ${firstIndex}..${lastIndex}`);
    // Take everything the answer needs now: the cache and the index may change during the read.
    const diskEnd = Math.min(hi, this.cache.firstIndex);
    const cached: Entry[] = [];
    for (let index = Math.max(lo, diskEnd); index < hi; index += 1) {
      const entry = this.cache.get(index);
      assertStorage(entry !== undefined, `entry ${index} missing from the cache`);
      cached.push(entry);
    }
    if (lo >= diskEnd) return cached;
    const located: LocatedEntry[] = [];
    for (let index = lo; index < diskEnd; index += 1) {
      const location = this.index.location(index);
      assertStorage(location !== undefined, `entry ${index} has no location`);
      located.push({ index, location });
    }
    this.activeReads += 1;
    try {
      const fromDisk = await readEntriesFromSegments(
        {
          fileSystem: this.options.fileSystem,
          directory: this.options.directory,
          recordBytesMax: this.options.recordBytesMax,
          nonceOf: (sequence) => this.nonceOf(sequence),
        },
        located,
      );
      return [...fromDisk, ...cached];
    } finally {
      this.activeReads -= 1;
      if (this.activeReads === 0) for (const wake of this.readsDrainedWaiters.splice(0)) wake();
    }
  }

  /** Waits for queued writes, then closes the files. Later calls reject with code `closed`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer.close();
    await this.lock.release();
    this.logger.info({ lastIndex: this.index.lastIndex }, "storage: closed");
  }

  private bounds(): LogBounds {
    return { firstIndex: this.index.firstIndex, lastIndex: this.index.lastIndex, snapshotIndex: this.snapshotMeta?.index ?? 0 };
  }

  /**
   * Where the next append goes. Once the active segment has reached `segmentBytesMax`, the append
   * starts a new segment whose header restates the log's end and the hard state as of now.
   */
  private reserveAppend(): { sequence: number; nonce: number; position: number; prefix: Buffer | null } {
    if (this.activeBytes < this.options.segmentBytesMax) {
      return { sequence: this.activeSequence, nonce: this.activeNonce, position: this.activeBytes, prefix: null };
    }
    this.activeSequence += 1;
    this.activeNonce = this.options.nonce();
    this.activeBytes = 0;
    this.segments.push({ sequence: this.activeSequence, nonce: this.activeNonce, maxEntryIndex: 0 });
    this.metrics.set("wal_segments", this.metricLabels, this.segments.length);
    const prefix = encodeSegmentHeader({
      format: walFormat,
      version: walFormatVersion,
      sequence: this.activeSequence,
      nonce: this.activeNonce,
      lastIndexBefore: this.index.lastIndex,
      hardState: { ...this.hardState, commitIndex: Math.min(this.hardState.commitIndex, this.index.lastIndex) },
    });
    return { sequence: this.activeSequence, nonce: this.activeNonce, position: 0, prefix };
  }

  private nonceOf(sequence: number): number {
    const summary = this.segments.find((segment) => segment.sequence === sequence);
    assertStorage(summary !== undefined, `segment ${sequence} is not part of the log`);
    return summary.nonce;
  }

  private trimCache(): void {
    if (this.cache.size <= this.options.entriesInMemoryMax) return;
    const keepFromIndex = this.unwrittenFirstIndexes.reduce((lowest, index) => Math.min(lowest, index), Number.POSITIVE_INFINITY);
    this.cache.evict(this.options.entriesInMemoryMax, keepFromIndex);
  }

  private async writeSnapshotFile(snapshot: Snapshot, previousIndex: number): Promise<void> {
    const started = performance.now();
    const sync = this.options.fsyncPolicy === "always";
    const { directory, fileSystem } = this.options;
    await writeFileAtomically(fileSystem, directory, snapshotFileName(snapshot.meta.index), encodeSnapshotFile(snapshot), sync);
    if (previousIndex > 0) {
      await removeFile(fileSystem, snapshotPath(directory, previousIndex));
      if (sync) await syncDirectory(fileSystem, directory);
    }
    if (this.snapshotInFlight === snapshot) this.snapshotInFlight = null;
    const seconds = (performance.now() - started) / 1000;
    this.metrics.observe("snapshot_seconds", this.metricLabels, seconds);
    this.logger.info({ index: snapshot.meta.index, term: snapshot.meta.term, bytes: snapshot.data.byteLength, seconds }, "storage: snapshot saved");
  }

  private readsDrained(): Promise<void> {
    if (this.activeReads === 0) return Promise.resolve();
    return new Promise((resolve) => this.readsDrainedWaiters.push(resolve));
  }

  private refusal(): StorageError | null {
    if (this.closed) return new StorageError("closed", this.options.directory, `FileStorage on ${this.options.directory} used after close()`);
    return this.writer.failed;
  }

  private overload(): StorageError | null {
    if (this.writer.pendingCount < this.options.pendingWritesMax) return null;
    return new StorageError("overloaded", this.options.directory, `more than ${this.options.pendingWritesMax} writes queued`);
  }

  private throwIfUnusable(): void {
    const refusal = this.refusal();
    if (refusal !== null) throw refusal;
  }
}

function misuse(reason: string | null): Error | null {
  return reason === null ? null : misuseError(reason);
}

function misuseError(reason: string): Error {
  try {
    assertStorage(false, reason);
  } catch (error) {
    return error as Error;
  }
  return new Error(reason);
}

function copySnapshot(snapshot: Snapshot): Snapshot {
  return {
    meta: { index: snapshot.meta.index, term: snapshot.meta.term, members: [...snapshot.meta.members] },
    data: new Uint8Array(snapshot.data),
  };
}
