import { hash, randomBytes } from "node:crypto";

/** Random bytes in a token's secret: 256 bits, so the unsalted SHA-256 stored for it cannot be searched. */
const secretBytes = 32;
/** `Authorization` values longer than this are refused unread. */
export const bearerTokenLengthMax = 256;

/** A new token for `name`: `<name>.<43 base64url characters>`. The name part lets a node find its record. */
export function createTokenSecret(name: string): string {
  return `${name}.${randomBytes(secretBytes).toString("base64url")}`;
}

/** SHA-256 hex of the whole token text: what the replicated table stores. */
export function hashTokenSecret(token: string): string {
  return hash("sha256", token);
}

/** The name part of a token, or null when it is not shaped like one. */
export function tokenName(token: string): string | null {
  const match = /^([A-Za-z0-9][A-Za-z0-9_-]{0,63})\.[A-Za-z0-9_-]{16,}$/.exec(token);
  return match === null ? null : match[1]!;
}

/** `Bearer <token>` -> the token; null for a missing, oversized or other scheme. */
export function parseBearer(header: string | undefined): string | null {
  if (header === undefined || header.length > bearerTokenLengthMax) return null;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match === null ? null : match[1]!;
}
