/**
 * The behaviour every `Storage` must show, as vitest tests. Not exported from `index.ts` (it
 * imports vitest); a test file imports it by relative path and calls it with a harness.
 */
import type { Entry } from "@lockstep/protocol";
import { emptyHardState } from "@lockstep/consensus";
import type { HardState, PersistedState, Snapshot, Storage } from "@lockstep/consensus";
import { describe, expect, it } from "vitest";

/** A storage that can also read a range of its log back (both implementations can). */
export type RangeStorage = Storage & { readEntries(lo: number, hi: number): Promise<Entry[]> };

export interface StorageHarness<S extends RangeStorage> {
  /** A new storage over empty state. */
  create(): Promise<S>;
  /** The storage a restarted node would open over the same state (the same object, in memory). */
  restart(storage: S): Promise<S>;
}

export function entryAt(index: number, term: number, tag = "a"): Entry {
  return { index, term, command: { kind: "transition", key: `key-${tag}-${index}`, to: "Running" } };
}

export function entriesFrom(first: number, count: number, term: number, tag = "a"): Entry[] {
  return Array.from({ length: count }, (_, offset) => entryAt(first + offset, term, tag));
}

function snapshotAt(index: number, term: number): Snapshot {
  return { meta: { index, term, members: [{ id: "n1", peerAddress: "", clientUrl: "", voter: true }, { id: "n2", peerAddress: "", clientUrl: "", voter: true }, { id: "n3", peerAddress: "", clientUrl: "", voter: true }] }, data: new TextEncoder().encode(`store@${index}`) };
}

/** What a restarted node may assume: the next entry it appends goes right after these. */
function nextIndexOf(state: PersistedState): number {
  return (state.entries.at(-1)?.index ?? state.snapshot?.meta.index ?? 0) + 1;
}

