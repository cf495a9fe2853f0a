/**
 * Every peer link of a three-process cluster runs through a fault-injecting TCP proxy; under
 * client load the link between the leader and one follower drops frames, then delays them, then
 * is cut. The cluster keeps committing in each mode, converges once the link passes again, and
 * the recorded history is linearizable (issue 5, item 6).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkLinearizability } from "../../cluster-sim/src/checkers/index.js";
import type { FaultMode, FaultProxy } from "../../../packages/transport-tcp/test/fault-proxy.js";
import { waitForAgreedLeader } from "../src/cluster/cluster-probe.js";
import { HistoryWorkload } from "./support/history-workload.js";
import { proxyEveryPeerLink } from "./support/link-proxies.js";
import { metricSum, metricsText, sleep, waitFor, waitForConvergence } from "./support/node-api.js";
import { fastTiming, ProcessCluster } from "./support/process-cluster.js";

const startTimeoutMs = 20_000;
/** Writes that must be acknowledged while a fault is on, to count as "keeps committing". */
const writesPerFaultMin = 5;
let cluster: ProcessCluster;
/** `proxies.get("n1>n2")`: what n1 dials to reach n2. */
let proxies = new Map<string, FaultProxy>();

beforeAll(async () => {
  cluster = await ProcessCluster.prepare({ cluster: "faults", config: fastTiming });
  proxies = await proxyEveryPeerLink(cluster);
  cluster.startAll();
  if ((await waitForAgreedLeader(cluster.clientUrls, startTimeoutMs)) === null) throw new Error(`no leader\n${cluster.logTail()}`);
}, startTimeoutMs + 5_000);

afterAll(async () => {
  await cluster?.destroy();
  await Promise.all([...proxies.values()].map((proxy) => proxy.close()));
});

function setLink(a: string, b: string, mode: FaultMode): void {
  proxies.get(`${a}>${b}`)!.setMode(mode);
  proxies.get(`${b}>${a}`)!.setMode(mode);
}

describe("a faulty link between the leader and a follower", () => {
  it("is survived in drop, delay and cut modes, and the cluster converges after pass", async () => {
    const leader = (await waitForAgreedLeader(cluster.clientUrls, 10_000))!;
    const follower = cluster.nodes.find((node) => node.id !== leader)!.id;
    // Traffic really goes through the proxies: the link under test is open before any fault.
    await waitFor("the leader-follower link to be open", () => (proxies.get(`${leader}>${follower}`)!.connectionCount > 0 ? true : undefined), 5_000);
    const load = new HistoryWorkload({ endpoints: cluster.clientUrls, keys: ["f-1", "f-2", "f-3"], processCount: 3, operationsPerProcessMax: 20_000 });
    await waitFor("the load to get going", () => (load.acknowledgedCount >= writesPerFaultMin ? true : undefined), 10_000);

    const modes: FaultMode[] = [{ kind: "drop", probability: 0.5 }, { kind: "delay", delayMs: 150 }, { kind: "cut" }];
    for (const mode of modes) {
      setLink(leader, follower, mode);
      const before = load.acknowledgedCount;
      await waitFor(`writes to commit with the link in ${mode.kind} mode`, () => (load.acknowledgedCount >= before + writesPerFaultMin ? true : undefined), 15_000);
      await sleep(700); // long enough for heartbeats and elections to feel the fault
      setLink(leader, follower, { kind: "pass" });
      await sleep(300);
    }

    const result = await load.stop();
    expect(result.unexpectedErrors).toEqual([]);
    const verdict = checkLinearizability(result.events);
    expect(verdict.ok, "explanation" in verdict ? verdict.explanation : "").toBe(true);

    const converged = await waitForConvergence(cluster.clientUrls, 20_000);
    expect(converged.machines.length).toBeGreaterThan(0);
    // The link is back: both ends count each other as connected again.
    for (const id of [leader, follower]) {
      await waitFor(`${id} to be connected to both peers`, async () => (metricSum(await metricsText(cluster.node(id).clientUrl), "lockstep_peers_connected") === 2 ? true : undefined), 10_000);
    }
    console.log(`fault proxy: ${result.acknowledged.length} acknowledged transitions through drop, delay and cut of ${leader}<->${follower}`);
  }, 90_000);
});
