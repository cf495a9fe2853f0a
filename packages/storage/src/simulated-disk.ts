import { dirname, basename } from "node:path";
import type { Clock, RandomSource } from "@lockstep/consensus";
import type { DiskFaults } from "./disk-faults.js";
import { perfectDiskFaults } from "./disk-faults.js";
import type { DirectoryLock, FileHandle, FileStat, FileSystem, OpenMode } from "./file-system.js";
import { FileSystemError } from "./file-system.js";
import { StorageError } from "./storage-error.js";
import { sectorBytes } from "./wal-segment.js";

export interface SimulatedDiskOptions {
  /** Draws every fault; the same seed gives the same disk, byte for byte. */
  random: RandomSource;
  faults?: DiskFaults;
  /** Virtual time for fsync delays; without it (or with zero delays) syncs complete at once. */
  clock?: Clock;
}

/** What the disk did, for the simulator's report. */
export interface SimulatedDiskStats {
  crashes: number;
  /** Crashes that tore at least one unsynced write (some of its sectors reached the disk, some not). */
  crashesWithTornWrites: number;
  writesKept: number;
  writesTorn: number;
  writesLost: number;
  directoryChangesUndone: number;
  staleSectors: number;
  bitFlips: number;
  readErrors: number;
  writeErrors: number;
  fsyncErrors: number;
}

type PendingChange = { kind: "write"; position: number; bytes: Uint8Array } | { kind: "truncate"; bytes: number };

/** Bytes that grow by doubling, so appends cost what they write. */
class GrowableBytes {
  private buffer = new Uint8Array(0);
  length = 0;

  view(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  apply(change: PendingChange): void {
    if (change.kind === "truncate") this.resize(change.bytes);
    else {
      if (change.position + change.bytes.byteLength > this.length) this.resize(change.position + change.bytes.byteLength);
      this.buffer.set(change.bytes, change.position);
    }
  }

  replace(bytes: Uint8Array): void {
    this.buffer = Uint8Array.from(bytes);
    this.length = bytes.byteLength;
  }

  private resize(length: number): void {
    if (length > this.buffer.byteLength) {
      const next = new Uint8Array(Math.max(length, this.buffer.byteLength * 2, 4096));
      next.set(this.buffer.subarray(0, this.length));
      this.buffer = next;
    } else if (length < this.length) this.buffer.fill(0, length, this.length);
    this.length = length;
  }
}

class Inode {
  /** What survives a crash. */
  readonly durable = new GrowableBytes();
  /** What reads see: the durable bytes with every pending change applied (the page cache). */
  readonly cache = new GrowableBytes();
  /** Changes since the last completed sync, in order. */
  pending: PendingChange[] = [];
}

type DirectoryEntry = { kind: "file"; inode: Inode } | { kind: "directory"; directory: Directory };
type DirectoryChange = { kind: "link"; name: string; entry: DirectoryEntry } | { kind: "unlink"; name: string };

class Directory {
  durable = new Map<string, DirectoryEntry>();
  current = new Map<string, DirectoryEntry>();
  pending: DirectoryChange[] = [];

  change(change: DirectoryChange): void {
    if (change.kind === "link") this.current.set(change.name, change.entry);
    else this.current.delete(change.name);
    this.pending.push(change);
  }
}

/** Freed files whose sectors may reappear as stale bytes; bounded so memory stays flat. */
const freedFilesMax = 16;

/**
 * An in-memory disk with a page cache, for the simulator: `FileStorage` runs over
 * `fileSystem()` unchanged. Writes land in the cache; an fsync makes a file's cache durable, a
 * directory fsync its creates, renames and removals. `crash()` is a power cut: each write not
 * covered by an fsync is kept, lost, or torn at 512-byte sector boundaries (independently, in any
 * order); un-synced directory changes are undone from the first one that did not make it; a
 * sector that never reached the disk reads as zeros or stale bytes; and, per the seed's faults,
 * one bit of synced data may flip. Reads, writes and fsyncs fail with EIO or ENOSPC at the
 * seed's rates. The file system of a process that crashed (or exited, `detach()`) stops
 * answering: its calls never settle, as they would not in a dead process.
 */
export class SimulatedDisk {
  private faults: DiskFaults;
  private readonly random: RandomSource;
  private readonly clock: Clock | undefined;
  private readonly root = new Directory();
  private generation = 0;
  private readonly locks = new Set<string>();
  private lastSyncDueMs = 0;
  private readonly freedFiles: Uint8Array[] = [];
  private readonly counters: SimulatedDiskStats = {
    crashes: 0,
    crashesWithTornWrites: 0,
    writesKept: 0,
    writesTorn: 0,
    writesLost: 0,
    directoryChangesUndone: 0,
    staleSectors: 0,
    bitFlips: 0,
    readErrors: 0,
    writeErrors: 0,
    fsyncErrors: 0,
  };

