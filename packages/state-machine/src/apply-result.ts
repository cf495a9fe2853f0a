// What `Store.apply` returns. Rejections are expected outcomes, so they are values, not throws
// (STYLE.md §7). Every field is plain JSON data: results are stored in client sessions and
// travel in snapshots.

import type { StoreLimitsValue } from "./command.js";
import type { TokenResult } from "./token-table.js";

/** The key moved; `revision` is the log index of the entry that moved it. */
export interface TransitionOkResult {
  readonly ok: true;
  readonly kind: "transition";
  readonly key: string;
  readonly from: string;
  readonly to: string;
  readonly revision: number;
}

/**
 * The key is forgotten (back in the initial state at revision 0). `deleted` is false when the key
 * held nothing to forget; `from` is the state it was in. `revision` is the entry's log index.
 */
export interface DeleteOkResult {
  readonly ok: true;
  readonly kind: "delete";
  readonly key: string;
  readonly from: string;
  readonly deleted: boolean;
  readonly revision: number;
}

/** `to` is not reachable from `from` in one step (or is not a state at all); `allowed` is sorted. */
export interface InvalidTransitionResult {
  readonly ok: false;
  readonly code: "invalid_transition";
  readonly key: string;
  readonly from: string;
  readonly to: string;
  readonly allowed: readonly string[];
}

/** The command's `expect` did not match the key's current state (compare-and-set failed). */
export interface ExpectFailedResult {
  readonly ok: false;
  readonly code: "expect_failed";
  readonly key: string;
  readonly expected: string;
  readonly actual: string;
}

/**
 * The write would take the replicated state past a limit (`keys`: `keysMax` keys held;
 * `state_bytes`: `stateBytesMax` bytes of keys and states). Nothing changed; `used` is what the
 * store held when it refused.
 */
export interface QuotaExceededResult {
  readonly ok: false;
  readonly code: "quota_exceeded";
  readonly key: string;
  readonly quota: "keys" | "state_bytes";
  readonly limit: number;
  readonly used: number;
}

/**
 * The store cannot tell whether it applied this request, so it neither applies it nor guesses an
 * answer: `unknown_session` - the session was never registered, or expired (idle or evicted);
 * `seq_below_window` - the seq is older than the session's window (`oldestSeq` is the lowest
 * seq still known).
 */
export interface SessionExpiredResult {
  readonly ok: false;
  readonly code: "session_expired";
  readonly clientId: string;
  readonly seq: number;
  readonly reason: "unknown_session" | "seq_below_window";
  readonly oldestSeq: number | null;
}

/** This request id already answered a different command (another kind, key, `to` or `expect`); nothing applied. */
export interface RequestIdReusedResult {
  readonly ok: false;
  readonly code: "request_id_reused";
  readonly clientId: string;
  readonly seq: number;
}

/** A session was opened; `clientId` is its id (the entry's index, in decimal). */
export interface RegisterSessionResult {
  readonly ok: true;
  readonly kind: "register_session";
  readonly clientId: string;
  readonly nonce: string;
}

export interface NoopResult {
  readonly ok: true;
  readonly kind: "noop";
}

export interface MembersResult {
  readonly ok: true;
  readonly kind: "members";
  readonly members: readonly string[];
}

export interface LimitsResult {
  readonly ok: true;
  readonly kind: "limits";
  readonly limits: StoreLimitsValue;
}

/** What a transition can end with once evaluated. */
export type TransitionResult = TransitionOkResult | InvalidTransitionResult | ExpectFailedResult | QuotaExceededResult;

/** What a delete can end with once evaluated. */
export type DeleteResult = DeleteOkResult | ExpectFailedResult;

/** The answers a client session remembers: every outcome of a write that was evaluated. */
export type WriteResult = TransitionResult | DeleteResult;

/** A session's refusal to evaluate a write at all. */
export type SessionRefusal = SessionExpiredResult | RequestIdReusedResult;

export type ApplyResult = WriteResult | SessionRefusal | RegisterSessionResult | NoopResult | MembersResult | LimitsResult | JoinTokenResult | TokenResult;

/** A join token was created, spent or revoked. */
export interface JoinTokenOkResult {
  readonly ok: true;
  readonly kind: "join_token";
  readonly action: "create" | "use" | "revoke";
  readonly tokenId: string;
}

/** A join token command that every replica refused alike, with the reason. */
export interface JoinTokenRefusedResult {
  readonly ok: false;
  readonly code: "join_token_refused";
  readonly action: "create" | "use" | "revoke";
  readonly tokenId: string;
  readonly reason: "exists" | "unknown" | "used" | "expired" | "table_full";
}

export type JoinTokenResult = JoinTokenOkResult | JoinTokenRefusedResult;
