import type { Clock, TimerHandle } from "@lockstep/consensus";

/** Pending timers at most; the driver keeps one tick timer per node and a few short waits. */
export const systemClockTimersMax = 100_000;

/**
 * The real clock for a running node: monotonic milliseconds (`performance.now()`, immune to
 * wall-clock jumps) and Node timers wrapped in the opaque handle the driver expects.
 */
export function createSystemClock(): Clock {
  const timers = new Map<number, NodeJS.Timeout>();
  let nextTimerId = 1;
  return {
    nowMs: () => performance.now(),
    setTimeout(callback: () => void, delayMs: number): TimerHandle {
      if (timers.size >= systemClockTimersMax) throw new Error(`more than ${systemClockTimersMax} timers pending: a timer leak`);
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