export function describeStorageConformance<S extends RangeStorage>(name: string, harness: StorageHarness<S>): void {
  describe(`${name} (Storage conformance)`, () => {
    it("starts empty", async () => {
      const storage = await harness.create();
      expect(await storage.load()).toEqual({ hardState: emptyHardState, snapshot: null, entries: [] });
      await storage.close();
    });

    it("returns what it persisted, before and after a restart", async () => {
      let storage = await harness.create();
      const hardState: HardState = { term: 2, votedFor: "n2", commitIndex: 3 };
      await storage.persist({ hardState, entries: entriesFrom(1, 3, 1) });
      await storage.persist({ entries: entriesFrom(4, 2, 2) });
      const expected = { hardState, snapshot: null, entries: [...entriesFrom(1, 3, 1), ...entriesFrom(4, 2, 2)] };
      expect(await storage.load()).toEqual(expected);
      storage = await harness.restart(storage);
      expect(await storage.load()).toEqual(expected);
      expect(await storage.readEntries(2, 5)).toEqual(expected.entries.slice(1, 4));
      await storage.close();
    });

    it("replaces an existing entry and everything after it", async () => {
      let storage = await harness.create();
      await storage.persist({ entries: entriesFrom(1, 5, 1) });
      await storage.persist({ entries: entriesFrom(3, 2, 2, "b") });
      const expected = [...entriesFrom(1, 2, 1), ...entriesFrom(3, 2, 2, "b")];
      expect((await storage.load()).entries).toEqual(expected);
      storage = await harness.restart(storage);
      expect((await storage.load()).entries).toEqual(expected);
      await storage.persist({ entries: entriesFrom(5, 1, 3, "c") });
      expect((await storage.load()).entries).toEqual([...expected, entryAt(5, 3, "c")]);
      await storage.close();
    });

    it("keeps the newest hard state, also when a write carries only entries", async () => {
      let storage = await harness.create();
      await storage.persist({ hardState: { term: 1, votedFor: null, commitIndex: 0 }, entries: [] });
      await storage.persist({ hardState: { term: 3, votedFor: "n1", commitIndex: 0 }, entries: [] });
      await storage.persist({ entries: entriesFrom(1, 1, 3) });
      storage = await harness.restart(storage);
      expect((await storage.load()).hardState).toEqual({ term: 3, votedFor: "n1", commitIndex: 0 });
      await storage.close();
    });

    it("after snapshot and compaction gives the same state and the same next index", async () => {
      let storage = await harness.create();
      await storage.persist({ hardState: { term: 2, votedFor: "n1", commitIndex: 8 }, entries: [...entriesFrom(1, 4, 1), ...entriesFrom(5, 6, 2)] });
      const before = await storage.load();
      await storage.saveSnapshot(snapshotAt(6, 2));
      await storage.compact(6);
      const after = await storage.load();
      expect(after.snapshot).toEqual(snapshotAt(6, 2));
      expect(after.entries).toEqual(before.entries.slice(6));
      expect(after.hardState).toEqual(before.hardState);
      expect(nextIndexOf(after)).toBe(nextIndexOf(before));
      storage = await harness.restart(storage);
      expect(await storage.load()).toEqual(after);
      await storage.persist({ entries: entriesFrom(11, 1, 2) });
      expect((await storage.load()).entries.map((entry) => entry.index)).toEqual([7, 8, 9, 10, 11]);
      await storage.close();
    });

    it("discards the log when a snapshot does not match it (Raft §7)", async () => {
      let storage = await harness.create();
      await storage.persist({ entries: entriesFrom(1, 5, 1) });
      await storage.saveSnapshot(snapshotAt(4, 3));
      expect((await storage.load()).entries).toEqual([]);
      await storage.saveSnapshot(snapshotAt(20, 4));
      storage = await harness.restart(storage);
      const state = await storage.load();
      expect(state.entries).toEqual([]);
      expect(nextIndexOf(state)).toBe(21);
      await expect(storage.persist({ entries: entriesFrom(20, 1, 4) })).rejects.toThrow(/at or below the snapshot/);
      await storage.persist({ entries: entriesFrom(21, 2, 4) });
      storage = await harness.restart(storage);
      expect((await storage.load()).entries).toEqual(entriesFrom(21, 2, 4));
      await storage.close();
    });

    it("applies concurrent writes in call order and resolves them in that order", async () => {
      let storage = await harness.create();
      const reference: Entry[] = [];
      const resolved: number[] = [];
      const writes: Array<Promise<void>> = [];
      for (let call = 0; call < 120; call += 1) {
        // Every tenth write rewrites the last two entries, as a new leader would.
        const first = call % 10 === 9 ? Math.max(1, reference.length - 1) : reference.length + 1;
        const entries = entriesFrom(first, 1 + (call % 3), 1 + Math.floor(call / 10), `w${call}`);
        reference.length = first - 1;
        reference.push(...entries);
        writes.push(storage.persist({ entries }).then(() => void resolved.push(call)));
      }
      await Promise.all(writes);
      expect(resolved).toEqual(Array.from({ length: 120 }, (_, call) => call));
      expect((await storage.load()).entries).toEqual(reference);
      storage = await harness.restart(storage);
      expect((await storage.load()).entries).toEqual(reference);
      await storage.close();
    });

    it("is not changed by a caller mutating what it passed in or got back", async () => {
      const storage = await harness.create();
      const entries = entriesFrom(1, 2, 1);
      const snapshot = snapshotAt(1, 1);
      await storage.persist({ entries });
      await storage.saveSnapshot(snapshot);
      // The caller's array is its own; the entries it handed over are frozen, all the way down
      // (the harness opens the storage with `freezeEntries`, the check tests and the simulator run).
      entries[1] = entryAt(2, 9, "mutated");
      expect(() => ((entries[0]?.command as { key: string }).key = "mutated")).toThrow(TypeError);
      snapshot.data[0] = 0;
      snapshot.meta.members.push({ id: "n9", peerAddress: "", clientUrl: "", voter: true });
      const loaded = await storage.load();
      const returned = loaded.entries[0];
      expect(() => ((returned?.command as { key: string }).key = "mutated-too")).toThrow(TypeError);
      expect(() => ((returned as { term: number }).term = 9)).toThrow(TypeError);
      expect(await storage.load()).toEqual({ hardState: emptyHardState, snapshot: snapshotAt(1, 1), entries: [entryAt(2, 1)] });
      await storage.close();
    });

    it("freezes the session, members, limits and prefixes inside the commands it stores", async () => {
      const storage = await harness.create();
      const members = [{ id: "n1", peerAddress: "127.0.0.1:1", clientUrl: "http://127.0.0.1:2", voter: true }];
      await storage.persist({
        entries: [
          { index: 1, term: 1, command: { kind: "transition", key: "k", to: "Running", session: { clientId: "c", seq: 1 } } },
          { index: 2, term: 1, command: { kind: "members", members } },
          { index: 3, term: 1, command: { kind: "token_create", proposalId: "p", name: "t", hash: "h", role: "read", prefixes: ["a/"] } },
        ],
      });
      const [transition, membership, token] = (await storage.readEntries(1, 4)).map((entry) => entry.command);
      expect(transition?.kind === "transition" && Object.isFrozen(transition.session)).toBe(true);
      expect(membership?.kind === "members" && Object.isFrozen(membership.members) && Object.isFrozen(membership.members[0])).toBe(true);
      expect(token?.kind === "token_create" && Object.isFrozen(token.prefixes)).toBe(true);
      await storage.close();
    });

    it("refuses writes that would break the log", async () => {
      const storage = await harness.create();
      await storage.persist({ entries: entriesFrom(1, 3, 1) });
      await expect(storage.persist({ entries: entriesFrom(5, 1, 1) })).rejects.toThrow(/gap/);
      await expect(storage.persist({ entries: [entryAt(4, 1), entryAt(6, 1)] })).rejects.toThrow(/contiguous/);
      await expect(storage.compact(2)).rejects.toThrow(/beyond the snapshot/);
      await storage.saveSnapshot(snapshotAt(2, 1));
      await expect(storage.saveSnapshot(snapshotAt(2, 1))).rejects.toThrow(/not newer/);
      expect((await storage.load()).entries).toEqual([entryAt(3, 1)]);
      await storage.close();
    });

    it("rejects every call after close", async () => {
      const storage = await harness.create();
      await storage.close();
      await expect(storage.persist({ entries: entriesFrom(1, 1, 1) })).rejects.toMatchObject({ name: "StorageError", code: "closed" });
      await expect(storage.load()).rejects.toMatchObject({ code: "closed" });
    });
  });
}
