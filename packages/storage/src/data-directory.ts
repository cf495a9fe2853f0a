import { AssertionError } from "node:assert";
import { basename, dirname, join, resolve } from "node:path";
import type { Logger } from "@lockstep/consensus";
import { lockFileName } from "./directory-lock.js";
import type { DirectoryLock, FileSystem } from "./file-system.js";
import { StorageError, storageErrorFromSystem, systemErrorCode } from "./storage-error.js";

/** The marker that says "this directory is a lockstep data directory, format 2". */
export const markerFileName = "LOCKSTEP";
export const markerContent = "lockstep-storage 2\n";
/** Format 1 (before salted, header-checked records and sync marks): named in the refusal. */
const formerMarkerContent = "lockstep-storage 1\n";
const temporarySuffix = ".tmp";
/** The file `probeWritable` creates and removes (always with the temporary suffix). */
const probeFileName = "PROBE";
/**
 * Written by a recovery that cut damage which may have been synced, before it cuts it; removed
 * once the log itself records the loss (`possible-loss-record.ts`).
 */
export const possibleLossFileName = "POSSIBLE-LOSS";
/**
 * Files the node application keeps beside the log (`CLUSTER`: which cluster and member the
 * directory belongs to). Storage neither reads nor refuses them.
 */
export const applicationFileNames: readonly string[] = ["CLUSTER"];

/**
 * The deepest data directory path whose ancestors are synced (a path of more components is an
 * operator's mistake long before it is a directory tree: Linux's PATH_MAX of 4096 bytes allows at
 * most 2048).
 */
const pathDepthMax = 2048;

const segmentPattern = /^wal-(\d{16})\.log$/;
const snapshotPattern = /^snapshot-(\d{20})\.snap$/;

export function segmentFileName(sequence: number): string {
  return `wal-${String(sequence).padStart(16, "0")}.log`;
}

export function snapshotFileName(index: number): string {
  return `snapshot-${String(index).padStart(20, "0")}.snap`;
}

/** What a data directory holds once it is known to be ours, in ascending order. */
export interface DirectoryListing {
  segmentSequences: number[];
  snapshotIndexes: number[];
  /** An earlier start recorded a possible loss (`possibleLossFileName`) that the log does not hold yet. */
  possibleLossRecorded: boolean;
  /** This process's hold on the directory; released by `FileStorage.close()`. */
  lock: DirectoryLock;
}

/**
 * Makes `directory` usable: creates it when only it is missing, refuses one that is not ours,
 * proves it writable, removes temporary files a crash left behind and writes the format marker
 * into an empty directory.
 */
export async function prepareDirectory(fs: FileSystem, directory: string, logger: Pick<Logger, "warn">): Promise<DirectoryListing> {
  await ensureDirectoryExists(fs, directory, logger);
  const names = await fs.readdir(directory).catch((error: unknown) => {
    throw storageErrorFromSystem(error, directory, "cannot list");
  });
  const found = classify(directory, names);
  await requireMarker(fs, directory, names, found);
  // Lock before changing anything: recovery truncates torn tails, which must never race a live writer.
  const lock = await fs.lockDirectory(directory).catch((error: unknown) => {
    throw storageErrorFromSystem(error, directory, "cannot lock data directory");
  });
  const listing = { ...found, lock };
  try {
    await probeWritable(fs, directory);
    const leftovers = names.filter((name) => name.endsWith(temporarySuffix));
    for (const name of leftovers) await removeFile(fs, join(directory, name));
    if (!names.includes(markerFileName)) {
      await writeFileAtomically(fs, directory, markerFileName, Buffer.from(markerContent, "utf8"), true);
    } else {
      // The listing just read may hold creates, renames or removals that a process which exited
      // (without a power cut) never synced: make them durable before trusting them.
      await syncDirectory(fs, directory);
    }
  } catch (error) {
    await lock.release();
    throw error;
  }
  return listing;
}

async function ensureDirectoryExists(fs: FileSystem, directory: string, logger: Pick<Logger, "warn">): Promise<void> {
  const found = await fs.stat(directory).catch((error: unknown) => {
    if (systemErrorCode(error) === "ENOENT") return null;
    throw storageErrorFromSystem(error, directory, "cannot inspect");
  });
  if (found !== null) {
    if (found.kind !== "directory") throw new StorageError("foreign_directory", directory, `${directory} is not a directory`);
    // The directory's own entry, or that of any directory above it, may never have been synced
    // (a start whose sync failed, a tree made by `mkdir -p` or restored from a backup just before
    // the start): sync the whole path before trusting anything inside.
    await syncAncestors(fs, directory, { parentRequired: false, logger });
    return;
  }
  const parent = dirname(directory);
  const parentFound = await fs.stat(parent).catch(() => null);
  if (parentFound?.kind !== "directory") {
    throw new StorageError("not_found", directory, `data directory ${directory} is missing and so is its parent ${parent}`);
  }
  await fs.mkdir(directory).catch((error: unknown) => {
    throw storageErrorFromSystem(error, directory, "cannot create data directory");
  });
  await syncAncestors(fs, directory, { parentRequired: true, logger });
}

/**
 * Syncs every directory that holds `directory`, from its parent up to the root. A power cut
 * undoes a create or rename that no sync of its directory covered, and the parent of a directory
 * made just before lockstep started (by `mkdir -p`, an installer, a restore) is as new as the
 * directory itself: if its entry is undone, everything below it is gone, however well each file
 * was synced. Syncing a directory with nothing new costs one flush, once per start.
 *
 * An ancestor this process may not open (a directory it can traverse but not read) cannot be
 * synced; it is left to the file system with a warning, unless it is the parent of a directory
 * this start just created.
 */
