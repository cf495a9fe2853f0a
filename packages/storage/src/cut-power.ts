import { type Stats, linkSync, lstatSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import type { RandomSource } from "@lockstep/consensus";
import type { DiskFaults } from "./disk-faults.js";
import { journalBackupDirectory } from "./power-cut-file-system.js";
import { decodeJournal, PendingChanges, type DataRecord, type DirectoryRecord, type FileIdentity } from "./power-cut-journal.js";
import { sectorBytes } from "./wal-segment.js";

/** What a power cut does to what no fsync covered: the crash half of `DiskFaults`, as `SimulatedDisk` reads it. */
export type PowerCutFaults = Pick<DiskFaults, "crashWriteKeptProbability" | "crashWriteTornProbability" | "crashSizeWithoutDataProbability" | "crashDirectoryChangeKeptProbability">;

/** What one power cut found pending and did with it. */
export interface PowerCutReport {
  faults: PowerCutFaults;
  journalRecords: number;
  /** Bytes after the last sound journal record (the kill landed inside an append); never a loss. */
  journalTailBytesIgnored: number;
  writesKept: number;
  writesTorn: number;
  writesLost: number;
  truncatesPending: number;
  directoryChangesPending: number;
  directoryChangesUndone: number;
  /** Files whose bytes the cut changed. */
  filesRewritten: number;
}

/** Per cut, like `drawDiskFaults`: some cuts keep most writes, most tear a good share. */
export function drawPowerCutFaults(random: RandomSource): PowerCutFaults {
  const kept = round(random() * 0.6);
  return {
    crashWriteKeptProbability: kept,
    crashWriteTornProbability: round((1 - kept) * (0.4 + 0.6 * random())),
    crashSizeWithoutDataProbability: random() < 0.3 ? 0 : round(random() * 0.3),
    crashDirectoryChangeKeptProbability: round(random()),
  };
}

export function describePowerCut(report: PowerCutReport): string {
  return (
    `${report.writesKept + report.writesTorn + report.writesLost} unsynced writes (kept ${report.writesKept}, torn ${report.writesTorn}, lost ${report.writesLost}), ` +
    `${report.truncatesPending} truncations, ${report.directoryChangesPending} directory changes (${report.directoryChangesUndone} undone), ${report.filesRewritten} files rewritten`
  );
}

export interface CutPowerOptions {
  /** The journal a `PowerCutFileSystem` wrote; the process that wrote it must be dead. */
  journalPath: string;
  /** Draws every decision; print its seed, since the same seed and journal give the same disk. */
  random: RandomSource;
  faults: PowerCutFaults;
}

/**
 * TEST ONLY. The second half of a power cut, once the process is dead (SIGKILL): every change the
 * journal holds that no fsync covered is treated as `SimulatedDisk.crash()` treats it, drawing
 * from `random` in the same order. Each directory keeps its unsynced entry changes up to the
 * first one that does not make it (in order, as a journaling file system commits them) and the
 * rest are undone; then each surviving file's unsynced writes are kept, lost, or torn at 512-byte
 * sector boundaries, independently and in any order (a sector reaches the disk as the page cache
 * held it then; one that never did reads as its old bytes, or as zeros past the old end), and an
 * unsynced truncation takes effect or not. The journal and its backups are then removed.
 */
export function cutPower(options: CutPowerOptions): PowerCutReport {
  const journalPath = resolve(options.journalPath);
  const backupDirectory = journalBackupDirectory(journalPath);
  const decoded = decodeJournal(readOrEmpty(journalPath));
  const pending = new PendingChanges();
  for (const record of decoded.records) pending.apply(record);
  const report: PowerCutReport = {
    faults: { ...options.faults },
    journalRecords: decoded.records.length,
    journalTailBytesIgnored: decoded.tailBytesIgnored,
    writesKept: 0,
    writesTorn: 0,
    writesLost: 0,
    truncatesPending: 0,
    directoryChangesPending: 0,
    directoryChangesUndone: 0,
    filesRewritten: 0,
  };
  const namespace = scanNamespace(pending, backupDirectory);
  const undone = decideDirectoryChanges(pending, options, report);
  const reachable = reachableAfter(namespace, undone);
  for (const [file, changes] of pending.data) {
    if (!reachable.has(file)) continue;
    const path = namespace.paths.get(file);
    if (path === undefined) continue;
    const current = readFileSync(path);
    report.truncatesPending += changes.filter((change) => change.type === "truncate").length;
    const image = crashImage(current, changes, options.random, options.faults, report);
    if (!Buffer.from(image).equals(current)) {
      writeFileSync(path, image);
      report.filesRewritten += 1;
    }
  }
  for (const changes of undone.values()) for (const change of [...changes].reverse()) undoDirectoryChange(change);
  rmSync(journalPath, { force: true });
  rmSync(backupDirectory, { recursive: true, force: true });
  return report;
}

/**
 * What one file holds after the cut, from what it holds now and its unsynced changes (oldest
 * first). Exported for tests; draws exactly as `SimulatedDisk` does for one file.
 */
export function crashImage(
  current: Uint8Array,
  changes: readonly DataRecord[],
  random: RandomSource,
  faults: PowerCutFaults,
  counters: Pick<PowerCutReport, "writesKept" | "writesTorn" | "writesLost">,
): Uint8Array {
  // Walk back from now to the last synced state, keeping the sectors each write saw (the cache then).
  let cache: Uint8Array = Uint8Array.from(current);
  const seen: Array<{ start: number; bytes: Uint8Array; cacheBytes: number } | null> = changes.map(() => null);
  for (let index = changes.length - 1; index >= 0; index--) {
    const change = changes[index]!;
    if (change.type === "write") {
      const start = Math.floor(change.position / sectorBytes) * sectorBytes;
      const end = Math.ceil((change.position + change.length) / sectorBytes) * sectorBytes;
      seen[index] = { start, bytes: cache.slice(start, Math.min(end, cache.byteLength)), cacheBytes: cache.byteLength };
      cache = resized(cache, change.oldLength);
      if (change.oldBytes.byteLength > 0) cache.set(change.oldBytes, change.position);
    } else {
      const before = resized(cache, change.oldLength);
      if (change.length < change.oldLength) before.set(change.oldBytes, change.length);
      cache = before;
    }
  }
  let image = cache;
  for (const [index, change] of changes.entries()) {
    if (change.type === "truncate") {
      if (random() < 0.5) image = resized(image, Math.min(image.byteLength, change.length));
      continue;
    }
    const view = seen[index]!;
    const draw = random();
    const mode = draw < faults.crashWriteKeptProbability ? "kept" : draw < faults.crashWriteKeptProbability + faults.crashWriteTornProbability ? "torn" : "lost";
    counters[mode === "kept" ? "writesKept" : mode === "torn" ? "writesTorn" : "writesLost"] += 1;
    const firstSector = Math.floor(change.position / sectorBytes);
    const lastSector = Math.floor((change.position + change.length - 1) / sectorBytes);
    for (let sector = firstSector; sector <= lastSector; sector++) {
      if (mode === "lost" || (mode === "torn" && random() < 0.5)) continue;
      const start = sector * sectorBytes;
      const end = Math.min(view.cacheBytes, start + sectorBytes);
      if (end <= start) continue;
      if (image.byteLength < end) image = resized(image, end);
      image.set(view.bytes.subarray(start - view.start, end - view.start), start);
    }
  }
  // The size reached the disk but not the data: the tail reads as zeros.
  if (random() < faults.crashSizeWithoutDataProbability && image.byteLength < current.byteLength) image = resized(image, current.byteLength);
  return image;
}

interface Namespace {
  /** Per directory the journal names: name -> file, as it is now. */
  directories: Map<string, Map<string, FileIdentity>>;
  /** A path (a name or a backup) where each file can be reached now. */
  paths: Map<FileIdentity, string>;
}

function scanNamespace(pending: PendingChanges, backupDirectory: string): Namespace {
  const directories = new Map<string, Map<string, FileIdentity>>();
  const paths = new Map<FileIdentity, string>();
  const named = new Set<string>([...pending.directories.keys(), ...[...pending.data.values()].flat().map((change) => dirname(change.path))]);
  for (const directory of [...named, backupDirectory]) {
    const entries = new Map<string, FileIdentity>();
    for (const name of readdirOrEmpty(directory)) {
      const found = lstatOrNull(join(directory, name));
      if (found === null) continue;
      const identity = `${found.dev}:${found.ino}`;
      entries.set(name, identity);
      if (found.isFile() && !paths.has(identity)) paths.set(identity, join(directory, name));
    }
    if (directory !== backupDirectory) directories.set(directory, entries);
  }
  return { directories, paths };
}

/** Each directory keeps a prefix of its unsynced changes; returns the rest, per directory, oldest first. */
function decideDirectoryChanges(pending: PendingChanges, options: CutPowerOptions, report: PowerCutReport): Map<string, DirectoryRecord[]> {
  const undone = new Map<string, DirectoryRecord[]>();
  const removed = new Set<string>();
  for (const [directory, changes] of pending.directories) {
    // A directory whose own creation was undone is gone with everything in it: nothing to draw.
    if ([...removed].some((gone) => directory === gone || directory.startsWith(`${gone}${sep}`))) continue;
    report.directoryChangesPending += changes.length;
    let keeping = true;
    const lost: DirectoryRecord[] = [];
    for (const change of changes) {
      keeping = keeping && options.random() < options.faults.crashDirectoryChangeKeptProbability;
      if (keeping) continue;
      lost.push(change);
      if (change.type === "link" && change.kind === "directory" && change.created) removed.add(join(change.directory, change.name));
    }
    report.directoryChangesUndone += lost.length;
    if (lost.length > 0) undone.set(directory, lost);
  }
  return undone;
}

/** The files that some name still reaches once the undone changes are undone. */
function reachableAfter(namespace: Namespace, undone: Map<string, DirectoryRecord[]>): Set<FileIdentity> {
  const removedDirectories = new Set<string>();
  const final = new Map<string, Map<string, FileIdentity>>();
  for (const [directory, entries] of namespace.directories) {
    const names = new Map(entries);
    for (const change of [...(undone.get(directory) ?? [])].reverse()) {
      if (change.type === "unlink") names.set(change.name, change.file);
      else if (change.replaced !== null) names.set(change.name, change.replaced);
      else {
        names.delete(change.name);
        if (change.kind === "directory") removedDirectories.add(join(directory, change.name));
      }
    }
    final.set(directory, names);
  }
  const reachable = new Set<FileIdentity>();
  for (const [directory, names] of final) {
    if ([...removedDirectories].some((gone) => directory === gone || directory.startsWith(`${gone}${sep}`))) continue;
    for (const file of names.values()) reachable.add(file);
  }
  return reachable;
}

/** Gives a name back what it held before the change; a change the kill came before is a no-op. */
function undoDirectoryChange(change: DirectoryRecord): void {
  const path = join(change.directory, change.name);
  if (change.type === "unlink") {
    relink(change.backup, path);
    return;
  }
  if (change.kind === "directory") {
    rmSync(path, { recursive: true, force: true });
    return;
  }
  const found = lstatOrNull(path);
  if (found !== null && `${found.dev}:${found.ino}` === change.file) unlinkSync(path);
  if (change.backup !== null) relink(change.backup, path);
}

function relink(backup: string, path: string): void {
  const source = lstatOrNull(backup);
  if (source === null) throw new Error(`power cut: the backup ${backup} that restores ${path} is missing`);
  const found = lstatOrNull(path);
  if (found !== null) {
    // The kill came before the change itself: the name still holds the same file.
    if (found.ino === source.ino && found.dev === source.dev) return;
    unlinkSync(path);
  }
  linkSync(backup, path);
}

function readOrEmpty(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return new Uint8Array(0);
    throw error;
  }
}

function readdirOrEmpty(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

function resized(bytes: Uint8Array, length: number): Uint8Array {
  if (length === bytes.byteLength) return bytes;
  const next = new Uint8Array(length);
  next.set(bytes.subarray(0, Math.min(length, bytes.byteLength)));
  return next;
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