  constructor(options: SimulatedDiskOptions) {
    this.random = options.random;
    this.faults = options.faults ?? perfectDiskFaults;
    this.clock = options.clock;
    if (!(this.faults.fsyncDelayMsMin >= 0 && this.faults.fsyncDelayMsMin <= this.faults.fsyncDelayMsMax)) {
      throw new Error(`SimulatedDisk: need 0 <= fsyncDelayMsMin <= fsyncDelayMsMax`);
    }
  }

  stats(): SimulatedDiskStats {
    return { ...this.counters };
  }

  /** The file system a (new) process sees. Calls through an older one, from before a crash or detach, never settle. */
  fileSystem(): FileSystem {
    return new SimulatedFileSystem(this, this.generation);
  }

  /** A power cut: the running process is gone and the disk keeps only what the model says. */
  crash(): void {
    this.generation += 1;
    this.locks.clear();
    this.counters.crashes += 1;
    const tornBefore = this.counters.writesTorn;
    const files = new Set<Inode>();
    this.crashDirectory(this.root, files);
    for (const inode of files) this.crashFile(inode);
    if (this.counters.writesTorn > tornBefore) this.counters.crashesWithTornWrites += 1;
    if (this.random() < this.faults.crashBitFlipProbability) this.flipBit([...files]);
  }

  /** Bit rot: one bit of synced data somewhere on the disk flips (found, or not, at the next read). */
  flipRandomBit(): void {
    const files = new Set<Inode>();
    collectFiles(this.root, files);
    this.flipBit([...files]);
  }

  /** Reads, writes and fsyncs stop failing (the simulator's liveness phase); crashes still tear. */
  stopErrors(): void {
    this.faults = { ...this.faults, readErrorProbability: 0, writeErrorProbability: 0, noSpaceProbability: 0, fsyncErrorProbability: 0, crashBitFlipProbability: 0 };
  }

  /** What this disk does wrong. */
  describeFaults(): DiskFaults {
    return { ...this.faults };
  }

  /** The process exited (or was killed) but the machine kept running: nothing written is lost. */
  detach(): void {
    this.generation += 1;
    this.locks.clear();
  }

  /** Paths under `directory` with changes not yet durable (file data or directory entries). */
  unsyncedPaths(directory: string): string[] {
    const found = this.lookup(directory);
    if (found?.kind !== "directory") return [];
    const paths: string[] = found.directory.pending.length > 0 ? [directory] : [];
    for (const [name, entry] of found.directory.current) {
      if (entry.kind === "file" && entry.inode.pending.length > 0) paths.push(`${directory}/${name}`);
    }
    return paths;
  }

  // ---------------------------------------------------------------------------------------------
  // Used by SimulatedFileSystem

  isCurrent(generation: number): boolean {
    return generation === this.generation;
  }

  lookup(path: string): DirectoryEntry | null {
    if (path === "/") return { kind: "directory", directory: this.root };
    const parts = path.split("/").filter((part) => part.length > 0);
    let directory = this.root;
    for (const [position, part] of parts.entries()) {
      const entry = directory.current.get(part);
      if (entry === undefined) return null;
      if (position === parts.length - 1) return entry;
      if (entry.kind !== "directory") return null;
      directory = entry.directory;
    }
    return null;
  }

  parentOf(path: string, syscall: string): Directory {
    const parent = this.lookup(dirname(path));
    if (parent === null) throw new FileSystemError("ENOENT", syscall, path);
    if (parent.kind !== "directory") throw new FileSystemError("ENOTDIR", syscall, path);
    return parent.directory;
  }

