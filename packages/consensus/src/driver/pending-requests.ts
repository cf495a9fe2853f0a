import type { ClientSession, DeleteCommand, NodeId, RegisterSessionCommand, TransitionCommand } from "@lockstep/protocol";
import { sameWriteCommand } from "@lockstep/state-machine";
import type { Clock } from "../interfaces.js";

/** Why a request ended without a result from the state machine. Each means "outcome unknown" except `overloaded`. */
export type RequestFailureCode = "timeout" | "no_quorum" | "shutting_down" | "overloaded";

export type RequestFailure = { ok: false; code: RequestFailureCode; leader?: NodeId };

/** A write with its session, or a session registration: the commands a client waits on. */
export type PendingCommand = ((TransitionCommand | DeleteCommand) & { session: ClientSession }) | RegisterSessionCommand;

/** The same request id with another command: refused at once, never proposed. */
export type RequestReused = { ok: false; code: "request_id_reused"; clientId: string; seq: number };

interface PendingRequest<Result> {
  /** A retry joins only a request with the same command (`sameCommand`). */
  command: PendingCommand;
  /** The first waiter; a retry that joins adds itself to `laterWaiters` (rare: no array for the common case). */
  waiter: (outcome: Result | RequestFailure | RequestReused) => void;
  laterWaiters: Array<(outcome: Result | RequestFailure | RequestReused) => void> | null;
  /** When it fails with `timeout` (or `no_quorum`) if still unanswered. */
  deadlineMs: number;
  /** Whether the core accepted it at least once (appended or forwarded). Decides timeout vs no_quorum. */
  proposed: boolean;
  startedAtMs: number;
}

/**
 * The promise executor of every request, shared instead of a closure per request (this runs for
 * every write): the Promise constructor calls it synchronously, and `add` takes the function
 * back out on the next line.
 */
let capturedResolve: ((value: never) => void) | null = null;
function captureResolve(resolve: (value: never) => void): void {
  capturedResolve = resolve;
}

/**
 * Client requests waiting for their entry to be applied, keyed by `clientId:seq` (or the nonce of
 * a registration). A retry of a request that is still pending joins it instead of being proposed
 * twice, and every waiter gets the one answer; the same id with another command is refused with
 * `request_id_reused` (it would be anyway, once the first is applied). Bounded by `pendingMax`.
 *
 * Deadlines are swept by `expireDue`, called on every tick, rather than one timer per request:
 * every request gets the same timeout, so the map's insertion order is deadline order and a
 * sweep stops at the first request still in time.
 */
export class PendingRequests<Result> {
  private readonly byId = new Map<string, PendingRequest<Result>>();

  /** `onAnswer` is told of every answer as it is given, one call per waiter (the driver counts them). */
  constructor(
    private readonly clock: Clock,
    private readonly pendingMax: number,
    private readonly timeoutMs: number,
    private readonly onAnswer: (command: PendingCommand, outcome: Result | RequestFailure | RequestReused) => void = () => undefined,
  ) {}

  get size(): number {
    return this.byId.size;
  }

  /**
   * Registers a request, or joins an identical one already waiting (every waiter gets the one
   * answer). `accepted` is false only when the bound is reached: the outcome is then `overloaded`
   * and the caller must not propose the command, since `overloaded` promises it was not proposed.
   */
  add(command: PendingCommand): { outcome: Promise<Result | RequestFailure | RequestReused>; accepted: boolean } {
    const id = requestKey(command);
    const existing = this.byId.get(id);
    if (existing !== undefined && !sameCommand(existing.command, command) && command.kind !== "register_session") {
      const reused: RequestReused = { ok: false, code: "request_id_reused", clientId: command.session.clientId, seq: command.session.seq };
      this.onAnswer(command, reused);
      return { outcome: Promise.resolve(reused), accepted: false };
    }
    if (existing !== undefined) {
      return { outcome: new Promise((resolve) => (existing.laterWaiters ??= []).push(resolve)), accepted: true };
    }
    if (this.byId.size >= this.pendingMax) {
      const overloaded: RequestFailure = { ok: false, code: "overloaded" };
      this.onAnswer(command, overloaded);
      return { outcome: Promise.resolve(overloaded), accepted: false };
    }
    const outcome = new Promise<Result | RequestFailure | RequestReused>(captureResolve);
    const waiter = capturedResolve as (outcome: Result | RequestFailure | RequestReused) => void;
    capturedResolve = null;
    const startedAtMs = this.clock.nowMs();
    this.byId.set(id, { command, waiter, laterWaiters: null, deadlineMs: startedAtMs + this.timeoutMs, proposed: false, startedAtMs });
    return { outcome, accepted: true };
  }

  markProposed(command: PendingCommand): void {
    // Every applied entry is settled on every node; a follower usually has nothing waiting.
    if (this.byId.size === 0) return;
    const pending = this.byId.get(requestKey(command));
    if (pending !== undefined) pending.proposed = true;
  }

  /** Answers the request for this command, if one waits here. Returns how long it waited until `nowMs`, or null. */
  settle(command: PendingCommand, result: Result, nowMs: number): number | null {
    if (this.byId.size === 0) return null;
    const id = requestKey(command);
    const pending = this.byId.get(id);
    if (pending === undefined) return null;
    this.finish(id, pending, result);
    return nowMs - pending.startedAtMs;
  }

  /** Ends the request for this command with a failure, if one waits here. */
  fail(command: PendingCommand, failure: RequestFailure): void {
    const id = requestKey(command);
    const pending = this.byId.get(id);
    if (pending !== undefined) this.finish(id, pending, failure);
  }

  /** The commands still waiting, oldest first: re-proposed when a new leader appears (sessions make that safe). */
  commands(): PendingCommand[] {
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

  private finish(id: string, pending: PendingRequest<Result>, outcome: Result | RequestFailure | RequestReused): void {
    this.byId.delete(id);
    this.onAnswer(pending.command, outcome);
    pending.waiter(outcome);
    if (pending.laterWaiters === null) return;
    for (const waiter of pending.laterWaiters) {
      this.onAnswer(pending.command, outcome);
      waiter(outcome);
    }
  }
}

/**
 * What must match for a retry to join a pending request: the fields the state machine compares
 * (`sameWriteCommand`), field by field, so that no fingerprint string is built per request.
 */
function sameCommand(left: PendingCommand, right: PendingCommand): boolean {
  if (left.kind === "register_session" || right.kind === "register_session") {
    return left.kind === "register_session" && right.kind === "register_session" && left.nonce === right.nonce;
  }
  return sameWriteCommand(left, right);
}

export function requestKey(command: PendingCommand): string {
  if (command.kind === "register_session") return `register:${command.nonce}`;
  return `${command.session.clientId}:${command.session.seq}`;
}
