import type { Clock, TimerHandle } from "@lockstep/consensus";

/**
 * The clock the transport uses when none is given: monotonic milliseconds and Node timers. The
 * transport keeps at most a few timers per connection and per peer, all bounded by the
 * connection limits, so this needs no limit of its own.
 */
export function systemClock(): Clock {
  const timers = new Map<number, NodeJS.Timeout>();
  let nextTimerId = 1;
  return {
    nowMs: () => performance.now(),
    setTimeout(callback: () => void, delayMs: number): TimerHandle {
      const timerId = nextTimerId++;
      timers.set(
        timerId,
        setTimeout(() => {
          timers.delete(timerId);
          callback();
        }, delayMs),
      );
      return { timerId };
    },
    clearTimeout(handle: TimerHandle): void {
      clearTimeout(timers.get(handle.timerId));
      timers.delete(handle.timerId);
    },
  };
}
