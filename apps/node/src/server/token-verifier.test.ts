import type { TokenRecord } from "@lockstep/state-machine";
import { describe, expect, it } from "vitest";
import { createTokenSecret, hashTokenSecret } from "./token-secret.js";
import { createHash } from "node:crypto";
import { authenticate, digestsEqual } from "./token-verifier.js";

const token = createTokenSecret("app");
const record: TokenRecord = Object.freeze({ name: "app", hash: hashTokenSecret(token), role: "write", prefixes: [], createdRevision: 3 });
const table = (records: TokenRecord[]) => ({ get: (name: string) => records.find((candidate) => candidate.name === name) });

describe("authenticate", () => {
  it("accepts the token whose SHA-256 the table holds, again and again", () => {
    expect(authenticate(token, table([record]), 0)).toEqual({ ok: true, token: record });
    expect(authenticate(token, table([record]), 0)).toEqual({ ok: true, token: record });
  });

  it("refuses a wrong secret under a known name, an unknown name, a revoked token and no token", () => {
    const wrong = `app.${"A".repeat(43)}`;
    expect(authenticate(wrong, table([record]), 0)).toEqual({ ok: false, reason: "invalid_token" });
    expect(authenticate(createTokenSecret("other"), table([record]), 0)).toEqual({ ok: false, reason: "invalid_token" });
    expect(authenticate(token, table([record]), 0)).toMatchObject({ ok: true });
    expect(authenticate(token, table([]), 0), "revoked: the record is gone").toEqual({ ok: false, reason: "invalid_token" });
    expect(authenticate("not a token", table([record]), 0)).toEqual({ ok: false, reason: "invalid_token" });
    expect(authenticate(null, table([record]), 0)).toEqual({ ok: false, reason: "unauthenticated" });
  });

  it("refuses a token once its record is replaced by one with another hash (recreated under the same name)", () => {
    expect(authenticate(token, table([record]), 0)).toMatchObject({ ok: true });
    const recreated: TokenRecord = Object.freeze({ ...record, hash: hashTokenSecret(createTokenSecret("app")), createdRevision: 9 });
    expect(authenticate(token, table([recreated]), 0)).toEqual({ ok: false, reason: "invalid_token" });
  });

  it("refuses a token from its expiry on (this node's clock), and accepts it until then", () => {
    const expiring: TokenRecord = Object.freeze({ ...record, expiresAtMs: 10_000 });
    expect(authenticate(token, table([expiring]), 9_999)).toEqual({ ok: true, token: expiring });
    expect(authenticate(token, table([expiring]), 10_000)).toEqual({ ok: false, reason: "token_expired", expiresAtMs: 10_000 });
    // A wrong secret is invalid whatever the expiry: the expiry is never told to someone without the token.
    expect(authenticate(`app.${"B".repeat(43)}`, table([expiring]), 20_000)).toEqual({ ok: false, reason: "invalid_token" });
  });
});

describe("digestsEqual", () => {
  it("is true only for the very same digest: a difference in any one character, or in length, is false", () => {
    const digest = createHash("sha256").update("lockstep").digest("hex");
    expect(digestsEqual(digest, digest.slice())).toBe(true);
    for (const index of [0, 31, 63]) {
      const flipped = digest.slice(0, index) + (digest[index] === "0" ? "1" : "0") + digest.slice(index + 1);
      expect(digestsEqual(flipped, digest), `character ${index}`).toBe(false);
    }
    expect(digestsEqual(digest.slice(0, 63), digest)).toBe(false);
    expect(digestsEqual("", digest)).toBe(false);
  });

  it("hashTokenSecret is the SHA-256 hex of the token's UTF-8 text, as the stored hashes were made", () => {
    const text = "app.é-non-ascii-secret-0123456789";
    expect(hashTokenSecret(text)).toBe(createHash("sha256").update(text, "utf8").digest("hex"));
  });
});
