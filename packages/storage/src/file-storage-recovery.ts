import { join } from "node:path";
import type { Logger, SnapshotMeta } from "@lockstep/consensus";
import type { DirectoryListing } from "./data-directory.js";
import { prepareDirectory, removeFile, segmentFileName, snapshotFileName, syncDirectory, writeAll } from "./data-directory.js";
import type { DirectoryLock, FileSystem } from "./file-system.js";
import { preallocationTarget, writeZeros } from "./segment-preallocation.js";
import { readSnapshotFile } from "./snapshot-file.js";
import { StorageError, storageErrorFromSystem } from "./storage-error.js";
import { clearRecordedPossibleLoss, readRecordedPossibleLoss, recordPossibleLoss } from "./possible-loss-record.js";
import type { PossibleLoss } from "./possible-loss-record.js";
import { LogReplay } from "./wal-replay.js";
import { encodeLogResetRecord, encodeSegmentHeader, encodeSyncMark, walFormat, walFormatVersion } from "./wal-records.js";
import { endsTooCloseToSectorEnd, scanSegment, segmentPath } from "./wal-segment.js";
import type { SegmentScan } from "./wal-segment.js";
import type { OpenSegment, FsyncPolicy } from "./wal-writer.js";

export interface RecoveryOptions {
  fileSystem: FileSystem;
  directory: string;
  fsyncPolicy: FsyncPolicy;
  entriesInMemoryMax: number;
  recordBytesMax: number;
  /** The new segment's synced zeros reach at least this far (`segment-preallocation.ts`). */
  segmentBytesMax: number;
  logger: Logger;
  /** Draws the nonce of the segment recovery starts. */
  nonce: () => number;
  /** Test-only broken rule `hard_state_before_entries`: trust a hard state's commit index as written. */
  trustCommitIndex: boolean;
  /** The cache freezes the entries it keeps (`FileStorageOptions.freezeEntries`). */
  freezeEntries: boolean;
}

export interface RecoveredStorage {
  replay: LogReplay;
  snapshotMeta: SnapshotMeta | null;
  /** A fresh segment, already durable, that the writer appends to from now on. */
  active: OpenSegment;
  possibleLoss: PossibleLoss | null;
}

/**
 * Rebuilds the state a directory holds. Damage at the end of the last segment that a crash
 * explains is cut off with a warning. Damage that a later sync mark proves was synced, damage in
 * a closed segment, and records that do not fit the log stop the start with `corrupt`, naming the
 * file and byte offset. Damage at the very end that is neither (it could be a tear that exposed
 * stale bytes, or rot in the last synced write) is cut and reported as a possible loss, which is
 * durable before the cut (first in a file of its own, then in the new segment's header, as
 * `HardState.recovering`), so a start that dies halfway cannot forget it.
 */
export async function recoverDirectory(options: RecoveryOptions): Promise<RecoveredStorage & { lock: DirectoryLock }> {
  const listing = await prepareDirectory(options.fileSystem, options.directory, options.logger);
  try {
    return { ...(await recoverLocked(options, listing)), lock: listing.lock };
  } catch (error) {
    await listing.lock.release();
    throw error;
  }
}

async function recoverLocked(options: RecoveryOptions, listing: DirectoryListing): Promise<RecoveredStorage> {
  const { directory } = options;
  const snapshotMeta = await recoverSnapshot(options, listing.snapshotIndexes);
  const sequences = listing.segmentSequences;
  sequences.forEach((sequence, position) => {
    const previous = sequences[position - 1];
    if (previous !== undefined && sequence !== previous + 1) {
      throw new StorageError("corrupt", directory, `segment ${segmentFileName(previous + 1)} is missing from ${directory}`);
    }
  });
  const replay = new LogReplay(options.entriesInMemoryMax, options.trustCommitIndex, options.freezeEntries);
  let possibleLoss: PossibleLoss | null = null;
  for (const [position, sequence] of sequences.entries()) {
    possibleLoss = await replaySegment(options, replay, sequence, position === sequences.length - 1);
  }
  possibleLoss ??= listing.possibleLossRecorded ? await readRecordedPossibleLoss(options.fileSystem, directory) : null;
  if (possibleLoss !== null) replay.markRecovering();
  const lastIndexReplayed = replay.index.lastIndex;
  const reconciliation = replay.reconcile(snapshotMeta);
  if (reconciliation.kind === "corrupt") {
    const first = sequences[0];
    const path = first === undefined ? directory : segmentPath(directory, first);
    throw new StorageError("corrupt", path, `${path} is corrupt at byte 0: ${reconciliation.detail}`);
  }
  const sequence = (replay.segments.at(-1)?.sequence ?? sequences.at(-1) ?? 0) + 1;
  const nonce = options.nonce();
  const header = encodeSegmentHeader({
    format: walFormat,
    version: walFormatVersion,
    sequence,
    nonce,
    lastIndexBefore: lastIndexReplayed,
    hardState: replay.provenHardState(snapshotMeta),
  });
  // A reset decided here (the snapshot replaced the log) must be durable before new entries
  // follow it, or the next start would see them after a gap.
  const opening =
    reconciliation.kind === "reset" ? Buffer.concat([header, encodeLogResetRecord(replay.index.lastIndex, { nonce, offset: header.byteLength })]) : header;
  // The first write lands right after these bytes: keep its start tellable from rot (`endsTooCloseToSectorEnd`).
  // The mark claims nothing synced (0): the writer's marks say how far the segment is synced.
  const firstBytes = endsTooCloseToSectorEnd(opening.byteLength) ? Buffer.concat([opening, encodeSyncMark(0, { nonce, offset: opening.byteLength })]) : opening;
  const active = await createSegment(options, sequence, nonce, firstBytes);
  replay.segments.push({ sequence, nonce, maxEntryIndex: 0 });
  // The new segment's header says `recovering` now: the log holds the loss from here on.
  if (possibleLoss !== null) await clearRecordedPossibleLoss(options.fileSystem, directory);
  return { replay, snapshotMeta, active, possibleLoss };
}

