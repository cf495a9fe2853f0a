import type { TokenRecord } from "@lockstep/state-machine";
import { createHash, timingSafeEqual } from "node:crypto";
import { tokenName } from "./token-secret.js";

/** The part of the replicated table a verifier reads. */
export interface TokenLookup {
  get(name: string): TokenRecord | undefined;
}

export type Authentication = { ok: true; token: TokenRecord } | { ok: false; reason: "unauthenticated" | "invalid_token" } | { ok: false; reason: "token_expired"; expiresAtMs: number };

/** Compared against when the name is unknown, so that an unknown name costs what a wrong secret does. */
const absentDigest = Buffer.alloc(32);
/**
 * Each record's stored SHA-256 as bytes, decoded once rather than on every request (the record
 * objects are replaced, never mutated, when the table changes, so a stale entry is never read).
 */
const storedDigests = new WeakMap<TokenRecord, Buffer>();

function storedDigest(record: TokenRecord): Buffer {
  let digest = storedDigests.get(record);
  if (digest === undefined) {
    const decoded = Buffer.from(record.hash, "hex");
    digest = decoded.length === 32 ? decoded : absentDigest;
    storedDigests.set(record, digest);
  }
  return digest;
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
  // The presented token's digest as bytes (no hex round trip), compared in constant time.
  const presented = createHash("sha256").update(token, "utf8").digest();
  const matches = timingSafeEqual(presented, record === undefined ? absentDigest : storedDigest(record));
  if (record === undefined || !matches) return { ok: false, reason: "invalid_token" };
  if (record.expiresAtMs !== undefined && nowMs >= record.expiresAtMs) return { ok: false, reason: "token_expired", expiresAtMs: record.expiresAtMs };
  return { ok: true, token: record };
}
