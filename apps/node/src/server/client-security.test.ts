import { request as httpRequest } from "node:http";
import { statSync } from "node:fs";
import { connect } from "node:net";
import { ErrorResponseSchema, TokenCreatedSchema, TokenListSchema } from "@lockstep/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { startTestApi, type TestApi } from "../testing/start-test-api.js";
import { startTokenTestApi, type TokenTestApi } from "../testing/start-token-test-api.js";
import { webSocketBearerProtocolPrefix, webSocketProtocol } from "./client-guard.js";

// Each test plays someone trying to get in; each refusal must be answered and counted by reason.

let api: TestApi;
let tokenApi: TokenTestApi;
let adminToken: string;
const allowedOrigin = "https://ops.example.com";

beforeAll(async () => {
  tokenApi = await startTokenTestApi({ corsAllowedOrigins: [allowedOrigin], connectionsPerSourceMax: 8 });
  api = tokenApi.api;
  adminToken = tokenApi.adminToken;
});

afterAll(async () => {
  await tokenApi.stop();
});

interface Answer {
  status: number;
  json: unknown;
  headers: Headers;
}

async function call(method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...(options.token === undefined ? {} : { Authorization: `Bearer ${options.token}` }), ...options.headers };
  if (options.body !== undefined) headers["Content-Type"] ??= "application/json";
  const response = await fetch(`${api.baseUrl}${path}`, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
  const text = await response.text();
  return { status: response.status, json: text === "" ? null : (JSON.parse(text) as unknown), headers: response.headers };
}

function errorCode(answer: Answer): string {
  return ErrorResponseSchema.parse(answer.json).error.code;
}

async function createToken(name: string, role: string, prefixes?: string[]): Promise<string> {
  const answer = await call("POST", "/v1/tokens", { token: adminToken, body: { name, role, ...(prefixes === undefined ? {} : { prefixes }) } });
  expect(answer.status).toBe(200);
  return TokenCreatedSchema.parse(answer.json).token;
}

async function refusals(reason: string): Promise<number> {
  const match = new RegExp(`^lockstep_client_refusals_total\\{reason="${reason}"\\} (\\d+)$`, "m").exec(await api.metricsText());
  return match === null ? 0 : Number(match[1]);
}

/** Runs `attempt` and returns how many refusals of `reason` it added. */
async function counted(reason: string, attempt: () => Promise<void>): Promise<number> {
  const before = await refusals(reason);
  await attempt();
  return (await refusals(reason)) - before;
}

function rawRequest(options: { host: string; path: string; method?: string; headers?: Record<string, string> }): Promise<{ status: number; body: string }> {
  const port = Number(new URL(api.baseUrl).port);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: "127.0.0.1", port, path: options.path, method: options.method ?? "GET", headers: { Host: options.host, ...options.headers } }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on("error", reject);
    request.end();
  });
}

