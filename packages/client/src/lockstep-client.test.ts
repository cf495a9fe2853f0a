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
  return new LockstepClient({ endpoints, retryDelayMs: 1, retryDelayMaxMs: 5, ...overrides });
}

function transitionRequests() {
  return fake.requests.filter((request) => request.method === "POST" && request.path.endsWith("/transition"));
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
    expect(sent.map((request) => requestIdOf(request.body))).toEqual(["1000:1", "1000:1"]);
    expect(fake.applyCountByRequestId.get("1000:1")).toBe(1);
    expect(fake.revision).toBe(1);
  });

  it("allocates a new seq per call", async () => {
    const lockstep = client([fake.node("n1").url]);
    await lockstep.transition("web-1", "Running");
    await lockstep.transition("web-1", "Stopped", { expect: "Running" });
    expect(transitionRequests().map((request) => request.body)).toEqual([
      { to: "Running", requestId: "1000:1" },
      { to: "Stopped", expect: "Running", requestId: "1000:2" },
    ]);
  });

  it("gives up after retryAttemptsMax retries with unavailable, outcome unknown, applied once", async () => {
    fake.timeoutsAfterApply = 100;
    const error = await caught(client([fake.node("n1").url], { retryAttemptsMax: 2 }).transition("web-1", "Running"));
    expect(error.code).toBe("unavailable");
    expect(isOutcomeUnknown(error)).toBe(true);
    expect((error.cause as LockstepError).code).toBe("timeout");
    expect(transitionRequests()).toHaveLength(3);
    expect(new Set(transitionRequests().map((request) => requestIdOf(request.body)))).toEqual(new Set(["1000:1"]));
    expect(fake.applyCountByRequestId.get("1000:1")).toBe(1);
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
    expect(sent.map((request) => requestIdOf(request.body))).toEqual(["1000:1", "1000:1"]);
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
    await lockstep.transition("other", "Running");
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
    expect(await lockstep.list()).toEqual({ revision: 1, machines: [{ key: "web/1", state: "Running", revision: 1 }], next: null });
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
    expect(() => new LockstepClient({ endpoints: ["https://127.0.0.1:1"], cert: "PEM" })).toThrow(/needs both cert and key/);
    expect(() => new LockstepClient({ endpoints: ["http://127.0.0.1:1"], cert: "PEM", key: "PEM" })).toThrow(/https:\/\/ endpoints only/);
    expect(() => new LockstepClient({ endpoints: ["127.0.0.1:8401"] })).toThrow(/http/);
    expect(() => new LockstepClient({ endpoints: ["http://a"], retryAttemptsMax: -1 })).toThrow(/retryAttemptsMax/);
  });

});

describe("sessions (Raft thesis §6.3)", () => {
  it("registers one session on the first write and uses it for every request id", async () => {
    const lockstep = client([fake.node("n1").url]);
    expect(lockstep.sessionId).toBeUndefined();
    await Promise.all([lockstep.transition("a", "Running"), lockstep.transition("b", "Running")]);
    expect(fake.requests.filter((request) => request.path === "/v1/sessions")).toHaveLength(1);
    expect(lockstep.sessionId).toBe("1000");
    expect(new Set(transitionRequests().map((request) => requestIdOf(request.body)))).toEqual(new Set(["1000:1", "1000:2"]));
  });

  it("re-registers after session_expired when no attempt can have been applied, and applies the write once", async () => {
    const lockstep = client([fake.node("n1").url]);
    await lockstep.transition("a", "Running");
    fake.expireSessions();
    const answer = await lockstep.transition("a", "Stopped");
    expect(answer).toMatchObject({ from: "Running", to: "Stopped" });
    expect(lockstep.sessionId).toBe("1001");
    expect(transitionRequests().map((request) => requestIdOf(request.body))).toEqual(["1000:1", "1000:2", "1001:1"]);
    expect(fake.applyCountByRequestId.get("1001:1")).toBe(1);
  });

  it("never sends a write again after session_expired when an earlier attempt may have been applied", async () => {
    const lockstep = client([fake.node("n1").url]);
    await lockstep.transition("a", "Running");
    // The first attempt is applied but answered 503 timeout; the session expires before the retry.
    fake.timeoutsAfterApply = 1;
    const original = fake.applyTransition.bind(fake);
    let calls = 0;
    fake.applyTransition = (...args) => {
      calls += 1;
      if (calls === 2) fake.expireSessions();
      return original(...args);
    };
    const error = await caught(lockstep.transition("a", "Stopped"));
    expect(error.code).toBe("session_expired");
    expect(isOutcomeUnknown(error)).toBe(true);
    expect(fake.machines.get("a")?.state).toBe("Stopped");
    // Two attempts of 1000:2 and nothing else: it was not re-sent under a new session.
    expect(transitionRequests().map((request) => requestIdOf(request.body))).toEqual(["1000:1", "1000:2", "1000:2"]);
  });

  it("reports request_id_reused as a refusal", async () => {
    fake.sessions.add("77");
    fake.applyTransition("a", "Running", undefined, "77:1");
    const answer = await fetch(`${fake.node("n1").url}/v1/machines/b/transition`, { method: "POST", body: JSON.stringify({ to: "Running", requestId: "77:1" }) });
    expect(answer.status).toBe(409);
  });
});

describe("delete and paging", () => {
  it("deletes a key with a session request id", async () => {
    const lockstep = client([fake.node("n1").url]);
    await lockstep.transition("gone", "Running");
    expect(await lockstep.delete("gone")).toMatchObject({ key: "gone", from: "Running", deleted: true });
    expect(fake.requests.at(-1)?.path).toBe("/v1/machines/gone?requestId=1000%3A2");
    expect(fake.machines.has("gone")).toBe(false);
  });

  it("pages through every key with listAll", async () => {
    for (const key of ["k3", "k1", "k2", "k5", "k4"]) fake.applyTransition(key, "Running");
    const lockstep = client([fake.node("n1").url]);
    const keys: string[] = [];
    for await (const machine of lockstep.listAll({ limit: 2 })) keys.push(machine.key);
    expect(keys).toEqual(["k1", "k2", "k3", "k4", "k5"]);
    expect(fake.requests.filter((request) => request.path.startsWith("/v1/machines?"))).toHaveLength(3);
    await expect(lockstep.list({ limit: 0 })).rejects.toMatchObject({ code: "bad_request" });
  });
});
