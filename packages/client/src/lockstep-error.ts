import type { ErrorCode, StateName } from "@lockstep/protocol";

/**
 * Why a client call failed. The API's own codes (`ErrorCode`, as the server sent them) plus three
 * the client adds: `unavailable` (every attempt failed: no endpoint answered usefully within the
 * retry budget), `protocol` (an answer that does not match the API's schema) and `compacted` (a
 * watch asked for revisions the cluster no longer keeps).
 */
export type LockstepErrorCode = ErrorCode | "unavailable" | "protocol" | "compacted";

/** The structured fields an error response may carry, copied as the server sent them. */
export interface LockstepErrorDetails {
  /** `invalid_transition`: the key's current state. */
  readonly from?: StateName;
  /** `invalid_transition`: the state that was asked for. */
  readonly to?: StateName;
  /** `invalid_transition`: the states the key may move to from `from`. */
  readonly allowed?: readonly StateName[];
  /** `expect_failed`: the state the key was actually in. */
  readonly actual?: StateName;
  /**
   * What was refused, in one word: `session_expired` says `unknown_session` (the cluster does not
   * hold the session) or `seq_below_window`; a refused membership change or join its reason (e.g.
   * the join token was `used`).
   */
  readonly reason?: string;
  /** The leader's node id, when the answering node knew one. */
  readonly leader?: string;
  /** `quota_exceeded`: the limit reached (`keys` or `state_bytes`), its value and the use then. */
  readonly quota?: "keys" | "state_bytes";
  readonly limit?: number;
  readonly used?: number;
  /** `compacted`: the oldest revision a watch can still resume from. */
  readonly oldestRevision?: number;
}

export interface LockstepErrorOptions {
  /** The HTTP status of the answer; undefined when there was no answer. */
  readonly status?: number | undefined;
  readonly details?: LockstepErrorDetails;
  readonly cause?: unknown;
  /** True when a transition may have been applied although the call failed. */
  readonly outcomeUnknown?: boolean;
}

/** The one error type the client throws. `code` is the discriminant. */
export class LockstepError extends Error {
  override readonly name = "LockstepError";
  readonly code: LockstepErrorCode;
  readonly status: number | undefined;
  readonly details: LockstepErrorDetails;
  readonly outcomeUnknown: boolean;

  constructor(code: LockstepErrorCode, message: string, options: LockstepErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.details = options.details ?? {};
    this.outcomeUnknown = options.outcomeUnknown ?? false;
  }
}

/**
 * True when a failed transition may still have been applied (a 503 whose outcome the server could
 * not tell, a lost connection after the request was sent, an answer we could not read). Retrying
 * it with the same request id is safe; recording it in a history needs an `info`, not a `fail`.
 */
export function isOutcomeUnknown(error: unknown): boolean {
  return error instanceof LockstepError && error.outcomeUnknown;
}

/** The codes the cluster answers with 409 or 507: it understood the request and said no. */
const refusalCodes: ReadonlySet<LockstepErrorCode> = new Set(["invalid_transition", "expect_failed", "session_expired", "request_id_reused", "quota_exceeded"]);

/**
 * True when the cluster refused the operation (a 409, or 507 `quota_exceeded`): this attempt was
 * certainly not applied. For `session_expired` an earlier attempt may still have been: check
 * `isOutcomeUnknown` too.
 */
export function isRefusal(error: unknown): error is LockstepError {
  return error instanceof LockstepError && refusalCodes.has(error.code);
}
