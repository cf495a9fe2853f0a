import type { Clock, TimerHandle } from "@lockstep/consensus";
import { performance } from "node:perf_hooks";

/** Pending timers; the driver keeps one tick timer per node plus one per draining request. */
export const timersMax = 100_000;

/** Real time for the in-process bench: monotonic milliseconds and Node timers behind the driver's opaque handle. */
export function createSystemClock(): Clock {
  const timers = new Map<number, NodeJS.Timeout>();
  let nextTimerId = 1;
  return {
    nowMs: () => performance.now(),
    setTimeout(callback: () => void, delayMs: number): TimerHandle {
      if (timers.size >= timersMax) throw new Error(`more than ${timersMax} timers pending: a timer leak`);
      const timerId = nextTimerId++;
      const timer = setTimeout(() => {
        timers.delete(timerId);
        callback();
      }, delayMs);
      timers.set(timerId, timer);
      return { timerId };
    },
    clearTimeout(handle: TimerHandle): void {
      const timer = timers.get(handle.timerId);
      if (timer === undefined) return;
      clearTimeout(timer);
      timers.delete(handle.timerId);
    },
  };
}
