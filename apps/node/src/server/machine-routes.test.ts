import { defaultStoreLimits } from "@lockstep/state-machine";
import { DeleteResponseSchema, ErrorResponseSchema, MachineListSchema, machineListLimitMax } from "@lockstep/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../testing/start-test-api.js";

let api: TestApi;
const keysMax = 12;

beforeAll(async () => {
  api = await startTestApi({ storeLimits: { ...defaultStoreLimits, keysMax } });
});

afterAll(async () => {
  await api.stop();
});

async function post(key: string, body: object): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${api.baseUrl}/v1/machines/${key}/transition`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

async function remove(key: string, query = ""): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${api.baseUrl}/v1/machines/${key}${query}`, { method: "DELETE", headers: { "Content-Type": "application/json" } });
  return { status: response.status, json: await response.json() };
}

async function list(query: string): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${api.baseUrl}/v1/machines${query}`);
  return { status: response.status, json: await response.json() };
}

async function metrics(): Promise<string> {
  return (await fetch(`${api.baseUrl}/metrics`)).text();
}

// The tests run in order on one node: paging first, then the quota fills the store, then deletes clean it.
describe("machines: paging, quota, delete, bounded metric labels", () => {
  it("pages GET /v1/machines with limit, after and next", async () => {
    for (const key of ["page-c", "page-a", "page-b", "page-d", "page-e"]) expect((await post(key, { to: "Running" })).status).toBe(200);
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const query: string = after === null ? "?limit=2" : `?limit=2&after=${after}`;
      const answer = await list(query);
      expect(answer.status).toBe(200);
      const body = MachineListSchema.parse(answer.json);
      expect(body.machines.length).toBeLessThanOrEqual(2);
      seen.push(...body.machines.map((machine) => machine.key));
      after = body.next;
      if (after === null) break;
    }
    expect(seen).toEqual(["page-a", "page-b", "page-c", "page-d", "page-e"]);
    expect(MachineListSchema.parse((await list("")).json).next).toBeNull();
  });

  it("refuses a limit out of range and a bad cursor with 400", async () => {
    for (const query of ["?limit=0", `?limit=${machineListLimitMax + 1}`, "?limit=ten", "?after=-bad"]) {
      const answer = await list(query);
      expect(answer.status, query).toBe(400);
      expect(ErrorResponseSchema.parse(answer.json).error.code).toBe("bad_request");
    }
  });

  it("refuses writes past keysMax with 507 quota_exceeded and stays healthy", async () => {
    const statuses: number[] = [];
    for (let write = 0; write < 40; write++) {
      const key = `random-${Math.floor(Math.random() * 1e9).toString(36)}`;
      const answer = await post(key, { to: "Running" });
      statuses.push(answer.status);
      if (answer.status === 507) {
        expect(ErrorResponseSchema.parse(answer.json).error).toMatchObject({ code: "quota_exceeded", quota: "keys", limit: keysMax, used: keysMax });
      }
    }
    expect(statuses.filter((status) => status === 200)).toHaveLength(keysMax - 5);
    expect(statuses.filter((status) => status === 507)).toHaveLength(40 - (keysMax - 5));
    expect(api.node.localStore.keyCount).toBe(keysMax);
    // Existing keys still move; reads and readiness are unaffected.
    expect((await post("page-a", { to: "Stopped" })).status).toBe(200);
    expect((await fetch(`${api.baseUrl}/readyz`)).status).toBe(200);
    const text = await metrics();
    expect(text).toMatch(new RegExp(`^lockstep_state_keys ${keysMax}$`, "m"));
    expect(text).toMatch(new RegExp(`^lockstep_state_keys_max ${keysMax}$`, "m"));
    expect(text).toMatch(/^lockstep_state_bytes [1-9][0-9]*$/m);
    expect(text).toMatch(/^lockstep_state_bytes_max [1-9][0-9]*$/m);
  });

  it("deletes a key, which frees room for a new one", async () => {
    const deleted = await remove("page-b");
    expect(deleted.status).toBe(200);
    expect(DeleteResponseSchema.parse(deleted.json)).toMatchObject({ key: "page-b", from: "Running", deleted: true });
    expect(await (await fetch(`${api.baseUrl}/v1/machines/page-b`)).json()).toMatchObject({ state: "Init", revision: 0 });
    expect((await post("fits-now", { to: "Running" })).status).toBe(200);
    expect((await post("full-again", { to: "Running" })).status).toBe(507);
    // Deleting what holds nothing is answered, not refused; a failed expect changes nothing.
    expect(DeleteResponseSchema.parse((await remove("never-there")).json)).toMatchObject({ deleted: false, from: "Init" });
    const mismatch = await remove("page-c", "?expect=Stopped");
    expect(mismatch.status).toBe(409);
    expect(ErrorResponseSchema.parse(mismatch.json).error).toMatchObject({ code: "expect_failed", actual: "Running" });
    expect((await remove("page-c", "?expect=Running")).status).toBe(200);
    expect((await remove("page-c", "?expect=bad!")).status).toBe(400);
  });

  it("labels transitions_total only with values the definition names", async () => {
    await post("page-d", { to: "NoSuchState" });
    await post("page-d", { to: "Init" });
    const text = await metrics();
    const series = text.split("\n").filter((line) => line.startsWith("lockstep_transitions_total{"));
    expect(series.some((line) => line.includes('to="NoSuchState"'))).toBe(false);
    expect(series.some((line) => /from="Running",to="other",result="invalid_transition"/.test(line))).toBe(true);
    expect(series.some((line) => /from="Init",to="Running",result="ok"/.test(line))).toBe(true);
    for (const line of series) expect(line).toMatch(/from="(Init|Running|Stopped|other)",to="(Init|Running|Stopped|other)"/);
  });
});
