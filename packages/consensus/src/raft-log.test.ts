import type { Entry } from "@lockstep/protocol";
import { describe, expect, it } from "vitest";
import { RaftLog } from "./raft-log.js";

function entries(from: number, terms: number[]): Entry[] {
  return terms.map((term, position) => ({ index: from + position, term, command: { kind: "noop" } }));
}

describe("RaftLog", () => {
  it("keeps entries that agree, truncates the first conflict and appends the rest (Raft §5.3)", () => {
    const log = new RaftLog(0, 0, entries(1, [1, 1, 2, 2]), 1);
    const result = log.maybeAppend(2, 1, 3, entries(3, [3, 3, 3]));
    expect(result).toEqual({ ok: true, lastNewIndex: 5, truncatedFrom: 3 });
    // Appending past the end replaces nothing.
    expect(log.maybeAppend(5, 3, 3, entries(6, [3]))).toEqual({ ok: true, lastNewIndex: 6, truncatedFrom: null });
    expect(log.slice(1, 5).map((entry) => entry.term)).toEqual([1, 1, 3, 3, 3]);
    expect(log.commitIndex).toBe(3);
    expect(log.persistedIndex).toBe(2);
    log.assertInvariants();
  });

  it("refuses a Proposal whose previous entry does not match", () => {
    const log = new RaftLog(0, 0, entries(1, [1, 1]), 0);
    expect(log.maybeAppend(2, 2, 0, [])).toEqual({ ok: false });
    expect(log.maybeAppend(5, 1, 0, [])).toEqual({ ok: false });
  });

  it("asserts instead of truncating a committed entry", () => {
    const log = new RaftLog(0, 0, entries(1, [1, 1, 1]), 3);
    expect(() => log.maybeAppend(1, 1, 3, entries(2, [2]))).toThrow(/committed/);
  });

  it("a stale, shorter Proposal never truncates entries that agree", () => {
    const log = new RaftLog(0, 0, entries(1, [1, 1, 1, 1]), 0);
    log.maybeAppend(1, 1, 0, entries(2, [1]));
    expect(log.lastIndex()).toBe(4);
  });

  it("finds the fast-backup point by term", () => {
    const log = new RaftLog(0, 0, entries(1, [1, 1, 2, 2, 4, 4]), 0);
    expect(log.findConflictByTerm(6, 3)).toBe(4);
    expect(log.findConflictByTerm(6, 1)).toBe(2);
    expect(log.findConflictByTerm(6, 0)).toBe(0);
    expect(log.findConflictByTerm(10, 4)).toBe(6);
  });

  it("compacts without moving entries until the dead prefix is large, and keeps indexes right", () => {
    const log = new RaftLog(0, 0, entries(1, new Array<number>(10_000).fill(1)), 10_000);
    for (let index = 1000; index <= 9000; index += 1000) {
      log.compact(index, 1);
      expect(log.firstIndex()).toBe(index + 1);
      expect(log.entryAt(index + 1)?.index).toBe(index + 1);
      expect(log.term(index)).toBe(1);
      expect(log.term(index - 1)).toBeUndefined();
      log.assertInvariants();
    }
    expect(log.lastIndex()).toBe(10_000);
  });

  it("restores to a snapshot point", () => {
    const log = new RaftLog(0, 0, entries(1, [1, 1]), 1);
    log.restore(50, 3);
    expect([log.firstIndex(), log.lastIndex(), log.lastTerm(), log.commitIndex]).toEqual([51, 50, 3, 50]);
    log.append(entries(51, [3]));
    log.assertInvariants();
  });
});
