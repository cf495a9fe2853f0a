import type { Clock, TimerHandle } from "@lockstep/consensus";

/** A clock for tests that moves only when told: `settle` runs timers until a promise settles. */
export class ManualClock implements Clock {
  private now = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { dueMs: number; callback: () => void }>();

  nowMs(): number {
    return this.now;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timerId = this.nextId++;
    this.timers.set(timerId, { dueMs: this.now + Math.max(0, delayMs), callback });
    return { timerId };
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle.timerId);
  }

  /** Runs the earliest timer; false when none is left. */
  runNext(): boolean {
    let earliest: [number, { dueMs: number; callback: () => void }] | undefined;
    for (const timer of this.timers) if (earliest === undefined || timer[1].dueMs < earliest[1].dueMs) earliest = timer;
    if (earliest === undefined) return false;
    this.timers.delete(earliest[0]);
    this.now = Math.max(this.now, earliest[1].dueMs);
    earliest[1].callback();
    return true;
  }

  /** Runs timers (letting microtasks in between) until `promise` settles; `stepsMax` bounds the loop. */
  async settle<T>(promise: Promise<T>, stepsMax = 100_000): Promise<T> {
    let settled = false;
    const watched = promise.finally(() => (settled = true));
    for (let step = 0; step < stepsMax && !settled; step++) {
      await flushMicrotasks();
      if (!settled && !this.runNext()) await flushMicrotasks();
    }
    return watched;
  }
}

/** Lets every promise chain that can run without a timer run. */
export async function flushMicrotasks(): Promise<void> {
  for (let round = 0; round < 50; round++) await Promise.resolve();
}
