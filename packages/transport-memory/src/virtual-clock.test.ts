import { describe, expect, it } from "vitest";
import { VirtualClock } from "./virtual-clock.js";

describe("VirtualClock", () => {
  it("fires timers in due order, equal due times in the order they were set", () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push("c@30"), 30);
    clock.setTimeout(() => fired.push("a@10"), 10);
    clock.setTimeout(() => fired.push("b1@20"), 20);
    clock.setTimeout(() => fired.push("b2@20"), 20);
    clock.setTimeout(() => fired.push("b3@20"), 20);
    while (clock.runNext());
    expect(fired).toEqual(["a@10", "b1@20", "b2@20", "b3@20", "c@30"]);
    expect(clock.nowMs()).toBe(30);
  });

  it("does not fire a cleared timer", () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    const handle = clock.setTimeout(() => fired.push(1), 5);
    clock.setTimeout(() => fired.push(2), 6);
    clock.clearTimeout(handle);
    expect(clock.pendingTimers()).toBe(1);
    clock.advanceTo(100);
    expect(fired).toEqual([2]);
  });

  it("advanceTo fires what is due, including timers set by callbacks, then sets the time", () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.nowMs());
      clock.setTimeout(() => fired.push(clock.nowMs()), 0);
      clock.setTimeout(() => fired.push(clock.nowMs()), 50);
    }, 10);
    expect(clock.advanceTo(40)).toBe(2);
    expect(fired).toEqual([10, 10]);
    expect(clock.nowMs()).toBe(40);
    expect(clock.nextDueMs()).toBe(60);
    expect(() => clock.advanceTo(39)).toThrow(/already 40/);
  });

  it("runUntil stops at the deadline, on done(), or after eventsMax", () => {
    const clock = new VirtualClock();
    let count = 0;
    for (let i = 1; i <= 10; i++) clock.setTimeout(() => count++, i);
    expect(clock.runUntil(3)).toBe(3);
    expect(clock.nowMs()).toBe(3);
    expect(clock.runUntil(100, { done: () => count >= 5 })).toBe(2);
    expect(clock.runUntil(100, { eventsMax: 2 })).toBe(2);
    expect(count).toBe(7);
  });

  it("returns false from runNext when nothing is pending", () => {
    const clock = new VirtualClock({ startMs: 5 });
    expect(clock.runNext()).toBe(false);
    expect(clock.nowMs()).toBe(5);
  });

  it("keeps order after many cancellations (heap compaction)", () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    const handles = Array.from({ length: 1_000 }, (_, i) => clock.setTimeout(() => fired.push(i), (i * 7919) % 1_000));
    handles.forEach((handle, i) => {
      if (i % 10 !== 0) clock.clearTimeout(handle);
    });
    while (clock.runNext());
    const expected = Array.from({ length: 100 }, (_, k) => k * 10).sort((a, b) => ((a * 7919) % 1_000) - ((b * 7919) % 1_000) || a - b);
    expect(fired).toEqual(expected);
  });

  it("refuses more than timersMax pending timers", () => {
    const clock = new VirtualClock({ timersMax: 3 });
    for (let i = 0; i < 3; i++) clock.setTimeout(() => undefined, 1);
    expect(() => clock.setTimeout(() => undefined, 1)).toThrow(/timersMax/);
    clock.runNext();
    expect(() => clock.setTimeout(() => undefined, 1)).not.toThrow();
  });

  it("treats a negative delay as zero, never the past", () => {
    const clock = new VirtualClock({ startMs: 100 });
    clock.setTimeout(() => undefined, -50);
    expect(clock.nextDueMs()).toBe(100);
  });
});
