// The test-only power-cut layer for real processes (PowerCutFileSystem + cutPower) against the
// disk model the simulator uses (SimulatedDisk): the same operations, crashed with the same seed
// and faults, leave the same files with the same bytes.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { crashOnlyDiskFaults } from "./disk-faults.js";
import { crashImage, cutPower, drawPowerCutFaults, type PowerCutFaults } from "./cut-power.js";
import { FileStorage } from "./file-storage.js";
import type { FileSystem } from "./file-system.js";
import { PowerCutFileSystem, journalBackupDirectory } from "./power-cut-file-system.js";
import { decodeJournal, encodeJournalRecord, type JournalRecord } from "./power-cut-journal.js";
import { SimulatedDisk } from "./simulated-disk.js";
import { seededRandom } from "./testing/seeded-random.js";
import { entriesFrom } from "./testing/storage-conformance.js";
import { TemporaryDirectories } from "./testing/temporary-directory.js";

const directories = new TemporaryDirectories();
afterAll(() => directories.removeAll());

/** Deterministic bytes of one tag, so that every write is told apart from the others and from zeros. */
function bytesOf(tag: number, length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, index) => 1 + ((tag * 31 + index * 7) % 250));
}

/** One scenario: operations on a directory `d` (already durable, empty), through any FileSystem. */
type Scenario = (fs: FileSystem, d: string) => Promise<void>;

async function write(fs: FileSystem, path: string, writes: Array<[position: number, tag: number, length: number]>, sync: boolean): Promise<void> {
  const handle = await fs.open(path, "readWrite");
  for (const [position, tag, length] of writes) await handle.write(bytesOf(tag, length), 0, length, position);
  if (sync) await handle.datasync();
  await handle.close();
}

async function create(fs: FileSystem, path: string, length: number, tag: number, syncData: boolean): Promise<void> {
  const handle = await fs.open(path, "createExclusive");
  if (length > 0) await handle.write(bytesOf(tag, length), 0, length, 0);
  if (syncData) await handle.datasync();
  await handle.close();
}

const scenarios: Record<string, Scenario> = {
  "appends after a synced head, across sector boundaries": async (fs, d) => {
    await create(fs, `${d}/log`, 1000, 1, true);
    await fs.syncDirectory(d);
    await write(fs, `${d}/log`, [[1000, 2, 700], [1700, 3, 1500], [3200, 4, 1]], false);
  },
  "overwrites inside synced data, and a later write into the same sector": async (fs, d) => {
    await create(fs, `${d}/log`, 2048, 1, true);
    await fs.syncDirectory(d);
    await write(fs, `${d}/log`, [[300, 2, 900], [1020, 3, 10], [2040, 4, 600]], false);
  },
  "a truncation, then a write past the new end": async (fs, d) => {
    await create(fs, `${d}/log`, 3000, 1, true);
    await fs.syncDirectory(d);
    const handle = await fs.open(`${d}/log`, "readWrite");
    await handle.truncate(1000);
    await handle.write(bytesOf(2, 1300), 0, 1300, 1000);
    await handle.close();
  },
  "a synced write, then unsynced ones (only those may go)": async (fs, d) => {
    await create(fs, `${d}/log`, 600, 1, true);
    await fs.syncDirectory(d);
    await write(fs, `${d}/log`, [[600, 2, 800]], true);
    await write(fs, `${d}/log`, [[1400, 3, 1100], [0, 4, 100]], false);
  },
  "creates, a rename over a file and a removal, no directory sync (data synced)": async (fs, d) => {
    await create(fs, `${d}/keep`, 700, 1, true);
    await create(fs, `${d}/old`, 500, 2, true);
    await create(fs, `${d}/gone`, 300, 3, true);
    await fs.syncDirectory(d);
    await create(fs, `${d}/old.tmp`, 900, 4, true);
    await fs.rename(`${d}/old.tmp`, `${d}/old`);
    await fs.unlink(`${d}/gone`);
    await create(fs, `${d}/new`, 200, 5, true);
  },
  "directory changes and an unsynced append to a surviving file": async (fs, d) => {
    await create(fs, `${d}/log`, 512, 1, true);
    await fs.syncDirectory(d);
    await create(fs, `${d}/snap.tmp`, 1200, 2, true);
    await fs.rename(`${d}/snap.tmp`, `${d}/snap`);
    await write(fs, `${d}/log`, [[512, 3, 2000]], false);
  },
  "an open that empties an existing file": async (fs, d) => {
    await create(fs, `${d}/marker`, 1500, 1, true);
    await fs.syncDirectory(d);
    const handle = await fs.open(`${d}/marker`, "create");
    await handle.write(bytesOf(2, 400), 0, 400, 0);
    await handle.close();
  },
};

