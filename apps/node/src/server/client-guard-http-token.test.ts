import type { IncomingMessage, ServerResponse } from "node:http";
import type { TokenRecord } from "@lockstep/state-machine";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ClientGuard } from "./client-guard.js";
import { createTokenSecret, hashTokenSecret } from "./token-secret.js";

// A keep-alive HTTP socket reuses the token record its last request verified, for a request that
// presents the very same token, while that record is still in the table and unexpired. Each
// request carries its own header, so these are the cases where reusing it wrongly would let a
// request through.

function recordFor(token: string, overrides: Partial<TokenRecord> = {}): TokenRecord {
  return Object.freeze({ name: "writer", hash: hashTokenSecret(token), role: "write", prefixes: Object.freeze([]), createdRevision: 1, ...overrides });
}

function guardOver(table: Map<string, TokenRecord>, refusals: string[]): ClientGuard {
  return new ClientGuard({
    authentication: "tokens",
    tls: false,
    memberClientUrls: () => [],
    corsAllowedOrigins: [],
    hostAllowlist: [],
    tokens: () => table,
    countRefusal: (reason) => refusals.push(reason),
  });
}

/** A write token "writer" (with `overrides`) in the table, and one keep-alive socket. */
function writerOnSocket(overrides: Partial<TokenRecord> = {}): { table: Map<string, TokenRecord>; guard: ClientGuard; refusals: string[]; token: string; socket: object } {
  const table = new Map<string, TokenRecord>();
  const refusals: string[] = [];
  const token = createTokenSecret("writer");
  table.set("writer", recordFor(token, overrides));
  return { table, guard: guardOver(table, refusals), refusals, token, socket: {} };
}

/** One transition request on `socket` presenting `token`: null if admitted, else the refusal's status. */
function requestStatus(guard: ClientGuard, socket: object, token: string | null): number | null {
  const headers: Record<string, string> = { host: "127.0.0.1", "content-type": "application/json" };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const request = { method: "POST", url: "/v1/machines/k/transition", headers, socket, resume: () => undefined } as unknown as IncomingMessage;
  let status: number | null = null;
  const response = {
    setHeader: () => undefined,
    end: () => undefined,
    set statusCode(value: number) {
      status = value;
    },
  } as unknown as ServerResponse;
  return guard.admitRequest(request, response) ? null : status;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("ClientGuard: the token of a keep-alive HTTP socket", () => {
  it("admits request after request with the same token, and refuses the next once it is revoked", () => {
    const { table, guard, refusals, token, socket } = writerOnSocket();
    expect([requestStatus(guard, socket, token), requestStatus(guard, socket, token), requestStatus(guard, socket, token)]).toEqual([null, null, null]);
    table.delete("writer");
    expect(requestStatus(guard, socket, token)).toBe(401);
    expect(refusals).toEqual(["invalid_token"]);
  });

  it("checks every request's own token: after a verified one, a wrong or missing token on the same socket is refused", () => {
    const { guard, refusals, token, socket } = writerOnSocket();
    expect(requestStatus(guard, socket, token)).toBeNull();
    const forged = `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`;
    expect(requestStatus(guard, socket, forged)).toBe(401);
    expect(requestStatus(guard, socket, null)).toBe(401);
    expect(refusals).toEqual(["invalid_token", "unauthenticated"]);
    // The failed request forgot what the socket had verified; the right token is checked in full again and admitted.
    expect(requestStatus(guard, socket, token)).toBeNull();
  });

  it("checks the secret again when the record is replaced: a token re-created under the same name does not admit the old secret", () => {
    const { table, guard, token, socket } = writerOnSocket();
    expect(requestStatus(guard, socket, token)).toBeNull();
    const renewed = createTokenSecret("writer");
    table.set("writer", recordFor(renewed));
    expect(requestStatus(guard, socket, token)).toBe(401);
    expect(requestStatus(guard, socket, renewed)).toBeNull();
  });

  it("follows a replaced record's role: a token downgraded to read may no longer write", () => {
    const { table, guard, token, socket } = writerOnSocket();
    expect(requestStatus(guard, socket, token)).toBeNull();
    table.set("writer", recordFor(token, { role: "read" }));
    expect(requestStatus(guard, socket, token)).toBe(403);
  });

  it("refuses a request once the token expired, though its record is unchanged", () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const { guard, refusals, token, socket } = writerOnSocket({ expiresAtMs: 1_000_500 });
    expect(requestStatus(guard, socket, token)).toBeNull();
    vi.setSystemTime(1_000_500);
    expect(requestStatus(guard, socket, token)).toBe(401);
    expect(refusals).toEqual(["token_expired"]);
  });

  it("keeps sockets apart: one socket's verified token admits nothing on another with a wrong one", () => {
    const { guard, token, socket } = writerOnSocket();
    expect(requestStatus(guard, socket, token)).toBeNull();
    expect(requestStatus(guard, {}, `${token}x`)).toBe(401);
  });
});