  lock(directory: string): boolean {
    if (this.locks.has(directory)) return false;
    this.locks.add(directory);
    return true;
  }

  unlock(directory: string): void {
    this.locks.delete(directory);
  }

  /** Throws the error a fault draws for an operation of this kind, if any. */
  maybeFail(kind: "read" | "write" | "fsync", syscall: string, path: string): void {
    const { faults } = this;
    if (kind === "read" && faults.readErrorProbability > 0 && this.random() < faults.readErrorProbability) {
      this.counters.readErrors += 1;
      throw new FileSystemError("EIO", syscall, path);
    }
    if (kind === "write" && faults.writeErrorProbability > 0 && this.random() < faults.writeErrorProbability) {
      this.counters.writeErrors += 1;
      throw new FileSystemError("EIO", syscall, path);
    }
    if (kind === "write" && faults.noSpaceProbability > 0 && this.random() < faults.noSpaceProbability) {
      this.counters.writeErrors += 1;
      throw new FileSystemError("ENOSPC", syscall, path);
    }
    if (kind === "fsync" && faults.fsyncErrorProbability > 0 && this.random() < faults.fsyncErrorProbability) {
      this.counters.fsyncErrors += 1;
      throw new FileSystemError("EIO", syscall, path);
    }
  }

  /**
   * Runs `complete` once the sync is done: after the seed's delay on the virtual clock, in call
   * order, as one disk queue would. What it covers is taken now, at the call (`complete` gets it).
   */
  sync(generation: number, complete: () => void): Promise<void> {
    const { fsyncDelayMsMin, fsyncDelayMsMax } = this.faults;
    const delayMs = fsyncDelayMsMin + Math.floor(this.random() * (fsyncDelayMsMax - fsyncDelayMsMin + 1));
    const clock = this.clock;
    if (clock === undefined || fsyncDelayMsMax === 0) {
      complete();
      return Promise.resolve();
    }
    const dueMs = Math.max(this.lastSyncDueMs, clock.nowMs() + delayMs);
    this.lastSyncDueMs = dueMs;
    return new Promise<void>((resolve) => {
      clock.setTimeout(() => {
        // A process that crashed meanwhile never learns; what it covered is not durable either.
        if (!this.isCurrent(generation)) return;
        complete();
        resolve();
      }, dueMs - clock.nowMs());
    });
  }

  // ---------------------------------------------------------------------------------------------
  // The power cut

  private crashDirectory(directory: Directory, files: Set<Inode>): void {
    let keeping = true;
    for (const change of directory.pending) {
      keeping = keeping && this.random() < this.faults.crashDirectoryChangeKeptProbability;
      if (!keeping) {
        this.counters.directoryChangesUndone += 1;
        continue;
      }
      if (change.kind === "link") directory.durable.set(change.name, change.entry);
      else directory.durable.delete(change.name);
    }
    for (const entry of directory.current.values()) {
      if (entry.kind === "file" && ![...directory.durable.values()].some((kept) => kept.kind === "file" && kept.inode === entry.inode)) {
        this.free(entry.inode);
      }
    }
    directory.pending = [];
    directory.current = new Map(directory.durable);
    for (const entry of directory.current.values()) {
      if (entry.kind === "file") files.add(entry.inode);
      else this.crashDirectory(entry.directory, files);
    }
  }

  private free(inode: Inode): void {
    if (inode.durable.length === 0) return;
    this.freedFiles.push(Uint8Array.from(inode.durable.view()));
    if (this.freedFiles.length > freedFilesMax) this.freedFiles.shift();
  }

