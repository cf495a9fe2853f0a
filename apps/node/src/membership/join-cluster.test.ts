import { describe, expect, it } from "vitest";
import { joinCluster, type JoinClusterOptions } from "./join-cluster.js";

const request = {
  token: `abc123.${"a".repeat(32)}`,
  member: { id: "n4", peerAddress: "127.0.0.1:7404", clientUrl: "http://127.0.0.1:8404" },
  dataDirectoryEmpty: true,
};
const answer = {
  cluster: "local",
  clusterUuid: "6f1c2a3e-8d4b-4c2a-9f00-0123456789ab",
  definition: {},
  definitionHash: "d".repeat(64),
  members: [{ id: "n4", peerAddress: "127.0.0.1:7404", clientUrl: "http://127.0.0.1:8404", voter: false }],
  index: 9,
};

/** A fetch that answers each call from a script: a status and body, or a thrown network error. */
function scripted(steps: Array<{ status: number; body: unknown } | "refused">) {
  const calls: string[] = [];
  const fetchFunction = ((url: string | URL | Request) => {
    calls.push(typeof url === "string" ? url : url instanceof URL ? url.href : url.url);
    const step = steps.shift();
    if (step === undefined || step === "refused") return Promise.reject(new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED") }));
    return Promise.resolve(new Response(JSON.stringify(step.body), { status: step.status }));
  }) as typeof fetch;
  return { calls, fetchFunction };
}

function options(fetchFunction: typeof fetch, sleeps: number[], overrides: Partial<JoinClusterOptions> = {}): JoinClusterOptions {
  return { urls: ["http://a:1", "http://b:2"], request, attemptsMax: 6, retryDelayMinMs: 100, retryDelayMaxMs: 400, requestTimeoutMs: 1_000, fetch: fetchFunction, sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    }, ...overrides };
}

describe("joinCluster", () => {
  it("moves past members that do not answer or have no leader, backing off between rounds", async () => {
    const sleeps: number[] = [];
    const { calls, fetchFunction } = scripted(["refused", { status: 503, body: { error: { code: "no_leader", message: "election" } } }, { status: 409, body: { error: { code: "change_in_progress", message: "busy" } } }, { status: 200, body: answer }]);
    const result = await joinCluster(options(fetchFunction, sleeps));
    expect(result).toEqual({ ok: true, answer, url: "http://b:2" });
    expect(calls).toEqual(["http://a:1/v1/join", "http://b:2/v1/join", "http://a:1/v1/join", "http://b:2/v1/join"]);
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(50);
    expect(sleeps[0]).toBeLessThanOrEqual(100);
  });

  it("stops at once on a refusal it cannot get past, naming it", async () => {
    const { calls, fetchFunction } = scripted([{ status: 403, body: { error: { code: "join_token_refused", message: "the join token was already used by another node", reason: "used" } } }]);
    const result = await joinCluster(options(fetchFunction, []));
    expect(result).toEqual({ ok: false, message: "the cluster refused the join: join_token_refused (used): the join token was already used by another node" });
    expect(calls).toHaveLength(1);
  });

  it("gives up after attemptsMax requests with the last reason, with capped delays", async () => {
    const sleeps: number[] = [];
    const { calls, fetchFunction } = scripted([]);
    const result = await joinCluster(options(fetchFunction, sleeps, { attemptsMax: 10 }));
    expect(result).toMatchObject({ ok: false, message: expect.stringMatching(/after 10 attempts; last: http:\/\/b:2: connect ECONNREFUSED/) });
    expect(calls).toHaveLength(10);
    expect(sleeps).toHaveLength(4);
    for (const ms of sleeps) expect(ms).toBeLessThanOrEqual(400);
  });
});
