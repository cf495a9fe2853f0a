import { describe, expect, it } from "vitest";
import { crc32Hex as crc32HexOf } from "./crc32.js";
import { lifecycleDefinition } from "./definition.js";
import { Store } from "./store.js";
import { tokensMax, type TokenCreateCommand } from "./token-table.js";

const hashA = "a".repeat(64);
const hashB = "b".repeat(64);

function create(name: string, overrides: Partial<TokenCreateCommand> = {}): TokenCreateCommand {
  return { kind: "token_create", proposalId: `p-${name}`, name, hash: hashA, role: "write", prefixes: [], ...overrides };
}

describe("the replicated token table", () => {
  it("creates, lists (sorted, prefixes deduplicated and sorted) and revokes tokens; results name the revision", () => {
    const store = new Store(lifecycleDefinition);
    expect(store.apply(1, create("ops", { role: "admin" }))).toEqual({ ok: true, kind: "token_create", name: "ops", revision: 1 });
    expect(store.apply(2, create("app", { prefixes: ["web/", "db/", "web/"] }))).toEqual({ ok: true, kind: "token_create", name: "app", revision: 2 });
    expect(store.tokens.list()).toEqual([
      { name: "app", hash: hashA, role: "write", prefixes: ["db/", "web/"], createdRevision: 2 },
      { name: "ops", hash: hashA, role: "admin", prefixes: [], createdRevision: 1 },
    ]);
    expect(store.apply(3, { kind: "token_revoke", proposalId: "r1", name: "app" })).toEqual({ ok: true, kind: "token_revoke", name: "app", revision: 3 });
    expect(store.tokens.get("app")).toBeUndefined();
    expect(store.apply(4, { kind: "token_revoke", proposalId: "r2", name: "app" })).toEqual({ ok: false, code: "token_not_found", name: "app" });
    store.assertInvariants();
  });

  it("refuses a second token of the same name, and keeps the first", () => {
    const store = new Store(lifecycleDefinition);
    store.apply(1, create("app"));
    expect(store.apply(2, create("app", { hash: hashB, role: "admin" }))).toEqual({ ok: false, code: "token_exists", name: "app" });
    expect(store.tokens.get("app")).toMatchObject({ hash: hashA, role: "write" });
  });

  it("applies a bootstrap create only while the cluster never had a token, so a revoked initial token stays revoked", () => {
    const store = new Store(lifecycleDefinition);
    expect(store.tokens.bootstrapped).toBe(false);
    expect(store.apply(1, create("initial-admin", { role: "admin", bootstrap: true })).ok).toBe(true);
    expect(store.apply(2, create("second-bootstrap", { role: "admin", bootstrap: true }))).toEqual({ ok: false, code: "already_bootstrapped", name: "second-bootstrap" });
    store.apply(3, { kind: "token_revoke", proposalId: "r", name: "initial-admin" });
    expect(store.apply(4, create("initial-admin", { role: "admin", bootstrap: true }))).toEqual({ ok: false, code: "already_bootstrapped", name: "initial-admin" });
    expect(store.tokens.size).toBe(0);
  });

  it("holds at most tokensMax tokens", () => {
    const store = new Store(lifecycleDefinition);
    for (let index = 1; index <= tokensMax; index++) expect(store.apply(index, create(`t${index}`)).ok).toBe(true);
    expect(store.apply(tokensMax + 1, create("one-more"))).toEqual({ ok: false, code: "tokens_full", name: "one-more" });
  });

  it("travels in snapshots: a restored replica authorises exactly the same tokens", () => {
    const store = new Store(lifecycleDefinition);
    store.apply(1, create("ops", { role: "admin", bootstrap: true }));
    store.apply(2, create("reader", { role: "read", prefixes: ["web/"], hash: hashB }));
    store.apply(3, { kind: "token_revoke", proposalId: "r", name: "ops" });
    const restored = Store.restore(lifecycleDefinition, store.snapshot());
    expect(restored.ok).toBe(true);
    if (!restored.ok) return;
    expect(restored.store.tokens.list()).toEqual(store.tokens.list());
    expect(restored.store.tokens.bootstrapped).toBe(true);
    expect(restored.store.snapshot()).toEqual(store.snapshot());
  });

  it("keeps a token's expiry through a snapshot, and writes tokens without one in the five-element form", () => {
    const store = new Store(lifecycleDefinition);
    store.apply(1, create("forever"));
    store.apply(2, create("brief", { role: "read", expiresAtMs: 1_700_000_000_000 }));
    expect(store.tokens.get("brief")).toMatchObject({ expiresAtMs: 1_700_000_000_000 });
    expect(store.tokens.get("forever")).not.toHaveProperty("expiresAtMs");
    const text = new TextDecoder().decode(store.snapshot());
    expect(text).toContain(`["brief","${hashA}","read",[],2,1700000000000]`);
    expect(text).toContain(`["forever","${hashA}","write",[],1]`);
    const restored = Store.restore(lifecycleDefinition, store.snapshot());
    expect(restored.ok).toBe(true);
    if (!restored.ok) return;
    expect(restored.store.tokens.list()).toEqual(store.tokens.list());
    expect(restored.store.snapshot()).toEqual(store.snapshot());
  });

  it("leaves the snapshot of a store that never had a token unchanged (no tokens field)", () => {
    const store = new Store(lifecycleDefinition);
    store.apply(1, { kind: "transition", key: "a", to: "Running" });
    expect(new TextDecoder().decode(store.snapshot())).not.toContain("tokens");
  });

  it("refuses a snapshot whose tokens are out of order or created after its applied index", () => {
    const store = new Store(lifecycleDefinition);
    store.apply(1, create("b"));
    store.apply(2, create("c"));
    const text = new TextDecoder().decode(store.snapshot());
    const body = JSON.parse(text.slice(text.indexOf('"body":') + 7, -1)) as { tokens: { tokens: unknown[][] } };
    const reencode = (mutate: (tokens: unknown[][]) => void): Uint8Array => {
      const copy = structuredClone(body);
      mutate(copy.tokens.tokens);
      return reframe(JSON.stringify(copy));
    };
    const swapped = Store.restore(lifecycleDefinition, reencode((tokens) => tokens.reverse()));
    expect(swapped).toMatchObject({ ok: false, reason: "malformed" });
    const future = Store.restore(lifecycleDefinition, reencode((tokens) => (tokens[0]![4] = 99)));
    expect(future).toMatchObject({ ok: false, reason: "malformed" });
  });
});

/** A snapshot frame around `body` with a correct checksum, so that only the body's content is wrong. */
function reframe(body: string): Uint8Array {
  const bytes = new TextEncoder().encode(body);
  return new TextEncoder().encode(`{"crc32":"${crc32HexOf(bytes)}","body":${body}}`);
}
