import { describe, expect, it } from "vitest";
import type { ClusterRun, SystemName } from "./cluster-bench.js";
import { clusterTable, forwardedNote, roundsTable } from "./markdown-report.js";
import { medianRound } from "./median-round.js";
import { clusterRun } from "./testing/cluster-run.js";

function run(system: SystemName, round: number, perSecond: number, p50Ms: number): ClusterRun {
  return clusterRun({ system, concurrency: 1, perSecond, p50Ms, round });
}

describe("roundsTable", () => {
  it("lists each system's rounds in order and marks the median round its row is", () => {
    const rounds = [run("etcd", 0, 700, 1.2), run("lockstep-rpc", 0, 800, 1.1), run("lockstep-rpc", 1, 400, 2.3), run("etcd", 1, 750, 1.15), run("lockstep-rpc", 2, 900, 1.0), run("etcd", 2, 300, 3.1)];
    const kept = (["lockstep-rpc", "etcd"] as const).map((system) => medianRound(rounds.filter((candidate) => candidate.system === system)));
    const lines = roundsTable(rounds, kept).split("\n");
    expect(lines[0]).toBe("| system | clients | round 1 | round 2 | round 3 |");
    expect(lines[2]).toBe("| lockstep-rpc | 1 | *800/s, p50 1.10 ms* | 400/s, p50 2.30 ms | 900/s, p50 1.00 ms |");
    expect(lines[3]).toBe("| etcd | 1 | *700/s, p50 1.20 ms* | 750/s, p50 1.15 ms | 300/s, p50 3.10 ms |");
  });
});

describe("a row measured while another node led", () => {
  it("is marked in the tables, with a note, when the node the load went to forwarded requests", () => {
    const led = run("lockstep-rpc", 0, 18_000, 11);
    const forwarded: ClusterRun = { ...run("lockstep-rpc", 1, 5_000, 50), internals: { stageMeanMs: {}, fsyncsPerSecond: 20, fsyncMeanMs: 1.3, commitsPerFsync: 254, messagesPerCommit: { Forward: 0.004, Acknowledgment: 0.008 } } };
    const table = clusterTable([led, forwarded]);
    expect(table).toContain("| lockstep-rpc † | 1 | 5,000 |");
    expect(table).toContain("| lockstep-rpc | 1 | 18,000 |");
    expect(table.endsWith(forwardedNote)).toBe(true);
    expect(clusterTable([led])).not.toContain("†");
    expect(roundsTable([led, forwarded], [led])).toContain("5,000/s, p50 50.00 ms †");
  });
});
