import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger, SnapshotMeta } from "@lockstep/consensus";
import type { DirectoryLock } from "./directory-lock.js";
import type { DirectoryListing } from "./data-directory.js";
import { prepareDirectory, removeFile, segmentFileName, snapshotFileName, syncDirectory, writeAll } from "./data-directory.js";
import { readSnapshotFile } from "./snapshot-file.js";
import { StorageError, storageErrorFromSystem } from "./storage-error.js";
import { LogReplay } from "./wal-replay.js";
import { encodeLogResetRecord, encodeSegmentHeader, walFormat, walFormatVersion } from "./wal-records.js";
import { scanSegment, segmentPath } from "./wal-segment.js";
import type { OpenSegment, FsyncPolicy } from "./wal-writer.js";

export interface RecoveryOptions {
  directory: string;
  fsyncPolicy: FsyncPolicy;
  entriesInMemoryMax: number;
  recordBytesMax: number;
  logger: Logger;
}

export interface RecoveredStorage {
  replay: LogReplay;
  snapshotMeta: SnapshotMeta | null;
  /** A fresh segment, already durable, that the writer appends to from now on. */
  active: OpenSegment;
}

/**
 * Rebuilds the state a directory holds. A torn record at the very tail of the last segment is the
 * one damage a crash explains; it is cut off with a warning. Any other damage stops the start with
 * a `corrupt` error naming the file and byte offset: those bytes were acknowledged.
 */
export async function recoverDirectory(options: RecoveryOptions): Promise<RecoveredStorage & { lock: DirectoryLock }> {
  const listing = await prepareDirectory(options.directory);
  try {
    return { ...(await recoverLocked(options, listing)), lock: listing.lock };
  } catch (error) {
    await listing.lock.release();
    throw error;
  }
}

async function recoverLocked(options: RecoveryOptions, listing: DirectoryListing): Promise<RecoveredStorage> {
  const { directory } = options;
  const snapshotMeta = await recoverSnapshot(directory, listing.snapshotIndexes);
  const sequences = listing.segmentSequences;
  sequences.forEach((sequence, position) => {
    const previous = sequences[position - 1];
    if (previous !== undefined && sequence !== previous + 1) {
      throw new StorageError("corrupt", directory, `segment ${segmentFileName(previous + 1)} is missing from ${directory}`);
    }
  });
  const replay = new LogReplay(options.entriesInMemoryMax);
  for (const [position, sequence] of sequences.entries()) {
    await replaySegment(options, replay, sequence, position === sequences.length - 1);
  }
  const lastIndexReplayed = replay.index.lastIndex;
  const reconciliation = replay.reconcile(snapshotMeta);
  if (reconciliation.kind === "corrupt") {
    const first = sequences[0];
    const path = first === undefined ? directory : segmentPath(directory, first);
    throw new StorageError("corrupt", path, `${path} is corrupt at byte 0: ${reconciliation.detail}`);
  }
  const sequence = (replay.segments.at(-1)?.sequence ?? sequences.at(-1) ?? 0) + 1;
  const header = encodeSegmentHeader({
    format: walFormat,
    version: walFormatVersion,
    sequence,
    lastIndexBefore: lastIndexReplayed,
    hardState: replay.hardState,
  });
  // A reset decided here (the snapshot replaced the log) must be durable before new entries
  // follow it, or the next start would see them after a gap.
  const firstBytes = reconciliation.kind === "reset" ? Buffer.concat([header, encodeLogResetRecord(replay.index.lastIndex)]) : header;
  const active = await createSegment(options, sequence, firstBytes);
  replay.segments.push({ sequence, maxEntryIndex: 0 });
  return { replay, snapshotMeta, active };
}

async function recoverSnapshot(directory: string, indexes: readonly number[]): Promise<SnapshotMeta | null> {
  const newest = indexes.at(-1);
  if (newest === undefined) return null;
  // The newest must be sound: entries it covers may already be compacted away, so falling back
  // to an older snapshot could silently lose acknowledged state.
  const { meta } = await readSnapshotFile(directory, newest);
  const older = indexes.slice(0, -1);
  for (const index of older) await removeFile(join(directory, snapshotFileName(index)));
  if (older.length > 0) await syncDirectory(directory);
  return meta;
}

async function replaySegment(options: RecoveryOptions, replay: LogReplay, sequence: number, isLast: boolean): Promise<void> {
  const path = segmentPath(options.directory, sequence);
  const bytes = await readFile(path).catch((error: unknown) => {
    throw storageErrorFromSystem(error, path, "cannot read segment");
  });
  const scan = scanSegment(bytes, options.recordBytesMax);
  const { damage } = scan;
  if (damage !== null && !(isLast && damage.tornTail)) {
    const where = isLast ? "before the tail of the last segment" : "in a closed segment";
    throw new StorageError("corrupt", path, `${path} is corrupt at byte ${damage.offset} (${where}): ${damage.detail}`);
  }
  if (damage !== null) {
    options.logger.warn(
      { file: path, offset: damage.offset, droppedBytes: bytes.byteLength - damage.offset, detail: damage.detail },
      "storage: cutting off a torn record at the tail of the last segment (a write a crash interrupted)",
    );
  }
  if (scan.records.length === 0) {
    // Only the newest segment can be empty: a crash between creating it and its first sync.
    if (!isLast) throw new StorageError("corrupt", path, `${path} is corrupt at byte 0: a closed segment with no records`);
    await removeFile(path);
    await syncDirectory(options.directory);
    return;
  }
  if (damage !== null) await truncateFile(path, scan.validBytes);
  const mismatch = replay.applySegment(sequence, scan.records);
  if (mismatch !== null) {
    throw new StorageError("corrupt", path, `${path} is corrupt at byte ${mismatch.offset}: ${mismatch.detail}`);
  }
}

async function truncateFile(path: string, bytes: number): Promise<void> {
  try {
    const handle = await open(path, "r+");
    try {
      await handle.truncate(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw storageErrorFromSystem(error, path, "cannot cut the torn tail of");
  }
}

async function createSegment(options: RecoveryOptions, sequence: number, bytes: Buffer): Promise<OpenSegment> {
  const path = segmentPath(options.directory, sequence);
  try {
    const handle = await open(path, "wx");
    await writeAll(handle, bytes, 0);
    if (options.fsyncPolicy === "always") {
      await handle.datasync();
      await syncDirectory(options.directory);
    }
    return { sequence, handle, bytes: bytes.byteLength };
  } catch (error) {
    throw storageErrorFromSystem(error, path, "cannot create segment");
  }
}

