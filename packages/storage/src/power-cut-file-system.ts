import { type Stats, closeSync, constants, fstatSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, stat, unlink, type FileHandle as NodeFileHandle } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { acquireDirectoryLock } from "./directory-lock.js";
import type { DirectoryLock, FileHandle, FileStat, FileSystem, OpenMode } from "./file-system.js";
import { FileSystemError } from "./file-system.js";
import { encodeJournalRecord, PendingChanges, type FileIdentity, type JournalRecord } from "./power-cut-journal.js";

export interface PowerCutFileSystemOptions {
  /** The undo journal; created (with `<journal>.files/` for hard-linked backups) if missing. */
  journalPath: string;
  /** Once the journal is larger, it is rewritten with only the records still pending. */
  journalBytesMax?: number;
}

/** Hard links to files that a not yet durable rename or removal took a name from. */
export function journalBackupDirectory(journalPath: string): string {
  return `${resolve(journalPath)}.files`;
}

const journalBytesMaxDefault = 4 * 1024 * 1024;
// Every writable handle may also read: the undo journal reads the bytes a write is about to
// overwrite through the same descriptor (a log written over its preallocated zeros does that).
const flagsOf: Record<OpenMode, string> = { read: "r", readWrite: "r+", create: "w+", createExclusive: "wx+" };

/**
 * TEST ONLY: the real file system (node:fs), with an undo journal that lets `cutPower` turn a
 * SIGKILL into a power cut. Everything is written through, so reads see the page cache as they
 * would; before each change that no fsync covers yet (a write, a truncation, a create, a rename, a
 * removal) a record of what it replaces is appended to the journal with a synchronous write, and
 * a completed `datasync`/`sync` of a file (or `syncDirectory` of a directory) marks that file's
 * (directory's) earlier records durable. Changes to one file are issued one at a time, so that
 * the bytes each record saves are exactly the ones its change overwrites. The journal lives
 * outside the data directory; backups need it on the same file system (hard links).
 */
export class PowerCutFileSystem implements FileSystem {
  private readonly journalPath: string;
  private readonly backupDirectory: string;
  private readonly journalBytesMax: number;
  private journalDescriptor: number;
  private journalBytes: number;
  private sequence = 0;
  private halted = false;
  private readonly pending = new PendingChanges();
  /** Per file: the tail of its chain of changes, and the last change that completed. */
  private readonly files = new Map<FileIdentity, { tail: Promise<void>; completedSeq: number }>();
  /** Per directory: the last entry change that completed. */
  private readonly directoriesCompleted = new Map<string, number>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly locks = new Set<DirectoryLock>();

  constructor(options: PowerCutFileSystemOptions) {
    this.journalPath = resolve(options.journalPath);
    this.backupDirectory = journalBackupDirectory(this.journalPath);
    this.journalBytesMax = options.journalBytesMax ?? journalBytesMaxDefault;
    mkdirSync(this.backupDirectory, { recursive: true });
    this.journalDescriptor = openSync(this.journalPath, "a");
    this.journalBytes = fstatSync(this.journalDescriptor).size;
    if (this.journalBytes > 0) {
      throw new Error(`power-cut journal ${this.journalPath} is not empty: run cutPower on it (or remove it) before starting a process on it`);
    }
  }

  /** Sequence numbers so far (one per change recorded). */
  get recordedChanges(): number {
    return this.sequence;
  }

  /**
   * The process is dead (for tests in one process): every later call never settles, no more
   * records are written, and the directory locks are dropped. Resolves once the real operations
   * already started have finished, so that `cutPower` sees the files as the kernel would.
   */
  async halt(): Promise<void> {
    this.halted = true;
    await Promise.allSettled([...this.inFlight]);
    for (const lock of this.locks) await lock.release();
    this.locks.clear();
    closeSync(this.journalDescriptor);
  }

  open(path: string, mode: OpenMode): Promise<FileHandle> {
    return this.run(async () => {
      const target = resolve(path);
      const before = lstatOrNull(target);
      if (before?.isFile() === true && mode === "create" && before.size > 0) {
        this.recordTruncate(identityOf(before), target, 0, before.size, readFileSync(target));
      }
      const handle = await open(target, flagsOf[mode]);
      const identity = identityOf(await handle.stat());
      if (before === null) {
        this.recordDirectoryChange({ type: "link", directory: dirname(target), name: basename(target), file: identity, kind: "file", created: true, backup: null, replaced: null });
        this.completeDirectoryChange(dirname(target));
      }
      return new PowerCutFileHandle(this, handle, identity, target);
    });
  }

  readFile(path: string): Promise<Uint8Array> {
    return this.run(() => readFile(path));
  }

  readdir(path: string): Promise<string[]> {
    return this.run(() => readdir(path));
  }

