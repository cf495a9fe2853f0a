import type { ClientSession, NodeId, TransitionCommand } from "@lockstep/protocol";
import type { Clock } from "../interfaces.js";

/** Why a request ended without a result from the state machine. Each means "outcome unknown" except `overloaded`. */
export type RequestFailureCode = "timeout" | "no_quorum" | "shutting_down" | "overloaded";

export type RequestFailure = { ok: false; code: RequestFailureCode; leader?: NodeId };

interface PendingRequest<Result> {
  command: TransitionCommand & { session: ClientSession };
  waiters: Array<(outcome: Result | RequestFailure) => void>;
  /** When it fails with `timeout` (or `no_quorum`) if still unanswered. */
  deadlineMs: number;
  /** Whether the core accepted it at least once (appended or forwarded). Decides timeout vs no_quorum. */
  proposed: boolean;
  startedAtMs: number;
}

/**
 * Client requests waiting for their entry to be applied, keyed by `clientId:seq`. A retry of a
 * request that is still pending joins it instead of being proposed twice; every waiter gets the
 * one answer. Bounded by `pendingMax`.
 *
 * Deadlines are swept by `expireDue`, called on every tick, rather than one timer per request:
 * every request gets the same timeout, so the map's insertion order is deadline order and a
 * sweep stops at the first request still in time.
 */
export class PendingRequests<Result> {
  private readonly byId = new Map<string, PendingRequest<Result>>();

  constructor(
    private readonly clock: Clock,
    private readonly pendingMax: number,
    private readonly timeoutMs: number,
  ) {}

  get size(): number {
    return this.byId.size;
  }

  /**
   * Registers a request, or joins an identical one already waiting (every waiter gets the one
   * answer). `accepted` is false only when the bound is reached: the outcome is then `overloaded`
   * and the caller must not propose the command, since `overloaded` promises it was not proposed.
   */
  add(command: TransitionCommand & { session: ClientSession }): { outcome: Promise<Result | RequestFailure>; accepted: boolean } {
    const id = requestKey(command.session);
    const existing = this.byId.get(id);
    if (existing !== undefined) {
      return { outcome: new Promise((resolve) => existing.waiters.push(resolve)), accepted: true };
    }
    if (this.byId.size >= this.pendingMax) {
      return { outcome: Promise.resolve({ ok: false, code: "overloaded" }), accepted: false };
    }
    let resolveFirst!: (outcome: Result | RequestFailure) => void;
    const outcome = new Promise<Result | RequestFailure>((resolve) => (resolveFirst = resolve));
    const startedAtMs = this.clock.nowMs();
    this.byId.set(id, { command, waiters: [resolveFirst], deadlineMs: startedAtMs + this.timeoutMs, proposed: false, startedAtMs });
    return { outcome, accepted: true };
  }

  markProposed(session: ClientSession): void {
    const pending = this.byId.get(requestKey(session));
    if (pending !== undefined) pending.proposed = true;
  }

  /** Answers the request with this session, if one waits here. Returns how long it waited (ms), or null. */
  settle(session: ClientSession, result: Result): number | null {
    const id = requestKey(session);
    const pending = this.byId.get(id);
    if (pending === undefined) return null;
    this.finish(id, pending, result);
    return this.clock.nowMs() - pending.startedAtMs;
  }

  /** Ends the request with this session with a failure, if one waits here. */
  fail(session: ClientSession, failure: RequestFailure): void {
    const id = requestKey(session);
    const pending = this.byId.get(id);
    if (pending !== undefined) this.finish(id, pending, failure);
  }

  /** The commands still waiting, oldest first: re-proposed when a new leader appears (sessions make that safe). */
  commands(): Array<TransitionCommand & { session: ClientSession }> {
    return [...this.byId.values()].map((pending) => pending.command);
  }

  failAll(failure: RequestFailure): void {
    for (const [id, pending] of this.byId) this.finish(id, pending, failure);
  }

  /** Fails every request whose deadline has passed: `timeout` if it was proposed, else `no_quorum`. */
  expireDue(nowMs: number): void {
    for (const [id, pending] of this.byId) {
      if (pending.deadlineMs > nowMs) return;
      this.finish(id, pending, { ok: false, code: pending.proposed ? "timeout" : "no_quorum" });
    }
  }

  private finish(id: string, pending: PendingRequest<Result>, outcome: Result | RequestFailure): void {
    this.byId.delete(id);
    for (const waiter of pending.waiters) waiter(outcome);
  }
}

export function requestKey(session: ClientSession): string {
  return `${session.clientId}:${session.seq}`;
}
