import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fetchClusterStatus, waitForAgreedLeader } from "./cluster/cluster-probe.js";
import { formatLogLine } from "./cluster/format-log-line.js";
import { LocalCluster } from "./cluster/local-cluster.js";

/**
 * `pnpm demo`: a guided tour against a fresh local 3-node cluster with its own data directory
 * and ports. Each step says in plain words what it does and what it saw; the first step that
 * does not see what it expects ends the demo with exit code 1 and its name.
 */
const leaderWaitMs = 20_000;
const catchUpWaitMs = 20_000;
const keys = ["web-1", "web-2", "db-1"] as const;

class StepFailed extends Error {
  override readonly name = "StepFailed";
}

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new StepFailed(message);
}

async function transition(clientUrl: string, key: string, to: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${clientUrl}/v1/machines/${key}/transition`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ to }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: await response.json() };
}

async function readStates(clientUrl: string, consistency: "linearizable" | "stale"): Promise<Record<string, string>> {
  const states: Record<string, string> = {};
  for (const key of keys) {
    const response = await fetch(`${clientUrl}/v1/machines/${key}?consistency=${consistency}`, { signal: AbortSignal.timeout(10_000) });
    check(response.ok, `reading ${key} from ${clientUrl} answered HTTP ${response.status}`);
    states[key] = ((await response.json()) as { state: string }).state;
  }
  return states;
}

async function main(): Promise<void> {
  const dataRoot = join(tmpdir(), `lockstep-demo-${process.pid}`);
  rmSync(dataRoot, { recursive: true, force: true });
  const verbose = process.argv.includes("--verbose");
  const cluster = await LocalCluster.prepare({
    dataRoot,
    nodeCount: 3,
    host: "127.0.0.1",
    peerPortBase: 7501,
    clientPortBase: 8501,
    cluster: "demo",
    extraConfig: { logLevel: verbose ? "info" : "warn" },
    onLine: (nodeId, nodeIndex, line) => {
      if (verbose) say(`    ${formatLogLine(nodeId, line, { color: false, nodeIndex })}`);
    },
  });
  let step = "starting the cluster";
  const onSignal = (): void => {
    void cluster.stopAll().then(() => process.exit(1));
  };
  process.on("SIGINT", onSignal);
  try {
    step = "1. start three nodes";
    say(`\n${step}: three lockstep processes on ${cluster.nodes.map((node) => node.clientUrl).join(", ")} (data in ${dataRoot})`);
    cluster.startAll();
    const leader = await waitForAgreedLeader(cluster.nodes.map((node) => node.clientUrl), leaderWaitMs);
    check(leader !== null, "the three nodes did not agree on a leader");
    say(`   They elected ${leader} as leader.`);

    step = "2. move machines through their lifecycle";
    say(`\n${step}: every key starts in Init; allowed moves are Init -> Running -> Stopped -> Init.`);
    const follower = cluster.nodes.find((node) => node.id !== leader)!;
    for (const [key, to, via] of [["web-1", "Running", cluster.node(leader).clientUrl], ["web-2", "Running", follower.clientUrl], ["web-1", "Stopped", follower.clientUrl], ["db-1", "Running", cluster.node(leader).clientUrl]] as const) {
      const result = await transition(via, key, to);
      check(result.status === 200, `${key} -> ${to} answered HTTP ${result.status}: ${JSON.stringify(result.body)}`);
      say(`   POST ${via}/v1/machines/${key}/transition {"to":"${to}"} -> 200 ${JSON.stringify(result.body)}`);
    }
    say(`   (a follower, ${follower.id}, accepted writes too: it forwards them to the leader)`);

    step = "3. an invalid transition is refused";
    say(`\n${step}: web-2 is Running, and Running cannot go back to Init.`);
    const refused = await transition(follower.clientUrl, "web-2", "Init");
    check(refused.status === 409, `expected 409, got ${refused.status}: ${JSON.stringify(refused.body)}`);
    say(`   -> 409 ${JSON.stringify(refused.body)}`);

    const before = await readStates(cluster.node(leader).clientUrl, "linearizable");
    say(`   States now: ${JSON.stringify(before)}`);

    step = "4. kill the leader";
    say(`\n${step}: SIGKILL ${leader}, as a crash would; nothing it acknowledged may be lost.`);
    const killedAtMs = performance.now();
    await cluster.kill(leader, "SIGKILL");
    const survivors = cluster.nodes.filter((node) => node.id !== leader);
    const newLeader = await waitForAgreedLeader(survivors.map((node) => node.clientUrl), leaderWaitMs);
    check(newLeader !== null && newLeader !== leader, "the two survivors did not elect a new leader");
    say(`   ${newLeader} took over after ${Math.round(performance.now() - killedAtMs)} ms.`);

    step = "5. the cluster keeps working with two of three";
    const moved = await transition(cluster.node(newLeader).clientUrl, "web-2", "Stopped");
    check(moved.status === 200, `web-2 -> Stopped answered HTTP ${moved.status}: ${JSON.stringify(moved.body)}`);
    say(`\n${step}: web-2 -> Stopped -> 200 ${JSON.stringify(moved.body)}`);
    const afterCrash = await readStates(cluster.node(newLeader).clientUrl, "linearizable");
    check(afterCrash["web-1"] === before["web-1"] && afterCrash["db-1"] === before["db-1"], `states changed across the crash: ${JSON.stringify(before)} -> ${JSON.stringify(afterCrash)}`);
    say(`   Nothing was lost: ${JSON.stringify(afterCrash)}`);

    step = "6. restart the old leader";
    say(`\n${step}: ${leader} restarts from its data directory and catches up from the new leader.`);
    cluster.start(leader);
    const caughtUp = await waitForCatchUp(cluster.node(leader).clientUrl, cluster.node(newLeader).clientUrl);
    check(caughtUp, `${leader} did not catch up within ${catchUpWaitMs} ms`);
    const restartedView = await readStates(cluster.node(leader).clientUrl, "stale");
    check(JSON.stringify(restartedView) === JSON.stringify(afterCrash), `${leader} shows ${JSON.stringify(restartedView)}, the leader ${JSON.stringify(afterCrash)}`);
    say(`   ${leader}'s own local (stale) read shows the same states: ${JSON.stringify(restartedView)}`);

    step = "7. done";
    say(`\n${step}: every node agrees. Open ${cluster.node(newLeader).clientUrl}/ while a cluster runs (pnpm start) to watch this live.`);
  } catch (error) {
    say(`\nDEMO FAILED at step "${step}": ${error instanceof Error ? error.message : String(error)}`);
    await cluster.stopAll();
    process.exit(1);
  }
  await cluster.stopAll();
  rmSync(dataRoot, { recursive: true, force: true });
  process.exit(0);
}

/** Until the restarted node knows the leader and has applied up to the leader's commit index. */
async function waitForCatchUp(nodeUrl: string, leaderUrl: string): Promise<boolean> {
  const deadline = Date.now() + catchUpWaitMs;
  while (Date.now() < deadline) {
    const [node, leader] = await Promise.all([fetchClusterStatus(nodeUrl), fetchClusterStatus(leaderUrl)]);
    if (node !== null && leader !== null && node.leader === leader.self && node.appliedIndex >= leader.commitIndex) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

void main();
