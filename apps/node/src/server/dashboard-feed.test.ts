import type { AppliedEvent, ConsensusNode, NodeStatus } from "@lockstep/consensus";
import { afterEach, describe, expect, it } from "vitest";
import { FakeMembership } from "../testing/fake-membership.js";
import type { ApiContext } from "./api-context.js";
import { DashboardFeed } from "./dashboard-feed.js";
import type { WatchSocket } from "./watch-hub.js";

const keyCount = 200_000;
const feeds: DashboardFeed[] = [];
afterEach(() => {
  for (const feed of feeds.splice(0)) feed.close();
});

/** A store of `keyCount` keys that counts how often its sorted key index is read. */
function fakeContext() {
  const states = new Map<string, { state: string; revision: number }>();
  for (let index = 0; index < keyCount; index++) states.set(`key-${String(index).padStart(6, "0")}`, { state: "Running", revision: index + 1 });
  const listeners = new Set<(event: AppliedEvent) => void>();
  const calls = { keys: 0 };
  const store = {
    get appliedIndex() {
      return keyCount;
    },
    get keyCount() {
      return states.size;
    },
    pageAt(offset: number, limit: number) {
      calls.keys += 1;
      return [...states.keys()]
        .sort()
        .slice(offset, offset + limit)
        .map((key) => ({ key, ...states.get(key)! }));
    },
    get(key: string) {
      return states.get(key) ?? { state: "Init", revision: 0 };
    },
  };
  const status: NodeStatus = { id: "n1", role: "leader", term: 3, leader: "n1", commitIndex: keyCount, recovering: false, appliedIndex: keyCount, members: ["n1", "n2", "n3"], configuration: [], progress: [{ id: "n2", matchIndex: keyCount - 5, recovering: false }, { id: "n3", matchIndex: keyCount, recovering: false }], stopped: false };
  const node = {
    localStore: store,
    status: () => status,
    onApplied: (listener: (event: AppliedEvent) => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  } as unknown as ConsensusNode;
  const context: ApiContext = {
    node,
    selfId: "n1",
    identity: { format: 1, cluster: "test", clusterUuid: "6f1c2a3e-8d4b-4c2a-9f00-0123456789ab", nodeId: "n1", origin: "bootstrap" },
    members: ["n1", "n2", "n3"].map((id) => ({ id, peerAddress: `127.0.0.1:740${id[1]}`, clientUrl: `http://127.0.0.1:840${id[1]}` })),
    metricsText: () => Promise.resolve({ contentType: "text/plain", text: "" }),
    counters: () => ({ proposalsOk: 0, proposalsFailed: 0, transitionsOk: 0, transitionsRejected: 0, leaderChanges: 0, messagesSent: 0, messageDeliveryFailures: 0, peersConnected: 2 }),
    commitLatenciesMs: () => [1, 2, 3, 4, 100],
    proposal: { timeoutMs: 1_000, retryIntervalMs: 50 },
    requestBodyBytesMax: 65_536,
    membership: new FakeMembership(["n1", "n2", "n3"].map((id) => ({ id, peerAddress: `127.0.0.1:740${id[1]}`, clientUrl: `http://127.0.0.1:840${id[1]}`, voter: true }))),
    forwardTimeoutMs: 1_000,
    nowMs: () => 0,
  };
  const apply = (key: string, to: string): void => {
    const revision = store.appliedIndex + 1;
    states.set(key, { state: to, revision });
    const event = { index: revision, term: 3, command: { kind: "transition", key, to }, result: { ok: true } } as unknown as AppliedEvent;
    for (const listener of listeners) listener(event);
  };
  const remove = (key: string): void => {
    states.delete(key);
  };
  return { context, calls, apply, remove };
}

function fakeSocket(): WatchSocket & { sent: Array<Record<string, unknown>>; bytes: number } {
  const socket = {
    bufferedAmount: 0,
    sent: [] as Array<Record<string, unknown>>,
    bytes: 0,
    send(data: string, callback: (error?: Error | null) => void) {
      socket.sent.push(JSON.parse(data) as Record<string, unknown>);
      socket.bytes += data.length;
      callback(null);
    },
    close() {},
  };
  return socket;
}

describe("DashboardFeed with 200 000 keys", () => {
  it("sorts the keys for the first page only, then sends only what changed, in small messages", async () => {
    const { context, calls, apply } = fakeContext();
    const feed = new DashboardFeed(context, { intervalMs: 20, clientsMax: 4, bufferedBytesMax: 1 << 20, sampleIntervalMs: 10 });
    feeds.push(feed);
    const socket = fakeSocket();
    feed.add(socket);
    expect(calls.keys).toBe(1);
    const snapshot = socket.sent[0]!;
    expect(snapshot.type).toBe("snapshot");
    expect((snapshot.page as { machines: unknown[]; pageCount: number }).machines).toHaveLength(200);
    expect((snapshot.page as { pageCount: number }).pageCount).toBe(1000);
    const cpuBefore = process.cpuUsage();
    apply("key-000007", "Stopped");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const cpu = process.cpuUsage(cpuBefore);
    // Fifteen updates in 300 ms; sorting the 200 000 keys for each (as the feed once did) costs about 300 ms.
    const cpuMs = (cpu.user + cpu.system) / 1000;
    console.log(`dashboard feed: ${cpuMs.toFixed(1)} ms of CPU for 300 ms of updates every 20 ms with ${keyCount} keys`);
    const updates = socket.sent.filter((message) => message.type === "update");
    expect(updates.length).toBeGreaterThanOrEqual(5);
    // No update asked for every key, and each is small whatever the store holds.
    expect(calls.keys).toBe(1);
    expect(updates.map((update) => (update.changed as unknown[]).length).reduce((a, b) => a + b, 0)).toBe(1);
    expect(updates.find((update) => (update.changed as unknown[]).length === 1)!.changed).toEqual([{ key: "key-000007", state: "Stopped", revision: keyCount + 1 }]);
    expect(Math.max(...updates.map((update) => JSON.stringify(update).length))).toBeLessThan(8_000);
    // Chart points: a commit rate, latency percentiles and the leader's view of each follower's lag.
    const points = updates.flatMap((update) => update.samples as Array<{ commitP50Ms: number; commitP99Ms: number; lags: Record<string, number> }>);
    expect(points.length).toBeGreaterThan(0);
    expect(points[0]).toMatchObject({ commitP50Ms: 3, commitP99Ms: 100, lags: { n1: 0, n2: 5, n3: 0 } });
    expect(cpuMs).toBeLessThan(60);
  });

  it("answers a page request with that page, in key order", () => {
    const { context } = fakeContext();
    const feed = new DashboardFeed(context, { intervalMs: 1_000, clientsMax: 4, bufferedBytesMax: 1 << 20 });
    feeds.push(feed);
    const socket = fakeSocket();
    feed.add(socket);
    feed.onMessage(socket, JSON.stringify({ type: "page", index: 3 }));
    const page = socket.sent[1]!.page as { index: number; machines: Array<{ key: string }> };
    expect(page.index).toBe(3);
    expect(page.machines[0]!.key).toBe("key-000600");
    feed.onMessage(socket, "not json");
    feed.onMessage(socket, JSON.stringify({ type: "page", index: -1 }));
    expect(socket.sent).toHaveLength(2);
  });

  it("shows a key created in place of a deleted one on the next page (as many keys as before)", () => {
    const { context, apply, remove } = fakeContext();
    const feed = new DashboardFeed(context, { intervalMs: 1_000, clientsMax: 4, bufferedBytesMax: 1 << 20 });
    feeds.push(feed);
    const socket = fakeSocket();
    feed.add(socket);
    remove("key-000001");
    apply("key-000000x", "Running");
    feed.onMessage(socket, JSON.stringify({ type: "page", index: 0 }));
    const keys = (socket.sent[1]!.page as { machines: Array<{ key: string }> }).machines.map((machine) => machine.key);
    expect(keys.slice(0, 3)).toEqual(["key-000000", "key-000000x", "key-000002"]);
  });
});
