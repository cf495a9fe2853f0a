import { describe, expect, it } from "vitest";
import { estimateEntryBytes } from "../entry-size.js";
import { startSingleNode, type ArrayStorage, type ManualClock } from "../testing/driver-harness.js";
import type { ConsensusNode } from "./consensus-node.js";
import type { DriverConfig } from "./driver-config.js";

/** A one-member cluster: it elects itself and commits alone, so every write is applied at once. */
function singleNode(config: Partial<DriverConfig>): ReturnType<typeof startSingleNode> {
  return startSingleNode({ seed: 5, config });
}

/** Keys of about 250 bytes: large entries, the case an entry count alone does not bound. */
const keyOf = (position: number): string => `machine-${String(position).padStart(4, "0")}-${"x".repeat(240)}`;

async function writeKeys(parts: { node: ConsensusNode; clock: ManualClock }, count: number): Promise<void> {
  for (let position = 0; position < count; position++) {
    const outcome = parts.node.transition({ key: keyOf(position), to: "Running" });
    await parts.clock.advance(10);
    expect(await outcome).toMatchObject({ ok: true });
  }
}

const logBytes = (storage: ArrayStorage): number => storage.entries.reduce((total, entry) => total + estimateEntryBytes(entry), 0);

describe("the log kept in memory since the last snapshot has a byte limit (logBytesInMemoryMax)", () => {
  it("snapshots and compacts once the applied entries pass the limit, long before snapshotEntriesThreshold", async () => {
    const limitBytes = 16 * 1024;
    const parts = await singleNode({ snapshotEntriesThreshold: 100_000, logBytesInMemoryMax: limitBytes });
    await writeKeys(parts, 300);
    const { node, storage } = parts;
    // 300 entries of about 340 bytes: about 100 KB written, so several snapshots of a few dozen entries each.
    expect(storage.snapshotsSaved.length).toBeGreaterThanOrEqual(4);
    expect(storage.snapshot?.meta.index).toBeGreaterThan(250);
    // What is left after the last snapshot stays under the limit plus the one entry that crossed it.
    expect(logBytes(storage)).toBeLessThan(limitBytes + 400);
    // The store lost nothing: every key is there, in the state written.
    for (const position of [0, 150, 299]) expect(await node.read(keyOf(position), "stale")).toMatchObject({ ok: true, state: "Running" });
  });

  it("leaves the entry threshold alone while the log is under the limit", async () => {
    const parts = await singleNode({ snapshotEntriesThreshold: 100_000, logBytesInMemoryMax: 64 * 1024 * 1024 });
    await writeKeys(parts, 300);
    expect(parts.storage.snapshotsSaved).toEqual([]);
    expect(logBytes(parts.storage)).toBeGreaterThan(90 * 1024);
  });
});
