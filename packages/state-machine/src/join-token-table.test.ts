import { describe, expect, it } from "vitest";
import { lifecycleDefinition } from "./definition.js";
import { joinTokensMax } from "./join-token-table.js";
import { Store } from "./store.js";

const hashA = "a".repeat(64);
const hashB = "b".repeat(64);

function create(tokenId: string, createdAtMs = 1_000, expiresAtMs = 10_000) {
  return { kind: "join_token_create" as const, tokenId, secretSha256: hashA, createdAtMs, expiresAtMs };
}

function use(tokenId: string, nodeId: string, atMs = 2_000, secretSha256 = hashA) {
  return { kind: "join_token_use" as const, tokenId, secretSha256, nodeId, atMs };
}

describe("join tokens in the store (DESIGN.md §9)", () => {
  it("spends a token once: a second node is refused with used, the same node again is answered ok", () => {
    const store = new Store(lifecycleDefinition);
    expect(store.apply(1, create("abc123"))).toEqual({ ok: true, kind: "join_token", action: "create", tokenId: "abc123" });
    expect(store.apply(2, use("abc123", "n4"))).toEqual({ ok: true, kind: "join_token", action: "use", tokenId: "abc123" });
    expect(store.apply(3, use("abc123", "n5"))).toMatchObject({ ok: false, code: "join_token_refused", reason: "used" });
    expect(store.apply(4, use("abc123", "n4", 3_000))).toMatchObject({ ok: true, action: "use" });
    expect(store.joinToken("abc123")?.usedBy).toBe("n4");
  });

  it("refuses a wrong secret as unknown, an expired token, a duplicate id, and a revoked token", () => {
    const store = new Store(lifecycleDefinition);
    store.apply(1, create("abc123"));
    expect(store.apply(2, use("abc123", "n4", 2_000, hashB))).toMatchObject({ ok: false, reason: "unknown" });
    expect(store.apply(3, use("abc123", "n4", 10_000))).toMatchObject({ ok: false, reason: "expired" });
    expect(store.apply(4, create("abc123"))).toMatchObject({ ok: false, reason: "exists" });
    expect(store.apply(5, { kind: "join_token_revoke", tokenId: "abc123" })).toMatchObject({ ok: true, action: "revoke" });
    expect(store.apply(6, use("abc123", "n4"))).toMatchObject({ ok: false, reason: "unknown" });
    expect(store.apply(7, { kind: "join_token_revoke", tokenId: "abc123" })).toMatchObject({ ok: false, reason: "unknown" });
  });

  it("is bounded: a full table drops spent and expired tokens first, then refuses with table_full", () => {
    const store = new Store(lifecycleDefinition);
    let index = 0;
    for (let n = 0; n < joinTokensMax; n++) store.apply(++index, create(`t${String(n).padStart(5, "0")}`, 1_000, 5_000));
    store.apply(++index, use("t00000", "n4"));
    expect(store.apply(++index, create("late01", 2_000, 9_000))).toMatchObject({ ok: true });
    expect(store.joinToken("t00000")).toBeUndefined();
    expect(store.apply(++index, create("late02", 2_000, 9_000))).toMatchObject({ ok: false, reason: "table_full" });
    // Once the others have expired, they make room.
    expect(store.apply(++index, create("late03", 6_000, 9_000))).toMatchObject({ ok: true });
    expect(store.joinToken("t00001")).toBeUndefined();
  });

  it("travels in snapshots, so a node restored from one refuses a token spent before it", () => {
    const store = new Store(lifecycleDefinition);
    store.apply(1, create("abc123"));
    store.apply(2, use("abc123", "n4"));
    store.apply(3, create("def456"));
    const restored = Store.restore(lifecycleDefinition, store.snapshot());
    expect(restored.ok).toBe(true);
    if (!restored.ok) return;
    expect(restored.store.apply(4, use("abc123", "n5"))).toMatchObject({ ok: false, reason: "used" });
    expect(restored.store.apply(5, use("def456", "n5"))).toMatchObject({ ok: true });
    expect(restored.store.snapshot()).not.toEqual(store.snapshot());
  });
});
