import { VirtualClock } from "@lockstep/transport-memory";
import { describe, expect, it } from "vitest";
import { NodeClock } from "./node-clock.js";

describe("NodeClock", () => {
  it("runs fast or slow: a timer of d ms fires after d / rate true ms, and nowMs advances at rate", () => {
    const base = new VirtualClock();
    const clock = new NodeClock(base);
    clock.setRate(2);
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(base.nowMs()), 100);
    base.runUntil(1_000);
    expect(fired).toEqual([50]);
    expect(clock.nowMs()).toBe(100);
    clock.setRate(0.5);
    base.setTimeout(() => undefined, 100);
    base.runUntil(2_000);
    expect(clock.nowMs()).toBe(150);
  });

  it("pauses like a frozen VM: timers due meanwhile fire at resume, in order, after the resume listeners", () => {
    const base = new VirtualClock();
    const clock = new NodeClock(base);
    const events: string[] = [];
    clock.onResume(() => events.push(`resume@${base.nowMs()}`));
    clock.setTimeout(() => events.push(`a@${base.nowMs()}`), 10);
    clock.setTimeout(() => events.push(`b@${base.nowMs()}`), 20);
    const cancelled = clock.setTimeout(() => events.push("cancelled"), 30);
    clock.setTimeout(() => events.push(`late@${base.nowMs()}`), 500);
    clock.pause(100);
    expect(clock.paused).toBe(true);
    base.runUntil(50);
    clock.clearTimeout(cancelled);
    base.runUntil(1_000);
    expect(events).toEqual(["resume@100", "a@100", "b@100", "late@500"]);
    expect(clock.paused).toBe(false);
    expect(clock.pausedMsTotal).toBe(100);
    // The monotonic clock kept running through the pause.
    expect(clock.nowMs()).toBe(500);
  });
});
