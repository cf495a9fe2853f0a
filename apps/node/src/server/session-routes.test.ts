import { defaultStoreLimits } from "@lockstep/state-machine";
import { ErrorResponseSchema, SessionResponseSchema } from "@lockstep/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../testing/start-test-api.js";

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ storeLimits: { ...defaultStoreLimits, sessionsMax: 3 } });
});

afterAll(async () => {
  await api.stop();
});

async function register(): Promise<string> {
  const response = await fetch(`${api.baseUrl}/v1/sessions`, { method: "POST", headers: { "Content-Type": "application/json" } });
  expect(response.status).toBe(200);
  return SessionResponseSchema.parse(await response.json()).sessionId;
}

async function post(key: string, body: object): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${api.baseUrl}/v1/machines/${key}/transition`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

async function state(key: string): Promise<unknown> {
  return (await fetch(`${api.baseUrl}/v1/machines/${key}`)).json();
}

describe("exactly-once over HTTP (Raft thesis §6.3)", () => {
  it("registers sessions through the log: each id is a new log index", async () => {
    const first = await register();
    const second = await register();
    expect(Number(second)).toBeGreaterThan(Number(first));
  });

  it("refuses a requestId of a session the cluster never registered with 409 session_expired, applying nothing", async () => {
    const refused = await post("never-registered", { to: "Running", requestId: "made-up-client:1" });
    expect(refused.status).toBe(409);
    expect(ErrorResponseSchema.parse(refused.json).error).toMatchObject({ code: "session_expired", reason: "unknown_session" });
    expect(await state("never-registered")).toMatchObject({ state: "Init", revision: 0 });
  });

  it("refuses the same requestId with another command with 409 request_id_reused", async () => {
    const session = await register();
    expect((await post("reuse-a", { to: "Running", requestId: `${session}:1` })).status).toBe(200);
    for (const other of [
      ["reuse-b", { to: "Running" }],
      ["reuse-a", { to: "Stopped" }],
      ["reuse-a", { to: "Running", expect: "Init" }],
    ] as const) {
      const refused = await post(other[0], { ...other[1], requestId: `${session}:1` });
      expect(refused.status).toBe(409);
      expect(ErrorResponseSchema.parse(refused.json).error.code).toBe("request_id_reused");
    }
    const deleteReused = await fetch(`${api.baseUrl}/v1/machines/reuse-a?requestId=${session}:1`, { method: "DELETE", headers: { "Content-Type": "application/json" } });
    expect(deleteReused.status).toBe(409);
    expect(await state("reuse-b")).toMatchObject({ state: "Init" });
    expect(await state("reuse-a")).toMatchObject({ state: "Running" });
  });

  it("never applies a retry twice after its session was pushed out by other clients (sessionsMax 3)", async () => {
    const session = await register();
    const first = await post("evicted", { to: "Running", requestId: `${session}:1` });
    expect(first.status).toBe(200);
    await post("evicted", { to: "Stopped" });
    await post("evicted", { to: "Init" });
    for (let other = 0; other < 3; other++) await post(`other-${other}`, { to: "Running", requestId: `${await register()}:1` });
    const retry = await post("evicted", { to: "Running", requestId: `${session}:1` });
    expect(retry.status).toBe(409);
    expect(ErrorResponseSchema.parse(retry.json).error).toMatchObject({ code: "session_expired", reason: "unknown_session" });
    expect(await state("evicted")).toMatchObject({ state: "Init" });
  });

  it("counts sessions, expirations and refusals in metrics", async () => {
    const text = await (await fetch(`${api.baseUrl}/metrics`)).text();
    expect(text).toMatch(/^lockstep_sessions_active 3$/m);
    expect(text).toMatch(/^lockstep_sessions_max 3$/m);
    expect(text).toMatch(/^lockstep_session_expirations_total\{reason="capacity"\} [1-9]/m);
    expect(text).toMatch(/^lockstep_session_refusals_total\{reason="unknown_session"\} [1-9]/m);
    expect(text).toMatch(/^lockstep_session_refusals_total\{reason="request_id_reused"\} [1-9]/m);
  });
});