  /** What one file holds after the power cut (see the class comment). */
  private crashFile(inode: Inode): void {
    if (inode.pending.length === 0) return;
    const durableBytes = inode.durable.length;
    let image: Uint8Array<ArrayBuffer> = Uint8Array.from(inode.durable.view());
    let cache: Uint8Array<ArrayBuffer> = Uint8Array.from(inode.durable.view());
    const flushed = new Set<number>();
    for (const change of inode.pending) {
      if (change.kind === "truncate") {
        cache = resized(cache, change.bytes);
        if (this.random() < 0.5) image = resized(image, Math.min(image.byteLength, change.bytes));
        continue;
      }
      cache = writtenAt(cache, change.position, change.bytes);
      const firstSector = Math.floor(change.position / sectorBytes);
      const lastSector = Math.floor((change.position + change.bytes.byteLength - 1) / sectorBytes);
      const draw = this.random();
      const mode = draw < this.faults.crashWriteKeptProbability ? "kept" : draw < this.faults.crashWriteKeptProbability + this.faults.crashWriteTornProbability ? "torn" : "lost";
      this.counters[mode === "kept" ? "writesKept" : mode === "torn" ? "writesTorn" : "writesLost"] += 1;
      for (let sector = firstSector; sector <= lastSector; sector++) {
        if (mode === "lost" || (mode === "torn" && this.random() < 0.5)) continue;
        // A sector reaches the disk as the cache holds it then: earlier writes to it included.
        const start = sector * sectorBytes;
        const end = Math.min(cache.byteLength, start + sectorBytes);
        if (end <= start) continue;
        if (image.byteLength < end) image = resized(image, end);
        image.set(cache.subarray(start, end), start);
        flushed.add(sector);
      }
    }
    if (this.random() < this.faults.crashSizeWithoutDataProbability && image.byteLength < cache.byteLength) image = resized(image, cache.byteLength);
    // Sectors past the old end that no write brought: zeros, or what a freed file left there.
    for (let sector = Math.floor(durableBytes / sectorBytes); sector * sectorBytes < image.byteLength; sector++) {
      if (flushed.has(sector) || sector * sectorBytes < durableBytes) continue;
      if (this.faults.crashStaleSectorProbability > 0 && this.random() < this.faults.crashStaleSectorProbability) {
        this.counters.staleSectors += 1;
        image.set(this.staleSector(sector).subarray(0, image.byteLength - sector * sectorBytes), sector * sectorBytes);
      }
    }
    inode.durable.replace(image);
    inode.cache.replace(image);
    inode.pending = [];
  }

  private staleSector(sector: number): Uint8Array {
    const start = sector * sectorBytes;
    const candidates = this.freedFiles.filter((file) => file.byteLength >= start + sectorBytes);
    const source = candidates[Math.floor(this.random() * candidates.length)];
    if (source !== undefined) return source.subarray(start, start + sectorBytes);
    const garbage = new Uint8Array(sectorBytes);
    for (let position = 0; position < sectorBytes; position++) garbage[position] = Math.floor(this.random() * 256);
    return garbage;
  }

