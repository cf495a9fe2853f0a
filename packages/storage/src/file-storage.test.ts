import { execFileSync } from "node:child_process";
import { chmod, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FileStorage } from "./file-storage.js";
import type { FileStorageOptions } from "./file-storage-options.js";
import { markerFileName, possibleLossFileName } from "./data-directory.js";
import { FileSystemError } from "./file-system.js";
import type { FileSystem } from "./file-system.js";
import { nodeFileSystem } from "./node-file-system.js";
import { encodeHardStateRecord } from "./wal-records.js";
import { scanSegment } from "./wal-segment.js";
import { RecordingMetrics, recordingLogger } from "./testing/recording-sinks.js";
import { describeStorageConformance, entriesFrom, entryAt } from "./testing/storage-conformance.js";
import { TemporaryDirectories } from "./testing/temporary-directory.js";

const directories = new TemporaryDirectories();
afterAll(() => directories.removeAll());

/**
 * Small segments and a small cache, so that the conformance suite crosses both on every test; the
 * cache freezes what it keeps, as in the simulator, for the suite's immutability test.
 */
const conformanceOptions = { segmentBytesMax: 512, entriesInMemoryMax: 4, freezeEntries: true } as const;
const directoryOf = new WeakMap<FileStorage, string>();

async function openAt(directory: string, options: Partial<FileStorageOptions> = {}): Promise<FileStorage> {
  const storage = await FileStorage.open({ directory, ...conformanceOptions, ...options });
  directoryOf.set(storage, directory);
  return storage;
}

describeStorageConformance("FileStorage", {
  create: async () => openAt(await directories.create()),
  restart: async (storage) => {
    await storage.close();
    return openAt(directoryOf.get(storage) ?? "");
  },
});

/** Writes two batches, closes, and returns the last segment's path and where the second batch starts. */
async function twoBatches(directory: string): Promise<{ path: string; secondStart: number; bytes: number }> {
  const storage = await openAt(directory, { segmentBytesMax: 1 << 20 });
  await storage.persist({ entries: entriesFrom(1, 20, 1) });
  const segment = (await readdir(directory)).filter((name) => name.startsWith("wal-")).sort().at(-1) ?? "";
  const path = join(directory, segment);
  // The file runs on past the log into preallocated zeros: where the log ends is where the scan stops.
  const secondStart = scanSegment(await readFile(path), Number(/\d+/.exec(segment)?.[0]), 1 << 20).validBytes;
  await storage.persist({ entries: entriesFrom(21, 20, 1) });
  await storage.close();
  return { path, secondStart, bytes: (await readFile(path)).byteLength };
}

describe("FileStorage with freezeEntries", () => {
  it("freezes the entries its cache rebuilt from the log at a restart, as it freezes those it is given", async () => {
    const directory = await directories.create();
    const first = await openAt(directory);
    await first.persist({ entries: entriesFrom(1, 3, 1) });
    await first.close();
    const storage = await openAt(directory);
    const [replayed] = (await storage.load()).entries;
    expect(Object.isFrozen(replayed) && Object.isFrozen(replayed?.command)).toBe(true);
    await storage.close();
    // Without the option the cache keeps the decoded objects as they are.
    const plain = await openAt(directory, { freezeEntries: false });
    expect(Object.isFrozen((await plain.load()).entries[0])).toBe(false);
    await plain.close();
  });
});