const faultSets: Record<string, PowerCutFaults> = {
  "the crash-only mix": crashOnlyDiskFaults,
  "every write kept, every directory change undone": { crashWriteKeptProbability: 1, crashWriteTornProbability: 0, crashSizeWithoutDataProbability: 0, crashDirectoryChangeKeptProbability: 0 },
  "every write lost, size without data": { crashWriteKeptProbability: 0, crashWriteTornProbability: 0, crashSizeWithoutDataProbability: 1, crashDirectoryChangeKeptProbability: 1 },
  "every write torn": { crashWriteKeptProbability: 0, crashWriteTornProbability: 1, crashSizeWithoutDataProbability: 0.5, crashDirectoryChangeKeptProbability: 0.5 },
};

/** The names and bytes of every file in a directory, from either disk. */
type Image = Record<string, string>;

async function simulatedImage(scenario: Scenario, faults: PowerCutFaults, seed: number): Promise<Image> {
  // The disk draws for its sync delays too: only the crash's draws come from the seed, as in cutPower.
  let source: () => number = () => 0;
  const disk = new SimulatedDisk({ random: () => source(), faults: { ...crashOnlyDiskFaults, ...faults, crashStaleSectorProbability: 0, crashBitFlipProbability: 0 } });
  const fs = disk.fileSystem();
  await fs.mkdir("/d");
  await fs.syncDirectory("/");
  await scenario(fs, "/d");
  source = seededRandom(seed);
  disk.crash();
  const after = disk.fileSystem();
  const image: Image = {};
  for (const name of await after.readdir("/d")) image[name] = Buffer.from(await after.readFile(`/d/${name}`)).toString("hex");
  return image;
}

async function journaledImage(scenario: Scenario, faults: PowerCutFaults, seed: number): Promise<Image> {
  const root = await directories.create("lockstep-power-cut-");
  const d = join(root, "d");
  mkdirSync(d);
  const fs = new PowerCutFileSystem({ journalPath: join(root, "journal") });
  await scenario(fs, d);
  await fs.halt();
  cutPower({ journalPath: join(root, "journal"), random: seededRandom(seed), faults });
  expect(existsSync(join(root, "journal"))).toBe(false);
  expect(existsSync(journalBackupDirectory(join(root, "journal")))).toBe(false);
  const image: Image = {};
  for (const name of readdirSync(d).sort()) image[name] = readFileSync(join(d, name)).toString("hex");
  return image;
}

