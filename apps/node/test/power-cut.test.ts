/**
 * Power cuts of real `lockstep start` processes (issue 9): each node's storage runs on the
 * test-only power-cut journal (LOCKSTEP_TEST_POWER_CUT_JOURNAL), so a SIGKILL followed by
 * `cutPower` leaves its data directory as a power cut would: every write no fsync covered kept,
 * lost or torn at 512-byte sectors, unsynced directory changes undone. Under client load, rounds
 * of cuts of one follower, of the leader, of a majority, of the whole cluster, and of a follower
 * cut again while it restarts (its data directory half opened); after each cut
 * the nodes are started again as a supervisor would, and every one must come back by itself.
 * Then: the history is linearizable, the replicas converge, and (stopped) every node's data
 * directory holds every acknowledged transition at its revision, with no two logs differing at a
 * committed index. Each cut prints its seed: `POWER_CUT_SEED=<base>` replays
 * the cuts' decisions (the moments of the kills follow the load and are not replayed).
 */
import { randomInt } from "node:crypto";
import { statSync } from "node:fs";
import type { Entry } from "@lockstep/protocol";
import { cutPower, describePowerCut, drawPowerCutFaults, FileStorage, type PowerCutReport } from "@lockstep/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkLinearizability } from "../../cluster-sim/src/checkers/index.js";
import { seededRandom } from "../../../packages/storage/src/testing/seeded-random.js";
import { waitForAgreedLeader } from "../src/cluster/cluster-probe.js";
import { HistoryWorkload } from "./support/history-workload.js";
import { fetchClusterStatus, sleep, waitForConvergence } from "./support/node-api.js";
import { fastTiming, ProcessCluster, type TestNode } from "./support/process-cluster.js";

const keys = ["pc-a", "pc-b", "pc-c", "pc-d"];
const kinds = ["follower", "leader", "majority", "whole cluster", "follower again while it restarts"] as const;
type CutKind = (typeof kinds)[number];
/** Three in `pnpm test`; `POWER_CUT_ROUNDS=N` for a longer soak. */
const roundsPerKind = Number(process.env.POWER_CUT_ROUNDS ?? 3);
/** How long a restarted cluster may take to have every node ready again. */
const recoveryBudgetMs = 20_000;
/** Acknowledged transitions the load must add between cuts: the cluster is live again. */
const progressPerCutMin = 8;
const seedBase = Number(process.env.POWER_CUT_SEED ?? randomInt(1, 2 ** 31));

const journalOf = (node: TestNode): string => `${node.dataDirectory}.power-cut-journal`;
let cluster: ProcessCluster;

beforeAll(async () => {
  cluster = await ProcessCluster.prepare({
    cluster: "powercut",
    config: { ...fastTiming },
    environment: (node) => ({ LOCKSTEP_TEST_POWER_CUT_JOURNAL: journalOf(node) }),
  });
  cluster.startAll();
  if ((await waitForAgreedLeader(cluster.clientUrls, 20_000)) === null) throw new Error(`no leader\n${cluster.logTail()}`);
}, 30_000);

afterAll(async () => {
  await cluster?.destroy();
});

