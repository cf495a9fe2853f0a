// What `Store.apply` returns. Rejections are expected outcomes, so they are values, not throws
// (STYLE.md §7). Every field is plain JSON data: results are stored in client sessions and
// travel in snapshots.

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
 * `seq` is older than the session window keeps: the store no longer knows whether it applied it,
 * so it neither applies it nor guesses an answer. `oldestSeq` is the lowest seq still known.
 */
export interface SessionExpiredResult {
  readonly ok: false;
  readonly code: "session_expired";
  readonly clientId: string;
  readonly seq: number;
  readonly oldestSeq: number;
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

/** The answers a client session remembers: every outcome of a transition that was evaluated. */
export type TransitionResult = TransitionOkResult | InvalidTransitionResult | ExpectFailedResult;

export type ApplyResult = TransitionResult | SessionExpiredResult | NoopResult | MembersResult | JoinTokenResult | TokenResult;
