/**
 * Crash safety: real child processes writing under load, killed with SIGKILL at random moments;
 * then damage that a crash does not explain (a flipped byte) and damage it does (a torn tail).
 * Replay a failing run with CRASH_SEED=<seed printed in the failure>.
 */
import { spawn } from "node:child_process";
import { open, readdir, readFile, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { PersistedState } from "@lockstep/consensus";
import { FileStorage } from "../src/index.js";
import { recordingLogger } from "../src/testing/recording-sinks.js";
// Seeded so that the kill moments of a run are reproducible.
import { seededRandom } from "../src/testing/seeded-random.js";
import { entriesFrom } from "../src/testing/storage-conformance.js";
import { TemporaryDirectories } from "../src/testing/temporary-directory.js";

const directories = new TemporaryDirectories();
afterAll(() => directories.removeAll());

const packageDirectory = join(import.meta.dirname, "..");
const crashSeed = Number(process.env["CRASH_SEED"] ?? Date.now() % 1_000_000);
/** Two lanes of children run side by side, each on its own directory: 2 x 26 = 52 kills. */
const lanes = 2;
const roundsPerLane = 26;


/** What the children said was durable, across all rounds on one directory. */
interface Promises {
  entries: Map<number, { term: number; key: string }>;
  hardTermMin: number;
  snapshotIndexMin: number;
}

/** Runs one child until `killAfterMs` past its `ready` line, then SIGKILLs it. */
async function runChild(directory: string, term: number, writers: number, killAfterMs: number, promises: Promises): Promise<void> {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", "test/crash-writer.ts", directory, String(term), String(writers)], {
    cwd: packageDirectory,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let pending = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString("utf8")));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
  child.stdout.on("data", (chunk: Buffer) => {
    pending += chunk.toString("utf8");
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (line === "ready") setTimeout(() => child.kill("SIGKILL"), killAfterMs);
      else recordPromise(promises, line);
    }
  });
  const signal = await exited;
  expect(signal, `child died on its own: ${stderr}`).toBe("SIGKILL");
}

function recordPromise(promises: Promises, line: string): void {
  const [kind, first, second, count, tag] = line.split(" ");
  if (kind === "hard") promises.hardTermMin = Number(first);
  else if (kind === "snapshot") promises.snapshotIndexMin = Number(first);
  else if (kind === "durable") {
    const firstIndex = Number(first);
    // A write at an existing index replaced that entry and everything after it.
    for (const index of promises.entries.keys()) if (index >= firstIndex) promises.entries.delete(index);
    for (let index = firstIndex; index < firstIndex + Number(count); index += 1) {
      promises.entries.set(index, { term: Number(second), key: `key-${tag}-${index}` });
    }
  } else throw new Error(`unexpected child output: ${line}`);
}

function checkKept(state: PersistedState, promises: Promises, context: string): void {
  const snapshotIndex = state.snapshot?.meta.index ?? 0;
  expect(state.hardState.term, context).toBeGreaterThanOrEqual(promises.hardTermMin);
  expect(snapshotIndex, context).toBeGreaterThanOrEqual(promises.snapshotIndexMin);
  if (state.snapshot !== null) expect(JSON.parse(new TextDecoder().decode(state.snapshot.data)), context).toEqual({ index: snapshotIndex });
  state.entries.forEach((entry, position) => expect(entry.index, context).toBe(snapshotIndex + 1 + position));
  const lastIndex = state.entries.at(-1)?.index ?? snapshotIndex;
  for (const [index, promised] of promises.entries) {
    expect(index, `${context}: durable entry ${index} lost (log ends at ${lastIndex})`).toBeLessThanOrEqual(lastIndex);
    if (index <= snapshotIndex) continue;
    const entry = state.entries[index - snapshotIndex - 1];
    expect({ index: entry?.index, term: entry?.term, key: entry?.command.kind === "transition" ? entry.command.key : null }, context).toEqual({
      index,
      ...promised,
    });
  }
}

async function runLane(lane: number): Promise<number> {
  const directory = await directories.create(`lockstep-crash-${lane}-`);
  const random = seededRandom(crashSeed * 31 + lane);
  const promises: Promises = { entries: new Map(), hardTermMin: 0, snapshotIndexMin: 0 };
  for (let round = 1; round <= roundsPerLane; round += 1) {
    const context = `CRASH_SEED=${crashSeed} lane ${lane} round ${round}`;
    await runChild(directory, round, 1 + Math.floor(random() * 16), 20 + Math.floor(random() * 280), promises);
    const storage = await FileStorage.open({ directory, entriesInMemoryMax: 64 });
    checkKept(await storage.load(), promises, context);
    await storage.close();
  }
  return promises.entries.size;
}

describe("crash safety", () => {
  // 52 child process starts: under load 25 on two cores they took more than 120 s.
  it(`keeps every write reported durable across ${lanes * roundsPerLane} SIGKILLs`, { timeout: 360_000 }, async () => {
    const kept = await Promise.all(Array.from({ length: lanes }, (_, lane) => runLane(lane)));
    // The children must have got real work done, or the test proves nothing.
    for (const entries of kept) expect(entries).toBeGreaterThan(100);
  });
});

