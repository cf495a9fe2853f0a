/**
 * Three real `lockstep start` processes over TCP on loopback (fast timing): election, replication,
 * validation on every node, forwarding, metrics, and the watch across a reconnect (issue 5, item 6).
 */
import { ErrorResponseSchema, MachineListSchema, TransitionResponseSchema, type TransitionResponse, type WatchEvent } from "@lockstep/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForAgreedLeader } from "../src/cluster/cluster-probe.js";
import { clusterStatus, getJson, hasMetric, metricSum, metricsText, postTransition, waitFor } from "./support/node-api.js";
import { nextState } from "./support/history-workload.js";
import { fastTiming, ProcessCluster } from "./support/process-cluster.js";
import { WatchSocket } from "./support/watch-socket.js";

const startTimeoutMs = 20_000;
let cluster: ProcessCluster;
let leaderId: string;

beforeAll(async () => {
  cluster = await ProcessCluster.prepare({ cluster: "basics", config: fastTiming });
  cluster.startAll();
  const leader = await waitForAgreedLeader(cluster.clientUrls, startTimeoutMs);
  if (leader === null) throw new Error(`no agreed leader within ${startTimeoutMs} ms\n${cluster.logTail()}`);
  leaderId = leader;
}, startTimeoutMs + 5_000);

afterAll(async () => {
  await cluster?.destroy();
});

async function currentLeader(): Promise<string> {
  const leader = await waitForAgreedLeader(cluster.clientUrls, 10_000);
  if (leader === null) throw new Error(`the nodes do not agree on a leader\n${cluster.logTail()}`);
  return leader;
}

async function expectTransition(clientUrl: string, key: string, to: string): Promise<TransitionResponse> {
  const answer = await postTransition(clientUrl, key, { to });
  expect(answer, `POST ${clientUrl} ${key} -> ${to}`).toMatchObject({ status: 200 });
  return TransitionResponseSchema.parse(answer.body);
}