  private flipBit(files: Inode[]): void {
    const candidates = files.filter((inode) => inode.durable.length > 0);
    const total = candidates.reduce((sum, inode) => sum + inode.durable.length, 0);
    if (total === 0) return;
    let at = Math.floor(this.random() * total);
    for (const inode of candidates) {
      if (at < inode.durable.length) {
        const bit = 1 << Math.floor(this.random() * 8);
        // Right after a crash the cache is the disk: both views rot together.
        const durable = inode.durable.view();
        const cache = inode.cache.view();
        durable[at] = (durable[at] ?? 0) ^ bit;
        cache[at] = (cache[at] ?? 0) ^ bit;
        this.counters.bitFlips += 1;
        return;
      }
      at -= inode.durable.length;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Files

  newFile(directory: Directory, name: string): Inode {
    const inode = new Inode();
    directory.change({ kind: "link", name, entry: { kind: "file", inode } });
    return inode;
  }

  writeFile(inode: Inode, position: number, bytes: Uint8Array): void {
    const change: PendingChange = { kind: "write", position, bytes: Uint8Array.from(bytes) };
    inode.cache.apply(change);
    inode.pending.push(change);
  }

  truncateFile(inode: Inode, bytes: number): void {
    const change: PendingChange = { kind: "truncate", bytes };
    inode.cache.apply(change);
    inode.pending.push(change);
  }

  /** Covers the changes made before the call: applied to the durable bytes when the sync completes. */
  syncFile(generation: number, inode: Inode): Promise<void> {
    const covered = new Set(inode.pending);
    return this.sync(generation, () => {
      // An earlier sync may have completed meanwhile and made some of these durable already.
      for (const change of inode.pending) if (covered.has(change)) inode.durable.apply(change);
      inode.pending = inode.pending.filter((change) => !covered.has(change));
    });
  }

  syncDirectoryEntries(generation: number, directory: Directory): Promise<void> {
    const covered = new Set(directory.pending);
    return this.sync(generation, () => {
      // An earlier sync may have completed meanwhile and made some of these durable already.
      for (const change of directory.pending) {
        if (!covered.has(change)) continue;
        if (change.kind === "link") directory.durable.set(change.name, change.entry);
        else directory.durable.delete(change.name);
      }
      directory.pending = directory.pending.filter((change) => !covered.has(change));
    });
  }
}

export type { Inode as SimulatedInode, Directory as SimulatedDirectory };

/** One process's view of a `SimulatedDisk`. */
class SimulatedFileSystem implements FileSystem {
  constructor(
    private readonly disk: SimulatedDisk,
    private readonly generation: number,
  ) {}

  open(path: string, mode: OpenMode): Promise<FileHandle> {
    return this.run(() => {
      const found = this.disk.lookup(path);
      if (found?.kind === "directory") {
        if (mode !== "read") throw new FileSystemError("EISDIR", "open", path);
        return new SimulatedDirectoryHandle(this, found.directory);
      }
      if (found !== null && mode === "createExclusive") throw new FileSystemError("EEXIST", "open", path);
      if (found === null && (mode === "read" || mode === "readWrite")) throw new FileSystemError("ENOENT", "open", path);
      const inode = found?.inode ?? this.disk.newFile(this.disk.parentOf(path, "open"), basename(path));
      if (found !== null && mode === "create") this.disk.truncateFile(inode, 0);
      return new SimulatedFileHandle(this, this.disk, inode, path);
    });
  }

  readFile(path: string): Promise<Uint8Array> {
    return this.run(() => {
      const found = this.disk.lookup(path);
      if (found === null) throw new FileSystemError("ENOENT", "open", path);
      if (found.kind !== "file") throw new FileSystemError("EISDIR", "read", path);
      this.disk.maybeFail("read", "read", path);
      return Uint8Array.from(found.inode.cache.view());
    });
  }

  readdir(path: string): Promise<string[]> {
    return this.run(() => {
      const found = this.disk.lookup(path);
      if (found === null) throw new FileSystemError("ENOENT", "scandir", path);
      if (found.kind !== "directory") throw new FileSystemError("ENOTDIR", "scandir", path);
      return [...found.directory.current.keys()].sort();
    });
  }

  mkdir(path: string): Promise<void> {
    return this.run(() => {
      const parent = this.disk.parentOf(path, "mkdir");
      if (parent.current.has(basename(path))) throw new FileSystemError("EEXIST", "mkdir", path);
      parent.change({ kind: "link", name: basename(path), entry: { kind: "directory", directory: new Directory() } });
    });
  }

  stat(path: string): Promise<FileStat> {
    return this.run(() => {
      const found = this.disk.lookup(path);
      if (found === null) throw new FileSystemError("ENOENT", "stat", path);
      return found.kind === "file" ? { kind: "file", bytes: found.inode.cache.length } : { kind: "directory", bytes: 0 };
    });
  }

  rename(from: string, to: string): Promise<void> {
    return this.run(() => {
      if (dirname(from) !== dirname(to)) throw new FileSystemError("EXDEV", "rename", from);
      const found = this.disk.lookup(from);
      if (found === null) throw new FileSystemError("ENOENT", "rename", from);
      const parent = this.disk.parentOf(from, "rename");
      parent.change({ kind: "link", name: basename(to), entry: found });
      parent.change({ kind: "unlink", name: basename(from) });
    });
  }

  unlink(path: string): Promise<void> {
    return this.run(() => {
      const found = this.disk.lookup(path);
      if (found === null) throw new FileSystemError("ENOENT", "unlink", path);
      if (found.kind !== "file") throw new FileSystemError("EISDIR", "unlink", path);
      this.disk.parentOf(path, "unlink").change({ kind: "unlink", name: basename(path) });
    });
  }

  syncDirectory(path: string): Promise<void> {
    return this.runAsync(() => {
      const found = this.disk.lookup(path);
      if (found === null) throw new FileSystemError("ENOENT", "fsync", path);
      if (found.kind !== "directory") throw new FileSystemError("ENOTDIR", "fsync", path);
      this.disk.maybeFail("fsync", "fsync", path);
      return this.disk.syncDirectoryEntries(this.generation, found.directory);
    });
  }

  lockDirectory(directory: string): Promise<DirectoryLock> {
    return this.run(() => {
      if (!this.disk.lock(directory)) {
        throw new StorageError("locked", `${directory}/LOCK`, `data directory ${directory} is in use by another simulated process`);
      }
      let released = false;
      return {
        release: () => {
          if (!released && this.disk.isCurrent(this.generation)) this.disk.unlock(directory);
          released = true;
          return Promise.resolve();
        },
      };
    });
  }

  /** Runs an operation now, or never if this process is gone. */
  run<T>(operation: () => T): Promise<T> {
    if (!this.disk.isCurrent(this.generation)) return new Promise<T>(() => undefined);
    try {
      return Promise.resolve(operation());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  runAsync(operation: () => Promise<void>): Promise<void> {
    if (!this.disk.isCurrent(this.generation)) return new Promise<void>(() => undefined);
    try {
      return operation();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  get processGeneration(): number {
    return this.generation;
  }
}

class SimulatedFileHandle implements FileHandle {
  constructor(
    private readonly fileSystem: SimulatedFileSystem,
    private readonly disk: SimulatedDisk,
    private readonly inode: Inode,
    private readonly path: string,
  ) {}

  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    return this.fileSystem.run(() => {
      this.disk.maybeFail("read", "read", this.path);
      const cache = this.inode.cache.view();
      const available = Math.max(0, Math.min(length, cache.byteLength - position));
      buffer.set(cache.subarray(position, position + available), offset);
      return { bytesRead: available };
    });
  }

  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> {
    return this.fileSystem.run(() => {
      this.disk.maybeFail("write", "write", this.path);
      this.disk.writeFile(this.inode, position, buffer.subarray(offset, offset + length));
      return { bytesWritten: length };
    });
  }

  datasync(): Promise<void> {
    return this.sync();
  }

  sync(): Promise<void> {
    return this.fileSystem.runAsync(() => {
      this.disk.maybeFail("fsync", "fsync", this.path);
      return this.disk.syncFile(this.fileSystem.processGeneration, this.inode);
    });
  }

  truncate(bytes: number): Promise<void> {
    return this.fileSystem.run(() => this.disk.truncateFile(this.inode, bytes));
  }

  close(): Promise<void> {
    return this.fileSystem.run(() => undefined);
  }
}

/** A directory opened for reading, as `open(dir, "r")` gives: only sync and close make sense. */
class SimulatedDirectoryHandle {
  constructor(
    private readonly fileSystem: SimulatedFileSystem,
    private readonly directory: Directory,
  ) {}

  read(): Promise<{ bytesRead: number }> {
    return Promise.reject(new FileSystemError("EISDIR", "read", "directory"));
  }

  write(): Promise<{ bytesWritten: number }> {
    return Promise.reject(new FileSystemError("EISDIR", "write", "directory"));
  }

  truncate(): Promise<void> {
    return Promise.reject(new FileSystemError("EISDIR", "ftruncate", "directory"));
  }

  datasync(): Promise<void> {
    return this.sync();
  }

  sync(): Promise<void> {
    return this.fileSystem.runAsync(() => this.fileSystemDisk().syncDirectoryEntries(this.fileSystem.processGeneration, this.directory));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private fileSystemDisk(): SimulatedDisk {
    return (this.fileSystem as unknown as { disk: SimulatedDisk }).disk;
  }
}

function collectFiles(directory: Directory, files: Set<Inode>): void {
  for (const entry of directory.current.values()) {
    if (entry.kind === "file") files.add(entry.inode);
    else collectFiles(entry.directory, files);
  }
}

function resized(bytes: Uint8Array<ArrayBuffer>, length: number): Uint8Array<ArrayBuffer> {
  if (length === bytes.byteLength) return bytes;
  const next = new Uint8Array(length);
  next.set(bytes.subarray(0, Math.min(length, bytes.byteLength)));
  return next;
}

function writtenAt(bytes: Uint8Array<ArrayBuffer>, position: number, data: Uint8Array): Uint8Array<ArrayBuffer> {
  const target = bytes.byteLength >= position + data.byteLength ? bytes : resized(bytes, position + data.byteLength);
  target.set(data, position);
  return target;
}