describe("recovery from damage", () => {
  async function writeSegments(directory: string): Promise<string[]> {
    const storage = await FileStorage.open({ directory, segmentBytesMax: 2048 });
    for (let first = 1; first <= 100; first += 10) await storage.persist({ entries: entriesFrom(first, 10, 1) });
    await storage.close();
    return (await readdir(directory)).filter((name) => name.startsWith("wal-")).sort();
  }

  it("stops at a byte flipped in a closed segment, naming the file and the offset", async () => {
    const directory = await directories.create();
    const [firstSegment] = await writeSegments(directory);
    const path = join(directory, firstSegment ?? "");
    const flippedAt = 700;
    const bytes = await readFile(path);
    bytes[flippedAt] = (bytes[flippedAt] ?? 0) ^ 0x04;
    await writeFile(path, bytes);
    const opening = FileStorage.open({ directory });
    await expect(opening).rejects.toMatchObject({ name: "StorageError", code: "corrupt", path });
    const message = await opening.then(
      () => "opened",
      (error: Error) => error.message,
    );
    const offset = Number(/corrupt at byte (\d+)/.exec(message)?.[1]);
    expect(message).toContain(firstSegment);
    expect(offset).toBeGreaterThan(flippedAt - 200);
    expect(offset).toBeLessThanOrEqual(flippedAt);
  });

  it("stops at a bad checksum in the last segment when good records follow it", async () => {
    const directory = await directories.create();
    const storage = await FileStorage.open({ directory });
    for (let first = 1; first <= 30; first += 10) await storage.persist({ entries: entriesFrom(first, 10, 1) });
    await storage.close();
    const last = (await readdir(directory)).filter((name) => name.startsWith("wal-")).sort().at(-1) ?? "";
    const path = join(directory, last);
    const bytes = await readFile(path);
    bytes[400] = (bytes[400] ?? 0) ^ 0x01;
    await writeFile(path, bytes);
    await expect(FileStorage.open({ directory })).rejects.toMatchObject({ code: "corrupt", path });
  });

  it("cuts a torn tail off the last segment with a warning and keeps every record before it", async () => {
    const directory = await directories.create();
    const storage = await FileStorage.open({ directory });
    await storage.persist({ entries: entriesFrom(1, 20, 1) });
    await storage.close();
    const last = (await readdir(directory)).filter((name) => name.startsWith("wal-")).sort().at(-1) ?? "";
    const path = join(directory, last);
    const { size } = await stat(path);
    await truncate(path, size - 5);
    const logger = recordingLogger();
    const reopened = await FileStorage.open({ directory, logger });
    expect((await reopened.load()).entries).toEqual(entriesFrom(1, 19, 1));
    expect(logger.lines.some((line) => line.level === "warn" && (line.fields as { file?: string }).file === path)).toBe(true);
    await reopened.persist({ entries: entriesFrom(20, 1, 2) });
    await reopened.close();
    const again = await FileStorage.open({ directory });
    expect((await again.load()).entries).toEqual([...entriesFrom(1, 19, 1), ...entriesFrom(20, 1, 2)]);
    await again.close();
  });

  it("treats zeros after the last record (a file extended but not written) as a torn tail", async () => {
    const directory = await directories.create();
    const storage = await FileStorage.open({ directory });
    await storage.persist({ entries: entriesFrom(1, 5, 1) });
    await storage.close();
    const last = (await readdir(directory)).filter((name) => name.startsWith("wal-")).sort().at(-1) ?? "";
    const handle = await open(join(directory, last), "a");
    await handle.write(Buffer.alloc(4096));
    await handle.close();
    const reopened = await FileStorage.open({ directory });
    expect((await reopened.load()).entries).toEqual(entriesFrom(1, 5, 1));
    await reopened.close();
  });

  it("restarts after snapshot and compaction with the same state and the same next index", async () => {
    const directory = await directories.create();
    const storage = await FileStorage.open({ directory, segmentBytesMax: 2048 });
    for (let first = 1; first <= 300; first += 10) await storage.persist({ entries: entriesFrom(first, 10, 1) });
    await storage.persist({ hardState: { term: 1, votedFor: "n2", commitIndex: 290 }, entries: [] });
    await storage.saveSnapshot({ meta: { index: 250, term: 1, members: [{ id: "n1", peerAddress: "", clientUrl: "", voter: true }, { id: "n2", peerAddress: "", clientUrl: "", voter: true }] }, data: new Uint8Array([7]) });
    await storage.compact(250);
    const before = await storage.load();
    const segmentsBefore = (await readdir(directory)).filter((name) => name.startsWith("wal-")).length;
    await storage.close();
    const reopened = await FileStorage.open({ directory, segmentBytesMax: 2048 });
    const after = await reopened.load();
    expect(after).toEqual(before);
    expect(after.entries.map((entry) => entry.index)).toEqual(Array.from({ length: 50 }, (_, offset) => 251 + offset));
    expect(segmentsBefore).toBeLessThan(10);
    await reopened.persist({ entries: entriesFrom(301, 1, 2) });
    expect(reopened.status().lastIndex).toBe(301);
    await reopened.close();
  });

  it("stops at a damaged snapshot file", async () => {
    const directory = await directories.create();
    const storage = await FileStorage.open({ directory });
    await storage.persist({ entries: entriesFrom(1, 5, 1) });
    await storage.saveSnapshot({ meta: { index: 4, term: 1, members: [{ id: "n1", peerAddress: "", clientUrl: "", voter: true }] }, data: new Uint8Array(100).fill(9) });
    await storage.close();
    const name = (await readdir(directory)).find((file) => file.startsWith("snapshot-")) ?? "";
    const bytes = await readFile(join(directory, name));
    bytes[bytes.byteLength - 1] = 0;
    await writeFile(join(directory, name), bytes);
    await expect(FileStorage.open({ directory })).rejects.toMatchObject({ code: "corrupt", path: join(directory, name) });
  });
});
