import type { Clock, TimerHandle } from "@lockstep/consensus";

/** Pending timers at most: a run that schedules more is stuck in a loop, not simulating a cluster. */
export const defaultTimersMax = 1_000_000;

export interface VirtualClockOptions {
  /** Virtual time at start, ms. */
  startMs?: number;
  /** Pending timers at most; `setTimeout` beyond it throws (a runaway caller is a bug). */
  timersMax?: number;
}

interface Timer {
  readonly timerId: number;
  readonly dueMs: number;
  readonly callback: () => void;
}

/**
 * Time that moves only when the caller says so. Timers fire in order of due time, and timers due
 * at the same time fire in the order they were set, so a run is a pure function of its inputs.
 * Callbacks run synchronously inside `runNext`/`runUntil`/`advanceTo`; a callback that throws
 * propagates to that caller (the timer is already removed, so the clock stays consistent).
 */
export class VirtualClock implements Clock {
  private currentMs: number;
  private readonly timersMax: number;
  /** Binary min-heap on (dueMs, timerId); cancelled timers are removed lazily. */
  private heap: Timer[] = [];
  private readonly pending = new Map<number, Timer>();
  private nextTimerId = 1;

  constructor(options: VirtualClockOptions = {}) {
    this.currentMs = options.startMs ?? 0;
    this.timersMax = options.timersMax ?? defaultTimersMax;
  }

  nowMs(): number {
    return this.currentMs;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    if (Number.isNaN(delayMs)) throw new Error("VirtualClock.setTimeout: delayMs is NaN");
    if (this.pending.size >= this.timersMax) {
      throw new Error(`VirtualClock: more than ${this.timersMax} pending timers (timersMax); a caller schedules without bound`);
    }
    // Like Node, a negative delay means "as soon as possible", never the past.
    const timer: Timer = { timerId: this.nextTimerId++, dueMs: this.currentMs + Math.max(0, delayMs), callback };
    this.pending.set(timer.timerId, timer);
    this.push(timer);
    return { timerId: timer.timerId };
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending.delete(handle.timerId);
    // Lazy removal keeps cancel O(1); compact when dead timers dominate so the heap stays bounded.
    if (this.heap.length > 64 && this.heap.length > 2 * this.pending.size) this.compact();
  }

  /** Timers set and not yet fired or cleared. */
  pendingTimers(): number {
    return this.pending.size;
  }

  /** When the next timer is due, or null if none is pending. */
  nextDueMs(): number | null {
    return this.peekLive()?.dueMs ?? null;
  }

  /** Moves time to the earliest pending timer and fires it. Returns false if nothing was pending. */
  runNext(): boolean {
    const timer = this.peekLive();
    if (timer === null) return false;
    this.popTop();
    this.pending.delete(timer.timerId);
    this.currentMs = Math.max(this.currentMs, timer.dueMs);
    timer.callback();
    return true;
  }

  /**
   * Fires, in order, every timer due at or before `stopMs` (including ones those timers set),
   * stopping early once `done()` is true or `eventsMax` timers have fired. Time is left at the
   * last timer fired. Returns the number of timers fired.
   */
  runUntil(stopMs: number, options: { done?: () => boolean; eventsMax?: number } = {}): number {
    const eventsMax = options.eventsMax ?? Number.POSITIVE_INFINITY;
    let fired = 0;
    while (fired < eventsMax && !(options.done?.() ?? false)) {
      const next = this.peekLive();
      if (next === null || next.dueMs > stopMs) break;
      this.runNext();
      fired++;
    }
    return fired;
  }

  /** Fires every timer due at or before `targetMs` (see `runUntil`), then sets time to `targetMs`. */
  advanceTo(targetMs: number): number {
    if (targetMs < this.currentMs) throw new Error(`VirtualClock.advanceTo(${targetMs}): time is already ${this.currentMs}`);
    const fired = this.runUntil(targetMs);
    this.currentMs = targetMs;
    return fired;
  }

  /** `advanceTo(nowMs() + deltaMs)`. */
  advanceBy(deltaMs: number): number {
    return this.advanceTo(this.currentMs + deltaMs);
  }

  private peekLive(): Timer | null {
    for (;;) {
      const top = this.heap[0];
      if (top === undefined) return null;
      if (this.pending.has(top.timerId)) return top;
      this.popTop();
    }
  }

  private compact(): void {
    this.heap = this.heap.filter((timer) => this.pending.has(timer.timerId));
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private push(timer: Timer): void {
    this.heap.push(timer);
    let i = this.heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(timer, this.heap[parent] as Timer)) break;
      this.heap[i] = this.heap[parent] as Timer;
      i = parent;
    }
    this.heap[i] = timer;
  }

  private popTop(): void {
    const last = this.heap.pop();
    if (last === undefined || this.heap.length === 0) return;
    this.heap[0] = last;
    this.siftDown(0);
  }

  private siftDown(start: number): void {
    const heap = this.heap;
    const item = heap[start] as Timer;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right] as Timer, heap[left] as Timer) ? right : left;
      if (!before(heap[child] as Timer, item)) break;
      heap[i] = heap[child] as Timer;
      i = child;
    }
    heap[i] = item;
  }
}

/** Heap order: earlier due time first; at equal times, the timer set first (insertion order). */
function before(a: Timer, b: Timer): boolean {
  return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.timerId < b.timerId);
}
