import {
  ClusterStatusSchema,
  ErrorResponseSchema,
  MachineListSchema,
  MachineStateSchema,
  SessionResponseSchema,
  TransitionResponseSchema,
} from "@lockstep/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../testing/start-test-api.js";

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ requestBodyBytesMax: 1024 });
});

afterAll(async () => {
  await api.stop();
});

async function post(key: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${api.baseUrl}/v1/machines/${encodeURIComponent(key)}/transition`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

async function get(path: string): Promise<{ status: number; json: unknown; headers: Headers }> {
  const response = await fetch(`${api.baseUrl}${path}`);
  return { status: response.status, json: await response.json(), headers: response.headers };
}

function errorOf(json: unknown) {
  return ErrorResponseSchema.parse(json).error;
}

describe("machines", () => {
  it("reads an untouched key as the initial state at revision 0", async () => {
    const { status, json, headers } = await get("/v1/machines/fresh-key");
    expect(status).toBe(200);
    expect(MachineStateSchema.parse(json)).toEqual({ key: "fresh-key", state: "Init", revision: 0 });
    // No Origin, no CORS header; every answer varies by Origin (client-security.test.ts covers CORS).
    expect(headers.get("access-control-allow-origin")).toBeNull();
    expect(headers.get("vary")).toBe("Origin");
  });

  it("applies a valid transition and reads it back, linearizable and stale", async () => {
    const moved = await post("web-1", { to: "Running" });
    expect(moved.status).toBe(200);
    const body = TransitionResponseSchema.parse(moved.json);
    expect(body).toMatchObject({ key: "web-1", from: "Init", to: "Running" });
    expect(body.revision).toBeGreaterThan(0);
    expect((await get("/v1/machines/web-1")).json).toEqual({ key: "web-1", state: "Running", revision: body.revision });
    expect((await get("/v1/machines/web-1?consistency=stale")).json).toEqual({ key: "web-1", state: "Running", revision: body.revision });
  });

  it("lists every changed key at one revision", async () => {
    await post("list-a", { to: "Running" });
    const { status, json } = await get("/v1/machines");
    expect(status).toBe(200);
    const list = MachineListSchema.parse(json);
    expect(list.machines.map((machine) => machine.key)).toContain("list-a");
    expect(list.revision).toBe(api.node.localStore.appliedIndex);
  });

  it("refuses an invalid transition with 409 invalid_transition, naming from, to and the allowed states", async () => {
    await post("web-2", { to: "Running" });
    const refused = await post("web-2", { to: "Init" });
    expect(refused.status).toBe(409);
    expect(errorOf(refused.json)).toMatchObject({ code: "invalid_transition", from: "Running", to: "Init", allowed: ["Stopped"] });
    expect((await get("/v1/machines/web-2")).json).toMatchObject({ state: "Running" });
  });

  it("refuses a failed compare-and-set with 409 expect_failed and the actual state", async () => {
    await post("web-3", { to: "Running" });
    const refused = await post("web-3", { to: "Stopped", expect: "Init" });
    expect(refused.status).toBe(409);
    expect(errorOf(refused.json)).toMatchObject({ code: "expect_failed", actual: "Running" });
    const applied = await post("web-3", { to: "Stopped", expect: "Running" });
    expect(applied.status).toBe(200);
  });

  it("answers a retried requestId with the first answer and applies it once", async () => {
    const session = await fetch(`${api.baseUrl}/v1/sessions`, { method: "POST", headers: { "Content-Type": "application/json" } });
    expect(session.status).toBe(200);
    const { sessionId } = SessionResponseSchema.parse(await session.json());
    const first = await post("web-4", { to: "Running", requestId: `${sessionId}:1` });
    const retry = await post("web-4", { to: "Running", requestId: `${sessionId}:1` });
    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    expect(retry.json).toEqual(first.json);
    expect((await get("/v1/machines/web-4")).json).toMatchObject({ state: "Running", revision: (first.json as { revision: number }).revision });
  });
});

describe("bad requests", () => {
  it("answers invalid JSON with 400 bad_request", async () => {
    const refused = await post("web-5", "{ not json");
    expect(refused.status).toBe(400);
    expect(errorOf(refused.json)).toMatchObject({ code: "bad_request" });
    expect(errorOf(refused.json).message).toMatch(/not valid JSON/);
  });

  it("names the field that fails the schema", async () => {
    const wrongType = await post("web-5", { to: 5 });
    expect(wrongType.status).toBe(400);
    expect(errorOf(wrongType.json).message).toMatch(/^to: /);
    const missing = await post("web-5", {});
    expect(errorOf(missing.json).message).toMatch(/^to: /);
    const badRequestId = await post("web-5", { to: "Running", requestId: "no-seq" });
    expect(badRequestId.status).toBe(400);
    expect(errorOf(badRequestId.json).message).toMatch(/^requestId: /);
  });

  it("refuses a key that is not a valid key and an unknown consistency", async () => {
    expect((await post("-bad", { to: "Running" })).status).toBe(400);
    const badConsistency = await get("/v1/machines/web-1?consistency=sometimes");
    expect(badConsistency.status).toBe(400);
    expect(errorOf(badConsistency.json).message).toMatch(/^consistency: /);
  });

  it("answers a body over requestBodyBytesMax with 413 payload_too_large", async () => {
    const refused = await post("web-6", { to: "Running", padding: "x".repeat(4096) });
    expect(refused.status).toBe(413);
    expect(errorOf(refused.json).code).toBe("payload_too_large");
    expect((await get("/v1/machines/web-6")).json).toMatchObject({ state: "Init" });
  });

  it("answers unknown routes and methods with 404 not_found", async () => {
    const unknown = await get("/v2/anything");
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown.json).code).toBe("not_found");
    const wrongMethod = await fetch(`${api.baseUrl}/v1/machines/web-1`, { method: "PUT", headers: { "Content-Type": "application/json" } });
    expect(wrongMethod.status).toBe(404);
  });
});

describe("cluster, health and metrics", () => {
  it("reports the cluster as ClusterStatusSchema with this node as leader", async () => {
    const { status, json } = await get("/v1/cluster");
    expect(status).toBe(200);
    const cluster = ClusterStatusSchema.parse(json);
    expect(cluster.self).toBe("n1");
    expect(cluster.leader).toBe("n1");
    expect(cluster.members).toHaveLength(1);
    expect(cluster.members[0]).toMatchObject({ id: "n1", role: "leader", lag: 0 });
  });

  it("is live and ready once it leads and has applied what it committed", async () => {
    expect((await get("/livez")).status).toBe(200);
    const ready = await get("/readyz");
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({ ready: true, leader: "n1" });
  });

  it("exports Prometheus metrics with counts after traffic", async () => {
    await post("metrics-key", { to: "Running" });
    const response = await fetch(`${api.baseUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/lockstep_proposals_total\{[^}]*result="ok"[^}]*\} [1-9]/);
  });

  it("serves the dashboard page at /", async () => {
    const response = await fetch(`${api.baseUrl}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toContain('id="leader"');
    expect(html).toContain("/v1/dashboard-feed");
  });
});
