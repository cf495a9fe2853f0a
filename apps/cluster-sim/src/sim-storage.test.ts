import type { Entry } from "@lockstep/protocol";
import { createRandom, VirtualClock } from "@lockstep/transport-memory";
import { describe, expect, it } from "vitest";
import { SimStorage, SimStorageError } from "./sim-storage.js";

function entry(index: number, term: number): Entry {
  return { index, term, command: { kind: "noop" } };
}

function setup(options: { fsyncFailureProbability?: number } = {}) {
  const clock = new VirtualClock();
  const storage = new SimStorage({ clock, random: createRandom(5), syncDelayMsMin: 2, syncDelayMsMax: 9, ...options });
  const settled: string[] = [];
  const track = (name: string, promise: Promise<void>): void => {
    promise.then(
      () => settled.push(`${name}:ok`),
      (error: unknown) => settled.push(`${name}:${error instanceof SimStorageError ? error.code : String(error)}`),
    );
  };
  // Let promise callbacks run after each virtual event.
  const run = async (untilMs: number): Promise<void> => {
    clock.advanceTo(untilMs);
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
  return { clock, storage, settled, track, run };
}

describe("SimStorage", () => {
  it("resolves a persist only after a virtual sync delay, in call order, and only then makes it durable", async () => {
    const { storage, settled, track, run } = setup();
    track("w1", storage.persist({ hardState: { term: 1, votedFor: "a", commitIndex: 0 }, entries: [entry(1, 1)] }));
    track("w2", storage.persist({ entries: [entry(2, 1), entry(3, 1)] }));
    track("w3", storage.persist({ entries: [entry(3, 2)] }));
    await run(1);
    expect(settled).toEqual([]);
    expect(storage.durableEntries()).toEqual([]);
    expect(storage.durableTermAt(1)).toBeNull();
    expect(storage.durableHardState().term).toBe(0);
    await run(100);
    expect(settled).toEqual(["w1:ok", "w2:ok", "w3:ok"]);
    expect(storage.durableEntries()).toEqual([entry(1, 1), entry(2, 1), entry(3, 2)]);
    expect(storage.durableHardState()).toEqual({ term: 1, votedFor: "a", commitIndex: 0 });
  });

  it("loses on crash every write whose promise had not resolved, and keeps every one that had", async () => {
    const { clock, storage, settled, track, run } = setup();
    track("w1", storage.persist({ entries: [entry(1, 1)] }));
    await run(20);
    expect(settled).toEqual(["w1:ok"]);
    track("w2", storage.persist({ hardState: { term: 2, votedFor: "b", commitIndex: 1 }, entries: [entry(2, 2)] }));
    storage.crash();
    await run(100);
    expect(settled).toEqual(["w1:ok"]);
    expect(clock.pendingTimers()).toBe(0);
    const loaded = await storage.load();
    expect(loaded.entries).toEqual([entry(1, 1)]);
    expect(loaded.hardState.term).toBe(0);
    expect(storage.stats()).toMatchObject({ synced: 1, lost: 1 });
    // The restarted node can write again.
    track("w3", storage.persist({ entries: [entry(2, 3)] }));
    await run(200);
    expect(storage.durableEntries()).toEqual([entry(1, 1), entry(2, 3)]);
  });

  it("load shows the writes already issued, and copies so a caller cannot change what is stored", async () => {
    const { storage, run } = setup();
    const written = entry(1, 1);
    void storage.persist({ entries: [written] });
    written.term = 9;
    await run(100);
    const loaded = await storage.load();
    loaded.entries[0]!.term = 7;
    expect(storage.durableTermAt(1)).toBe(1);
    expect((await storage.load()).entries).toEqual([entry(1, 1)]);
  });

  it("keeps snapshots and compaction durable only after their sync", async () => {
    const { storage, run } = setup();
    void storage.persist({ entries: [entry(1, 1), entry(2, 1), entry(3, 2)] });
    await run(50);
    void storage.saveSnapshot({ meta: { index: 2, term: 1, members: [{ id: "a", peerAddress: "", clientUrl: "", voter: true }] }, data: new Uint8Array([1, 2]) });
    void storage.compact(2);
    storage.crash();
    expect(storage.durableSnapshotIndex()).toBe(0);
    void storage.saveSnapshot({ meta: { index: 2, term: 1, members: [{ id: "a", peerAddress: "", clientUrl: "", voter: true }] }, data: new Uint8Array([1, 2]) });
    void storage.compact(2);
    await run(100);
    expect(storage.durableSnapshotIndex()).toBe(2);
    expect(storage.durableEntries()).toEqual([entry(3, 2)]);
    expect(storage.durableTermAt(2)).toBe(1);
    expect(storage.durableTermAt(1)).toBeNull();
    expect(storage.durableCovers(1)).toBe(true);
    expect(storage.durableCovers(4)).toBe(false);
    const loaded = await storage.load();
    expect(loaded.snapshot?.meta).toEqual({ index: 2, term: 1, members: [{ id: "a", peerAddress: "", clientUrl: "", voter: true }] });
  });

  it("rejects a write that would leave a gap in the log, changing nothing", async () => {
    const { storage, run } = setup();
    await expect(storage.persist({ entries: [entry(2, 1)] })).rejects.toThrow(/gap/);
    void storage.persist({ entries: [entry(1, 1)] });
    await run(100);
    expect(storage.durableEntries()).toEqual([entry(1, 1)]);
  });

  it("rejects an fsync failure, keeps that write and every later one non-durable, and refuses more until a crash", async () => {
    const { storage, settled, track, run } = setup();
    track("w1", storage.persist({ entries: [entry(1, 1)] }));
    storage.failNextSync();
    track("w2", storage.persist({ entries: [entry(2, 1)] }));
    track("w3", storage.persist({ entries: [entry(3, 1)] }));
    await run(100);
    expect(settled).toEqual(["w1:ok", "w2:fsync_failed", "w3:failed"]);
    track("w4", storage.persist({ entries: [entry(2, 1)] }));
    await run(200);
    expect(settled.at(-1)).toBe("w4:failed");
    expect(storage.durableEntries()).toEqual([entry(1, 1)]);
    storage.crash();
    track("w5", storage.persist({ entries: [entry(2, 1)] }));
    await run(300);
    expect(settled.at(-1)).toBe("w5:ok");
  });

  it("fails syncs at the configured probability", async () => {
    const { storage, settled, track, run } = setup({ fsyncFailureProbability: 1 });
    track("w1", storage.persist({ entries: [entry(1, 1)] }));
    await run(100);
    expect(settled).toEqual(["w1:fsync_failed"]);
  });

  it("close waits for pending syncs, then refuses more", async () => {
    const { storage, run } = setup();
    void storage.persist({ entries: [entry(1, 1)] });
    let closed = false;
    void storage.close().then(() => (closed = true));
    await run(0);
    expect(closed).toBe(false);
    await run(100);
    expect(closed).toBe(true);
    await expect(storage.persist({ entries: [] })).rejects.toMatchObject({ code: "closed" });
  });
});
