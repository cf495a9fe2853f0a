import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LockstepClient } from "./lockstep-client.js";
import { isOutcomeUnknown, isRefusal, LockstepError } from "./lockstep-error.js";
import { FakeCluster, unusedEndpoint } from "./testing/fake-server.js";

let fake: FakeCluster;

beforeEach(async () => {
  fake = await FakeCluster.start(3);
});
afterEach(async () => {
  await fake.stop();
});

function client(endpoints: string[], overrides: { retryAttemptsMax?: number } = {}): LockstepClient {
  return new LockstepClient({ endpoints, clientId: "c1", retryDelayMs: 1, retryDelayMaxMs: 5, ...overrides });
}

function transitionRequests() {
  return fake.requests.filter((request) => request.method === "POST");
}

function requestIdOf(body: unknown): unknown {
  return (body as { requestId?: unknown }).requestId;
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

describe("transition retries (at most once)", () => {
  it("retries a 503 timeout with the same requestId and the transition is applied once", async () => {
    fake.timeoutsAfterApply = 1;
    const answer = await client([fake.node("n1").url]).transition("web-1", "Running");
    expect(answer).toEqual({ key: "web-1", from: "Init", to: "Running", revision: 1 });
    const sent = transitionRequests();
    expect(sent).toHaveLength(2);
    expect(sent.map((request) => requestIdOf(request.body))).toEqual(["c1:1", "c1:1"]);
    expect(fake.applyCountByRequestId.get("c1:1")).toBe(1);
    expect(fake.revision).toBe(1);
  });

  it("allocates a new seq per call", async () => {
    const lockstep = client([fake.node("n1").url]);
    await lockstep.transition("web-1", "Running");
    await lockstep.transition("web-1", "Stopped", { expect: "Running" });
    expect(transitionRequests().map((request) => request.body)).toEqual([
      { to: "Running", requestId: "c1:1" },
      { to: "Stopped", expect: "Running", requestId: "c1:2" },
    ]);
  });

  it("gives up after retryAttemptsMax retries with unavailable, outcome unknown, applied once", async () => {
    fake.timeoutsAfterApply = 100;
    const error = await caught(client([fake.node("n1").url], { retryAttemptsMax: 2 }).transition("web-1", "Running"));
    expect(error.code).toBe("unavailable");
    expect(isOutcomeUnknown(error)).toBe(true);
    expect((error.cause as LockstepError).code).toBe("timeout");
    expect(transitionRequests()).toHaveLength(3);
    expect(new Set(transitionRequests().map((request) => requestIdOf(request.body)))).toEqual(new Set(["c1:1"]));
    expect(fake.applyCountByRequestId.get("c1:1")).toBe(1);
  });
});

describe("leader discovery and fallback", () => {
  it("follows a follower's leader hint to the new leader, keeping the requestId", async () => {
    const lockstep = client([fake.node("n1").url]);
    await lockstep.get("web-1");
    expect(lockstep.leaderUrl).toBe(fake.node("n1").url);
    fake.leaderId = "n2";
    fake.followerWrites = "redirect";
    const answer = await lockstep.transition("web-1", "Running");
    expect(answer.revision).toBe(1);
    const sent = transitionRequests();
    expect(sent.map((request) => request.nodeId)).toEqual(["n1", "n2"]);
    expect(sent.map((request) => requestIdOf(request.body))).toEqual(["c1:1", "c1:1"]);
    expect(lockstep.leaderUrl).toBe(fake.node("n2").url);
  });

  it("sends to the leader first once it knows it", async () => {
    fake.leaderId = "n3";
    const lockstep = client([fake.node("n1").url, fake.node("n2").url, fake.node("n3").url]);
    await lockstep.transition("web-1", "Running");
    expect(transitionRequests().map((request) => request.nodeId)).toEqual(["n3"]);
  });

  it("falls back to the next endpoint when the first refuses connections", async () => {
    fake.leaderId = null;
    const lockstep = client([await unusedEndpoint(), fake.node("n2").url]);
    const answer = await lockstep.transition("web-1", "Running");
    expect(answer.to).toBe("Running");
    expect(transitionRequests().map((request) => request.nodeId)).toEqual(["n2"]);
  });

  it("reports unavailable, with a known outcome, when no endpoint accepts a connection", async () => {
    const lockstep = client([await unusedEndpoint(), await unusedEndpoint()], { retryAttemptsMax: 3 });
    const error = await caught(lockstep.transition("web-1", "Running"));
    expect(error.code).toBe("unavailable");
    expect(error.status).toBeUndefined();
    expect(isOutcomeUnknown(error)).toBe(false);
  });
});

describe("typed errors", () => {
  it("throws invalid_transition (409) with its details and does not retry", async () => {
    const error = await caught(client([fake.node("n1").url]).transition("web-1", "Stopped"));
    expect(error).toBeInstanceOf(LockstepError);
    expect(error.code).toBe("invalid_transition");
    expect(error.status).toBe(409);
    expect(error.details).toEqual({ from: "Init", to: "Stopped", allowed: ["Running"] });
    expect(isRefusal(error)).toBe(true);
    expect(isOutcomeUnknown(error)).toBe(false);
    expect(transitionRequests()).toHaveLength(1);
  });

  it("throws expect_failed with the actual state", async () => {
    const error = await caught(client([fake.node("n1").url]).transition("web-1", "Running", { expect: "Stopped" }));
    expect(error.code).toBe("expect_failed");
    expect(error.details.actual).toBe("Init");
  });

  it("turns an answer that breaks the schema into a protocol error, not retried", async () => {
    const lockstep = client([fake.node("n1").url]);
    await lockstep.cluster();
    const before = fake.requests.length;
    fake.invalidAnswers = 1;
    const error = await caught(lockstep.get("web-1"));
    expect(error.code).toBe("protocol");
    expect(error.status).toBe(200);
    expect(isOutcomeUnknown(error)).toBe(false);
    expect(fake.requests.length - before).toBe(1);
  });

  it("marks a protocol error on a transition as outcome unknown", async () => {
    const lockstep = client([fake.node("n1").url]);
    await lockstep.cluster();
    fake.invalidAnswers = 1;
    const error = await caught(lockstep.transition("web-1", "Running"));
    expect(error.code).toBe("protocol");
    expect(isOutcomeUnknown(error)).toBe(true);
  });

  it("refuses an invalid key before sending anything", async () => {
    const error = await caught(client([fake.node("n1").url]).get("bad key"));
    expect(error.code).toBe("bad_request");
    expect(fake.requests).toHaveLength(0);
  });
});

describe("reads", () => {
  it("reads one key, stale or linearizable, and lists every key", async () => {
    const lockstep = client([fake.node("n1").url]);
    await lockstep.transition("web/1", "Running");
    expect(await lockstep.get("web/1")).toEqual({ key: "web/1", state: "Running", revision: 1 });
    expect(await lockstep.get("other", { consistency: "stale" })).toEqual({ key: "other", state: "Init", revision: 0 });
    expect(fake.requests.at(-1)?.path).toBe("/v1/machines/other?consistency=stale");
    expect(await lockstep.list()).toEqual({ revision: 1, machines: [{ key: "web/1", state: "Running", revision: 1 }] });
  });

  it("asks one given endpoint for its own cluster view", async () => {
    const status = await client([fake.node("n1").url]).cluster({ endpoint: fake.node("n3").url });
    expect(status.self).toBe("n3");
    expect(status.leader).toBe("n1");
  });
});

describe("options", () => {
  it("rejects empty endpoints, bad URLs and bad client ids", () => {
    expect(() => new LockstepClient({ endpoints: [] })).toThrow(TypeError);
    expect(() => new LockstepClient({ endpoints: ["127.0.0.1:8401"] })).toThrow(/http/);
    expect(() => new LockstepClient({ endpoints: ["http://a"], clientId: "has:colon" })).toThrow(/clientId/);
    expect(() => new LockstepClient({ endpoints: ["http://a"], retryAttemptsMax: -1 })).toThrow(/retryAttemptsMax/);
  });

  it("makes a random client id that forms valid request ids", () => {
    const first = new LockstepClient({ endpoints: ["http://a"] }).clientId;
    const second = new LockstepClient({ endpoints: ["http://a"] }).clientId;
    expect(first).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(first).not.toBe(second);
  });
});