  mkdir(path: string): Promise<void> {
    return this.run(async () => {
      const target = resolve(path);
      await mkdir(target);
      // Recorded after the fact (the identity exists only now): a directory made but not yet
      // recorded was never used, and the undo of a directory removes it whole.
      this.recordDirectoryChange({ type: "link", directory: dirname(target), name: basename(target), file: identityOf(statSync(target)), kind: "directory", created: true, backup: null, replaced: null });
      this.completeDirectoryChange(dirname(target));
    });
  }

  stat(path: string): Promise<FileStat> {
    return this.run(async () => {
      const found = await stat(path);
      return { kind: found.isFile() ? "file" : found.isDirectory() ? "directory" : "other", bytes: found.size };
    });
  }

  rename(from: string, to: string): Promise<void> {
    return this.run(async () => {
      const source = resolve(from);
      const target = resolve(to);
      const directory = dirname(source);
      if (directory !== dirname(target)) throw new FileSystemError("EXDEV", "rename", from);
      const moved = lstatOrNull(source);
      if (moved === null) throw new FileSystemError("ENOENT", "rename", from);
      const replaced = lstatOrNull(target);
      const replacedBackup = replaced === null ? null : this.backup(target);
      const sourceBackup = this.backup(source);
      const file = identityOf(moved);
      this.recordDirectoryChange({ type: "link", directory, name: basename(target), file, kind: "file", created: false, backup: replacedBackup, replaced: replaced === null ? null : identityOf(replaced) });
      this.recordDirectoryChange({ type: "unlink", directory, name: basename(source), file, backup: sourceBackup, stillLinked: true });
      await rename(source, target);
      this.completeDirectoryChange(directory);
    });
  }

  unlink(path: string): Promise<void> {
    return this.run(async () => {
      const target = resolve(path);
      const found = lstatOrNull(target);
      if (found === null) throw new FileSystemError("ENOENT", "unlink", path);
      if (!found.isFile()) throw new FileSystemError("EISDIR", "unlink", path);
      const backup = this.backup(target);
      this.recordDirectoryChange({ type: "unlink", directory: dirname(target), name: basename(target), file: identityOf(found), backup, stillLinked: false });
      await unlink(target);
      this.completeDirectoryChange(dirname(target));
    });
  }

  syncDirectory(path: string): Promise<void> {
    return this.run(async () => {
      const directory = resolve(path);
      const covered = this.directoriesCompleted.get(directory) ?? 0;
      // As nodeFileSystem: O_DIRECTORY, so that a path which is not a directory fails with ENOTDIR.
      const handle = await open(directory, constants.O_RDONLY | (constants.O_DIRECTORY ?? 0));
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      this.recordSynced({ type: "directorySynced", directory, seqMax: covered });
    });
  }

