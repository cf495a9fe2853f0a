import { describe, expect, it } from "vitest";
import { crashOnlyDiskFaults, perfectDiskFaults } from "./disk-faults.js";
import type { DiskFaults } from "./disk-faults.js";
import { SimulatedDisk } from "./simulated-disk.js";
import { ManualClock } from "./testing/manual-clock.js";
import { seededRandom } from "./testing/seeded-random.js";

function disk(faults: Partial<DiskFaults>, seed = 1, clock?: ManualClock): SimulatedDisk {
  return new SimulatedDisk({ random: seededRandom(seed), faults: { ...crashOnlyDiskFaults, ...faults }, ...(clock === undefined ? {} : { clock }) });
}

async function text(disk: SimulatedDisk, path: string): Promise<string> {
  return Buffer.from(await disk.fileSystem().readFile(path)).toString("utf8");
}

describe("SimulatedDisk", () => {
  it("keeps synced data and synced directory entries across a crash", async () => {
    const simulated = disk({ crashWriteKeptProbability: 0, crashWriteTornProbability: 0, crashDirectoryChangeKeptProbability: 0 });
    const fs = simulated.fileSystem();
    await fs.mkdir("/data");
    const file = await fs.open("/data/a", "createExclusive");
    await file.write(Buffer.from("synced"), 0, 6, 0);
    await file.sync();
    await fs.syncDirectory("/data");
    await fs.syncDirectory("/");
    await file.write(Buffer.from(" and not"), 0, 8, 6);
    simulated.crash();
    expect(await text(simulated, "/data/a")).toBe("synced");
  });

  it("loses a create that no directory fsync covered, even when the file's data was synced", async () => {
    const simulated = disk({ crashDirectoryChangeKeptProbability: 0 });
    const fs = simulated.fileSystem();
    const file = await fs.open("/a", "create");
    await file.write(Buffer.from("x"), 0, 1, 0);
    await file.sync();
    simulated.crash();
    await expect(simulated.fileSystem().readFile("/a")).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("undoes a rename that no directory fsync covered", async () => {
    const simulated = disk({ crashDirectoryChangeKeptProbability: 0 });
    const fs = simulated.fileSystem();
    const file = await fs.open("/old", "create");
    await file.write(Buffer.from("v1"), 0, 2, 0);
    await file.sync();
    await fs.syncDirectory("/");
    await fs.rename("/old", "/new");
    simulated.crash();
    expect(await simulated.fileSystem().readdir("/")).toEqual(["old"]);
  });

  it("tears unsynced writes at sector boundaries: every outcome is a mix of whole old and new sectors", async () => {
    const outcomes = new Set<string>();
    for (let seed = 1; seed <= 200; seed++) {
      const simulated = disk({ crashWriteKeptProbability: 0.3, crashWriteTornProbability: 0.5, crashStaleSectorProbability: 0 }, seed);
      const fs = simulated.fileSystem();
      const file = await fs.open("/f", "create");
      await file.write(Buffer.alloc(1536, 1), 0, 1536, 0);
      await file.sync();
      await fs.syncDirectory("/");
      await file.write(Buffer.alloc(1536, 2), 0, 1536, 0);
      simulated.crash();
      const bytes = await simulated.fileSystem().readFile("/f");
      expect(bytes.byteLength).toBe(1536);
      const sectors = [0, 1, 2].map((sector) => {
        const values = new Set(bytes.subarray(sector * 512, sector * 512 + 512));
        expect(values.size).toBe(1);
        return [...values][0];
      });
      outcomes.add(sectors.join(""));
    }
    // All eight mixes of old (1) and new (2) sectors happen: any subset, in any order.
    expect(outcomes.size).toBe(8);
  });

  it("leaves a hole of zeros when later sectors of an appended write reach the disk and earlier ones do not", async () => {
    let holes = 0;
    for (let seed = 1; seed <= 100; seed++) {
      const simulated = disk({ crashWriteKeptProbability: 0, crashWriteTornProbability: 1 }, seed);
      const fs = simulated.fileSystem();
      const file = await fs.open("/f", "create");
      await fs.syncDirectory("/");
      await file.write(Buffer.alloc(2048, 7), 0, 2048, 0);
      simulated.crash();
      const bytes = await simulated.fileSystem().readFile("/f");
      if (bytes.byteLength === 2048 && bytes[0] === 0) holes++;
    }
    expect(holes).toBeGreaterThan(0);
  });

  it("flips a bit of synced data at a crash when the seed says so", async () => {
    const simulated = disk({ crashBitFlipProbability: 1 });
    const fs = simulated.fileSystem();
    const file = await fs.open("/f", "create");
    await file.write(Buffer.alloc(100, 0x55), 0, 100, 0);
    await file.sync();
    await fs.syncDirectory("/");
    simulated.crash();
    const bytes = await simulated.fileSystem().readFile("/f");
    expect([...bytes].filter((byte) => byte !== 0x55)).toHaveLength(1);
    expect(simulated.stats().bitFlips).toBe(1);
  });

  it("fails reads, writes and fsyncs with EIO or ENOSPC at the seed's rates", async () => {
    const simulated = disk({ readErrorProbability: 1 });
    const fs = simulated.fileSystem();
    await (await fs.open("/f", "create")).close();
    await expect(fs.readFile("/f")).rejects.toMatchObject({ code: "EIO" });
    const full = disk({ noSpaceProbability: 1 });
    const handle = await full.fileSystem().open("/f", "create");
    await expect(handle.write(Buffer.from("x"), 0, 1, 0)).rejects.toMatchObject({ code: "ENOSPC" });
    const failing = disk({ fsyncErrorProbability: 1 });
    const synced = await failing.fileSystem().open("/f", "create");
    await expect(synced.sync()).rejects.toMatchObject({ code: "EIO" });
  });

  it("completes fsyncs on the virtual clock, in call order, and a crashed process's calls never settle", async () => {
    const clock = new ManualClock();
    const simulated = disk({ ...perfectDiskFaults, fsyncDelayMsMin: 5, fsyncDelayMsMax: 5 }, 1, clock);
    const fs = simulated.fileSystem();
    const file = await fs.open("/f", "create");
    let synced = false;
    void file.sync().then(() => (synced = true));
    await Promise.resolve();
    expect(synced).toBe(false);
    await clock.settle(file.sync());
    expect(synced).toBe(true);
    expect(clock.nowMs()).toBe(5);
    simulated.crash();
    let answered = false;
    void fs.readdir("/").then(() => (answered = true));
    await clock.settle(Promise.resolve());
    expect(answered).toBe(false);
  });

  it("keeps a change made while two directory fsyncs overlap, once a later fsync covers it", async () => {
    const clock = new ManualClock();
    const simulated = disk({ fsyncDelayMsMin: 5, fsyncDelayMsMax: 5, crashDirectoryChangeKeptProbability: 0 }, 1, clock);
    const fs = simulated.fileSystem();
    await (await fs.open("/a", "create")).close();
    const first = fs.syncDirectory("/");
    await (await fs.open("/b", "create")).close();
    const second = fs.syncDirectory("/");
    await (await fs.open("/c", "create")).close();
    await clock.settle(Promise.all([first, second]));
    await clock.settle(fs.syncDirectory("/"));
    simulated.crash();
    expect(await simulated.fileSystem().readdir("/")).toEqual(["a", "b", "c"]);
  });

  it("gives the same disk for the same seed", async () => {
    const run = async (seed: number): Promise<string> => {
      const simulated = disk({ crashWriteTornProbability: 0.5, crashStaleSectorProbability: 0.5, crashBitFlipProbability: 0.5 }, seed);
      const fs = simulated.fileSystem();
      const file = await fs.open("/f", "create");
      for (let write = 0; write < 8; write++) await file.write(Buffer.alloc(700, write + 1), 0, 700, write * 700);
      simulated.crash();
      return Buffer.from(await simulated.fileSystem().readFile("/f").catch(() => new Uint8Array(0))).toString("hex");
    };
    expect(await run(3)).toBe(await run(3));
  });
});
