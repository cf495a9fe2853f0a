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
   * Registers a request. Returns the promise of its outcome and whether it is new (and so must
   * be proposed) or joined an identical request already in flight.
   */
  add(command: TransitionCommand & { session: ClientSession }): { outcome: Promise<Result | RequestFailure>; isNew: boolean } {
    const id = requestKey(command.session);
    const existing = this.byId.get(id);
    if (existing !== undefined) {
      return { outcome: new Promise((resolve) => existing.waiters.push(resolve)), isNew: false };
    }
    if (this.byId.size >= this.pendingMax) {
      return { outcome: Promise.resolve({ ok: false, code: "overloaded" }), isNew: false };
    }
    let resolveFirst!: (outcome: Result | RequestFailure) => void;
    const outcome = new Promise<Result | RequestFailure>((resolve) => (resolveFirst = resolve));
    const startedAtMs = this.clock.nowMs();
    this.byId.set(id, { command, waiters: [resolveFirst], deadlineMs: startedAtMs + this.timeoutMs, proposed: false, startedAtMs });
    return { outcome, isNew: true };
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
    this.byId.delete(id);
    for (const waiter of pending.waiters) waiter(result);
    return this.clock.nowMs() - pending.startedAtMs;
  }

  /** Ends the request with this session with a failure, if one waits here. */
  fail(session: ClientSession, failure: RequestFailure): void {
    const id = requestKey(session);
    const pending = this.byId.get(id);
    if (pending === undefined) return;
    this.byId.delete(id);
    for (const waiter of pending.waiters) waiter(failure);
  }

  /** The commands still waiting, oldest first: re-proposed when a new leader appears (sessions make that safe). */
  commands(): Array<TransitionCommand & { session: ClientSession }> {
    return [...this.byId.values()].map((pending) => pending.command);
  }

  failAll(failure: RequestFailure): void {
    for (const [id, pending] of this.byId) {
      this.byId.delete(id);
      for (const waiter of pending.waiters) waiter(failure);
    }
  }

  /** Fails every request whose deadline has passed: `timeout` if it was proposed, else `no_quorum`. */
  expireDue(nowMs: number): void {
    for (const [id, pending] of this.byId) {
      if (pending.deadlineMs > nowMs) return;
      this.byId.delete(id);
      const failure: RequestFailure = { ok: false, code: pending.proposed ? "timeout" : "no_quorum" };
      for (const waiter of pending.waiters) waiter(failure);
    }
  }
}

export function requestKey(session: ClientSession): string {
  return `${session.clientId}:${session.seq}`;
}