describe("FileStorage recovery from a disk that tears and rots", () => {
  it("cuts a write whose middle sector never reached the disk (zeros), although sound records follow it", async () => {
    const directory = await directories.create();
    const { path, secondStart, bytes } = await twoBatches(directory);
    const content = await readFile(path);
    const hole = Math.ceil((secondStart + 200) / 512) * 512;
    expect(hole + 512).toBeLessThan(bytes);
    content.fill(0, hole, hole + 512);
    await writeFile(path, content);
    const logger = recordingLogger();
    const storage = await openAt(directory, { logger });
    const state = await storage.load();
    expect(state.possibleLoss).toBeUndefined();
    expect(state.entries.at(-1)?.index).toBeGreaterThanOrEqual(20);
    expect(state.entries.at(-1)?.index).toBeLessThan(40);
    expect(logger.lines.some((line) => line.level === "warn" && /torn write/.test(line.message))).toBe(true);
    await storage.close();
  });

  it("reports a possible loss, rather than cutting silently, when the last synced record is damaged", async () => {
    const directory = await directories.create();
    const { path, bytes } = await twoBatches(directory);
    const content = await readFile(path);
    content[bytes - 30] = (content[bytes - 30] ?? 0) ^ 0x04;
    await writeFile(path, content);
    const storage = await openAt(directory);
    const state = await storage.load();
    expect(state.possibleLoss).toBe(true);
    expect(state.entries.at(-1)?.index).toBe(39);
    await storage.close();
  });

  it("keeps a possible loss through a restart that wrote nothing: the next start still grants no vote", async () => {
    const directory = await directories.create();
    const { path, bytes } = await twoBatches(directory);
    const content = await readFile(path);
    content[bytes - 30] = (content[bytes - 30] ?? 0) ^ 0x04;
    await writeFile(path, content);
    const first = await openAt(directory);
    expect((await first.load()).possibleLoss).toBe(true);
    // The process exits before the node's first write (its own record of the loss).
    await first.close();
    const second = await openAt(directory);
    const state = await second.load();
    // The damage is cut from the file; the new segment's header says what it meant.
    expect(state.hardState.recovering).toBe(true);
    expect(state.entries.at(-1)?.index).toBe(39);
    await second.close();
  });

  it("keeps a possible loss through a start that died after cutting the damage, before its new segment existed", async () => {
    const directory = await directories.create();
    const { path, bytes } = await twoBatches(directory);
    const content = await readFile(path);
    content[bytes - 30] = (content[bytes - 30] ?? 0) ^ 0x04;
    await writeFile(path, content);
    const failingCreate: FileSystem = {
      ...nodeFileSystem,
      open: (target, mode) => (mode === "createExclusive" ? Promise.reject(new FileSystemError("EIO", "open", target)) : nodeFileSystem.open(target, mode)),
    };
    await expect(openAt(directory, { fileSystem: failingCreate })).rejects.toMatchObject({ code: "io_failed" });
    expect((await readFile(path)).byteLength).toBeLessThan(bytes);
    const second = await openAt(directory);
    const state = await second.load();
    expect(state.possibleLoss).toBe(true);
    expect(state.hardState.recovering).toBe(true);
    await second.close();
    const third = await openAt(directory);
    expect((await third.load()).hardState.recovering).toBe(true);
    expect(await readdir(directory)).not.toContain(possibleLossFileName);
    await third.close();
  });

  it("keeps a recovery's commit bound with the hard state, across restarts and into the next segment's header (seed 7016221)", async () => {
    const directory = await directories.create();
    const storage = await openAt(directory);
    await storage.persist({ hardState: { term: 3, votedFor: "n2", commitIndex: 0, recovering: true, recoveryCommitIndexMin: 151 }, entries: entriesFrom(1, 12, 3) });
    await storage.close();
    const restarted = await openAt(directory);
    expect((await restarted.load()).hardState).toMatchObject({ recovering: true, recoveryCommitIndexMin: 151 });
    // Enough entries to roll past the 512-byte segments: the bound must be in the new header too.
    await restarted.persist({ entries: entriesFrom(13, 30, 3) });
    await restarted.close();
    const third = await openAt(directory);
    expect((await third.load()).hardState).toMatchObject({ recovering: true, recoveryCommitIndexMin: 151 });
    await third.close();
  });

  it("raises the term to the last entry's when a crash kept a new term's entries but not the hard state after them", async () => {
    const directory = await directories.create();
    const storage = await openAt(directory, { segmentBytesMax: 1 << 20 });
    await storage.persist({ hardState: { term: 1, votedFor: "n1", commitIndex: 0 }, entries: entriesFrom(1, 3, 1) });
    const hardState = { term: 2, votedFor: null, commitIndex: 4 };
    await storage.persist({ hardState, entries: entriesFrom(4, 2, 2) });
    await storage.close();
    const segment = (await readdir(directory)).filter((name) => name.startsWith("wal-")).sort()[0] ?? "";
    const content = await readFile(join(directory, segment));
    // The write's last record, its hard state, never reached the disk.
    await writeFile(join(directory, segment), content.subarray(0, content.byteLength - encodeHardStateRecord(hardState, { nonce: 0, offset: 0 }).byteLength));
    const reopened = await openAt(directory);
    const state = await reopened.load();
    expect(state.entries.at(-1)).toMatchObject({ index: 5, term: 2 });
    expect(state.hardState).toEqual({ term: 2, votedFor: null, commitIndex: 0 });
    await reopened.close();
  });

  it("refuses damage that a later sync mark proves was synced, naming the file and byte offset", async () => {
    const directory = await directories.create();
    const { path, secondStart } = await twoBatches(directory);
    const content = await readFile(path);
    content[secondStart - 30] = (content[secondStart - 30] ?? 0) ^ 0x04;
    await writeFile(path, content);
    await expect(openAt(directory)).rejects.toMatchObject({ code: "corrupt", message: expect.stringMatching(/wal-\d+\.log is corrupt at byte \d+ \(in bytes that a later sync mark says were synced\)/) });
  });
});