function openWebSocket(path: string, options: { origin?: string; protocols?: string[]; token?: string } = {}): Promise<{ opened: boolean; status?: number; protocol?: string }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${api.webSocketUrl}${path}`, options.protocols ?? [], {
      ...(options.origin === undefined ? {} : { origin: options.origin }),
      ...(options.token === undefined ? {} : { headers: { Authorization: `Bearer ${options.token}` } }),
    });
    socket.on("open", () => {
      resolve({ opened: true, protocol: socket.protocol });
      socket.close();
    });
    socket.on("unexpected-response", (_request, response) => {
      resolve({ opened: false, status: response.statusCode ?? 0 });
      response.resume();
    });
    socket.on("error", () => resolve({ opened: false }));
  });
}

describe("the client port with tokens on", () => {
  it("bootstraps an initial admin token into a file only its owner can read", () => {
    expect(api.node.localStore.tokens.get("initial-admin")?.role).toBe("admin");
    expect(statSync(tokenApi.tokenFile).mode & 0o777).toBe(0o600);
  });

  it("refuses a client without a token with 401 unauthenticated, and counts it", async () => {
    let answer: Answer | undefined;
    expect(
      await counted("unauthenticated", async () => {
        answer = await call("GET", "/v1/machines/web-1");
      }),
    ).toBe(1);
    expect(answer!.status).toBe(401);
    expect(errorCode(answer!)).toBe("unauthenticated");
    expect(answer!.headers.get("www-authenticate")).toBe('Bearer realm="lockstep"');
  });

  it("keeps health checks and metrics open to anyone", async () => {
    expect((await call("GET", "/livez")).status).toBe(200);
    expect((await fetch(`${api.baseUrl}/metrics`)).status).toBe(200);
  });

  it("refuses a revoked token as soon as the revoke applied, and a made-up one", async () => {
    const token = await createToken("short-lived", "write");
    expect((await call("GET", "/v1/machines/a", { token })).status).toBe(200);
    const revoked = await call("DELETE", "/v1/tokens/short-lived", { token: adminToken, headers: { "Content-Type": "application/json" } });
    expect(revoked.status).toBe(200);
    let answer: Answer | undefined;
    expect(
      await counted("invalid_token", async () => {
        answer = await call("GET", "/v1/machines/a", { token });
      }),
    ).toBe(1);
    expect(answer!.status).toBe(401);
    // Same name as a live token, wrong secret: refused just the same.
    const forged = `initial-admin.${"A".repeat(43)}`;
    expect((await call("GET", "/v1/machines/a", { token: forged })).status).toBe(401);
  });

  it("refuses a read token that writes with 403 forbidden, and lets it read", async () => {
    const token = await createToken("reader", "read");
    expect((await call("GET", "/v1/machines/a", { token })).status).toBe(200);
    let answer: Answer | undefined;
    expect(
      await counted("forbidden_role", async () => {
        answer = await call("POST", "/v1/machines/a/transition", { token, body: { to: "Running" } });
      }),
    ).toBe(1);
    expect(answer!.status).toBe(403);
    expect(errorCode(answer!)).toBe("forbidden");
    expect(api.node.localStore.get("a").state).toBe("Init");
    // Nor may it manage tokens: that needs admin.
    expect((await call("POST", "/v1/tokens", { token, body: { name: "escalated", role: "admin" } })).status).toBe(403);
  });

  it("refuses a prefix-limited token outside its prefix, and serves it inside", async () => {
    const token = await createToken("web-team", "write", ["web/"]);
    expect((await call("POST", "/v1/machines/web%2F1/transition", { token, body: { to: "Running" } })).status).toBe(200);
    let answer: Answer | undefined;
    expect(
      await counted("forbidden_prefix", async () => {
        answer = await call("POST", "/v1/machines/db%2F1/transition", { token, body: { to: "Running" } });
      }),
    ).toBe(1);
    expect(answer!.status).toBe(403);
    expect(api.node.localStore.get("db/1").state).toBe("Init");
    expect((await call("GET", "/v1/machines", { token })).status).toBe(403);
  });

  it("lists tokens without their secrets or hashes", async () => {
    const answer = await call("GET", "/v1/tokens", { token: adminToken });
    expect(answer.status).toBe(200);
    const list = TokenListSchema.parse(answer.json);
    expect(list.tokens.map((token) => token.name)).toContain("initial-admin");
    expect(JSON.stringify(answer.json)).not.toMatch(/[0-9a-f]{64}|initial-admin\.[A-Za-z0-9_-]{20}/);
  });

  it("refuses a cross-origin simple POST (text/plain from a foreign page) before it reaches the state machine", async () => {
    let answer: Answer | undefined;
    expect(
      await counted("origin_not_allowed", async () => {
        answer = await call("POST", "/v1/machines/csrf/transition", {
          token: adminToken,
          body: { to: "Running" },
          headers: { Origin: "https://evil.example", "Content-Type": "text/plain" },
        });
      }),
    ).toBe(1);
    expect(answer!.status).toBe(403);
    expect(api.node.localStore.get("csrf").state).toBe("Init");
  });

  it("refuses a POST that is not application/json with 415 even from a same-origin page", async () => {
    let answer: Answer | undefined;
    expect(
      await counted("content_type", async () => {
        answer = await call("POST", "/v1/machines/form/transition", { token: adminToken, body: { to: "Running" }, headers: { "Content-Type": "application/x-www-form-urlencoded" } });
      }),
    ).toBe(1);
    expect(answer!.status).toBe(415);
    expect(errorCode(answer!)).toBe("unsupported_media_type");
  });

  it("answers CORS only for configured origins, always with Vary: Origin", async () => {
    const allowed = await call("GET", "/livez", { headers: { Origin: allowedOrigin } });
    expect(allowed.headers.get("access-control-allow-origin")).toBe(allowedOrigin);
    expect(allowed.headers.get("vary")).toBe("Origin");
    const preflight = await fetch(`${api.baseUrl}/v1/machines/a/transition`, {
      method: "OPTIONS",
      headers: { Origin: allowedOrigin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-headers")).toBe("Authorization, Content-Type");
    const foreign = await call("GET", "/livez", { headers: { Origin: "https://evil.example" } });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("refuses a DNS-rebinding Host, but answers IP literals and localhost", async () => {
    let answer: { status: number; body: string } | undefined;
    expect(
      await counted("host_not_allowed", async () => {
        answer = await rawRequest({ host: "rebind.evil.example:8401", path: "/livez" });
      }),
    ).toBe(1);
    expect(answer!.status).toBe(403);
    expect(ErrorResponseSchema.parse(JSON.parse(answer!.body)).error.code).toBe("forbidden");
    expect((await rawRequest({ host: "localhost:8401", path: "/livez" })).status).toBe(200);
    expect((await rawRequest({ host: "10.1.2.3:8401", path: "/livez" })).status).toBe(200);
  });

  it("refuses a WebSocket upgrade from a foreign Origin and one without a token; takes the token as a subprotocol", async () => {
    let foreign: Awaited<ReturnType<typeof openWebSocket>> | undefined;
    expect(
      await counted("origin_not_allowed", async () => {
        foreign = await openWebSocket("/v1/watch", { origin: "https://evil.example", token: adminToken });
      }),
    ).toBe(1);
    expect(foreign).toEqual({ opened: false, status: 403 });
    expect(await openWebSocket("/v1/watch")).toEqual({ opened: false, status: 401 });
    const browserLike = await openWebSocket("/v1/watch", { origin: allowedOrigin, protocols: [webSocketProtocol, `${webSocketBearerProtocolPrefix}${adminToken}`] });
    expect(browserLike).toEqual({ opened: true, protocol: webSocketProtocol });
  });
});

describe("connections per source address", () => {
  it("closes connections beyond connectionsPerSourceMax from one address, and counts them", async () => {
    const limited = await startTestApi({ connectionsPerSourceMax: 2 });
    try {
      const port = Number(new URL(limited.baseUrl).port);
      const open = (): Promise<{ closedAtOnce: boolean; socket: ReturnType<typeof connect> }> =>
        new Promise((resolve) => {
          const socket = connect(port, "127.0.0.1");
          let closed = false;
          socket.once("close", () => (closed = true));
          socket.once("connect", () => setTimeout(() => resolve({ closedAtOnce: closed, socket }), 50));
        });
      const results = [await open(), await open(), await open(), await open()];
      expect(results.map((result) => result.closedAtOnce)).toEqual([false, false, true, true]);
      expect(await limited.metricsText()).toMatch(/^lockstep_client_refusals_total\{reason="too_many_connections"\} 2$/m);
      for (const result of results) result.socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await rawRequestTo(port)).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });
});

function rawRequestTo(port: number): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: "127.0.0.1", port, path: "/livez", agent: false }, (response) => {
      response.resume();
      resolve({ status: response.statusCode ?? 0 });
    });
    request.on("error", reject);
    request.end();
  });
}
