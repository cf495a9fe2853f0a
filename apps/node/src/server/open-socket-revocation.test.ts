import { X509Certificate } from "node:crypto";
import { createCertificateAuthority, signClientCertificate, signNodeCertificate } from "@lockstep/certs";
import { LockstepClient } from "@lockstep/client";
import { TokenCreatedSchema } from "@lockstep/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { startTestApi, type TestApi } from "../testing/start-test-api.js";
import { startTokenTestApi, type TokenTestApi } from "../testing/start-token-test-api.js";
import { openRpcTestSocket } from "../testing/rpc-test-socket.js";
import { webSocketBearerProtocolPrefix, webSocketProtocol } from "./client-guard.js";

// A token is checked when a socket opens; these check that revoking it also ends the sockets it
// opened. The periodic sweep is set to a minute here, so a close within a second can only come
// from the check each node runs right after it applies the revoke.

let api: TestApi;
let tokenApi: TokenTestApi;
let adminToken: string;
/** How soon after the revoke's answer a socket must be closed (the apply-time check, not the sweep). */
const closedWithinMs = 1_000;

beforeAll(async () => {
  tokenApi = await startTokenTestApi({ socketRecheckIntervalMs: 60_000 });
  api = tokenApi.api;
  adminToken = tokenApi.adminToken;
});

afterAll(async () => {
  await tokenApi.stop();
});

async function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${api.baseUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text === "" ? null : (JSON.parse(text) as unknown) };
}

async function createToken(name: string, role: "read" | "write" | "admin"): Promise<string> {
  const answer = await call("POST", "/v1/tokens", adminToken, { name, role });
  expect(answer.status).toBe(200);
  return TokenCreatedSchema.parse(answer.json).token;
}

/** Revokes `name` and returns when its answer arrived (the revoke is applied on the node by then). */
async function revoke(name: string): Promise<number> {
  expect((await call("DELETE", `/v1/tokens/${name}`, adminToken, {})).status).toBe(200);
  return Date.now();
}

async function refusals(reason: string): Promise<number> {
  const match = new RegExp(`^lockstep_client_refusals_total\\{reason="${reason}"\\} (\\d+)$`, "m").exec(await api.metricsText());
  return match === null ? 0 : Number(match[1]);
}

interface OpenSocket {
  socket: WebSocket;
  messages: unknown[];
  closed: Promise<{ code: number; reason: string; atMs: number }>;
}

