import { describe, expect, it } from "vitest";
import { MemoryStorage } from "./memory-storage.js";
import { describeStorageConformance, entriesFrom } from "./testing/storage-conformance.js";

describeStorageConformance("MemoryStorage", {
  create: () => Promise.resolve(new MemoryStorage({ freezeEntries: true })),
  restart: (storage) => Promise.resolve(storage),
});

describe("MemoryStorage without freezeEntries", () => {
  it("keeps and returns the entry objects it is given, neither copied nor frozen (immutable by contract)", async () => {
    const storage = new MemoryStorage();
    const entries = entriesFrom(1, 2, 1);
    await storage.persist({ entries });
    const [first, second] = await storage.readEntries(1, 3);
    expect(first).toBe(entries[0]);
    expect(second).toBe(entries[1]);
    expect(Object.isFrozen(first)).toBe(false);
    await storage.close();
  });
});
