// The data directory's whole path is durable before storage promises anything: a power cut that
// undoes a directory entry above the data directory (made by `mkdir -p` just before the first
// start, and never synced) would take every synced file below it along.
import type { Logger } from "@lockstep/consensus";
import { describe, expect, it } from "vitest";
import { perfectDiskFaults } from "./disk-faults.js";
import { FileStorage } from "./file-storage.js";
import type { FileSystem } from "./file-system.js";
import { FileSystemError } from "./file-system.js";
import { SimulatedDisk } from "./simulated-disk.js";
import { StorageError } from "./storage-error.js";
import { ManualClock } from "./testing/manual-clock.js";
import { seededRandom } from "./testing/seeded-random.js";
import { entriesFrom } from "./testing/storage-conformance.js";

const directory = "/var/lib/lockstep";
const hardState = { term: 3, votedFor: "n2", commitIndex: 2 };

/** A disk whose power cuts undo every directory change no sync covered, and keep no unsynced write. */
function strictDisk(): { disk: SimulatedDisk; clock: ManualClock } {
  const clock = new ManualClock();
  const faults = { ...perfectDiskFaults, fsyncDelayMsMin: 1, fsyncDelayMsMax: 4, crashWriteKeptProbability: 0, crashWriteTornProbability: 0, crashDirectoryChangeKeptProbability: 0 };
  return { disk: new SimulatedDisk({ random: seededRandom(11), clock, faults }), clock };
}

/** What an operator's `mkdir -p` does: creates what is missing and syncs nothing. */
async function mkdirP(fileSystem: FileSystem, path: string): Promise<void> {
  let prefix = "";
  for (const part of path.split("/").filter((name) => name.length > 0)) {
    prefix = `${prefix}/${part}`;
    if ((await fileSystem.stat(prefix).catch(() => null)) === null) await fileSystem.mkdir(prefix);
  }
}

/** The file system, except that syncs of the listed directories fail with `code`. */
function failingSyncs(fileSystem: FileSystem, paths: readonly string[], code: string): FileSystem {
  return {
    open: (path, mode) => fileSystem.open(path, mode),
    readFile: (path) => fileSystem.readFile(path),
    readdir: (path) => fileSystem.readdir(path),
    mkdir: (path) => fileSystem.mkdir(path),
    stat: (path) => fileSystem.stat(path),
    rename: (from, to) => fileSystem.rename(from, to),
    unlink: (path) => fileSystem.unlink(path),
    lockDirectory: (path) => fileSystem.lockDirectory(path),
    syncDirectory: (path) => (paths.includes(path) ? Promise.reject(new FileSystemError(code, "fsync", path)) : fileSystem.syncDirectory(path)),
  };
}

function open(clock: ManualClock, fileSystem: FileSystem, logger?: Logger): Promise<FileStorage> {
  return clock.settle(FileStorage.open({ directory, fileSystem, random: seededRandom(3), ...(logger === undefined ? {} : { logger }) }));
}

/** Writes hard state and entries 1..3, waits until storage says they are durable, then cuts the power. */
async function persistThenCrash(disk: SimulatedDisk, clock: ManualClock, storage: FileStorage): Promise<void> {
  await clock.settle(storage.load());
  await clock.settle(storage.persist({ hardState, entries: entriesFrom(1, 3, 3, "kept") }));
  disk.crash();
}

/** What the next start reads back (the operator's `mkdir -p` runs again, as a unit file's would). */
async function restartAndLoad(disk: SimulatedDisk, clock: ManualClock): Promise<{ hardState: unknown; indexes: number[] }> {
  const fileSystem = disk.fileSystem();
  await mkdirP(fileSystem, "/var/lib");
  const storage = await open(clock, fileSystem);
  const state = await clock.settle(storage.load());
  return { hardState: state.hardState, indexes: state.entries.map((entry) => entry.index) };
}

function recordingLogger(warnings: string[]): Logger {
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (fields, message) => void warnings.push(`${message} ${JSON.stringify(fields)}`),
    error: () => undefined,
    child: () => logger,
  };
  return logger;
}

describe("the data directory's path is durable before anything in it is", () => {
  it.each([
    ["the parent of the data directory", "/var/lib"],
    ["the data directory itself", directory],
  ])("keeps what it made durable after a power cut, when `mkdir -p` made %s just before the first start", async (_what, made) => {
    const { disk, clock } = strictDisk();
    const fileSystem = disk.fileSystem();
    await mkdirP(fileSystem, made);
    await persistThenCrash(disk, clock, await open(clock, fileSystem));
    expect(await restartAndLoad(disk, clock)).toEqual({ hardState, indexes: [1, 2, 3] });
  });

  // Simulator seeds 100300, 101150 and 105627: a start failed on an fsync error while the tree
  // above the data directory was new; its supervisor started it again (no power cut, so the page
  // cache still held the tree), and that start trusted the tree as it found it.
  it("keeps what it made durable when a start that failed on a directory fsync (EIO) is retried", async () => {
    const { disk, clock } = strictDisk();
    const first = disk.fileSystem();
    await mkdirP(first, "/var/lib");
    const failed = await open(clock, failingSyncs(first, ["/"], "EIO")).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(StorageError);
    expect((failed as StorageError).code).toBe("io_failed");
    disk.detach();
    await persistThenCrash(disk, clock, await open(clock, disk.fileSystem()));
    expect(await restartAndLoad(disk, clock)).toEqual({ hardState, indexes: [1, 2, 3] });
  });

  it("starts with a warning when a directory above the parent may not be opened, and keeps what it made durable", async () => {
    const { disk, clock } = strictDisk();
    const fileSystem = disk.fileSystem();
    await mkdirP(fileSystem, "/var/lib");
    await clock.settle(fileSystem.syncDirectory("/"));
    const warnings: string[] = [];
    const storage = await open(clock, failingSyncs(fileSystem, ["/"], "EACCES"), recordingLogger(warnings));
    expect(warnings).toEqual([expect.stringMatching(/^storage: cannot sync a directory above the data directory.*"directory":"\/"/)]);
    await persistThenCrash(disk, clock, storage);
    expect(await restartAndLoad(disk, clock)).toEqual({ hardState, indexes: [1, 2, 3] });
  });

  it("refuses to create the data directory in a parent it cannot sync (not_writable), rather than promise what a power cut undoes", async () => {
    const { disk, clock } = strictDisk();
    const fileSystem = disk.fileSystem();
    await mkdirP(fileSystem, "/var/lib");
    const failed = await open(clock, failingSyncs(fileSystem, ["/var/lib"], "EACCES")).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(StorageError);
    expect({ code: (failed as StorageError).code, path: (failed as StorageError).path }).toEqual({ code: "not_writable", path: "/var/lib" });
  });
});