describe("a three-process cluster on loopback", () => {
  it("elects one leader that all three nodes name in /v1/cluster", async () => {
    const statuses = await Promise.all(cluster.clientUrls.map(clusterStatus));
    expect(statuses.map((status) => status.self)).toEqual(["n1", "n2", "n3"]);
    expect(new Set(statuses.map((status) => status.leader))).toEqual(new Set([leaderId]));
    const leaderView = statuses.find((status) => status.self === leaderId)!;
    expect(leaderView.members.filter((member) => member.role === "leader").map((member) => member.id)).toEqual([leaderId]);
    expect(leaderView.term).toBeGreaterThanOrEqual(1);
  });

  it("shows a transition made through one node on all three (stale reads, after the commit)", async () => {
    const committed = await expectTransition(cluster.node("n1").clientUrl, "web-1", "Running");
    expect(committed).toMatchObject({ key: "web-1", from: "Init", to: "Running" });
    for (const node of cluster.nodes) {
      const seen = await waitFor(
        `${node.id} to show web-1 Running`,
        async () => {
          const answer = await getJson(`${node.clientUrl}/v1/machines/web-1?consistency=stale`);
          const body = answer.body as { state?: string; revision?: number };
          return answer.status === 200 && body.state === "Running" ? body : undefined;
        },
        5_000,
      );
      expect(seen).toEqual({ key: "web-1", state: "Running", revision: committed.revision });
    }
  });

  it("refuses an invalid transition with 409 invalid_transition from every node", async () => {
    // web-1 is Running (previous test); Running -> Init is not an allowed move.
    for (const node of cluster.nodes) {
      const answer = await postTransition(node.clientUrl, "web-1", { to: "Init" });
      expect(answer.status, `${node.id}: ${JSON.stringify(answer.body)}`).toBe(409);
      expect(ErrorResponseSchema.parse(answer.body).error).toMatchObject({ code: "invalid_transition", from: "Running", to: "Init", allowed: ["Stopped"] });
    }
    const after = await getJson(`${cluster.node(leaderId).clientUrl}/v1/machines/web-1`);
    expect(after.body).toMatchObject({ state: "Running" });
  });

  it("lets a follower accept a write by forwarding it to the leader", async () => {
    const leader = await currentLeader();
    const follower = cluster.nodes.find((node) => node.id !== leader)!;
    const committed = await expectTransition(follower.clientUrl, "web-2", "Running");
    expect(committed).toMatchObject({ key: "web-2", from: "Init", to: "Running" });
    const onLeader = await getJson(`${cluster.node(leader).clientUrl}/v1/machines/web-2`);
    expect(onLeader).toEqual({ status: 200, body: { key: "web-2", state: "Running", revision: committed.revision } });
  });

  it("exports the DESIGN.md §7 metrics on /metrics with non-zero counts after traffic", async () => {
    const leader = await currentLeader();
    for (let round = 0; round < 3; round++) await expectTransition(cluster.node("n3").clientUrl, "metrics-1", ["Running", "Stopped", "Init"][round]!);
    await postTransition(cluster.node(leader).clientUrl, "metrics-1", { to: "Stopped" }); // refused: Init -> Stopped
    const follower = cluster.nodes.find((node) => node.id !== leader)!;
    const [leaderText, followerText, receiverText] = await Promise.all([
      metricsText(cluster.node(leader).clientUrl),
      metricsText(follower.clientUrl),
      metricsText(cluster.node("n3").clientUrl),
    ]);

    const named = [
      "messages_sent_total", "message_delivery_failures_total", "message_retries_total", "messages_received_total", "messages_invalid_total",
      "cluster_members", "peers_connected", "message_processing_seconds", "proposals_total", "transitions_total", "entry_stage_seconds",
      "wal_fsync_seconds", "term", "commit_index", "applied_index", "is_leader", "leader_changes_total",
    ];
    for (const name of named) expect(hasMetric(leaderText, `lockstep_${name}`), `lockstep_${name} is declared`).toBe(true);
    expect(hasMetric(leaderText, "process_cpu_user_seconds_total") || hasMetric(leaderText, "lockstep_process_cpu_user_seconds_total"), "Node.js process metrics").toBe(true);

    for (const text of [leaderText, followerText]) {
      expect(metricSum(text, "lockstep_messages_sent_total")).toBeGreaterThan(0);
      expect(metricSum(text, "lockstep_messages_received_total")).toBeGreaterThan(0);
      expect(metricSum(text, "lockstep_term")).toBeGreaterThanOrEqual(1);
      expect(metricSum(text, "lockstep_commit_index")).toBeGreaterThanOrEqual(4);
      expect(metricSum(text, "lockstep_applied_index")).toBeGreaterThanOrEqual(4);
      expect(metricSum(text, "lockstep_wal_fsync_seconds_count")).toBeGreaterThan(0);
      expect(metricSum(text, "lockstep_message_processing_seconds_count")).toBeGreaterThan(0);
      expect(metricSum(text, "lockstep_cluster_members")).toBe(3);
      expect(metricSum(text, "lockstep_peers_connected")).toBe(2);
      expect(metricSum(text, "lockstep_transitions_total", { result: "ok" })).toBeGreaterThanOrEqual(3);
    }
    expect(metricSum(leaderText, "lockstep_is_leader")).toBe(1);
    expect(metricSum(followerText, "lockstep_is_leader")).toBe(0);
    expect(metricSum(leaderText, "lockstep_leader_changes_total")).toBeGreaterThanOrEqual(1);
    // Proposals are counted by the node the client asked (n3 here), leader or not.
    expect(metricSum(receiverText, "lockstep_proposals_total", { result: "ok" })).toBeGreaterThanOrEqual(3);
    for (const stage of ["persist", "replicate", "commit", "apply"]) {
      expect(metricSum(leaderText, "lockstep_entry_stage_seconds_count", { stage }), `entry_stage_seconds{stage=${stage}}`).toBeGreaterThan(0);
    }
  });

  it("delivers every committed transition to a watch exactly once and in order across a reconnect", async () => {
    const list = MachineListSchema.parse((await getJson(`${cluster.node("n1").clientUrl}/v1/machines`)).body);
    const first = new WatchSocket(cluster.node("n1").clientUrl, list.revision + 1);
    await first.opened;
    const committed: TransitionResponse[] = [];
    let state = "Init";
    const step = async (via: string): Promise<void> => {
      const to = nextState[state]!;
      committed.push(await expectTransition(cluster.node(via).clientUrl, "watch-1", to));
      state = to;
    };
    for (const via of ["n1", "n2", "n3"]) await step(via);
    await waitFor("the first socket to see 3 events", () => (first.events.length >= 3 ? true : undefined), 5_000);
    await first.close();
    // Transitions that commit while no socket is open must arrive after the resume, once each.
    for (const via of ["n2", "n3"]) await step(via);
    const second = new WatchSocket(cluster.node("n2").clientUrl, first.lastRevision! + 1);
    await second.opened;
    for (const via of ["n3", "n1", "n2"]) await step(via);
    await waitFor("the second socket to catch up", () => (second.events.length >= 5 ? true : undefined), 5_000);
    await new Promise((resolve) => setTimeout(resolve, 200)); // a duplicate would arrive right after
    await second.close();

    const expected: WatchEvent[] = committed.map(({ revision, key, from, to }) => ({ type: "transition", revision, key, from, to }));
    expect([...first.events, ...second.events]).toEqual(expected);
    expect([...first.errors, ...second.errors]).toEqual([]);
  });
});
