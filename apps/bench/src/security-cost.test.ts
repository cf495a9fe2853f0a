import { describe, expect, it } from "vitest";
import type { ClusterRun, SystemName } from "./cluster-bench.js";
import { securityCosts, securityGoals, securityPairs } from "./security-cost.js";
import { clusterRun } from "./testing/cluster-run.js";

function run(system: SystemName, concurrency: number, perSecond: number, p50Ms: number, cpuUsPerCommit: number): ClusterRun {
  return clusterRun({ system, concurrency, perSecond, p50Ms, cpuUsPerCommit });
}

describe("the cost of the secured client port, against the plain one in the same run", () => {
  it("meets both goals at 0.9x writes/s at 128 clients and +0.05 ms p50 at 1 client", () => {
    const costs = securityCosts([run("lockstep", 1, 200, 4, 100), run("lockstep-secure", 1, 190, 4.05, 110), run("lockstep", 128, 2000, 50, 300), run("lockstep-secure", 128, 1800, 55, 330)]);
    expect(costs.map((cost) => [cost.concurrency, Number(cost.throughputRatio.toFixed(2)), Number(cost.p50DeltaMs.toFixed(3)), Number(cost.serverCpuPerCommitRatio!.toFixed(2))])).toEqual([
      [1, 0.95, 0.05, 1.1],
      [128, 0.9, 5, 1.1],
    ]);
    expect(securityGoals(costs).map((goal) => goal.met)).toEqual([true, true]);
  });

  it("fails the goals at 0.8x writes/s and +0.2 ms p50", () => {
    const goals = securityGoals(securityCosts([run("lockstep", 1, 200, 4, 100), run("lockstep-secure", 1, 190, 4.2, 110), run("lockstep", 128, 2000, 50, 300), run("lockstep-secure", 128, 1600, 55, 330)]));
    expect(goals).toEqual([
      { goal: "128 clients: HTTPS + tokens writes/s >= 0.85x plain", measured: "0.80x", met: false },
      { goal: "1 client: HTTPS + tokens p50 at most 0.1 ms above plain", measured: "+0.200 ms", met: false },
    ]);
  });
});

describe("the same cost over /v1/rpc", () => {
  it("pairs lockstep-secure-rpc with lockstep-rpc only, and labels its goals", () => {
    const runs = [run("lockstep", 128, 2000, 50, 300), run("lockstep-secure", 128, 1000, 55, 330), run("lockstep-rpc", 128, 3000, 30, 200), run("lockstep-secure-rpc", 128, 2700, 31, 210)];
    const costs = securityCosts(runs, securityPairs[1]);
    expect(costs.map((cost) => Number(cost.throughputRatio.toFixed(2)))).toEqual([0.9]);
    expect(securityGoals(costs, "wss + token on /v1/rpc")).toEqual([{ goal: "128 clients: wss + token on /v1/rpc writes/s >= 0.85x plain", measured: "0.90x", met: true }]);
    expect(securityCosts(runs).map((cost) => cost.throughputRatio)).toEqual([0.5]);
  });
});