/** Every node runs and answers /readyz 200 (knows a leader, applied what it heard committed); a node that exited fails at once. */
async function everyNodeReady(what: string): Promise<void> {
  const deadline = Date.now() + recoveryBudgetMs;
  for (;;) {
    const exited = cluster.nodes.filter((node) => node.process === null);
    if (exited.length > 0) throw new Error(`${what}: ${exited.map((node) => node.id).join(", ")} did not restart by itself\n${cluster.logTail(40)}`);
    const ready = await Promise.all(
      cluster.nodes.map((node) =>
        fetch(`${node.clientUrl}/readyz`, { signal: AbortSignal.timeout(1_000) }).then(
          (response) => response.status === 200,
          () => false,
        ),
      ),
    );
    if (ready.every(Boolean)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not every node ready within ${recoveryBudgetMs} ms\n${cluster.logTail(40)}`);
    await sleep(50);
  }
}

async function leaderId(): Promise<string> {
  const leader = await waitForAgreedLeader(cluster.clientUrls, recoveryBudgetMs);
  if (leader === null) throw new Error(`no agreed leader\n${cluster.logTail(40)}`);
  return leader;
}

async function victimsOf(kind: CutKind, round: number): Promise<string[]> {
  const leader = await leaderId();
  const followers = cluster.nodes.map((node) => node.id).filter((id) => id !== leader);
  const follower = followers[round % followers.length]!;
  switch (kind) {
    case "follower":
    case "follower again while it restarts":
      return [follower];
    case "leader":
      return [leader];
    case "majority":
      return [leader, follower];
    case "whole cluster":
      return cluster.nodes.map((node) => node.id);
  }
}

interface CutRecord {
  kind: CutKind;
  victims: string[];
  reports: PowerCutReport[];
}

/**
 * Resolves once the restarted node's storage has journaled a seeded number of bytes of changes
 * (a record is about 200 bytes): it is in the middle of opening its data directory (probe file,
 * marker, new segment, their directory syncs).
 */
async function storageOpening(id: string, random: () => number): Promise<void> {
  const deadline = Date.now() + recoveryBudgetMs;
  const bytesMin = 1 + Math.floor(random() * 1_500);
  while (journalBytes(cluster.node(id)) < bytesMin) {
    if (Date.now() > deadline || cluster.node(id).process === null) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function journalBytes(node: TestNode): number {
  try {
    return statSync(journalOf(node)).size;
  } catch {
    return 0;
  }
}

/**
 * SIGKILLs the victims at once, cuts the power of each (a seed per node), and starts them again;
 * "again while it restarts" cuts the restarted node once more while it opens its data directory.
 */
async function powerCut(number: number, kind: CutKind, victims: string[]): Promise<CutRecord> {
  const reports: PowerCutReport[] = [];
  const passes = kind === "follower again while it restarts" ? 2 : 1;
  for (let pass = 0; pass < passes; pass++) {
    if (pass > 0) await storageOpening(victims[0]!, seededRandom(seedBase + number * 10 + 9));
    await Promise.all(victims.map((id) => cluster.kill(id, "SIGKILL")));
    for (const [index, id] of victims.entries()) {
      const seed = seedBase + number * 10 + pass * 5 + index;
      const random = seededRandom(seed);
      const report = cutPower({ journalPath: journalOf(cluster.node(id)), random, faults: drawPowerCutFaults(random) });
      console.log(`power cut ${number}${pass > 0 ? " (again, while restarting)" : ""} (${kind}) ${id}: seed ${seed}: ${describePowerCut(report)}`);
      reports.push(report);
    }
    for (const id of victims) cluster.start(id);
  }
  await everyNodeReady(`after power cut ${number} (${kind}: ${victims.join(", ")})`);
  return { kind, victims, reports };
}

/** A stopped node's log as its data directory holds it (what it would recover). */
async function logOnDisk(node: TestNode): Promise<{ entries: Map<number, Entry> }> {
  const storage = await FileStorage.open({ directory: node.dataDirectory, fsyncPolicy: "always" });
  try {
    const state = await storage.load();
    expect(state.possibleLoss, `${node.id}: possible loss`).toBeUndefined();
    return { entries: new Map(state.entries.map((entry) => [entry.index, entry])) };
  } finally {
    await storage.close();
  }
}

describe("power cuts of real processes on a file system that loses and tears unsynced data", () => {
  it("every node restarts by itself, nothing acknowledged is lost, the history is linearizable, the replicas converge", async () => {
    const startedAtMs = performance.now();
    console.log(`power cuts: base seed ${seedBase} (POWER_CUT_SEED=${seedBase} replays the cuts' decisions)`);
    const load = new HistoryWorkload({ endpoints: cluster.clientUrls, keys, processCount: 4, operationsPerProcessMax: 100_000 });
    const cuts: CutRecord[] = [];
    let number = 0;
    for (let round = 0; round < roundsPerKind; round++) {
      for (const kind of kinds) {
        number += 1;
        const before = load.acknowledgedCount;
        const progressDeadline = Date.now() + recoveryBudgetMs;
        while (load.acknowledgedCount < before + progressPerCutMin) {
          if (Date.now() > progressDeadline) throw new Error(`before power cut ${number}: only ${load.acknowledgedCount - before} transitions acknowledged in ${recoveryBudgetMs} ms\n${cluster.logTail(40)}`);
          await sleep(20);
        }
        // Somewhere inside a group commit, not always right after an answer.
        await sleep(randomInt(0, 120));
        cuts.push(await powerCut(number, kind, await victimsOf(kind, round)));
      }
    }
    const afterLastCut = load.acknowledgedCount;
    while (load.acknowledgedCount < afterLastCut + progressPerCutMin) await sleep(20);
    const workload = await load.stop();

    const verdict = checkLinearizability(workload.events);
    expect(verdict.ok, "explanation" in verdict ? verdict.explanation : "").toBe(true);
    expect(workload.unexpectedErrors).toEqual([]);

    const converged = await waitForConvergence(cluster.clientUrls, 15_000);
    const statuses = await Promise.all(cluster.clientUrls.map(fetchClusterStatus));
    expect(new Set(statuses.map((status) => status?.appliedIndex)).size).toBe(1);

    // Stopped cleanly, each data directory holds every acknowledged transition at the revision
    // (log index) it was acknowledged with, and no two nodes' logs differ at a committed index.
    for (const node of cluster.nodes) await cluster.kill(node.id, "SIGTERM");
    const logs = await Promise.all(cluster.nodes.map(logOnDisk));
    for (const [index, log] of logs.entries()) {
      const lost = workload.acknowledged.filter(({ revision, key, from, to }) => {
        const command = log.entries.get(revision)?.command;
        return command?.kind !== "transition" || command.key !== key || command.to !== to || command.expect !== from;
      });
      expect(lost, `acknowledged transitions missing from ${cluster.nodes[index]!.id}'s log`).toEqual([]);
    }
    // Every node applied up to the same index before the stop: those entries are the same on every disk.
    const appliedEverywhere = statuses[0]?.appliedIndex ?? 0;
    expect(appliedEverywhere).toBeGreaterThanOrEqual(Math.max(...workload.acknowledged.map((response) => response.revision)));
    for (let logIndex = 1; logIndex <= appliedEverywhere; logIndex++) {
      const texts = new Set(logs.map((log) => JSON.stringify(log.entries.get(logIndex) ?? null)));
      expect(texts.size, `log index ${logIndex}: ${[...texts].join(" / ")}`).toBe(1);
      expect(texts.has("null"), `log index ${logIndex} is missing from a node's log`).toBe(false);
    }

    const all = cuts.flatMap((cut) => cut.reports);
    const sum = (field: "writesKept" | "writesTorn" | "writesLost" | "directoryChangesUndone"): number => all.reduce((total, report) => total + report[field], 0);
    const perKind = kinds.map((kind) => `${cuts.filter((cut) => cut.kind === kind).length} ${kind}`).join(", ");
    console.log(
      `power cuts: ${cuts.length} (${perKind}), ${all.length} node power cuts; unsynced writes kept ${sum("writesKept")}, torn ${sum("writesTorn")}, lost ${sum("writesLost")}; ` +
        `directory changes undone ${sum("directoryChangesUndone")}; ${workload.acknowledged.length} transitions acknowledged, ${workload.events.length} history events, ` +
        `${converged.machines.length} keys converged at applied index ${statuses[0]?.appliedIndex}; ${Math.round((performance.now() - startedAtMs) / 1000)} s`,
    );
    // The cuts took something back: a run that never tore or lost a write would prove nothing.
    expect(sum("writesTorn") + sum("writesLost")).toBeGreaterThan(0);
  }, 240_000 * Math.max(1, roundsPerKind / 3));
});
