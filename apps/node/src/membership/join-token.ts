import { createHash, randomInt, timingSafeEqual } from "node:crypto";
import { JoinTokenSchema } from "@lockstep/protocol";

/** The alphabet of both halves of a join token: lowercase letters and digits (easy to copy, no escaping). */
const tokenAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
const tokenIdLength = 6;
/** 32 characters of 36 symbols: about 165 bits, far beyond guessing. */
const tokenSecretLength = 32;

/** A join token as the operator sees it once, and the halves the cluster keeps. */
export interface GeneratedJoinToken {
  /** `<tokenId>.<secret>`: handed to the joining node; never stored by the cluster. */
  token: string;
  tokenId: string;
  secretSha256: string;
}

/** A fresh one-time join token from the operating system's randomness. */
export function generateJoinToken(): GeneratedJoinToken {
  const tokenId = randomText(tokenIdLength);
  const secret = randomText(tokenSecretLength);
  return { token: `${tokenId}.${secret}`, tokenId, secretSha256: hashSecret(secret) };
}

export type ParsedJoinToken = { ok: true; tokenId: string; secretSha256: string } | { ok: false; reason: string };

/** Splits a token into its public id and the hash of its secret; never throws. */
export function parseJoinToken(text: string): ParsedJoinToken {
  if (!JoinTokenSchema.safeParse(text).success) return { ok: false, reason: "a join token looks like <6 letters or digits>.<32 letters or digits>" };
  const [tokenId, secret] = text.split(".") as [string, string];
  return { ok: true, tokenId, secretSha256: hashSecret(secret) };
}

/** Compares two hex SHA-256 digests in constant time. */
export function sameSecretHash(left: string, right: string): boolean {
  const a = Buffer.from(left, "hex");
  const b = Buffer.from(right, "hex");
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}

function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

function randomText(length: number): string {
  let text = "";
  for (let position = 0; position < length; position++) text += tokenAlphabet[randomInt(tokenAlphabet.length)];
  return text;
}
