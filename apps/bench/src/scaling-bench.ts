import { join } from "node:path";
import { measure, type ClusterRun, type MeasureOptions } from "./cluster-bench.js";
import { measureDashboardCost, type DashboardCost } from "./dashboard-cost.js";
import { HttpJsonClient } from "./http-json-client.js";
import { fillConcurrency, fillKeys } from "./key-fill.js";
import { startLockstepCluster, type RunningCluster } from "./lockstep-cluster.js";
import { scrapeMetrics } from "./lockstep-internals.js";
import { residentBytes } from "./process-memory.js";
import { sumOf } from "./prometheus-text.js";

export interface ScalingBenchOptions extends MeasureOptions {
  repositoryRoot: string;
  workDirectory: string;
  /** The client sweep on a 3-node cluster. */
  clients: readonly number[];
  /** Cluster sizes, each measured at `sweepClients`. */
  nodes: readonly number[];
  /** Key counts the store is filled to (cumulatively), each measured at `sweepClients`. */
  keys: readonly number[];
  sweepClients: number;
}

export interface KeysPoint {
  keys: number;
  run: ClusterRun;
  leaderRssBytes: number | null;
  /** Largest follower RSS. */
  followerRssBytesMax: number | null;
  /** Mean duration of the snapshots the leader took while the last fill chunk ran (null: none ran). */
  snapshotMeanMs: number | null;
  fillSeconds: number;
  /** The leader idle, then with dashboards open, and a listing page, at this many keys. */
  dashboard: DashboardCost;
}

/** Dashboards opened at each key count, and the seconds each idle CPU figure is taken over. */
const dashboardFeeds = 3;
const dashboardSeconds = 5;

export interface ScalingOutcome {
  clients: ClusterRun[];
  nodes: Array<{ nodes: number; run: ClusterRun }>;
  keys: KeysPoint[];
}

const leaderWaitMs = 30_000;
/** Keys are filled in chunks of this many so that each chunk sees about one snapshot at the default interval. */
const fillChunkKeys = 100_000;

/** `pnpm bench --scaling`: cost as the work grows, against clients, cluster size and number of keys. */
export async function runScalingBench(options: ScalingBenchOptions): Promise<ScalingOutcome> {
  const clients = await withCluster(options, "clients", 3, async (cluster) => {
    const runs: ClusterRun[] = [];
    for (const concurrency of options.clients) runs.push(await measure("lockstep", cluster, concurrency, 0, options));
    return runs;
  });
  const nodes: ScalingOutcome["nodes"] = [];
  for (const size of options.nodes) {
    nodes.push({ nodes: size, run: await withCluster(options, `nodes-${size}`, size, (cluster) => measure("lockstep", cluster, options.sweepClients, 0, options)) });
  }
  const keys = await withCluster(options, "keys", 3, (cluster) => keysSweep(cluster, options));
  return { clients, nodes, keys };
}

async function withCluster<T>(options: ScalingBenchOptions, name: string, nodeCount: number, body: (cluster: RunningCluster) => Promise<T>): Promise<T> {
  const cluster = await startLockstepCluster({ repositoryRoot: options.repositoryRoot, workDirectory: join(options.workDirectory, name), nodeCount, profileDirectory: null, leaderWaitMs });
  options.progress.done(`lockstep: ${nodeCount} nodes up for the ${name} sweep, leader ${cluster.leaderName}`);
  try {
    return await body(cluster);
  } finally {
    await cluster.stop();
  }
}

async function keysSweep(cluster: RunningCluster, options: ScalingBenchOptions): Promise<KeysPoint[]> {
  const http = new HttpJsonClient(cluster.leaderUrl, fillConcurrency);
  const leaderPid = cluster.processes.children.find((child) => child.name === `lockstep ${cluster.leaderName}`)?.pid ?? null;
  const followerPids = cluster.processes.children.filter((child) => child.pid !== leaderPid).map((child) => child.pid);
  const points: KeysPoint[] = [];
  let filled = 0;
  try {
    for (const target of [...options.keys].sort((a, b) => a - b)) {
      const startedMs = performance.now();
      let snapshotMeanMs: number | null = null;
      while (filled < target) {
        const chunkEnd = Math.min(target, filled + fillChunkKeys);
        const before = await scrapeMetrics(cluster.leaderUrl);
        await fillKeys(http, filled, chunkEnd);
        const after = await scrapeMetrics(cluster.leaderUrl);
        filled = chunkEnd;
        options.progress.done(`keys: filled ${filled.toLocaleString("en-US")} of ${target.toLocaleString("en-US")}`);
        if (before === null || after === null) continue;
        const count = sumOf(after, "lockstep_snapshot_seconds_count") - sumOf(before, "lockstep_snapshot_seconds_count");
        if (count > 0) snapshotMeanMs = ((sumOf(after, "lockstep_snapshot_seconds_sum") - sumOf(before, "lockstep_snapshot_seconds_sum")) / count) * 1000;
      }
      const fillSeconds = (performance.now() - startedMs) / 1000;
      options.progress.done(`keys: ${target.toLocaleString("en-US")} in the store (fill took ${fillSeconds.toFixed(0)} s)`);
      const run = await measure("lockstep", cluster, options.sweepClients, 0, options);
      options.progress.done(`keys: ${target.toLocaleString("en-US")}: the leader idle, then with ${dashboardFeeds} dashboards open`);
      const dashboard = await measureDashboardCost(cluster.leaderUrl, leaderPid, dashboardFeeds, dashboardSeconds);
      const followerRss = followerPids.map(residentBytes).filter((value): value is number => value !== null);
      points.push({
        keys: target,
        run,
        leaderRssBytes: leaderPid === null ? null : residentBytes(leaderPid),
        followerRssBytesMax: followerRss.length === 0 ? null : Math.max(...followerRss),
        snapshotMeanMs,
        fillSeconds,
        dashboard,
      });
    }
  } finally {
    http.close();
  }
  return points;
}
