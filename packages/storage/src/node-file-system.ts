import { constants, writeSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, stat, unlink } from "node:fs/promises";
import { acquireDirectoryLock } from "./directory-lock.js";
import type { FileHandle, FileStat, FileSystem, OpenMode } from "./file-system.js";

const flagsOf: Record<OpenMode, string> = { read: "r", readWrite: "r+", create: "w", createExclusive: "wx" };
/**
 * How a directory is opened to be synced: read-only (a directory cannot be opened for writing),
 * and with `O_DIRECTORY` where the platform has it, so that a path which is not a directory fails
 * with `ENOTDIR` instead of syncing a file and passing for a synced directory.
 */
const directorySyncFlags = constants.O_RDONLY | (constants.O_DIRECTORY ?? 0);

/**
 * A write up to this size is copied to the page cache on the event loop (`writeSync`) instead of
 * through libuv's pool: the log's appends are small, the copy takes microseconds, and a pool round
 * trip costs a thread hop and a wake-up of the loop on the commit path. The `fdatasync` after it
 * still runs in the pool.
 */
const syncWriteBytesMax = 64 * 1024;

/** The production file system: node:fs promises (libuv's thread pool), but for small writes. */
export const nodeFileSystem: FileSystem = {
  open: async (path, mode): Promise<FileHandle> => {
    const handle = await open(path, flagsOf[mode]);
    return {
      read: (buffer, offset, length, position) => handle.read(buffer, offset, length, position),
      write: (buffer, offset, length, position) => {
        if (length > syncWriteBytesMax) return handle.write(buffer, offset, length, position);
        try {
          return Promise.resolve({ bytesWritten: writeSync(handle.fd, buffer, offset, length, position) });
        } catch (error) {
          return Promise.reject(error instanceof Error ? error : new Error(String(error)));
        }
      },
      datasync: () => handle.datasync(),
      sync: () => handle.sync(),
      truncate: (bytes) => handle.truncate(bytes),
      close: () => handle.close(),
    };
  },
  readFile: (path) => readFile(path),
  readdir: (path) => readdir(path),
  mkdir: async (path) => {
    await mkdir(path);
  },
  stat: async (path): Promise<FileStat> => {
    const found = await stat(path);
    return { kind: found.isFile() ? "file" : found.isDirectory() ? "directory" : "other", bytes: found.size };
  },
  rename: (from, to) => rename(from, to),
  unlink: (path) => unlink(path),
  // fsync(2) on a directory's descriptor makes its entries (creates, renames, removals) durable.
  syncDirectory: async (path) => {
    const handle = await open(path, directorySyncFlags);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  lockDirectory: (directory) => acquireDirectoryLock(directory),
};
