import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LockstepClient } from "./lockstep-client.js";
import { isOutcomeUnknown, isRefusal, LockstepError } from "./lockstep-error.js";
import { FakeCluster, unusedEndpoint } from "./testing/fake-server.js";

// The `ws` transport must keep every promise of the HTTP one: same answers, errors and retries.

let fake: FakeCluster;
const clients: LockstepClient[] = [];

beforeEach(async () => {
  fake = await FakeCluster.start(3);
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await fake.stop();
});

function wsClient(endpoints: string[], overrides: { retryAttemptsMax?: number; requestTimeoutMs?: number; token?: string } = {}): LockstepClient {
  const client = new LockstepClient({ endpoints, transport: "ws", retryDelayMs: 1, retryDelayMaxMs: 5, ...overrides });
  clients.push(client);
  return client;
}

function transitionRequests() {
  return fake.requests.filter((request) => request.method === "POST" && request.path.endsWith("/transition"));
}

async function caught(promise: Promise<unknown>): Promise<LockstepError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LockstepError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

describe("the ws transport (/v1/rpc)", () => {
  it("sends every request over one connection per node and answers as HTTP does", async () => {
    const lockstep = wsClient([fake.node("n1").url]);
    expect(await lockstep.transition("web-1", "Running")).toEqual({ key: "web-1", from: "Init", to: "Running", revision: 1 });
    expect(await lockstep.get("web-1")).toEqual({ key: "web-1", state: "Running", revision: 1 });
    expect((await lockstep.list()).machines).toEqual([{ key: "web-1", state: "Running", revision: 1 }]);
    expect(await lockstep.delete("web-1")).toMatchObject({ key: "web-1", deleted: true });
    expect(fake.requests.length).toBeGreaterThan(4);
    expect(fake.requests.every((request) => request.transport === "rpc")).toBe(true);
    expect(fake.node("n1").rpcConnections).toBe(1);
  });

  it("carries many calls at once on that one connection, each answered with its own result", async () => {
    const lockstep = wsClient([fake.node("n1").url]);
    const keys = Array.from({ length: 40 }, (_, index) => `key-${index}`);
    const answers = await Promise.all(keys.map((key) => lockstep.transition(key, "Running")));
    expect(answers.map((answer) => answer.key)).toEqual(keys);
    expect(new Set(transitionRequests().map((request) => (request.body as { requestId: string }).requestId)).size).toBe(40);
    expect(fake.node("n1").rpcConnections).toBe(1);
  });

  it("retries a 503 timeout with the same requestId; applied once", async () => {
    fake.timeoutsAfterApply = 1;
    await wsClient([fake.node("n1").url]).transition("web-1", "Running");
    expect(transitionRequests().map((request) => (request.body as { requestId: string }).requestId)).toEqual(["1000:1", "1000:1"]);
    expect(fake.applyCountByRequestId.get("1000:1")).toBe(1);
  });

  it("re-sends a write whose answer was lost with the connection, on a new connection, with the same requestId", async () => {
    const lockstep = wsClient([fake.node("n1").url]);
    await lockstep.transition("warm-up", "Running");
    fake.rpcCutsAfterHandling = 1;
    expect(await lockstep.transition("web-1", "Running")).toMatchObject({ key: "web-1", to: "Running", revision: 2 });
    expect(transitionRequests().map((request) => (request.body as { requestId: string }).requestId)).toEqual(["1000:1", "1000:2", "1000:2"]);
    expect(fake.applyCountByRequestId.get("1000:2")).toBe(1);
    expect(fake.node("n1").rpcConnections).toBe(2);
  });

  it("bounds each request by requestTimeoutMs, then retries it with the same requestId", async () => {
    const lockstep = wsClient([fake.node("n1").url], { requestTimeoutMs: 200 });
    await lockstep.transition("warm-up", "Running");
    fake.rpcSilences = 1;
    const startedMs = Date.now();
    await lockstep.transition("web-1", "Running");
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(190);
    expect(transitionRequests()).toHaveLength(3);
    expect(fake.applyCountByRequestId.get("1000:2")).toBe(1);
  });

  it("reports a write whose every answer was lost as unavailable with an unknown outcome", async () => {
    const lockstep = wsClient([fake.node("n1").url], { retryAttemptsMax: 2 });
    await lockstep.transition("warm-up", "Running");
    fake.rpcCutsAfterHandling = 3;
    const error = await caught(lockstep.transition("web-1", "Running"));
    expect(error.code).toBe("unavailable");
    expect(isOutcomeUnknown(error)).toBe(true);
    expect(fake.applyCountByRequestId.get("1000:2")).toBe(1);
  });

  it("replaces a connection that sends an unreadable answer; the request is retried, not misread", async () => {
    const lockstep = wsClient([fake.node("n1").url]);
    await lockstep.transition("warm-up", "Running");
    fake.rpcGarbageAnswers = 1;
    expect(await lockstep.transition("web-1", "Running")).toMatchObject({ revision: 2 });
    expect(fake.node("n1").rpcConnections).toBe(2);
    expect(fake.applyCountByRequestId.get("1000:2")).toBe(1);
  });

  it("moves to the next endpoint when one refuses connections; nothing sent means a known outcome", async () => {
    const down = await unusedEndpoint();
    expect(await wsClient([down, fake.node("n2").url]).transition("web-1", "Running")).toMatchObject({ revision: 1 });
    const error = await caught(wsClient([down], { retryAttemptsMax: 1 }).transition("web-2", "Running"));
    expect(error.code).toBe("unavailable");
    expect(isOutcomeUnknown(error)).toBe(false);
  });

  it("throws the same typed refusals, without retrying them", async () => {
    const lockstep = wsClient([fake.node("n1").url]);
    await lockstep.transition("web-1", "Running");
    const error = await caught(lockstep.transition("web-1", "Init"));
    expect(error).toMatchObject({ code: "invalid_transition", status: 409, details: { from: "Running", to: "Init", allowed: ["Stopped"] } });
    expect(isRefusal(error)).toBe(true);
    expect(transitionRequests()).toHaveLength(2);
  });

  it("turns a refused upgrade into the node's error (401 unauthenticated)", async () => {
    fake.rpcRefusal = { status: 401, error: { code: "unauthenticated", message: "this request needs a token" } };
    const error = await caught(wsClient([fake.node("n1").url]).get("web-1"));
    expect(error).toMatchObject({ code: "unauthenticated", status: 401 });
  });

  it("close() fails the calls still waiting as outcome unknown, and a later call reconnects", async () => {
    const lockstep = wsClient([fake.node("n1").url], { retryAttemptsMax: 0 });
    await lockstep.transition("warm-up", "Running");
    fake.rpcSilences = 1;
    const waiting = caught(lockstep.transition("web-1", "Running"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    lockstep.close();
    const error = await waiting;
    expect(error.code).toBe("unavailable");
    expect(isOutcomeUnknown(error)).toBe(true);
    expect(await lockstep.get("web-1")).toMatchObject({ key: "web-1" });
    expect(fake.node("n1").rpcConnections).toBe(2);
  });

  it("refuses an unknown transport as a programmer error", () => {
    expect(() => new LockstepClient({ endpoints: [fake.node("n1").url], transport: "h3" as "ws" })).toThrow(TypeError);
  });
});
