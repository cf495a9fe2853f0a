import { open, readFile, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { StorageError, storageErrorFromSystem, systemErrorCode } from "./storage-error.js";

/** Holds the pid of the process that has the data directory open. */
export const lockFileName = "LOCK";

/** Directories this process holds open: a second FileStorage on one of them is refused too. */
const lockedInThisProcess = new Set<string>();

export interface DirectoryLock {
  release(): Promise<void>;
}

/**
 * Takes the data directory for this process. Two nodes writing one log would corrupt it, so a
 * second opener is refused with `locked` while the holder lives. A lock left by a process that
 * died (SIGKILL, power loss) names a pid that no longer runs, and is taken over.
 */
export async function acquireDirectoryLock(directory: string): Promise<DirectoryLock> {
  const key = resolve(directory);
  const path = join(directory, lockFileName);
  if (lockedInThisProcess.has(key)) {
    throw new StorageError("locked", path, `data directory ${directory} is already open in this process`);
  }
  // Two passes at most: the second follows the removal of a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, "wx");
      try {
        await handle.writeFile(`${process.pid}\n`, "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      lockedInThisProcess.add(key);
      return { release: () => releaseLock(key, path) };
    } catch (error) {
      if (systemErrorCode(error) !== "EEXIST") throw storageErrorFromSystem(error, directory, "cannot create the lock file in data directory");
    }
    const holder = await readLockHolder(path);
    if (holder !== null && holder !== process.pid && processIsAlive(holder)) {
      throw new StorageError("locked", path, `data directory ${directory} is in use by process ${holder} (${path}); stop it first`);
    }
    await rm(path, { force: true });
  }
  throw new StorageError("locked", path, `data directory ${directory}: could not take ${path}`);
}

async function releaseLock(key: string, path: string): Promise<void> {
  if (!lockedInThisProcess.delete(key)) return;
  await rm(path, { force: true });
}

async function readLockHolder(path: string): Promise<number | null> {
  const text = await readFile(path, "utf8").catch(() => "");
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else; it is alive.
    return systemErrorCode(error) === "EPERM";
  }
}
