/**
 * The file-system operations storage uses, and nothing more: `FileStorage`, its log writer,
 * segment reader, snapshot files and recovery all go through one `FileSystem`. Production uses
 * `nodeFileSystem` (node:fs); the simulator uses `SimulatedDisk`, which loses, tears and damages
 * what a real disk may. Failures are thrown as errors with a system `code` (`ENOENT`, `EEXIST`,
 * `EIO`, `ENOSPC`, ...), as node:fs throws them.
 */
export interface FileSystem {
  open(path: string, mode: OpenMode): Promise<FileHandle>;
  readFile(path: string): Promise<Uint8Array>;
  /** Names in a directory, in no promised order. */
  readdir(path: string): Promise<string[]>;
  /** Creates one directory; its parent must exist. Durable once the parent is synced. */
  mkdir(path: string): Promise<void>;
  stat(path: string): Promise<FileStat>;
  /** Atomically replaces `to`. Durable once the directory is synced. */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; durable once the directory is synced. */
  unlink(path: string): Promise<void>;
  /** Makes every create, rename and removal in `path` durable. */
  syncDirectory(path: string): Promise<void>;
  /** Takes `directory` for this process until `release()` (or until the process dies). */
  lockDirectory(directory: string): Promise<DirectoryLock>;
}

/**
 * `read`: read only. `readWrite`: an existing file. `create`: create or empty. `createExclusive`:
 * create, failing with `EEXIST` if it exists.
 */
export type OpenMode = "read" | "readWrite" | "create" | "createExclusive";

export interface FileStat {
  kind: "file" | "directory" | "other";
  bytes: number;
}

export interface FileHandle {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  /** Makes the file's data (and its size) durable: fdatasync. */
  datasync(): Promise<void>;
  /** Makes the file's data and metadata durable: fsync. */
  sync(): Promise<void>;
  truncate(bytes: number): Promise<void>;
  close(): Promise<void>;
}

export interface DirectoryLock {
  release(): Promise<void>;
}

/** An error as node:fs throws it: a message and a system `code`. */
export class FileSystemError extends Error {
  override readonly name = "FileSystemError";
  constructor(
    readonly code: string,
    readonly syscall: string,
    readonly path: string,
  ) {
    super(`${code}: ${describeCode(code)}, ${syscall} '${path}'`);
  }
}

function describeCode(code: string): string {
  switch (code) {
    case "ENOENT":
      return "no such file or directory";
    case "EEXIST":
      return "file already exists";
    case "EIO":
      return "i/o error";
    case "EACCES":
      return "permission denied";
    case "ENOSPC":
      return "no space left on device";
    case "ENOTDIR":
      return "not a directory";
    case "EISDIR":
      return "is a directory";
    case "ENOTEMPTY":
      return "directory not empty";
    default:
      return "error";
  }
}
