import type { Clock, TimerHandle } from "@lockstep/consensus";
import type { VirtualClock } from "@lockstep/transport-memory";

/**
 * Timers a paused node may owe at most. A node has a tick timer and one timer per waiting
 * request or read; past this the simulation has a runaway caller, which is a bug.
 */
const deferredTimersMax = 100_000;

interface LocalTimer {
  callback: () => void;
  inner: TimerHandle | null;
  cancelled: boolean;
}

/**
 * One node's view of time, over the simulation's shared virtual clock. Real machines disagree
 * about time in two ways this models:
 * - skew: the node's clock runs at `rate` times true time (a timer of d ms fires after d / rate
 *   true ms, and `nowMs` advances by rate per true ms);
 * - pauses (a stop-the-world GC, a VM frozen by its host): true time passes, the node's monotonic
 *   clock too, but nothing of the node runs. Timers that fall due meanwhile fire at `resume`, in
 *   order; `onResume` listeners run first (the cluster releases the messages it held for the node).
 */
export class NodeClock implements Clock {
  private rate = 1;
  private anchorTrueMs: number;
  private anchorLocalMs: number;
  private pausedUntilMs: number | null = null;
  private resumeTimer: TimerHandle | null = null;
  private readonly timers = new Map<number, LocalTimer>();
  private deferred: number[] = [];
  private nextTimerId = 1;
  private readonly resumeListeners: Array<() => void> = [];
  /** Total virtual ms this node spent paused, for the run's report. */
  pausedMsTotal = 0;

  constructor(private readonly base: VirtualClock) {
    this.anchorTrueMs = base.nowMs();
    this.anchorLocalMs = base.nowMs();
  }

  nowMs(): number {
    return this.anchorLocalMs + (this.base.nowMs() - this.anchorTrueMs) * this.rate;
  }

  get currentRate(): number {
    return this.rate;
  }

  get paused(): boolean {
    return this.pausedUntilMs !== null;
  }

  /** Changes how fast this node's clock runs from now on; timers already set keep their due time. */
  setRate(rate: number): void {
    if (!(rate > 0 && Number.isFinite(rate))) throw new Error(`NodeClock.setRate: rate must be positive, got ${rate}`);
    this.anchorLocalMs = this.nowMs();
    this.anchorTrueMs = this.base.nowMs();
    this.rate = rate;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timerId = this.nextTimerId++;
    const timer: LocalTimer = { callback, inner: null, cancelled: false };
    this.timers.set(timerId, timer);
    timer.inner = this.base.setTimeout(() => this.fire(timerId), Math.max(0, delayMs) / this.rate);
    return { timerId };
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = this.timers.get(handle.timerId);
    if (timer === undefined) return;
    timer.cancelled = true;
    if (timer.inner !== null) this.base.clearTimeout(timer.inner);
    this.timers.delete(handle.timerId);
  }

  /** Freezes the node for `durationMs` of true time (extends a pause already running). */
  pause(durationMs: number): void {
    const untilMs = this.base.nowMs() + Math.max(0, durationMs);
    if (this.pausedUntilMs !== null && this.pausedUntilMs >= untilMs) return;
    if (this.resumeTimer !== null) this.base.clearTimeout(this.resumeTimer);
    if (this.pausedUntilMs === null) this.pausedMsTotal -= this.base.nowMs();
    this.pausedUntilMs = untilMs;
    this.resumeTimer = this.base.setTimeout(() => this.resume(), untilMs - this.base.nowMs());
  }

  /** Ends a pause now: held messages first, then every timer that fell due, in order. */
  resume(): void {
    if (this.pausedUntilMs === null) return;
    if (this.resumeTimer !== null) this.base.clearTimeout(this.resumeTimer);
    this.resumeTimer = null;
    this.pausedUntilMs = null;
    this.pausedMsTotal += this.base.nowMs();
    for (const listener of this.resumeListeners) listener();
    const due = this.deferred;
    this.deferred = [];
    for (const timerId of due) this.fire(timerId);
  }

  onResume(listener: () => void): void {
    this.resumeListeners.push(listener);
  }

  private fire(timerId: number): void {
    const timer = this.timers.get(timerId);
    if (timer === undefined || timer.cancelled) return;
    if (this.pausedUntilMs !== null) {
      if (this.deferred.length >= deferredTimersMax) throw new Error(`NodeClock: more than ${deferredTimersMax} timers deferred by a pause (deferredTimersMax)`);
      timer.inner = null;
      this.deferred.push(timerId);
      return;
    }
    this.timers.delete(timerId);
    timer.callback();
  }
}