async function syncAncestors(fs: FileSystem, directory: string, options: { parentRequired: boolean; logger: Pick<Logger, "warn"> }): Promise<void> {
  let child = resolve(directory);
  for (let depth = 0; depth < pathDepthMax; depth++) {
    const ancestor = dirname(child);
    if (ancestor === child) return;
    const required = depth === 0 && options.parentRequired;
    await syncDirectory(fs, ancestor).catch((error: unknown) => {
      if (required || !(error instanceof StorageError) || error.code !== "not_writable") throw error;
      options.logger.warn({ directory: ancestor, error: error.message }, "storage: cannot sync a directory above the data directory; its entry is as durable as the file system makes it");
    });
    child = ancestor;
  }
  throw new AssertionError({ message: `data directory path ${directory} is more than ${pathDepthMax} directories deep` });
}

function classify(directory: string, names: readonly string[]): Omit<DirectoryListing, "lock"> {
  const listing: Omit<DirectoryListing, "lock"> = { segmentSequences: [], snapshotIndexes: [], possibleLossRecorded: names.includes(possibleLossFileName) };
  for (const name of names) {
    const segment = segmentPattern.exec(name);
    const snapshot = snapshotPattern.exec(stripTemporary(name));
    if (segment?.[1] !== undefined) listing.segmentSequences.push(Number(segment[1]));
    else if (snapshot?.[1] !== undefined) {
      if (!name.endsWith(temporarySuffix)) listing.snapshotIndexes.push(Number(snapshot[1]));
    } else if (
      stripTemporary(name) !== markerFileName &&
      stripTemporary(name) !== probeFileName &&
      stripTemporary(name) !== possibleLossFileName &&
      name !== lockFileName &&
      !applicationFileNames.includes(stripTemporary(name))
    ) {
      throw new StorageError(
        "foreign_directory",
        directory,
        `${directory} holds ${name}, which is not a lockstep file; refusing to use a directory with foreign content`,
      );
    }
  }
  listing.segmentSequences.sort((a, b) => a - b);
  listing.snapshotIndexes.sort((a, b) => a - b);
  return listing;
}

async function requireMarker(fs: FileSystem, directory: string, names: readonly string[], listing: Omit<DirectoryListing, "lock">): Promise<void> {
  const markerPath = join(directory, markerFileName);
  if (!names.includes(markerFileName)) {
    // The marker is written before any other file, so without it only temporary files may exist.
    if (listing.segmentSequences.length > 0 || listing.snapshotIndexes.length > 0) {
      throw new StorageError("foreign_directory", directory, `${directory} holds log files but no ${markerFileName} marker`);
    }
    return;
  }
  const bytes = await fs.readFile(markerPath).catch((error: unknown) => {
    throw storageErrorFromSystem(error, markerPath, "cannot read format marker");
  });
  const content = Buffer.from(bytes).toString("utf8");
  if (content === formerMarkerContent) {
    throw new StorageError(
      "foreign_directory",
      markerPath,
      `${markerPath} names storage format 1, which this version of lockstep does not read (format 2 checks every record's place and header); ` +
        "rebuild this node from its peers: stop it, move the directory aside, and start it empty",
    );
  }
  if (content !== markerContent) {
    throw new StorageError(
      "foreign_directory",
      markerPath,
      `${markerPath} names format ${JSON.stringify(content.trim().slice(0, 80))}, expected ${JSON.stringify(markerContent.trim())}`,
    );
  }
}

/** `access()` says yes to root even on a read-only directory, so try the real thing. */
async function probeWritable(fs: FileSystem, directory: string): Promise<void> {
  // Not the marker's own temporary name: a crash can leave that name linked to the marker
  // itself, and opening it to probe would empty the marker.
  const probePath = join(directory, `${probeFileName}${temporarySuffix}`);
  try {
    const handle = await fs.open(probePath, "create");
    await handle.close();
    await fs.unlink(probePath);
  } catch (error) {
    throw storageErrorFromSystem(error, directory, "cannot write in data directory");
  }
}

/** Writes `name` through a temporary file: a crash leaves the old file or the new, never half. */
export async function writeFileAtomically(fs: FileSystem, directory: string, name: string, bytes: Uint8Array, sync: boolean): Promise<void> {
  const finalPath = join(directory, name);
  const temporaryPath = `${finalPath}${temporarySuffix}`;
  try {
    const handle = await fs.open(temporaryPath, "create");
    try {
      await writeAll(handle, bytes, 0);
      if (sync) await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporaryPath, finalPath);
  } catch (error) {
    throw storageErrorFromSystem(error, finalPath, "cannot write");
  }
  if (sync) await syncDirectory(fs, directory);
}

/** Makes a creation, rename or removal in `directory` durable. */
export async function syncDirectory(fs: FileSystem, directory: string): Promise<void> {
  await fs.syncDirectory(directory).catch((error: unknown) => {
    throw storageErrorFromSystem(error, directory, "cannot sync directory");
  });
}

/** Removes a file; one that is already gone is fine. */
export async function removeFile(fs: FileSystem, path: string): Promise<void> {
  await fs.unlink(path).catch((error: unknown) => {
    if (systemErrorCode(error) === "ENOENT") return;
    throw storageErrorFromSystem(error, path, "cannot remove");
  });
}

/** A write may be short; loop until every byte is down (each pass makes progress or fails). */
export async function writeAll(
  handle: { write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> },
  bytes: Uint8Array,
  position: number,
): Promise<void> {
  let written = 0;
  while (written < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.byteLength - written, position + written);
    if (bytesWritten <= 0) throw new Error(`write made no progress at byte ${position + written}`);
    written += bytesWritten;
  }
}

function stripTemporary(name: string): string {
  return name.endsWith(temporarySuffix) ? basename(name, temporarySuffix) : name;
}