describe("FileStorage", () => {
  it("covers writes that arrive during an fsync with one fdatasync (group commit)", async () => {
    const metrics = new RecordingMetrics();
    const storage = await openAt(await directories.create(), { metrics, segmentBytesMax: 1 << 20 });
    await storage.persist({ entries: [entryAt(1, 1)] });
    const fsyncsBefore = metrics.total("wal_fsyncs_total");
    await Promise.all(entriesFrom(2, 64, 1).map((entry) => storage.persist({ entries: [entry] })));
    const fsyncs = metrics.total("wal_fsyncs_total") - fsyncsBefore;
    expect(fsyncs).toBeGreaterThanOrEqual(1);
    expect(fsyncs).toBeLessThanOrEqual(2);
    expect(metrics.total("wal_fsync_seconds")).toBe(metrics.total("wal_fsyncs_total"));
    expect(metrics.total("wal_bytes_written_total")).toBeGreaterThan(64 * 40);
    expect(metrics.records.every((record) => record.labels["fsync_policy"] === "always")).toBe(true);
    await storage.close();
  });

  it("labels a `none` fsync policy in metrics and warns about it in the log", async () => {
    const metrics = new RecordingMetrics();
    const logger = recordingLogger();
    const storage = await openAt(await directories.create(), { metrics, logger, fsyncPolicy: "none" });
    await storage.persist({ entries: entriesFrom(1, 10, 1) });
    expect(metrics.total("wal_fsyncs_total")).toBe(0);
    expect(metrics.records.filter((record) => record.name === "wal_bytes_written_total")[0]?.labels).toEqual({ fsync_policy: "none" });
    expect(logger.lines.some((line) => line.level === "warn" && /NOT durable/.test(line.message))).toBe(true);
    expect(logger.lines.every((line) => (line.fields as { fsync_policy?: string }).fsync_policy === "none")).toBe(true);
    await storage.close();
  });

  it("keeps at most entriesInMemoryMax entries in memory and reads older ones from disk", async () => {
    const directory = await directories.create();
    let storage = await openAt(directory, { entriesInMemoryMax: 16, segmentBytesMax: 4096 });
    const written = entriesFrom(1, 500, 1);
    for (let first = 0; first < written.length; first += 50) await storage.persist({ entries: written.slice(first, first + 50) });
    expect(storage.status().entriesInMemory).toBeLessThanOrEqual(16);
    expect(await storage.readEntries(1, 501)).toEqual(written);
    expect(await storage.readEntries(123, 130)).toEqual(written.slice(122, 129));
    await storage.close();
    storage = await FileStorage.open({ directory, entriesInMemoryMax: 16 });
    expect(storage.status().entriesInMemory).toBe(16);
    expect((await storage.load()).entries).toEqual(written);
    await storage.close();
  });

  it("rotates segments and deletes only the ones a snapshot covers entirely", async () => {
    const directory = await directories.create();
    const metrics = new RecordingMetrics();
    const storage = await openAt(directory, { segmentBytesMax: 1024, metrics });
    for (let first = 1; first <= 200; first += 10) await storage.persist({ entries: entriesFrom(first, 10, 1) });
    const segmentsBefore = (await readdir(directory)).filter((name) => name.startsWith("wal-"));
    expect(segmentsBefore.length).toBeGreaterThan(5);
    expect(metrics.last("wal_segments")?.value).toBe(segmentsBefore.length);
    await storage.saveSnapshot({ meta: { index: 150, term: 1, members: [{ id: "n1", peerAddress: "", clientUrl: "", voter: true }] }, data: new Uint8Array([1, 2, 3]) });
    await storage.compact(150);
    const segmentsAfter = (await readdir(directory)).filter((name) => name.startsWith("wal-"));
    expect(segmentsAfter.length).toBeLessThan(segmentsBefore.length);
    expect(segmentsAfter.length).toBeGreaterThanOrEqual(1);
    expect(metrics.last("wal_segments")?.value).toBe(segmentsAfter.length);
    expect(metrics.total("snapshot_seconds")).toBe(1);
    expect(storage.status().firstIndex).toBe(151);
    expect(await storage.readEntries(151, 201)).toEqual(entriesFrom(151, 50, 1));
    await storage.close();
    const reopened = await FileStorage.open({ directory });
    expect((await reopened.load()).entries).toEqual(entriesFrom(151, 50, 1));
    await reopened.close();
  });
});

