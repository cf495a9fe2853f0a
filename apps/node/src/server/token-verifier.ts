import type { TokenRecord } from "@lockstep/state-machine";
import { hash } from "node:crypto";
import { tokenName } from "./token-secret.js";

/** The part of the replicated table a verifier reads. */
export interface TokenLookup {
  get(name: string): TokenRecord | undefined;
}

export type Authentication = { ok: true; token: TokenRecord } | { ok: false; reason: "unauthenticated" | "invalid_token" } | { ok: false; reason: "token_expired"; expiresAtMs: number };

/** Compared against when the name is unknown, so that an unknown name costs what a wrong secret does. */
const absentDigestHex = "0".repeat(64);

/**
 * Whether two hex digests (or two tokens) are equal, in time that depends only on their length
 * (always 64 for digests): every character is compared, with no early exit. It compares strings rather than Buffers
 * because a one-shot hex digest is the cheapest form the leader can get per request (the Buffer
 * form allocates; `createHash` builds an object per call), and every HTTP request pays it.
 */
export function digestsEqual(presented: string, stored: string): boolean {
  if (presented.length !== stored.length) return false;
  let difference = 0;
  for (let index = 0; index < presented.length; index += 1) difference |= presented.charCodeAt(index) ^ stored.charCodeAt(index);
  return difference === 0;
}

/**
 * Checks a presented token against the replicated table: the record is found by the token's name,
 * then the SHA-256 of the whole token is compared with the stored hash in constant time (the
 * same as `hashTokenSecret`, which made the stored hash). A
 * revoked token has no record any more, so it fails here on every node that applied the revoke;
 * a token past its `expiresAtMs` (by this node's clock at `nowMs`) fails as `token_expired`.
 */
export function authenticate(token: string | null, tokens: TokenLookup, nowMs: number): Authentication {
  if (token === null) return { ok: false, reason: "unauthenticated" };
  const name = tokenName(token);
  const record = name === null ? undefined : tokens.get(name);
  // The same digest as `hashTokenSecret`, in one call; the stored one is lowercase hex (the command and snapshot schemas check it).
  const matches = digestsEqual(hash("sha256", token), record === undefined ? absentDigestHex : record.hash);
  if (record === undefined || !matches) return { ok: false, reason: "invalid_token" };
  if (record.expiresAtMs !== undefined && nowMs >= record.expiresAtMs) return { ok: false, reason: "token_expired", expiresAtMs: record.expiresAtMs };
  return { ok: true, token: record };
}
