import type { TokenRecord } from "@lockstep/state-machine";
import { hashesEqual, hashTokenSecret, tokenName } from "./token-secret.js";

/** The part of the replicated table a verifier reads. */
export interface TokenLookup {
  get(name: string): TokenRecord | undefined;
}

export type Authentication = { ok: true; token: TokenRecord } | { ok: false; reason: "unauthenticated" | "invalid_token" };

/** Compared against when the name is unknown, so that an unknown name costs what a wrong secret does. */
const absentHash = "0".repeat(64);

/**
 * Checks a presented token against the replicated table: the record is found by the token's name,
 * then the SHA-256 of the whole token is compared with the stored hash in constant time. A
 * revoked token has no record any more, so it fails here on every node that applied the revoke.
 */
export function authenticate(token: string | null, tokens: TokenLookup): Authentication {
  if (token === null) return { ok: false, reason: "unauthenticated" };
  const name = tokenName(token);
  const record = name === null ? undefined : tokens.get(name);
  const matches = hashesEqual(hashTokenSecret(token), record?.hash ?? absentHash);
  return record !== undefined && matches ? { ok: true, token: record } : { ok: false, reason: "invalid_token" };
}