describe("FileStorage data directory", () => {
  it("creates a missing directory whose parent exists, and writes the format marker", async () => {
    const directory = join(await directories.create(), "data");
    const storage = await FileStorage.open({ directory });
    await storage.close();
    expect(await readdir(directory)).toContain(markerFileName);
  });

  it("refuses a missing directory whose parent is missing too", async () => {
    const directory = join(await directories.create(), "absent", "data");
    await expect(FileStorage.open({ directory })).rejects.toMatchObject({ name: "StorageError", code: "not_found", path: directory });
  });

  it("refuses a directory holding files that are not ours", async () => {
    const directory = await directories.create();
    await writeFile(join(directory, "notes.txt"), "hello");
    const opening = FileStorage.open({ directory });
    await expect(opening).rejects.toMatchObject({ code: "foreign_directory", path: directory });
    await expect(opening).rejects.toThrow(/notes\.txt/);
  });

  it("leaves the node's CLUSTER identity file alone, beside the log", async () => {
    const directory = await directories.create();
    await writeFile(join(directory, "CLUSTER"), "{}\n");
    const storage = await FileStorage.open({ directory });
    await storage.close();
    expect(await readdir(directory)).toContain("CLUSTER");
  });

  it("refuses a directory whose marker names another format", async () => {
    const directory = await directories.create();
    await writeFile(join(directory, markerFileName), "lockstep-storage 3\n");
    await expect(FileStorage.open({ directory })).rejects.toMatchObject({ code: "foreign_directory" });
  });

  it("refuses a format-1 directory with the way out in the message", async () => {
    const directory = await directories.create();
    await writeFile(join(directory, markerFileName), "lockstep-storage 1\n");
    await expect(FileStorage.open({ directory })).rejects.toMatchObject({ code: "foreign_directory", message: expect.stringMatching(/format 1.*rebuild this node from its peers/) });
  });

  it("refuses a path that is a file", async () => {
    const directory = join(await directories.create(), "file");
    await writeFile(directory, "");
    await expect(FileStorage.open({ directory })).rejects.toMatchObject({ code: "foreign_directory" });
  });

  it("refuses log files without a marker", async () => {
    const directory = await directories.create();
    await mkdir(directory, { recursive: true });
    await writeFile(join(directory, "wal-0000000000000001.log"), "");
    await expect(FileStorage.open({ directory })).rejects.toMatchObject({ code: "foreign_directory" });
  });

  it("refuses a directory it cannot write to", async () => {
    const directory = await directories.create();
    const release = await makeUnwritable(directory);
    try {
      await expect(FileStorage.open({ directory })).rejects.toMatchObject({ code: "not_writable", path: directory });
    } finally {
      await release();
    }
  });
});

/** chmod does not stop root, so as root the directory is made immutable instead. */
async function makeUnwritable(directory: string): Promise<() => Promise<void>> {
  if (process.getuid?.() === 0) {
    execFileSync("chattr", ["+i", directory]);
    return () => Promise.resolve(void execFileSync("chattr", ["-i", directory]));
  }
  await chmod(directory, 0o555);
  return () => chmod(directory, 0o755);
}
