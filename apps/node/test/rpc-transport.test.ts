/**
 * The multiplexed client protocol (`/v1/rpc`, issue 13 point 2) against real `lockstep start`
 * processes: a follower forwards what it cannot decide, and `@lockstep/client` with
 * `transport: "ws"` keeps its promises when the leader is SIGKILLed under load: nothing
 * acknowledged lost, the history linearizable, requests counted by transport.
 */
import { LockstepClient } from "@lockstep/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkLinearizability } from "../../cluster-sim/src/checkers/index.js";
import { waitForAgreedLeader } from "../src/cluster/cluster-probe.js";
import { HistoryWorkload } from "./support/history-workload.js";
import { metricSum, metricsText, sleep, waitFor, waitForConvergence } from "./support/node-api.js";
import { ProcessCluster } from "./support/process-cluster.js";
import { openRpcTestSocket } from "../src/testing/rpc-test-socket.js";

const startTimeoutMs = 20_000;
const keys = ["rpc-a", "rpc-b", "rpc-c"];

let cluster: ProcessCluster;
let leaderId: string;

beforeAll(async () => {
  cluster = await ProcessCluster.prepare({ cluster: "rpc" });
  cluster.startAll();
  const leader = await waitForAgreedLeader(cluster.clientUrls, startTimeoutMs);
  if (leader === null) throw new Error(`no leader\n${cluster.logTail()}`);
  leaderId = leader;
}, startTimeoutMs + 5_000);

afterAll(async () => {
  await cluster?.destroy();
});

describe("/v1/rpc on a real cluster", () => {
  it("answers on a follower's connection (writes forwarded to the leader) and counts requests by transport", async () => {
    const follower = cluster.nodes.find((node) => node.id !== leaderId)!;
    const before = metricSum(await metricsText(follower.clientUrl), "lockstep_client_requests_total", { transport: "rpc" });
    const socket = await openRpcTestSocket(follower.clientUrl.replace(/^http/, "ws"));
    try {
      const answers = await Promise.all(["f-1", "f-2", "f-3", "f-4"].map((key, index) => socket.call(index, "POST", `/v1/machines/${key}/transition`, { to: "Running" })));
      expect(answers.map((answer) => [answer.status, (answer.body as { to?: string }).to])).toEqual(Array.from({ length: 4 }, () => [200, "Running"]));
      expect((await socket.call(10, "GET", "/v1/machines/f-1")).body).toMatchObject({ state: "Running" });
      const refused = await socket.call(11, "POST", "/v1/machines/f-1/transition", { to: "Init" });
      expect(refused).toMatchObject({ status: 409, body: { error: { code: "invalid_transition", allowed: ["Stopped"] } } });
    } finally {
      await socket.close();
    }
    const after = metricSum(await metricsText(follower.clientUrl), "lockstep_client_requests_total", { transport: "rpc" });
    expect(after - before).toBe(6);
  }, 30_000);

  it("serves @lockstep/client with transport ws: typed errors as over HTTP", async () => {
    const client = new LockstepClient({ endpoints: cluster.clientUrls, transport: "ws" });
    try {
      expect(await client.transition("c-1", "Running")).toMatchObject({ key: "c-1", from: "Init", to: "Running" });
      await expect(client.transition("c-1", "Init")).rejects.toMatchObject({ code: "invalid_transition", status: 409, details: { allowed: ["Stopped"] } });
      expect((await client.get("c-1")).state).toBe("Running");
    } finally {
      client.close();
    }
  }, 30_000);

  it("keeps at-most-once and linearizability when the leader is SIGKILLed under load", async () => {
    const load = new HistoryWorkload({ endpoints: cluster.clientUrls, keys, processCount: 4, operationsPerProcessMax: 20_000, transport: "ws" });
    await waitFor("the load to get going", () => (load.acknowledgedCount >= 30 ? true : undefined), 15_000);
    const killedId = (await waitForAgreedLeader(cluster.clientUrls, 5_000))!;
    await cluster.kill(killedId, "SIGKILL");
    const killedAtCount = load.acknowledgedCount;
    await waitFor("writes to commit under a new leader", () => (load.acknowledgedCount >= killedAtCount + 30 ? true : undefined), 20_000);
    await sleep(500);
    const workload = await load.stop();
    expect(workload.unexpectedErrors).toEqual([]);
    const verdict = checkLinearizability(workload.events);
    expect(verdict.ok, "explanation" in verdict ? verdict.explanation : "").toBe(true);
    const survivors = cluster.nodes.filter((node) => node.id !== killedId).map((node) => node.clientUrl);
    const converged = await waitForConvergence(survivors, 10_000);
    // Each acknowledged transition's revision is one entry: none was applied twice.
    const revisions = workload.acknowledged.map((response) => response.revision);
    expect(new Set(revisions).size).toBe(revisions.length);
    expect(converged.machines.filter((machine) => keys.includes(machine.key)).length).toBe(keys.length);
  }, 60_000);
});
