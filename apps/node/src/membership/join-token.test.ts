import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateJoinToken, parseJoinToken, sameSecretHash } from "./join-token.js";

describe("join tokens", () => {
  it("generates <6>.<32> tokens whose parsed hash is the one the cluster stores", () => {
    const generated = generateJoinToken();
    expect(generated.token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{32}$/);
    const parsed = parseJoinToken(generated.token);
    expect(parsed).toEqual({ ok: true, tokenId: generated.tokenId, secretSha256: generated.secretSha256 });
    const secret = generated.token.split(".")[1]!;
    expect(generated.secretSha256).toBe(createHash("sha256").update(secret).digest("hex"));
    expect(generated.secretSha256).not.toContain(secret);
  });

  it("never repeats itself across many draws", () => {
    const tokens = new Set(Array.from({ length: 500 }, () => generateJoinToken().token));
    expect(tokens.size).toBe(500);
  });

  it("refuses malformed tokens with a reason, and compares hashes exactly", () => {
    for (const text of ["", "abc123", "ABC123.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "abc123.short", `abc123.${"a".repeat(33)}`, "abc123 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]) {
      expect(parseJoinToken(text)).toMatchObject({ ok: false, reason: expect.stringMatching(/join token looks like/) });
    }
    expect(sameSecretHash("a".repeat(64), "a".repeat(64))).toBe(true);
    expect(sameSecretHash("a".repeat(64), `${"a".repeat(63)}b`)).toBe(false);
    expect(sameSecretHash("a".repeat(64), "a".repeat(62))).toBe(false);
  });
});
