/**
 * The leader of a three-process cluster is SIGKILLed under steady client load, with DEFAULT
 * timing: a new leader commits within 2 s, nothing acknowledged is lost, the recorded history is
 * linearizable, and the killed node restarts from its data directory and catches up (issue 5, item 6).
 */
import type { WatchEvent } from "@lockstep/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkLinearizability } from "../../cluster-sim/src/checkers/index.js";
import { waitForAgreedLeader } from "../src/cluster/cluster-probe.js";
import { HistoryWorkload, type WorkloadResult } from "./support/history-workload.js";
import { clusterStatus, fetchClusterStatus, getJson, postTransition, registerSession, sleep, staleStates, waitFor, waitForConvergence } from "./support/node-api.js";
import { ProcessCluster } from "./support/process-cluster.js";
import { WatchSocket } from "./support/watch-socket.js";

const startTimeoutMs = 20_000;
/** The promise, with the consensus defaults (50 ms ticks, 10-tick election timeout). */
const failoverBudgetMs = 2_000;
const keys = ["svc-a", "svc-b", "svc-c"];

let cluster: ProcessCluster;
let killedId: string;
let newLeaderId: string;
let workload: WorkloadResult;

beforeAll(async () => {
  cluster = await ProcessCluster.prepare({ cluster: "failover" });
  cluster.startAll();
  if ((await waitForAgreedLeader(cluster.clientUrls, startTimeoutMs)) === null) throw new Error(`no leader\n${cluster.logTail()}`);
}, startTimeoutMs + 5_000);

afterAll(async () => {
  await cluster?.destroy();
});

/**
 * From the kill to the first moment a surviving node names a new leader AND that leader commits
 * a write: polls the survivors every 20 ms and, as soon as one names a leader, asks it for a
 * transition of a probe key (same request id on every attempt, so it applies at most once).
 */
async function measureFailover(killedAtMs: number, survivors: string[], sessionId: string): Promise<{ leader: string; failoverMs: number }> {
  const requestId = `${sessionId}:1`;
  return waitFor(
    "a new leader that commits a write",
    async () => {
      const statuses = await Promise.all(survivors.map((id) => fetchClusterStatus(cluster.node(id).clientUrl)));
      const leader = statuses.find((status) => status !== null && status.leader !== null && status.leader !== killedId)?.leader;
      if (leader === undefined || leader === null) return undefined;
      const answer = await postTransition(cluster.node(leader).clientUrl, "failover-probe", { to: "Running", requestId });
      return answer.status === 200 ? { leader, failoverMs: performance.now() - killedAtMs } : undefined;
    },
    15_000,
  );
}

describe("killing the leader under load (default timing)", () => {
  it("elects a new leader within 2 s, loses no acknowledged transition, and stays linearizable", async () => {
    const load = new HistoryWorkload({ endpoints: cluster.clientUrls, keys, processCount: 4, operationsPerProcessMax: 20_000 });
    await waitFor("the load to get going", () => (load.acknowledgedCount >= 30 ? true : undefined), 15_000);
    killedId = (await waitForAgreedLeader(cluster.clientUrls, 5_000))!;
    const acknowledgedBeforeKill = load.acknowledgedCount;
    // Registered before the kill: sessions are replicated, so the new leader knows it.
    const probeSessionId = await registerSession(cluster.node(killedId).clientUrl);

    const killedAtMs = performance.now();
    await cluster.kill(killedId, "SIGKILL");
    const survivors = cluster.nodes.map((node) => node.id).filter((id) => id !== killedId);
    const failover = await measureFailover(killedAtMs, survivors, probeSessionId);
    newLeaderId = failover.leader;
    console.log(`leader failover: ${killedId} SIGKILLed, ${newLeaderId} committed a write ${Math.round(failover.failoverMs)} ms later (default timing)`);

    await sleep(1_500); // the load goes on under the new leader
    workload = await load.stop();
    const acknowledgedAfterKill = workload.acknowledgedAtMs.filter((atMs) => atMs > killedAtMs + failover.failoverMs).length;
    console.log(`leader failover: ${workload.acknowledged.length} acknowledged transitions (${acknowledgedBeforeKill} before the kill), ${workload.events.length} history events`);

    expect(newLeaderId).not.toBe(killedId);
    expect(failover.failoverMs).toBeLessThan(failoverBudgetMs);
    expect(acknowledgedAfterKill, "writes commit under the new leader").toBeGreaterThan(0);
    expect(workload.unexpectedErrors).toEqual([]);

    const verdict = checkLinearizability(workload.events);
    expect(verdict.ok, "explanation" in verdict ? verdict.explanation : "").toBe(true);

    // Every acknowledged transition is in the new leader's log, at the revision it was acknowledged with.
    const leaderUrl = cluster.node(newLeaderId).clientUrl;
    const lastRevision = Math.max(...workload.acknowledged.map((response) => response.revision));
    const watch = new WatchSocket(leaderUrl, 1);
    await watch.opened;
    await waitFor(`the watch to reach revision ${lastRevision}`, () => ((watch.lastRevision ?? 0) >= lastRevision ? true : undefined), 10_000);
    await watch.close();
    const logged = new Map<number, WatchEvent>(watch.events.map((event) => [event.revision, event]));
    const lost = workload.acknowledged.filter(({ revision, key, from, to }) => {
      const event = logged.get(revision);
      return event?.type !== "transition" || event.key !== key || event.from !== from || event.to !== to;
    });
    expect(lost, "acknowledged transitions missing from the new leader's log").toEqual([]);

    // And the states the survivors show are the ones that log leads to.
    const finalStates = new Map<string, string>();
    for (const event of watch.events) if (event.type === "transition") finalStates.set(event.key, event.to);
    const converged = await waitForConvergence(survivors.map((id) => cluster.node(id).clientUrl), 10_000);
    for (const key of keys) {
      const shown = converged.machines.find((machine) => machine.key === key)?.state ?? "Init";
      expect(shown, key).toBe(finalStates.get(key) ?? "Init");
    }
  }, 60_000);

  it("restarts the killed node from its data directory and catches it up", async () => {
    expect(killedId, "the previous test killed a leader").toBeDefined();
    const leaderUrl = cluster.node(newLeaderId).clientUrl;
    const leaderCommit = (await clusterStatus(leaderUrl)).commitIndex;
    cluster.start(killedId);
    const restartedUrl = cluster.node(killedId).clientUrl;
    await waitFor(
      `${killedId} to apply up to the leader's commit index ${leaderCommit}`,
      async () => {
        const status = await fetchClusterStatus(restartedUrl);
        return status !== null && status.leader === newLeaderId && status.appliedIndex >= leaderCommit ? true : undefined;
      },
      20_000,
    );
    expect(await staleStates(restartedUrl)).toEqual(await staleStates(leaderUrl));

    // It takes part again: a write through it reaches all three.
    const answer = await postTransition(restartedUrl, "after-restart", { to: "Running" });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const converged = await waitForConvergence(cluster.clientUrls, 10_000);
    expect(converged.machines.find((machine) => machine.key === "after-restart")?.state).toBe("Running");
    expect((await getJson(`${leaderUrl}/v1/machines/svc-a`)).status).toBe(200);
  }, 40_000);
});