describe("a power cut of a real process's files, as the simulator's disk has it", () => {
  for (const [scenarioName, scenario] of Object.entries(scenarios)) {
    for (const [faultName, faults] of Object.entries(faultSets)) {
      it(`${scenarioName}; ${faultName}: the same files and bytes as SimulatedDisk for each seed`, async () => {
        const distinct = new Set<string>();
        for (let seed = 1; seed <= 12; seed++) {
          const expected = await simulatedImage(scenario, faults, seed);
          const found = await journaledImage(scenario, faults, seed);
          expect({ seed, found }).toEqual({ seed, found: expected });
          distinct.add(JSON.stringify(found));
        }
        // A test that could not tell a kept write from a lost one would see one outcome only.
        if (faultName === "every write torn" || faultName === "the crash-only mix") expect(distinct.size).toBeGreaterThan(1);
      });
    }
  }

  it("a torn write keeps some of its sectors and not others, at 512-byte boundaries only", () => {
    const old = bytesOf(1, 512);
    const now = new Uint8Array(512 * 5);
    now.set(old);
    now.set(bytesOf(2, 2048), 512);
    const record: JournalRecord = { type: "write", seq: 1, file: "1:1", path: "/x", position: 512, length: 2048, oldLength: 512, oldBytes: new Uint8Array(0) };
    const outcomes = new Set<string>();
    for (let seed = 1; seed <= 64; seed++) {
      const counters = { writesKept: 0, writesTorn: 0, writesLost: 0 };
      const image = crashImage(now, [record], seededRandom(seed), { crashWriteKeptProbability: 0, crashWriteTornProbability: 1, crashSizeWithoutDataProbability: 0, crashDirectoryChangeKeptProbability: 1 }, counters);
      expect(counters.writesTorn).toBe(1);
      expect(Buffer.from(image.subarray(0, 512)).equals(Buffer.from(old))).toBe(true);
      const sectors: string[] = [];
      for (let sector = 1; sector * 512 < image.byteLength; sector++) {
        const bytes = image.subarray(sector * 512, sector * 512 + 512);
        const written = Buffer.from(bytes).equals(Buffer.from(now.subarray(sector * 512, sector * 512 + 512)));
        expect(written || bytes.every((byte) => byte === 0), `seed ${seed} sector ${sector}`).toBe(true);
        sectors.push(written ? "w" : "0");
      }
      outcomes.add(sectors.join(""));
    }
    expect(outcomes.size).toBeGreaterThan(4);
  });

  it("decodes a journal cut at any byte as the records before the cut", () => {
    const records: JournalRecord[] = [
      { type: "write", seq: 1, file: "1:2", path: "/d/log", position: 0, length: 10, oldLength: 4, oldBytes: Uint8Array.from([1, 2, 3, 4]) },
      { type: "link", seq: 2, directory: "/d", name: "x", file: "1:3", kind: "file", created: true, backup: null, replaced: null },
      { type: "synced", file: "1:2", seqMax: 1 },
    ];
    const encoded = records.map(encodeJournalRecord);
    const whole = Buffer.concat(encoded);
    expect(decodeJournal(whole)).toEqual({ records, tailBytesIgnored: 0 });
    for (let cut = 0; cut < whole.byteLength; cut++) {
      const decoded = decodeJournal(whole.subarray(0, cut));
      let complete = 0;
      for (let length = 0, index = 0; index < encoded.length && length + encoded[index]!.byteLength <= cut; index++) {
        length += encoded[index]!.byteLength;
        complete = index + 1;
      }
      expect(decoded.records).toEqual(records.slice(0, complete));
    }
    const flipped = Buffer.from(whole);
    const at = encoded[0]!.byteLength + 12;
    flipped[at] = (flipped[at] ?? 0) ^ 0x40;
    expect(decodeJournal(flipped).records).toEqual(records.slice(0, 1));
  });

  it("drops a file's records once its fsync completes, and rewrites a large journal short", async () => {
    const root = await directories.create("lockstep-power-cut-");
    const journalPath = join(root, "journal");
    const fs = new PowerCutFileSystem({ journalPath, journalBytesMax: 4096 });
    const handle = await fs.open(join(root, "log"), "createExclusive");
    await fs.syncDirectory(root);
    for (let round = 0; round < 50; round++) {
      await handle.write(bytesOf(round, 300), 0, 300, round * 300);
      await handle.datasync();
    }
    await handle.write(bytesOf(99, 100), 0, 100, 50 * 300);
    const pending = decodeJournal(readFileSync(journalPath)).records.filter((record) => record.type === "write");
    expect(readFileSync(journalPath).byteLength).toBeLessThan(8192);
    await fs.halt();
    // Only the last, unsynced write can be lost: the cut with every write lost takes exactly it.
    cutPower({ journalPath, random: seededRandom(1), faults: { crashWriteKeptProbability: 0, crashWriteTornProbability: 0, crashSizeWithoutDataProbability: 0, crashDirectoryChangeKeptProbability: 1 } });
    expect(readFileSync(join(root, "log")).byteLength).toBe(50 * 300);
    expect(pending.at(-1)).toMatchObject({ position: 50 * 300, length: 100 });
  });

  it("refuses to start over a journal that no cut has consumed", async () => {
    const root = await directories.create("lockstep-power-cut-");
    writeFileSync(join(root, "journal"), "x");
    expect(() => new PowerCutFileSystem({ journalPath: join(root, "journal") })).toThrow(/not empty: run cutPower/);
  });
});

