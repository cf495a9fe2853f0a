import { open, readFile, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { DirectoryLock } from "./file-system.js";
import { StorageError, storageErrorFromSystem, systemErrorCode } from "./storage-error.js";

/** Names the process that has the data directory open. */
export const lockFileName = "LOCK";

/** Directories this process holds open: a second FileStorage on one of them is refused too. */
const lockedInThisProcess = new Set<string>();

/**
 * Who holds a lock: the pid, and (on Linux) the process's start time in clock ticks since boot
 * and the boot id, so that a pid reused by another process, or a lock from before a reboot (a new
 * container, a power cut), never passes for the holder.
 */
export interface LockHolder {
  pid: number;
  startTime: string | null;
  bootId: string | null;
}

/**
 * Takes the data directory for this process. Two nodes writing one log would corrupt it, so a
 * second opener is refused with `locked` while the holder lives. A lock whose holder is dead is
 * taken over: dead means no such process, a zombie (killed but not yet reaped by its parent), a
 * process that started at another time (the pid was reused), or another boot.
 */
export async function acquireDirectoryLock(directory: string): Promise<DirectoryLock> {
  const key = resolve(directory);
  const path = join(directory, lockFileName);
  if (lockedInThisProcess.has(key)) {
    throw new StorageError("locked", path, `data directory ${directory} is already open in this process`);
  }
  const self = await describeProcess(process.pid);
  // Two passes at most: the second follows the removal of a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, "wx");
      try {
        await handle.writeFile(`${JSON.stringify(self)}\n`, "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      lockedInThisProcess.add(key);
      return { release: () => releaseLock(key, path) };
    } catch (error) {
      if (systemErrorCode(error) !== "EEXIST") throw storageErrorFromSystem(error, directory, "cannot create the lock file in data directory");
    }
    const holder = parseLockHolder(await readFile(path, "utf8").catch(() => ""));
    if (holder !== null && holder.pid !== process.pid && (await holderIsAlive(holder))) {
      throw new StorageError("locked", path, `data directory ${directory} is in use by process ${holder.pid} (${path}); stop it first`);
    }
    await rm(path, { force: true });
  }
  throw new StorageError("locked", path, `data directory ${directory}: could not take ${path}`);
}

async function releaseLock(key: string, path: string): Promise<void> {
  if (!lockedInThisProcess.delete(key)) return;
  await rm(path, { force: true });
}

/** Reads a lock file: this format (JSON), or a bare pid (what earlier versions wrote). Never throws. */
export function parseLockHolder(text: string): LockHolder | null {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const pid = Number(trimmed);
    return Number.isSafeInteger(pid) && pid > 0 ? { pid, startTime: null, bootId: null } : null;
  }
  try {
    const value: unknown = JSON.parse(trimmed);
    if (typeof value !== "object" || value === null) return null;
    const { pid, startTime, bootId } = value as Record<string, unknown>;
    if (typeof pid !== "number" || !Number.isSafeInteger(pid) || pid <= 0) return null;
    return { pid, startTime: typeof startTime === "string" ? startTime : null, bootId: typeof bootId === "string" ? bootId : null };
  } catch {
    return null;
  }
}

/** This machine's view of process `pid` now: its start time and the boot it runs in (null where /proc does not tell). */
export async function describeProcess(pid: number): Promise<LockHolder> {
  const stat = await readProcessStat(pid);
  return { pid, startTime: stat?.startTime ?? null, bootId: await readBootId() };
}

async function holderIsAlive(holder: LockHolder): Promise<boolean> {
  if (!signalReaches(holder.pid)) return false;
  const bootId = await readBootId();
  if (holder.bootId !== null && bootId !== null && holder.bootId !== bootId) return false;
  const stat = await readProcessStat(holder.pid);
  // No /proc (not Linux): the signal test is all there is.
  if (stat === null) return true;
  if (stat.state === "Z" || stat.state === "X") return false;
  return holder.startTime === null || holder.startTime === stat.startTime;
}

function signalReaches(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else; it is alive.
    return systemErrorCode(error) === "EPERM";
  }
}

/** State and start time (field 22, clock ticks since boot) from /proc/PID/stat; null without /proc. */
async function readProcessStat(pid: number): Promise<{ state: string; startTime: string } | null> {
  const text = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => null);
  if (text === null) return null;
  // The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const startTime = fields[19];
  if (state === undefined || startTime === undefined) return null;
  return { state, startTime };
}

async function readBootId(): Promise<string | null> {
  const text = await readFile("/proc/sys/kernel/random/boot_id", "utf8").catch(() => null);
  return text === null ? null : text.trim();
}
