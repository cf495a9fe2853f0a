import { WatchErrorSchema, WatchEventSchema } from "@lockstep/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { startTestApi, type TestApi } from "../testing/start-test-api.js";

const started: TestApi[] = [];

afterEach(async () => {
  for (const api of started.splice(0)) await api.stop();
});

async function start(options: Parameters<typeof startTestApi>[0] = {}): Promise<TestApi> {
  const api = await startTestApi(options);
  started.push(api);
  return api;
}

async function transition(api: TestApi, key: string, to: string): Promise<number> {
  const response = await fetch(`${api.baseUrl}/v1/machines/${key}/transition`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ to }) });
  expect(response.status).toBe(200);
  return ((await response.json()) as { revision: number }).revision;
}

/** Opens a watch and collects its messages until `count` arrived or the socket closed. */
function watch(api: TestApi, query: string, count: number): Promise<{ messages: unknown[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${api.webSocketUrl}/v1/watch${query}`);
    const messages: unknown[] = [];
    const timer = setTimeout(() => reject(new Error(`watch${query}: got ${messages.length} of ${count} messages: ${JSON.stringify(messages)}`)), 5_000);
    socket.on("message", (data: Buffer) => {
      messages.push(JSON.parse(data.toString("utf8")));
      if (messages.length === count) {
        clearTimeout(timer);
        socket.close();
        resolve({ messages, closed: false });
      }
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ messages, closed: true });
    });
    socket.on("error", reject);
  });
}

const cycle = ["Running", "Stopped", "Init"] as const;

/** Moves keys a and b through `rounds` steps of the lifecycle, starting at step `firstRound`. */
async function moveKeys(api: TestApi, rounds: number, firstRound = 0): Promise<number[]> {
  const revisions: number[] = [];
  for (let round = firstRound; round < firstRound + rounds; round++) {
    for (const key of ["a", "b"]) revisions.push(await transition(api, key, cycle[round % 3]!));
  }
  return revisions;
}

describe("/v1/watch", () => {
  it("streams every applied transition in order, and resumes across a reconnect without gaps or duplicates", async () => {
    const api = await start();
    const firstBatch = await moveKeys(api, 3);
    // A rejected transition is not an event.
    const rejected = await fetch(`${api.baseUrl}/v1/machines/a/transition`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ to: "Stopped" }) });
    expect(rejected.status).toBe(409);

    const first = await watch(api, "?from=1", 4);
    const firstEvents = first.messages.map((message) => WatchEventSchema.parse(message));
    const lastSeen = firstEvents.at(-1)!.revision;

    const secondBatch = await moveKeys(api, 2, 3);
    const all = [...firstBatch, ...secondBatch];
    const remaining = all.filter((revision) => revision > lastSeen).length;
    const second = await watch(api, `?from=${lastSeen + 1}`, remaining);
    const secondEvents = second.messages.map((message) => WatchEventSchema.parse(message));

    const seen = [...firstEvents, ...secondEvents].map((event) => event.revision);
    expect(seen).toEqual(all);
    expect(firstEvents[0]).toEqual({ type: "transition", revision: firstBatch[0], key: "a", from: "Init", to: "Running" });
  });

  it("delivers live transitions to a watch opened without from", async () => {
    const api = await start();
    await moveKeys(api, 1);
    const live = watch(api, "", 2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const revisions = await moveKeys(api, 1, 1);
    const events = (await live).messages.map((message) => WatchEventSchema.parse(message));
    expect(events.map((event) => event.revision)).toEqual(revisions);
  });

  it("answers a revision older than the history with compacted and the oldest revision, then closes", async () => {
    const api = await start({ watchHistoryEventsMax: 2 });
    const revisions = await moveKeys(api, 2);
    const { messages, closed } = await watch(api, "?from=1", 2);
    expect(closed).toBe(true);
    expect(messages).toHaveLength(1);
    const error = WatchErrorSchema.parse(messages[0]);
    expect(error.code).toBe("compacted");
    expect(error.oldestRevision).toBe(revisions[2]);
    const resumed = await watch(api, `?from=${error.oldestRevision}`, 2);
    expect(resumed.messages.map((message) => WatchEventSchema.parse(message).revision)).toEqual(revisions.slice(2));
  });

  it("refuses a from that is not a revision", async () => {
    const api = await start();
    const { messages, closed } = await watch(api, "?from=abc", 2);
    expect(closed).toBe(true);
    expect(WatchErrorSchema.parse(messages[0]).code).toBe("bad_request");
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("/v1/dashboard-feed", () => {
  it("pushes snapshots of the cluster and the states", async () => {
    const api = await start();
    await transition(api, "web-1", "Running");
    const snapshot = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const socket = new WebSocket(`${api.webSocketUrl}/v1/dashboard-feed`);
      socket.on("message", (data: Buffer) => {
        socket.close();
        resolve(JSON.parse(data.toString("utf8")) as Record<string, unknown>);
      });
      socket.on("error", reject);
    });
    expect(snapshot).toMatchObject({ type: "snapshot", cluster: { self: "n1", leader: "n1" }, page: { index: 0, pageCount: 1, machines: [{ key: "web-1", state: "Running" }] } });
    expect(snapshot.counters).toMatchObject({ proposalsOk: 1 });
  });

  it("then sends only the keys that changed, and a page of keys when asked", async () => {
    const api = await start();
    for (const key of ["a", "b", "c"]) await transition(api, key, "Running");
    const socket = new WebSocket(`${api.webSocketUrl}/v1/dashboard-feed`);
    const messages: Array<Record<string, unknown>> = [];
    socket.on("message", (data: Buffer) => messages.push(JSON.parse(data.toString("utf8")) as Record<string, unknown>));
    await new Promise((resolve) => socket.once("open", resolve));
    await waitUntil(() => messages.length >= 1);
    await transition(api, "b", "Stopped");
    await waitUntil(() => messages.some((message) => message.type === "update" && (message.changed as unknown[]).length > 0));
    const update = messages.find((message) => message.type === "update" && (message.changed as unknown[]).length > 0)!;
    expect(update.changed).toEqual([{ key: "b", state: "Stopped", revision: expect.any(Number) }]);
    expect(update.machineCount).toBe(3);
    expect(messages.filter((message) => message.type === "update").every((message) => !("machines" in message) && !("page" in message))).toBe(true);
    socket.send(JSON.stringify({ type: "page", index: 0 }));
    await waitUntil(() => messages.some((message) => message.type === "page"));
    const page = messages.find((message) => message.type === "page")!.page as { machines: Array<{ key: string }> };
    expect(page.machines.map((machine) => machine.key)).toEqual(["a", "b", "c"]);
    socket.close();
  });
});
