import type { Clock, TimerHandle } from "@lockstep/consensus";

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