function open(path: string, options: { token?: string; protocols?: string[] }): Promise<OpenSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${api.webSocketUrl}${path}`, options.protocols ?? [], options.token === undefined ? {} : { headers: { Authorization: `Bearer ${options.token}` } });
    const messages: unknown[] = [];
    socket.on("message", (data: Buffer) => messages.push(JSON.parse(data.toString("utf8"))));
    const closed = new Promise<{ code: number; reason: string; atMs: number }>((resolveClose) =>
      socket.on("close", (code, reason) => resolveClose({ code, reason: reason.toString("utf8"), atMs: Date.now() })),
    );
    socket.once("open", () => resolve({ socket, messages, closed }));
    socket.once("unexpected-response", (_request, response) => reject(new Error(`upgrade refused: ${response.statusCode}`)));
    socket.once("error", reject);
  });
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 3_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("revoking a token ends the sockets it opened", () => {
  it("a watch: no event after the revoke, an unauthenticated error, close 4401 within a second, counted", async () => {
    const token = await createToken("watch-reader", "read");
    const watch = await open("/v1/watch", { token });
    expect((await call("POST", "/v1/machines/rev-1/transition", adminToken, { to: "Running" })).status).toBe(200);
    await until("the first event", () => (watch.messages.length === 1 ? true : undefined));
    const before = await refusals("invalid_token");

    const revokedAtMs = await revoke("watch-reader");
    expect((await call("POST", "/v1/machines/rev-1/transition", adminToken, { to: "Stopped" })).status).toBe(200);
    const closed = await watch.closed;

    expect(closed.code).toBe(4401);
    expect(closed.reason).toMatch(/^invalid_token: /);
    expect(closed.atMs - revokedAtMs).toBeLessThan(closedWithinMs);
    expect(watch.messages).toEqual([
      expect.objectContaining({ type: "transition", key: "rev-1", to: "Running" }),
      { type: "error", code: "unauthenticated", message: expect.stringMatching(/unknown or revoked/) },
    ]);
    expect(await refusals("invalid_token")).toBe(before + 1);
    await expect(open("/v1/watch", { token })).rejects.toThrow(/401/);
  });

  it("a dashboard feed opened with the browser's bearer subprotocol: close 4401 within a second", async () => {
    const token = await createToken("dashboard-reader", "read");
    const feed = await open("/v1/dashboard-feed", { protocols: [webSocketProtocol, `${webSocketBearerProtocolPrefix}${token}`] });
    expect(feed.socket.protocol).toBe(webSocketProtocol);
    await until("the first snapshot", () => (feed.messages.length > 0 ? true : undefined));

    const revokedAtMs = await revoke("dashboard-reader");
    const closed = await feed.closed;
    expect([closed.code, closed.reason.split(":")[0]]).toEqual([4401, "invalid_token"]);
    expect(closed.atMs - revokedAtMs).toBeLessThan(closedWithinMs);
  });

  it("an rpc connection: close 4401 within a second; the token then gets 401 over HTTP and on a new upgrade", async () => {
    const token = await createToken("rpc-writer", "write");
    const rpc = await openRpcTestSocket(api.webSocketUrl, { Authorization: `Bearer ${token}` });
    expect((await rpc.call(1, "POST", "/v1/machines/rev-2/transition", { to: "Running" })).status).toBe(200);
    const closed = new Promise<{ code: number; reason: string; atMs: number }>((resolve) =>
      rpc.webSocket.on("close", (code, reason) => resolve({ code, reason: reason.toString("utf8"), atMs: Date.now() })),
    );

    const revokedAtMs = await revoke("rpc-writer");
    const ended = await closed;
    expect([ended.code, ended.reason.split(":")[0]]).toEqual([4401, "invalid_token"]);
    expect(ended.atMs - revokedAtMs).toBeLessThan(closedWithinMs);
    expect((await call("POST", "/v1/machines/rev-2/transition", token, { to: "Stopped" })).status).toBe(401);
    await expect(openRpcTestSocket(api.webSocketUrl, { Authorization: `Bearer ${token}` })).rejects.toThrow(/401/);
  });

  it("@lockstep/client's watch stops with unauthenticated instead of reconnecting", async () => {
    const token = await createToken("client-watcher", "read");
    const client = new LockstepClient({ endpoints: [api.baseUrl], token, retryDelayMs: 10, retryDelayMaxMs: 50 });
    const events: number[] = [];
    const watch = client.watch({ from: 1, onEvent: (event) => events.push(event.revision) });
    await until("the watch's replay", () => (events.length > 0 ? true : undefined));
    await revoke("client-watcher");
    const stopped = await watch.stopped;
    expect(stopped?.code).toBe("unauthenticated");
    client.close();
  });

  it("leaves the sockets of other tokens open", async () => {
    const keep = await createToken("keeps-watching", "read");
    const gone = await createToken("stops-watching", "read");
    const kept = await open("/v1/watch", { token: keep });
    const ended = await open("/v1/watch", { token: gone });
    await revoke("stops-watching");
    expect((await ended.closed).code).toBe(4401);
    expect((await call("POST", "/v1/machines/rev-3/transition", adminToken, { to: "Running" })).status).toBe(200);
    await until("the kept watch's event", () => (kept.messages.some((message) => (message as { key?: string }).key === "rev-3") ? true : undefined));
    expect(kept.socket.readyState).toBe(WebSocket.OPEN);
    kept.socket.close();
  });
});

describe("a client certificate that expires while its socket is open", () => {
  it("ends the socket with 4401 within clientSocketRecheckIntervalMs of the expiry", async () => {
    const ca = await createCertificateAuthority();
    const node = await signNodeCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, nodeId: "n1", hosts: ["127.0.0.1"] });
    // Valid from a second ago for three seconds: expires about two seconds from now.
    const client = await signClientCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, name: "short", validFrom: new Date(Date.now() - 1_000), validityDays: 3 / 86_400 });
    const tlsApi = await startTestApi({ tls: { cert: node.certPem, key: node.keyPem!, ca: ca.certPem }, socketRecheckIntervalMs: 100 });
    try {
      const socket = new WebSocket(`${tlsApi.webSocketUrl}/v1/watch`, { ca: ca.certPem, cert: client.certPem, key: client.keyPem! });
      const closed = new Promise<{ code: number; reason: string; atMs: number }>((resolve) => socket.on("close", (code, reason) => resolve({ code, reason: reason.toString("utf8"), atMs: Date.now() })));
      await new Promise((resolve, reject) => {
        socket.once("open", resolve);
        socket.once("error", reject);
      });
      const expiresAtMs = Date.parse(new X509Certificate(client.certPem).validTo);
      const ended = await closed;
      expect([ended.code, ended.reason]).toEqual([4401, expect.stringMatching(/^client_certificate_untrusted: the client certificate expired/)]);
      expect(ended.atMs).toBeGreaterThanOrEqual(expiresAtMs);
      expect(ended.atMs - expiresAtMs).toBeLessThan(1_000);
    } finally {
      await tlsApi.stop();
    }
  });
});

describe("a token that expires while its socket is open", () => {
  it("ends the watch with 4401 token_expired within clientSocketRecheckIntervalMs of the expiry; HTTP gets 401 after it", async () => {
    const expiringApi = await startTokenTestApi({ socketRecheckIntervalMs: 100 });
    const expiring = expiringApi.api;
    try {
      const admin = expiringApi.adminToken;
      const created = await fetch(`${expiring.baseUrl}/v1/tokens`, {
        method: "POST",
        headers: { Authorization: `Bearer ${admin}`, "Content-Type": "application/json" },
        body: JSON.stringify({ name: "brief", role: "read", ttlSeconds: 1 }),
      });
      expect(created.status).toBe(200);
      const answer = TokenCreatedSchema.parse(await created.json());
      const expiresAtMs = Date.parse(answer.expiresAt!);
      expect(expiresAtMs - Date.now()).toBeLessThanOrEqual(1_000);

      const socket = new WebSocket(`${expiring.webSocketUrl}/v1/watch`, { headers: { Authorization: `Bearer ${answer.token}` } });
      const closed = new Promise<{ code: number; reason: string; atMs: number }>((resolve) => socket.on("close", (code, reason) => resolve({ code, reason: reason.toString("utf8"), atMs: Date.now() })));
      await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
      const ended = await closed;
      expect([ended.code, ended.reason]).toEqual([4401, expect.stringMatching(/^token_expired: the token expired at /)]);
      expect(ended.atMs).toBeGreaterThanOrEqual(expiresAtMs);
      expect(ended.atMs - expiresAtMs).toBeLessThan(1_000);

      const after = await fetch(`${expiring.baseUrl}/v1/machines/x`, { headers: { Authorization: `Bearer ${answer.token}` } });
      expect(after.status).toBe(401);
      expect(await after.json()).toMatchObject({ error: { code: "unauthenticated", message: expect.stringMatching(/expired at/) } });
      expect(await expiring.metricsText()).toMatch(/^lockstep_client_refusals_total\{reason="token_expired"\} 2$/m);
    } finally {
      await expiringApi.stop();
    }
  });
});
