import { describe, expect, it } from "vitest";
import { PersistTimes, persistRunsMax } from "./persist-times.js";

describe("PersistTimes", () => {
  it("answers each index of a run with the run's time, in index order", () => {
    const times = new PersistTimes();
    times.note(1, 3, 10);
    times.note(4, 4, 20);
    times.note(7, 9, 30);
    expect([1, 2, 3, 4].map((index) => times.take(index))).toEqual([10, 10, 10, 20]);
    // A gap (entries persisted elsewhere, e.g. before this node led) has no time.
    expect(times.take(5)).toBeUndefined();
    expect(times.take(8)).toBe(30);
    expect(times.take(10)).toBeUndefined();
    expect(times.size).toBe(0);
  });

  it("forgets older runs when a run does not follow the newest (a truncated or restarted log)", () => {
    const times = new PersistTimes();
    times.note(1, 5, 10);
    times.note(3, 4, 20);
    expect(times.size).toBe(1);
    expect(times.take(3)).toBe(20);
  });

  it("holds at most persistRunsMax runs", () => {
    const times = new PersistTimes();
    for (let run = 0; run < persistRunsMax + 5; run++) times.note(run + 1, run + 1, run);
    expect(times.size).toBeLessThanOrEqual(persistRunsMax);
    expect(times.take(persistRunsMax + 5)).toBe(persistRunsMax + 4);
  });

  it("keeps answering after many runs were consumed from the front", () => {
    const times = new PersistTimes();
    for (let run = 0; run < 5000; run++) {
      times.note(run * 2 + 1, run * 2 + 2, run);
      expect(times.take(run * 2 + 1)).toBe(run);
      expect(times.take(run * 2 + 2)).toBe(run);
    }
  });
});
