/**
 * Protocol-aware repair with real processes (issue 11, point 5): a founder whose data directory
 * is wiped restarts with the same flags (no `--join`) under its old id. It must not vote or count
 * toward a commit with the data it lost. Its links to the others run through fault proxies that
 * delay every record, so that its repair lasts longer than an election timeout (one that ends
 * sooner needs no configuration change): the leader demotes it to learner through the log; once
 * the links pass again it catches up and the leader promotes it again, with no operator, while a
 * client workload runs whose history must be linearizable.
 */
import { rmSync } from "node:fs";
import { MembersResponseSchema } from "@lockstep/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkLinearizability } from "../../cluster-sim/src/checkers/index.js";
import type { FaultProxy } from "../../../packages/transport-tcp/test/fault-proxy.js";
import { waitForAgreedLeader } from "../src/cluster/cluster-probe.js";
import { HistoryWorkload } from "./support/history-workload.js";
import { proxyEveryPeerLink, setLinksOf } from "./support/link-proxies.js";
import { clusterStatus, getJson, sleep, waitFor, waitForConvergence } from "./support/node-api.js";
import { fastTiming, ProcessCluster } from "./support/process-cluster.js";

let cluster: ProcessCluster;
/** `proxies.get("n1>n2")`: what n1 dials to reach n2. */
let proxies = new Map<string, FaultProxy>();

beforeAll(async () => {
  cluster = await ProcessCluster.prepare({ cluster: "repair", config: { ...fastTiming, fsyncPolicy: "none" } });
  proxies = await proxyEveryPeerLink(cluster);
  cluster.startAll();
  if ((await waitForAgreedLeader(cluster.clientUrls, 20_000)) === null) throw new Error(`no leader\n${cluster.logTail()}`);
}, 30_000);

afterAll(async () => {
  await cluster?.destroy();
  await Promise.all([...proxies.values()].map((proxy) => proxy.close()));
});

/** n3's voter flag in the member list of the first running node that answers (any member forwards nothing here: its own view). */
async function voterFlagOf(id: string, askIds: readonly string[]): Promise<boolean | undefined> {
  for (const ask of askIds) {
    try {
      const answer = await getJson(`${cluster.node(ask).clientUrl}/v1/members`);
      if (answer.status !== 200) continue;
      return MembersResponseSchema.parse(answer.body).members.find((member) => member.id === id)?.voter;
    } catch {
      // That node is restarting or not reachable: ask the next.
    }
  }
  return undefined;
}

describe("a founder restarted on a wiped data directory, with real processes", () => {
  it("is demoted to learner, catches up and is promoted again by the leader; the history stays linearizable", async () => {
    const load = new HistoryWorkload({ endpoints: cluster.clientUrls, keys: ["r-a", "r-b", "r-c"], processCount: 3, operationsPerProcessMax: 50_000 });
    await waitFor("the load to get going", () => (load.acknowledgedCount >= 20 ? true : undefined), 15_000);

    const leader = (await clusterStatus(cluster.node("n1").clientUrl)).leader;
    const victim = ["n1", "n2", "n3"].find((id) => id !== leader)!;
    const others = ["n1", "n2", "n3"].filter((id) => id !== victim);
    await cluster.kill(victim, "SIGKILL");
    rmSync(cluster.node(victim).dataDirectory, { recursive: true, force: true });
    // Each round trip of its repair (history probes, the leader's probe, the log) now takes
    // over 500 ms, against an election timeout of 200 ms.
    setLinksOf(proxies, victim, { kind: "delay", delayMs: 250 });
    await sleep(300);
    cluster.start(victim);

    // The demotion: the victim is a learner in the configuration the others applied.
    await waitFor(`${victim} demoted to learner`, async () => ((await voterFlagOf(victim, others)) === false ? true : undefined), 20_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${cluster.logTail(20)}`);
    });
    // The promotion again, with no operator, once the links pass and it no longer says it is recovering.
    setLinksOf(proxies, victim, { kind: "pass" });
    await waitFor(`${victim} promoted to voter again`, async () => ((await voterFlagOf(victim, [...others, victim])) === true ? true : undefined), 20_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${cluster.logTail(20)}`);
    });
    const repaired = await clusterStatus(cluster.node(victim).clientUrl);
    expect(repaired.recovering ?? false).toBe(false);
    const leaderLog = cluster.nodes.flatMap((node) => node.log).join("\n");
    expect(leaderLog).toContain("demoting it to learner until it has caught up");

    await sleep(500);
    const workload = await load.stop();
    console.log(`repair: ${workload.acknowledged.length} acknowledged transitions, ${workload.events.length} history events`);
    expect(workload.acknowledged.length).toBeGreaterThan(50);
    const verdict = checkLinearizability(workload.events);
    expect(verdict.ok, "explanation" in verdict ? verdict.explanation : "").toBe(true);
    const converged = await waitForConvergence(cluster.clientUrls, 15_000);
    expect(converged.machines.length).toBeGreaterThan(0);
  }, 90_000);
});
