import { ErrorResponseSchema, SessionResponseSchema, TransitionResponseSchema, type RpcAnswerFrame } from "@lockstep/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { openRpcTestSocket, type RpcTestSocket } from "../testing/rpc-test-socket.js";
import { startTestApi, type TestApi } from "../testing/start-test-api.js";

// The multiplexed API must answer exactly what HTTP answers: same routes, errors and sessions.

let api: TestApi;
let rpc: RpcTestSocket;
const inflightMax = 4;

beforeAll(async () => {
  api = await startTestApi({ rpc: { requestsInflightMax: inflightMax }, requestBodyBytesMax: 1024 });
  rpc = await openRpcTestSocket(api.webSocketUrl);
});

afterAll(async () => {
  await rpc.close();
  await api.stop();
});

let nextId = 1;
function call(method: string, path: string, body?: unknown): Promise<RpcAnswerFrame> {
  return rpc.call(nextId++, method, path, body);
}

function errorOf(answer: RpcAnswerFrame): { code: string; message: string } {
  return ErrorResponseSchema.parse(answer.body).error;
}

async function httpJson(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${api.baseUrl}${path}`, {
    method,
    headers: { "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: await response.json() };
}

describe("/v1/rpc: the HTTP API over one WebSocket", () => {
  it("applies a transition once per requestId and answers a retry with the first answer, as HTTP does", async () => {
    const session = SessionResponseSchema.parse((await call("POST", "/v1/sessions", {})).body).sessionId;
    const first = await call("POST", "/v1/machines/rpc-a/transition", { to: "Running", requestId: `${session}:1` });
    expect(first.status).toBe(200);
    const applied = TransitionResponseSchema.parse(first.body);
    expect(applied).toMatchObject({ key: "rpc-a", from: "Init", to: "Running" });
    // The same request again, over rpc and over HTTP: the first answer, not a second write.
    expect(await call("POST", "/v1/machines/rpc-a/transition", { to: "Running", requestId: `${session}:1` })).toMatchObject({ status: 200, body: applied });
    expect(await httpJson("POST", "/v1/machines/rpc-a/transition", { to: "Running", requestId: `${session}:1` })).toEqual({ status: 200, body: applied });
    const reused = await call("POST", "/v1/machines/rpc-b/transition", { to: "Running", requestId: `${session}:1` });
    expect(reused.status).toBe(409);
    expect(errorOf(reused).code).toBe("request_id_reused");
    const expired = await call("POST", "/v1/machines/rpc-b/transition", { to: "Running", requestId: "never-registered:1" });
    expect(expired.status).toBe(409);
    expect(ErrorResponseSchema.parse(expired.body).error).toMatchObject({ code: "session_expired", reason: "unknown_session" });
    expect((await call("GET", "/v1/machines/rpc-b")).body).toMatchObject({ key: "rpc-b", state: "Init", revision: 0 });
  });

  it("answers every route and error exactly as HTTP does", async () => {
    const requests: [string, string, unknown?][] = [
      ["GET", "/v1/machines/rpc-a"],
      ["GET", "/v1/machines/rpc-a?consistency=stale"],
      ["GET", "/v1/machines/rpc-a?consistency=eventual"],
      ["GET", "/v1/machines/-bad"],
      ["GET", "/v1/machines?limit=1"],
      ["POST", "/v1/machines/rpc-a/transition", { to: "Init" }],
      ["POST", "/v1/machines/rpc-a/transition", { to: "Stopped", expect: "Init" }],
      ["POST", "/v1/machines/rpc-a/transition", { to: 7 }],
      ["GET", "/v1/nowhere"],
      ["DELETE", "/v1/machines/rpc-z?expect=Running"],
    ];
    for (const [method, path, body] of requests) {
      const overRpc = await call(method, path, body ?? (method === "GET" ? undefined : {}));
      const overHttp = await httpJson(method, path, body ?? (method === "GET" ? undefined : {}));
      expect({ path, status: overRpc.status, body: overRpc.body }).toEqual({ path, ...overHttp });
    }
  });

  it("carries many requests at once and matches each answer to its id, in whatever order they finish", async () => {
    const keys = ["m-1", "m-2", "m-3", "m-4"];
    const answers = await Promise.all(keys.map((key, index) => rpc.call(1000 + index, "POST", `/v1/machines/${key}/transition`, { to: "Running" })));
    answers.forEach((answer, index) => {
      expect(answer.id).toBe(1000 + index);
      expect(answer.body).toMatchObject({ key: keys[index], to: "Running" });
    });
  });

  it("refuses requests beyond rpcRequestsInflightMax at once with 503 overloaded, and answers every frame once", async () => {
    const socket = await openRpcTestSocket(api.webSocketUrl);
    const count = inflightMax * 3;
    // One TCP write, so the node reads every frame before the first answer is ready.
    const raw = (socket.webSocket as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
    raw.cork();
    for (let index = 0; index < count; index += 1) socket.send({ id: index, method: "POST", path: `/v1/machines/burst-${index}/transition`, body: { to: "Running" } });
    raw.uncork();
    const answers = await socket.waitForAnswers(count);
    expect(new Set(answers.map((answer) => answer.id)).size).toBe(count);
    const overloaded = answers.filter((answer) => answer.status === 503);
    expect(answers.filter((answer) => answer.status === 200).length).toBeGreaterThanOrEqual(inflightMax);
    expect(overloaded.length).toBeGreaterThan(0);
    for (const answer of overloaded) expect(errorOf(answer)).toMatchObject({ code: "overloaded", message: expect.stringContaining("rpcRequestsInflightMax 4") });
    await socket.close();
  });

  it("answers malformed frames with an error frame and keeps the connection", async () => {
    rpc.send("{not json");
    rpc.send({ id: 77, method: "PUT", path: "/v1/cluster" });
    rpc.send({ id: 78, method: "GET", path: "v1/cluster" });
    rpc.webSocket.send(Buffer.from([1, 2, 3]), { binary: true });
    rpc.send({ id: 79, method: "GET", path: "/metrics" });
    const before = rpc.answers.length;
    const answers = (await rpc.waitForAnswers(before + 5)).slice(before);
    const byId = (id: number | null) => answers.filter((answer) => answer.id === id);
    expect(byId(null).map((answer) => [answer.status, errorOf(answer).code])).toEqual([
      [400, "bad_request"],
      [400, "bad_request"],
    ]);
    expect(errorOf(byId(77)[0]!).message).toMatch(/^method:/);
    expect(errorOf(byId(78)[0]!).message).toMatch(/^path:/);
    expect(errorOf(byId(79)[0]!).message).toMatch(/plain HTTP only/);
    expect((await call("GET", "/livez")).body).toEqual({ status: "ok" });
  });

  it("refuses a second request with an id still in flight", async () => {
    rpc.send({ id: 500, method: "POST", path: "/v1/machines/dup/transition", body: { to: "Running" } });
    rpc.send({ id: 500, method: "GET", path: "/v1/cluster" });
    const before = rpc.answers.length;
    const answers = (await rpc.waitForAnswers(before + 2)).slice(before);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 400]);
    expect(errorOf(answers.find((answer) => answer.status === 400)!).message).toMatch(/already in flight/);
  });

  it("bounds a body like HTTP (413) and closes a frame past the frame bound with 1009", async () => {
    const large = await call("POST", "/v1/machines/big/transition", { to: "Running", padding: "x".repeat(2048) });
    expect(large.status).toBe(413);
    expect(errorOf(large).code).toBe("payload_too_large");
    const socket = await openRpcTestSocket(api.webSocketUrl);
    const closed = new Promise<number>((resolve) => socket.webSocket.once("close", (code) => resolve(code)));
    socket.send({ id: 1, method: "POST", path: "/v1/machines/big/transition", body: { to: "Running", padding: "x".repeat(1024 + 8192) } });
    expect(await closed).toBe(1009);
  });

  it("counts requests by transport", async () => {
    const count = async (transport: string): Promise<number> => {
      const match = new RegExp(`^lockstep_client_requests_total\\{transport="${transport}"\\} (\\d+)$`, "m").exec(await api.metricsText());
      return match === null ? 0 : Number(match[1]);
    };
    const rpcBefore = await count("rpc");
    const httpBefore = await count("http");
    await call("GET", "/v1/cluster");
    await call("GET", "/v1/cluster");
    await fetch(`${api.baseUrl}/livez`);
    expect(await count("rpc")).toBe(rpcBefore + 2);
    expect(await count("http")).toBe(httpBefore + 1);
  });

  it("keeps answering a client whose answers exceed rpcBufferedBytesMax (reads pause, then resume)", async () => {
    const tiny = await startTestApi({ rpc: { bufferedBytesMax: 1, requestsInflightMax: 64 } });
    try {
      const socket = await openRpcTestSocket(tiny.webSocketUrl);
      const answers = await Promise.all(Array.from({ length: 50 }, (_, index) => socket.call(index, "GET", "/v1/cluster")));
      expect(answers.every((answer) => answer.status === 200)).toBe(true);
      await socket.close();
    } finally {
      await tiny.stop();
    }
  });

  it("refuses an upgrade from a foreign Origin, as every other route", async () => {
    await expect(openRpcTestSocket(api.webSocketUrl, { Origin: "https://evil.example" })).rejects.toThrow(/403/);
  });

  it("closes open connections when the server stops, after their answers", async () => {
    const node = await startTestApi();
    const socket = await openRpcTestSocket(node.webSocketUrl);
    const closed = new Promise<number>((resolve) => socket.webSocket.once("close", (code) => resolve(code)));
    expect((await socket.call(1, "GET", "/v1/cluster")).status).toBe(200);
    await node.stop();
    expect(await closed).toBe(1001);
    expect(socket.webSocket.readyState).toBe(WebSocket.CLOSED);
  });
});
