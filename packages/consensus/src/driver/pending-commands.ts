import type { ApplyResult } from "@lockstep/state-machine";
import type { Clock } from "../interfaces.js";
import type { RequestFailure } from "./pending-requests.js";

/** A command the leader appended, answered once the entry at its index is applied. */
export type CommandOutcome = { ok: true; index: number; result: ApplyResult } | RequestFailure;

interface PendingCommand {
  term: number;
  deadlineMs: number;
  resolve: (outcome: CommandOutcome) => void;
}

/**
 * Commands without a client session (join tokens) that the leader appended itself, keyed by log
 * index. When the entry at that index is applied, the command is answered with its result if the
 * entry is the one appended (same term), or with `no_quorum` if another leader's entry took the
 * index (the command was lost and never applied). Bounded by `pendingMax`; deadlines are swept on
 * ticks like client requests.
 */
export class PendingCommands {
  private readonly byIndex = new Map<number, PendingCommand>();

  constructor(
    private readonly clock: Clock,
    private readonly pendingMax: number,
    private readonly timeoutMs: number,
  ) {}

  get size(): number {
    return this.byIndex.size;
  }

  /** Null when the bound is reached: the caller must not propose the command. */
  add(index: number, term: number): Promise<CommandOutcome> | null {
    if (this.byIndex.size >= this.pendingMax) return null;
    return new Promise((resolve) => {
      this.byIndex.set(index, { term, deadlineMs: this.clock.nowMs() + this.timeoutMs, resolve });
    });
  }

  /** The entry at `index` (of `term`) was applied with `result`. */
  settle(index: number, term: number, result: ApplyResult): void {
    const pending = this.byIndex.get(index);
    if (pending === undefined) return;
    this.byIndex.delete(index);
    pending.resolve(pending.term === term ? { ok: true, index, result } : { ok: false, code: "no_quorum" });
  }

  /**
   * A snapshot moved the store to `appliedIndex` without applying the entries it covers: whether
   * a command below it was applied is unknown here, so it fails with `timeout` (outcome unknown).
   */
  skipTo(appliedIndex: number): void {
    for (const [index, pending] of this.byIndex) {
      if (index > appliedIndex) continue;
      this.byIndex.delete(index);
      pending.resolve({ ok: false, code: "timeout" });
    }
  }

  expireDue(nowMs: number): void {
    for (const [index, pending] of this.byIndex) {
      if (pending.deadlineMs > nowMs) continue;
      this.byIndex.delete(index);
      pending.resolve({ ok: false, code: "timeout" });
    }
  }

  failAll(failure: RequestFailure): void {
    for (const pending of this.byIndex.values()) pending.resolve(failure);
    this.byIndex.clear();
  }
}
