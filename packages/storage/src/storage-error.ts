/**
 * Why storage failed. Every code means the node cannot go on with this directory as it is:
 * - `not_found`: the data directory is missing and so is its parent (a typo is likelier than a wish
 *   to create a tree of directories).
 * - `not_writable`: the directory (or a file in it) refuses writes.
 * - `foreign_directory`: the directory holds files that are not ours, or another format's marker.
 * - `corrupt`: acknowledged data failed its checksum or does not fit the log; never repaired silently.
 * - `io_failed`: a read, write or sync failed; after a failed sync nothing can be promised any more.
 * - `no_space`: the file system is full (ENOSPC); free space, then restart the node.
 * - `closed`: the storage was used after `close()`.
 * - `overloaded`: more writes were queued than `pendingWritesMax` allows.
 */
export type StorageErrorCode =
  | "not_found"
  | "not_writable"
  | "foreign_directory"
  | "corrupt"
  | "io_failed"
  | "closed"
  | "overloaded"
  | "locked"
  | "no_space";

export class StorageError extends Error {
  override readonly name = "StorageError";
  readonly code: StorageErrorCode;
  /** The file or directory the error is about. */
  readonly path: string;

  constructor(code: StorageErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.path = path;
  }
}

/** Maps a Node.js system error to the storage code a user can act on. */
export function storageErrorFromSystem(error: unknown, path: string, action: string): StorageError {
  if (error instanceof StorageError) return error;
  const systemCode = systemErrorCode(error);
  const detail = error instanceof Error ? error.message : String(error);
  switch (systemCode) {
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return new StorageError("not_writable", path, `${action} ${path}: not writable (${detail})`, { cause: error });
    case "ENOSPC":
    case "EDQUOT":
      return new StorageError("no_space", path, `${action} ${path}: the file system is full (${detail})`, { cause: error });
    default:
      return new StorageError("io_failed", path, `${action} ${path}: ${detail}`, { cause: error });
  }
}

export function systemErrorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  const code = (error).code;
  return typeof code === "string" ? code : undefined;
}