async function recoverSnapshot(options: RecoveryOptions, indexes: readonly number[]): Promise<SnapshotMeta | null> {
  const { fileSystem, directory } = options;
  const newest = indexes.at(-1);
  if (newest === undefined) return null;
  // The newest must be sound: entries it covers may already be compacted away, so falling back
  // to an older snapshot could silently lose acknowledged state.
  const { meta } = await readSnapshotFile(fileSystem, directory, newest);
  const older = indexes.slice(0, -1);
  for (const index of older) await removeFile(fileSystem, join(directory, snapshotFileName(index)));
  if (older.length > 0) await syncDirectory(fileSystem, directory);
  return meta;
}

async function replaySegment(options: RecoveryOptions, replay: LogReplay, sequence: number, isLast: boolean): Promise<PossibleLoss | null> {
  const path = segmentPath(options.directory, sequence);
  const bytes = await options.fileSystem.readFile(path).catch((error: unknown) => {
    throw storageErrorFromSystem(error, path, "cannot read segment");
  });
  const scan = scanSegment(bytes, sequence, options.recordBytesMax);
  const possibleLoss = judgeDamage(options, path, bytes.byteLength, scan, isLast);
  if (possibleLoss !== null) await recordPossibleLoss(options.fileSystem, options.directory, possibleLoss);
  if (scan.records.length === 0 || scan.nonce === null) {
    // Only the newest segment can be empty: a crash between creating it and its first sync.
    if (!isLast) throw new StorageError("corrupt", path, `${path} is corrupt at byte 0: a closed segment with no records`);
    await removeFile(options.fileSystem, path);
    await syncDirectory(options.fileSystem, options.directory);
    return possibleLoss;
  }
  // The last segment may hold bytes that a process which exited (without a power cut) wrote but
  // never synced: sync what is kept before anything is acknowledged on top of it.
  // Damage is cut, and so are the zeros a segment was preallocated with: it takes no more writes.
  if (isLast) await cutAndSync(options.fileSystem, path, scan.damage === null && scan.validBytes === bytes.byteLength ? null : scan.validBytes);
  const mismatch = replay.applySegment(sequence, scan.nonce, scan.records);
  if (mismatch !== null) {
    throw new StorageError("corrupt", path, `${path} is corrupt at byte ${mismatch.offset}: ${mismatch.detail}`);
  }
  return possibleLoss;
}

/** Throws `corrupt` for damage a crash cannot explain; returns the possible loss of an ambiguous tail. */
function judgeDamage(options: RecoveryOptions, path: string, fileBytes: number, scan: SegmentScan, isLast: boolean): PossibleLoss | null {
  const { damage } = scan;
  if (damage === null) return null;
  const where = !isLast
    ? "in a closed segment, which was synced whole"
    : damage.provenSynced
      ? "in bytes that a later sync mark says were synced"
      : damage.contentError
        ? "a record whose checksums hold but which does not fit"
        : null;
  if (where !== null) throw new StorageError("corrupt", path, `${path} is corrupt at byte ${damage.offset} (${where}): ${damage.detail}`);
  const fields = { file: path, offset: damage.offset, droppedBytes: fileBytes - damage.offset, detail: damage.detail };
  if (damage.torn) {
    options.logger.warn(fields, "storage: cutting off a torn write at the tail of the last segment (a crash interrupted it before its sync)");
    return null;
  }
  options.logger.error(
    fields,
    "storage: cutting off damage at the tail of the last segment that cannot be told from a torn write; " +
      "it may have been synced and acknowledged, so until a leader brings it up to date this node votes only in an election that every voter grants",
  );
  return { file: path, offset: damage.offset, detail: damage.detail };
}

async function cutAndSync(fileSystem: FileSystem, path: string, bytes: number | null): Promise<void> {
  try {
    const handle = await fileSystem.open(path, "readWrite");
    try {
      if (bytes !== null) await handle.truncate(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw storageErrorFromSystem(error, path, bytes === null ? "cannot sync" : "cannot cut the torn tail of");
  }
}

async function createSegment(options: RecoveryOptions, sequence: number, nonce: number, bytes: Buffer): Promise<OpenSegment> {
  const path = segmentPath(options.directory, sequence);
  try {
    const handle = await options.fileSystem.open(path, "createExclusive");
    let preallocated = 0;
    if (options.fsyncPolicy === "always") {
      // Zeros first, synced, so that even a torn header reads as a tear (`segment-preallocation.ts`).
      preallocated = preallocationTarget(bytes.byteLength, 0, options.segmentBytesMax);
      await writeZeros(handle, 0, preallocated);
      await handle.datasync();
    }
    await writeAll(handle, bytes, 0);
    if (options.fsyncPolicy === "always") {
      await handle.datasync();
      await syncDirectory(options.fileSystem, options.directory);
    }
    const synced = options.fsyncPolicy === "always" ? bytes.byteLength : 0;
    return { sequence, nonce, handle, bytes: bytes.byteLength, syncedBytes: synced, preallocatedBytes: preallocated };
  } catch (error) {
    throw storageErrorFromSystem(error, path, "cannot create segment");
  }
}
