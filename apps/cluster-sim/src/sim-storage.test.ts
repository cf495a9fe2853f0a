import type { Entry } from "@lockstep/protocol";
import { crashOnlyDiskFaults } from "@lockstep/storage";
import { createRandom, VirtualClock } from "@lockstep/transport-memory";
import { describe, expect, it } from "vitest";
import { SimStorage } from "./sim-storage.js";

function entry(index: number, term: number): Entry {
  return { index, term, command: { kind: "noop" } };
}

function setup(faults = crashOnlyDiskFaults) {
  const clock = new VirtualClock();
  const violations: string[] = [];
  const storage = new SimStorage({ clock, random: createRandom(5), faults: { ...faults, fsyncDelayMsMin: 2, fsyncDelayMsMax: 9 }, mayRot: () => false, onViolation: (detail) => violations.push(detail) });
  const run = async (untilMs: number): Promise<void> => {
    while (clock.nowMs() < untilMs && clock.runNext()) await new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
  const start = async (): Promise<void> => {
    const opening = storage.open();
    let opened: Awaited<typeof opening> | null = null;
    void opening.then((result) => (opened = result));
    while (opened === null) await run(clock.nowMs() + 10);
    expect(opened).toEqual({ ok: true });
    const loading = storage.load();
    await run(clock.nowMs() + 50);
    await loading;
  };
  const settle = async <T,>(promise: Promise<T>): Promise<T> => {
    let done = false;
    void promise.finally(() => (done = true)).catch(() => undefined);
    while (!done) await run(clock.nowMs() + 10);
    return promise;
  };
  return { clock, storage, violations, run, start, settle };
}

describe("SimStorage (FileStorage over a SimulatedDisk, with the durable view the checkers use)", () => {
  it("makes a write durable only when FileStorage resolves it, after the virtual fsync", async () => {
    const { storage, run, start } = setup();
    await start();
    let resolved = false;
    void storage.persist({ hardState: { term: 1, votedFor: "a", commitIndex: 0 }, entries: [entry(1, 1)] }).then(() => (resolved = true));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(resolved).toBe(false);
    expect(storage.durableCovers(1)).toBe(false);
    await run(1_000);
    expect(resolved).toBe(true);
    expect(storage.durableEntries()).toEqual([{ index: 1, term: 1 }]);
    expect(storage.durableHardState()).toEqual({ term: 1, votedFor: "a", commitIndex: 0 });
  });

  it("restarts over what a power cut left, and finds everything that was durable still there", async () => {
    const { storage, run, start, violations } = setup({ ...crashOnlyDiskFaults, crashWriteKeptProbability: 0.3, crashWriteTornProbability: 0.5 });
    await start();
    for (let round = 0; round < 5; round++) {
      const first = storage.durableEntries().length + 1;
      const writes = Array.from({ length: 4 }, (_, write) => storage.persist({ entries: [entry(first + write * 2, 1), entry(first + write * 2 + 1, 1)] }));
      void writes;
      await run(6);
      storage.crash();
      await start();
    }
    expect(violations).toEqual([]);
    expect(storage.stats().crashes).toBe(5);
  });

  it("reports a restart that lost what had been durable (here: the last segment deleted behind storage's back)", async () => {
    const { storage, start, violations, settle } = setup();
    await start();
    await settle(storage.persist({ entries: [entry(1, 1), entry(2, 1)] }));
    storage.crash();
    const fileSystem = storage.disk.fileSystem();
    const names = await fileSystem.readdir("/var/lib/lockstep");
    for (const name of names.filter((file) => file.startsWith("wal-"))) await fileSystem.unlink(`/var/lib/lockstep/${name}`);
    await settle(fileSystem.syncDirectory("/var/lib/lockstep"));
    storage.detach();
    await start();
    expect(violations.join("\n")).toMatch(/storage lost what it had made durable: entry 1/);
  });

  it("keeps a node down when its storage refuses to start (corrupt), and says why", async () => {
    const { storage, start, settle } = setup();
    await start();
    await settle(storage.persist({ entries: [entry(1, 1)] }));
    storage.crash();
    const fileSystem = storage.disk.fileSystem();
    const handle = await fileSystem.open("/var/lib/lockstep/LOCKSTEP", "create");
    await handle.write(Buffer.from("something else\n"), 0, 15, 0);
    await settle(handle.sync());
    storage.detach();
    const opened = await settle(storage.open());
    expect(opened).toMatchObject({ ok: false, permanent: true });
    expect(storage.stats().refusedCorrupt).toBe(1);
  });
});