  lockDirectory(directory: string): Promise<DirectoryLock> {
    return this.run(async () => {
      const lock = await acquireDirectoryLock(directory);
      this.locks.add(lock);
      return {
        release: async () => {
          this.locks.delete(lock);
          await lock.release();
        },
      };
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Used by PowerCutFileHandle

  /** Runs `operation` now (or never, once halted), tracked so that `halt()` can wait for it. */
  run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.halted) return new Promise<T>(() => undefined);
    let running: Promise<T>;
    try {
      running = operation();
    } catch (error) {
      running = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    this.inFlight.add(running);
    const settled = (): void => {
      this.inFlight.delete(running);
    };
    running.then(settled, settled);
    // A halted process never learns how its calls ended.
    return running.then(
      (value) => (this.halted ? new Promise<T>(() => undefined) : value),
      (error: unknown) => (this.halted ? new Promise<T>(() => undefined) : Promise.reject(error instanceof Error ? error : new Error(String(error)))),
    );
  }

  /** Runs a change of `file` after every earlier change of it, recorded by `record` just before. */
  change<T>(file: FileIdentity, record: () => void, operation: () => Promise<T>): Promise<T> {
    const state = this.fileState(file);
    let seq = 0;
    const result = state.tail.then(() => {
      if (this.halted) return new Promise<T>(() => undefined);
      record();
      seq = this.sequence;
      return operation();
    });
    state.tail = result.then(
      () => {
        state.completedSeq = Math.max(state.completedSeq, seq);
      },
      () => undefined,
    );
    return result;
  }

  /** The changes of `file` that a sync called now covers: those completed, not those queued or in flight. */
  completedChanges(file: FileIdentity): number {
    return this.fileState(file).completedSeq;
  }

  recordWrite(file: FileIdentity, descriptor: number, path: string, position: number, length: number): void {
    const oldLength = fstatSync(descriptor).size;
    const overlap = Math.max(0, Math.min(position + length, oldLength) - position);
    const oldBytes = Buffer.alloc(overlap);
    let read = 0;
    while (read < overlap) {
      const bytesRead = readSync(descriptor, oldBytes, read, overlap - read, position + read);
      if (bytesRead <= 0) break;
      read += bytesRead;
    }
    this.append({ type: "write", seq: this.nextSeq(), file, path, position, length, oldLength, oldBytes: oldBytes.subarray(0, read) });
  }

  recordTruncate(file: FileIdentity, path: string, length: number, oldLength: number, oldBytesAfterLength: Uint8Array): void {
    this.append({ type: "truncate", seq: this.nextSeq(), file, path, length, oldLength, oldBytes: oldBytesAfterLength });
  }

  recordTruncateOf(file: FileIdentity, descriptor: number, path: string, length: number): void {
    const oldLength = fstatSync(descriptor).size;
    const removed = Buffer.alloc(Math.max(0, oldLength - length));
    let read = 0;
    while (read < removed.byteLength) {
      const bytesRead = readSync(descriptor, removed, read, removed.byteLength - read, length + read);
      if (bytesRead <= 0) break;
      read += bytesRead;
    }
    this.recordTruncate(file, path, length, oldLength, removed.subarray(0, read));
  }

  recordSynced(record: JournalRecord & { type: "synced" | "directorySynced" }): void {
    if (this.halted) return;
    this.append(record);
    this.compactIfLarge();
  }

  // ---------------------------------------------------------------------------------------------

  private fileState(file: FileIdentity): { tail: Promise<void>; completedSeq: number } {
    let state = this.files.get(file);
    if (state === undefined) {
      state = { tail: Promise.resolve(), completedSeq: 0 };
      this.files.set(file, state);
    }
    return state;
  }

  private nextSeq(): number {
    this.sequence += 1;
    return this.sequence;
  }

  private recordDirectoryChange(change: Omit<JournalRecord & { type: "link" }, "seq"> | Omit<JournalRecord & { type: "unlink" }, "seq">): void {
    this.append({ ...change, seq: this.nextSeq() });
  }

  /** The directory's changes recorded so far have happened: a directory sync from now covers them. */
  private completeDirectoryChange(directory: string): void {
    this.directoriesCompleted.set(directory, this.sequence);
  }

  /** A hard link to `path` in the backup directory, so that an undo can give the name back. */
  private backup(path: string): string {
    const backupPath = join(this.backupDirectory, `${this.sequence + 1}-${basename(path)}`);
    linkSync(path, backupPath);
    return backupPath;
  }

  private append(record: JournalRecord): void {
    const bytes = encodeJournalRecord(record);
    writeFully(this.journalDescriptor, bytes);
    this.journalBytes += bytes.byteLength;
    for (const backup of this.pending.apply(record)) rmSync(backup, { force: true });
  }

  /** Rewrites the journal with only what is still pending, atomically (rename). */
  private compactIfLarge(): void {
    if (this.journalBytes <= this.journalBytesMax) return;
    const next = `${this.journalPath}.next`;
    const descriptor = openSync(next, "w");
    let bytes = 0;
    for (const record of this.pending.records()) {
      const encoded = encodeJournalRecord(record);
      writeFully(descriptor, encoded);
      bytes += encoded.byteLength;
    }
    closeSync(descriptor);
    renameSync(next, this.journalPath);
    closeSync(this.journalDescriptor);
    this.journalDescriptor = openSync(this.journalPath, "a");
    this.journalBytes = bytes;
  }
}

class PowerCutFileHandle implements FileHandle {
  constructor(
    private readonly fileSystem: PowerCutFileSystem,
    private readonly handle: NodeFileHandle,
    private readonly file: FileIdentity,
    private readonly path: string,
  ) {}

  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    return this.fileSystem.run(() => this.handle.read(buffer, offset, length, position));
  }

  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> {
    return this.fileSystem.run(() =>
      this.fileSystem.change(
        this.file,
        () => this.fileSystem.recordWrite(this.file, this.handle.fd, this.path, position, length),
        () => this.handle.write(buffer, offset, length, position),
      ),
    );
  }

  datasync(): Promise<void> {
    return this.synced(() => this.handle.datasync());
  }

  sync(): Promise<void> {
    return this.synced(() => this.handle.sync());
  }

  truncate(bytes: number): Promise<void> {
    return this.fileSystem.run(() =>
      this.fileSystem.change(
        this.file,
        () => this.fileSystem.recordTruncateOf(this.file, this.handle.fd, this.path, bytes),
        () => this.handle.truncate(bytes),
      ),
    );
  }

  close(): Promise<void> {
    return this.fileSystem.run(() => this.handle.close());
  }

  private synced(sync: () => Promise<void>): Promise<void> {
    return this.fileSystem.run(async () => {
      const covered = this.fileSystem.completedChanges(this.file);
      await sync();
      this.fileSystem.recordSynced({ type: "synced", file: this.file, seqMax: covered });
    });
  }
}

function identityOf(found: { dev: number; ino: number }): FileIdentity {
  return `${found.dev}:${found.ino}`;
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

function writeFully(descriptor: number, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.byteLength) written += writeSync(descriptor, bytes, written, bytes.byteLength - written);
}