describe("FileStorage on a real directory through repeated power cuts", () => {
  it("restarts after every cut, keeping every write that resolved, and never refuses a torn write", async () => {
    const cuts = { writesTorn: 0, writesLost: 0, directoryChangesUndone: 0 };
    for (let seed = 1; seed <= 12; seed++) {
      const root = await directories.create("lockstep-power-cut-");
      const journalPath = join(root, "journal");
      const random = seededRandom(seed);
      let durableThrough = 0;
      for (let round = 0; round < 4; round++) {
        const fs = new PowerCutFileSystem({ journalPath });
        const storage = await FileStorage.open({ directory: join(root, "data"), fileSystem: fs, segmentBytesMax: 4096, entriesInMemoryMax: 8 }).catch((error: unknown) => {
          throw new Error(`seed ${seed} round ${round}: ${String(error)}`);
        });
        const state = await storage.load();
        expect(state.possibleLoss).toBeUndefined();
        const last = state.entries.at(-1)?.index ?? 0;
        expect({ seed, round, lastAtLeast: last >= durableThrough }).toEqual({ seed, round, lastAtLeast: true });
        const next = last + 1;
        const writes = Array.from({ length: 6 }, (_, write) => {
          const entries = entriesFrom(next + write * 5, 5, 1, `r${round}-${"x".repeat((seed * 7 + write) % 40)}`);
          return storage.persist({ hardState: { term: 1, votedFor: "n1", commitIndex: 0 }, entries }).then(() => (durableThrough = Math.max(durableThrough, entries.at(-1)?.index ?? 0)));
        });
        // The power fails at a moment the seed picks: with writes queued, in flight or synced.
        const moment = Math.floor(random() * 4);
        if (moment > 0) await writes[moment * 2 - 1];
        else await new Promise((resolve) => setImmediate(resolve));
        await fs.halt();
        const report = cutPower({ journalPath, random, faults: drawPowerCutFaults(random) });
        cuts.writesTorn += report.writesTorn;
        cuts.writesLost += report.writesLost;
        cuts.directoryChangesUndone += report.directoryChangesUndone;
      }
    }
    // The cuts did take things back: a run where nothing was ever torn or lost proves nothing.
    expect(cuts.writesTorn).toBeGreaterThan(0);
    expect(cuts.writesLost).toBeGreaterThan(0);
  }, 60_000);
});

describe("FileStorage snapshots and compaction on a real directory through repeated power cuts", () => {
  it("keeps every snapshot and write that resolved, whatever the cut catches in flight (temporary file, rename, removals)", async () => {
    const caught = { directoryChangesUndone: 0, cutsWithPending: 0 };
    for (let seed = 1; seed <= 10; seed++) {
      const root = await directories.create("lockstep-power-cut-");
      const journalPath = join(root, "journal");
      const random = seededRandom(1000 + seed);
      let durableThrough = 0;
      let snapshotThrough = 0;
      for (let round = 0; round < 5; round++) {
        const fs = new PowerCutFileSystem({ journalPath });
        const storage = await FileStorage.open({ directory: join(root, "data"), fileSystem: fs, segmentBytesMax: 2048, entriesInMemoryMax: 8 }).catch((error: unknown) => {
          throw new Error(`seed ${seed} round ${round}: ${String(error)}`);
        });
        const state = await storage.load();
        const where = `seed ${seed} round ${round}`;
        expect(state.possibleLoss, where).toBeUndefined();
        expect(state.snapshot?.meta.index ?? 0, where).toBeGreaterThanOrEqual(snapshotThrough);
        const last = state.entries.at(-1)?.index ?? state.snapshot?.meta.index ?? 0;
        expect(last, where).toBeGreaterThanOrEqual(durableThrough);
        const first = state.entries[0]?.index;
        if (first !== undefined) expect(first, where).toBe((state.snapshot?.meta.index ?? 0) + 1);
        const next = last + 1;
        const entries = entriesFrom(next, 12, 1, `r${round}`);
        await storage.persist({ entries });
        durableThrough = Math.max(durableThrough, next + 11);
        // A snapshot of what is durable, then compaction, with the power failing somewhere in it.
        const index = next + 8;
        const snapshotting = storage
          .saveSnapshot({ meta: { index, term: 1, members: [{ id: "n1", peerAddress: "", clientUrl: "", voter: true }] }, data: new TextEncoder().encode(`store@${index}`) })
          .then(() => {
            snapshotThrough = Math.max(snapshotThrough, index);
            return storage.compact(index);
          });
        void storage.persist({ entries: entriesFrom(next + 12, 3, 1, `late${round}`) }).catch(() => undefined);
        const turns = Math.floor(random() * 40);
        for (let turn = 0; turn < turns; turn++) await new Promise((resolve) => setImmediate(resolve));
        void snapshotting.catch(() => undefined);
        await fs.halt();
        const report = cutPower({ journalPath, random, faults: drawPowerCutFaults(random) });
        caught.directoryChangesUndone += report.directoryChangesUndone;
        if (report.writesKept + report.writesTorn + report.writesLost + report.directoryChangesPending > 0) caught.cutsWithPending += 1;
      }
    }
    // The cuts landed inside snapshot writes and renames, not only between them.
    expect(caught.directoryChangesUndone).toBeGreaterThan(0);
    expect(caught.cutsWithPending).toBeGreaterThan(10);
  }, 60_000);
});
