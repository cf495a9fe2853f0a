import type { IncomingMessage } from "node:http";
import type { TokenRecord } from "@lockstep/state-machine";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ClientGuard } from "./client-guard.js";
import { rpcExchange } from "./rpc-exchange.js";
import { createTokenSecret, hashTokenSecret } from "./token-secret.js";

// A /v1/rpc frame reuses the token its connection was last verified with, while that very record
// is still in the table and unexpired; any revoke, replacement or expiry sends it through the
// full check again. These are the cases where reusing it wrongly would let a frame through.

function recordFor(token: string, overrides: Partial<TokenRecord> = {}): TokenRecord {
  return Object.freeze({ name: "writer", hash: hashTokenSecret(token), role: "write", prefixes: Object.freeze([]), createdRevision: 1, ...overrides });
}

/** A guard over a table holding one `write` token "writer" (with `overrides`), and an upgrade that presents it. */
function connectedWriter(overrides: Partial<TokenRecord> = {}): { table: Map<string, TokenRecord>; guard: ClientGuard; refusals: string[]; token: string; upgrade: IncomingMessage } {
  const table = new Map<string, TokenRecord>();
  const refusals: string[] = [];
  const guard = new ClientGuard({
    authentication: "tokens",
    tls: false,
    memberClientUrls: () => [],
    corsAllowedOrigins: [],
    hostAllowlist: [],
    tokens: () => table,
    countRefusal: (reason) => refusals.push(reason),
  });
  const token = createTokenSecret("writer");
  table.set("writer", recordFor(token, overrides));
  return { table, guard, refusals, token, upgrade: upgradeWith(token) };
}

function upgradeWith(token: string): IncomingMessage {
  return { url: "/v1/rpc", headers: { host: "127.0.0.1", authorization: `Bearer ${token}` }, socket: {} } as unknown as IncomingMessage;
}

let nextId = 1;
/** Runs one transition frame of `upgrade`'s connection through the guard: null if admitted, else the refusal's status. */
function frameStatus(guard: ClientGuard, upgrade: IncomingMessage): number | null {
  let status: number | null = null;
  const { request, response } = rpcExchange({ id: nextId++, method: "POST", path: "/v1/machines/k/transition", body: { to: "Running" } }, upgrade, (answer) => (status = answer.status));
  return guard.admitRequest(request, response) ? null : status;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("ClientGuard: the token of a /v1/rpc connection", () => {
  it("admits frame after frame while its record stays, and refuses the next frame once it is revoked", () => {
    const { table, guard, refusals, upgrade } = connectedWriter();
    expect([frameStatus(guard, upgrade), frameStatus(guard, upgrade), frameStatus(guard, upgrade)]).toEqual([null, null, null]);
    table.delete("writer");
    expect(frameStatus(guard, upgrade)).toBe(401);
    expect(refusals).toEqual(["invalid_token"]);
  });

  it("checks the secret again when the record is replaced: a token re-created under the same name with a new secret does not admit the old one", () => {
    const { table, guard, upgrade } = connectedWriter();
    expect(frameStatus(guard, upgrade)).toBeNull();
    table.set("writer", recordFor(createTokenSecret("writer"), { createdRevision: 2 }));
    expect(frameStatus(guard, upgrade)).toBe(401);
  });

  it("follows a replaced record's role: a token downgraded to read may no longer write", () => {
    const { table, guard, token, upgrade } = connectedWriter();
    expect(frameStatus(guard, upgrade)).toBeNull();
    table.set("writer", recordFor(token, { role: "read", createdRevision: 2 }));
    expect(frameStatus(guard, upgrade)).toBe(403);
  });

  it("refuses a frame once the token expired, even though its record is unchanged", () => {
    const expiresAtMs = Date.now() + 60_000;
    const { guard, refusals, upgrade } = connectedWriter({ expiresAtMs });
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(expiresAtMs - 1);
    expect(frameStatus(guard, upgrade)).toBeNull();
    vi.setSystemTime(expiresAtMs);
    expect(frameStatus(guard, upgrade)).toBe(401);
    expect(refusals).toEqual(["token_expired"]);
  });

  it("keeps connections apart: one connection's verified token admits nothing on another with a wrong one", () => {
    const { guard, token, upgrade } = connectedWriter();
    expect(frameStatus(guard, upgrade)).toBeNull();
    expect(frameStatus(guard, upgradeWith(`${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`))).toBe(401);
  });
});
