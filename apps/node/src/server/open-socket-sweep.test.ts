import type { IncomingMessage } from "node:http";
import type { TokenRecord } from "@lockstep/state-machine";
import { describe, expect, it } from "vitest";
import { ClientGuard, type Refusal } from "./client-guard.js";
import type { ClientRefusalReason } from "./client-refusals.js";
import { OpenSocketSweep, refusalCloseFrame, type TrackedSocket } from "./open-socket-sweep.js";
import { createTokenSecret, hashTokenSecret } from "./token-secret.js";

const token = createTokenSecret("viewer");
const reader: TokenRecord = Object.freeze({ name: "viewer", hash: hashTokenSecret(token), role: "read", prefixes: [], createdRevision: 3 });

/** No member URLs (the guard reads them on every check; the same array each time). */
const noMemberUrls: readonly string[] = [];

/** A guard over a token table the test replaces. */
function guardOver(table: { records: TokenRecord[] }): ClientGuard {
  return new ClientGuard({
    authentication: "tokens",
    tls: false,
    memberClientUrls: () => noMemberUrls,
    corsAllowedOrigins: [],
    hostAllowlist: [],
    tokens: () => ({ get: (name) => table.records.find((record) => record.name === name) }),
    countRefusal: () => undefined,
  });
}

function upgradeOf(path: string, headers: Record<string, string>): IncomingMessage {
  return { url: path, headers: { host: "127.0.0.1", ...headers }, socket: {} } as unknown as IncomingMessage;
}

function tracked(stream: TrackedSocket["stream"], upgrade: IncomingMessage): TrackedSocket & { ended: Refusal[] } {
  const ended: Refusal[] = [];
  return { stream, upgrade, ended, end: (refusal) => ended.push(refusal) };
}

describe("ClientGuard.recheckOpenSocket", () => {
  it("keeps a socket while its token stands, refuses it once revoked, or once its record no longer covers the route", () => {
    const table = { records: [reader] };
    const guard = guardOver(table);
    const watch = upgradeOf("/v1/watch?from=3", { authorization: `Bearer ${token}` });
    const feed = upgradeOf("/v1/dashboard-feed", { "sec-websocket-protocol": `lockstep.v1, lockstep.bearer.${token}` });
    expect(guard.recheckOpenSocket(watch, 0)).toBeNull();
    expect(guard.recheckOpenSocket(feed, 0)).toBeNull();

    // The same secret now limited to a prefix (the log allows a name to be created again): a watch of every key is no longer covered.
    table.records = [{ ...reader, prefixes: ["web/"], createdRevision: 9 }];
    expect(guard.recheckOpenSocket(watch, 0)).toMatchObject({ code: "forbidden", reason: "forbidden_prefix" });
    table.records = [];
    expect(guard.recheckOpenSocket(feed, 0)).toMatchObject({ code: "unauthenticated", reason: "invalid_token" });
  });

  it("refuses an open socket whose client certificate expired", () => {
    const guard = new ClientGuard({
      authentication: "none",
      tls: true,
      clientCertificates: true,
      memberClientUrls: () => noMemberUrls,
      corsAllowedOrigins: [],
      hostAllowlist: [],
      tokens: () => ({ get: () => undefined }),
      countRefusal: () => undefined,
    });
    const validTo = "Dec  1 16:00:00 2026 GMT";
    const upgrade = { url: "/v1/watch", headers: {}, socket: { getPeerX509Certificate: () => ({ validTo }) } } as unknown as IncomingMessage;
    expect(guard.recheckOpenSocket(upgrade, Date.parse(validTo) - 1)).toBeNull();
    expect(guard.recheckOpenSocket(upgrade, Date.parse(validTo))).toMatchObject({ code: "unauthenticated", reason: "client_certificate_untrusted", message: expect.stringMatching(/expired/) });
  });
});

describe("OpenSocketSweep", () => {
  it("ends only the refused sockets, once each, counts them by reason, and stops checking those it ended or that closed", () => {
    const table = { records: [reader] };
    const guard = guardOver(table);
    const counted: ClientRefusalReason[] = [];
    const sweep = new OpenSocketSweep({ recheck: (upgrade, nowMs) => guard.recheckOpenSocket(upgrade, nowMs), countRefusal: (reason) => counted.push(reason), intervalMs: 60_000, nowMs: () => 0 });
    const other = createTokenSecret("other");
    const kept = tracked("watch", upgradeOf("/v1/watch", { authorization: `Bearer ${other}` }));
    const revoked = tracked("rpc", upgradeOf("/v1/rpc", { authorization: `Bearer ${token}` }));
    const closed = tracked("dashboard", upgradeOf("/v1/dashboard-feed", { authorization: `Bearer ${token}` }));
    table.records.push({ name: "other", hash: hashTokenSecret(other), role: "read", prefixes: [], createdRevision: 4 });
    sweep.track(kept);
    sweep.track(revoked);
    const untrack = sweep.track(closed);
    untrack();

    expect(sweep.checkNow()).toBe(0);
    table.records = table.records.filter((record) => record.name !== "viewer");
    expect(sweep.checkNow()).toBe(1);
    expect(sweep.checkNow()).toBe(0);
    expect(revoked.ended).toEqual([expect.objectContaining({ reason: "invalid_token" })]);
    expect([kept.ended, closed.ended]).toEqual([[], []]);
    expect(counted).toEqual(["invalid_token"]);
    expect(sweep.size).toBe(1);
    sweep.stop();
  });

  it("checks soon after a token change (several in one turn check once) and every intervalMs in any case", async () => {
    let checks = 0;
    const sweep = new OpenSocketSweep({
      recheck: () => {
        checks++;
        return null;
      },
      countRefusal: () => undefined,
      intervalMs: 30,
      nowMs: () => 0,
    });
    sweep.track(tracked("watch", upgradeOf("/v1/watch", {})));
    sweep.checkSoon();
    sweep.checkSoon();
    await new Promise((resolve) => setImmediate(resolve));
    expect(checks).toBe(1);
    sweep.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    sweep.stop();
    expect(checks).toBeGreaterThanOrEqual(3);
  });
});

describe("refusalCloseFrame", () => {
  it("maps unauthenticated to 4401 and forbidden to 4403, with a reason that fits a close frame", () => {
    expect(refusalCloseFrame({ code: "unauthenticated", reason: "invalid_token", message: "the token is unknown or revoked" })).toEqual({
      code: 4401,
      reason: "invalid_token: the token is unknown or revoked",
    });
    const long = refusalCloseFrame({ code: "forbidden", reason: "forbidden_prefix", message: `token "t" is limited to keys starting with ${"é".repeat(200)}` });
    expect(long.code).toBe(4403);
    expect(Buffer.byteLength(long.reason, "utf8")).toBeLessThanOrEqual(123);
  });
});
