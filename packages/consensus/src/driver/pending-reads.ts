import type { Clock, RandomSource } from "../interfaces.js";

/** Read contexts of one incarnation start at a random point below this; they stay safe integers for 2^52 reads. */
export const readContextStartsMax = 2 ** 52;

export type ReadFailureCode = "timeout" | "no_quorum" | "shutting_down" | "overloaded";

interface PendingRead {
  resolve: (outcome: { ok: true } | { ok: false; code: ReadFailureCode }) => void;
  deadlineMs: number;
  /** Set once the leader confirmed the read index; the read is served when applied reaches it. */
  readIndex: number | null;
}

/**
 * Linearizable reads in flight (ReadIndex, Raft thesis §6.4): each waits first for the core to
 * confirm a read index, then for the local state machine to apply up to it. Bounded by `pendingMax`.
 * Deadlines are swept by `expireDue` on every tick (reads are kept in deadline order).
 */
export class PendingReads {
  private readonly byContext = new Map<number, PendingRead>();
  private nextContext: number;

  constructor(
    private readonly clock: Clock,
    random: RandomSource,
    private readonly pendingMax: number,
    private readonly timeoutMs: number,
  ) {
    // Contexts start at a random point of a 2^52 range, not at 1: a late answer to a read of an
    // earlier incarnation of this node (same term, same leader) must not match a new read, or it
    // would serve the new read at the old, lower index (a stale read).
    this.nextContext = 1 + Math.floor(random() * readContextStartsMax);
  }

  /** Contexts of reads whose index is known; the only ones `serveUpTo` needs to look at. */
  private readonly confirmed = new Set<number>();

  get size(): number {
    return this.byContext.size;
  }

  /** Returns the context to hand to `core.read`, or null when the bound is reached. */
  add(resolve: PendingRead["resolve"]): number | null {
    if (this.byContext.size >= this.pendingMax) return null;
    const context = this.nextContext++;
    this.byContext.set(context, { resolve, deadlineMs: this.clock.nowMs() + this.timeoutMs, readIndex: null });
    return context;
  }

  confirm(context: number, readIndex: number): void {
    const pending = this.byContext.get(context);
    if (pending === undefined) return;
    pending.readIndex = readIndex;
    this.confirmed.add(context);
  }

  /** Reads still waiting for a read index: asked again when a new leader appears. */
  unconfirmedContexts(): number[] {
    const contexts: number[] = [];
    for (const [context, pending] of this.byContext) if (pending.readIndex === null) contexts.push(context);
    return contexts;
  }

  /** Serves every confirmed read whose index is applied. Runs after every Ready: it looks at confirmed reads only. */
  serveUpTo(appliedIndex: number): void {
    for (const context of this.confirmed) {
      const pending = this.byContext.get(context);
      if (pending === undefined || pending.readIndex === null || pending.readIndex > appliedIndex) continue;
      this.forget(context);
      pending.resolve({ ok: true });
    }
  }

  fail(context: number, code: ReadFailureCode): void {
    const pending = this.byContext.get(context);
    if (pending === undefined) return;
    this.forget(context);
    pending.resolve({ ok: false, code });
  }

  private forget(context: number): void {
    this.byContext.delete(context);
    this.confirmed.delete(context);
  }

  /** Fails every read whose deadline has passed with `timeout`. */
  expireDue(nowMs: number): void {
    for (const [context, pending] of this.byContext) {
      if (pending.deadlineMs > nowMs) return;
      this.fail(context, "timeout");
    }
  }

  failAll(code: ReadFailureCode): void {
    for (const context of [...this.byContext.keys()]) this.fail(context, code);
  }
}
