import type { ClusterRun } from "./cluster-bench.js";
import type { ScalingOutcome } from "./scaling-bench.js";
import { renderChart, type ChartPanel } from "./svg-chart.js";

const lockstepColor = "#1f77b4";

/** The markdown tables of a scaling run: one per sweep. */
export function scalingTables(outcome: ScalingOutcome): string {
  const row = (label: string, run: ClusterRun, extra: string[] = []): string =>
    `| ${label} | ${Math.round(run.result.committedPerSecond).toLocaleString("en-US")} | ${ms(run.result.latency.p50Us)} | ${ms(run.result.latency.p99Us)} | ${run.result.failed} | ${fixed(run.serverCpuPercent)} | ${fixed(run.generatorCpuPercent)} |${extra.map((cell) => ` ${cell} |`).join("")}`;
  const header = "committed/s | p50 ms | p99 ms | failed | server CPU % | load gen CPU %";
  return [
    "### Against concurrent clients (3 nodes)",
    "",
    `| clients | ${header} |`,
    "|---:|---:|---:|---:|---:|---:|---:|",
    ...outcome.clients.map((run) => row(String(run.concurrency), run)),
    "",
    "### Against cluster size",
    "",
    `| nodes | ${header} |`,
    "|---:|---:|---:|---:|---:|---:|---:|",
    ...outcome.nodes.map((point) => row(String(point.nodes), point.run)),
    "",
    "### Against the number of keys in the store (3 nodes)",
    "",
    `| keys | ${header} | leader RSS MB | largest follower RSS MB | snapshot ms (last fill chunk) | fill s |`,
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...outcome.keys.map((point) =>
      row(point.keys.toLocaleString("en-US"), point.run, [megabytes(point.leaderRssBytes), megabytes(point.followerRssBytesMax), point.snapshotMeanMs === null ? "none" : point.snapshotMeanMs.toFixed(0), point.fillSeconds.toFixed(0)]),
    ),
    "",
    "### What a dashboard and a listing page cost the leader, against the number of keys (no client load)",
    "",
    "| keys | leader CPU % idle | leader CPU % with dashboards open | dashboards | bytes/s per dashboard | first `GET /v1/machines?limit=100` after the fill, ms | next page, ms |",
    "|---:|---:|---:|---:|---:|---:|---:|",
    ...outcome.keys.map(
      (point) =>
        `| ${point.keys.toLocaleString("en-US")} | ${fixed1(point.dashboard.idleCpuPercent)} | ${fixed1(point.dashboard.feedsCpuPercent)} | ${point.dashboard.feeds} | ${Math.round(point.dashboard.feedBytesPerSecond).toLocaleString("en-US")} | ${fixed1(point.dashboard.firstPageMs)} | ${fixed1(point.dashboard.warmPageMs)} |`,
    ),
  ].join("\n");
}

/** Three SVG charts (clients, nodes, keys), each writes/s and p99 side by side. */
export function scalingCharts(outcome: ScalingOutcome, caption: string): { clients: string; nodes: string; keys: string } {
  const panels = (xLabel: string, points: ReadonlyArray<{ x: number; run: ClusterRun }>): ChartPanel[] => [
    { title: "Committed writes per second", yLabel: "writes/s", xLabel, series: [{ name: "lockstep", color: lockstepColor, points: points.map((point) => ({ x: point.x, value: point.run.result.committedPerSecond })) }] },
    { title: "p99 latency", yLabel: "ms", xLabel, series: [{ name: "lockstep", color: lockstepColor, points: points.map((point) => ({ x: point.x, value: point.run.result.latency.p99Us / 1000 })) }] },
  ];
  const rss: ChartPanel = {
    title: "Leader RSS",
    yLabel: "MB",
    xLabel: "keys in the store",
    series: [{ name: "leader", color: lockstepColor, points: outcome.keys.map((point) => ({ x: point.keys, value: point.leaderRssBytes === null ? Number.NaN : point.leaderRssBytes / 1e6 })) }],
  };
  return {
    clients: renderChart(panels("concurrent clients", outcome.clients.map((run) => ({ x: run.concurrency, run }))), caption),
    nodes: renderChart(panels("nodes in the cluster", outcome.nodes.map((point) => ({ x: point.nodes, run: point.run }))), caption),
    keys: renderChart([...panels("keys in the store", outcome.keys.map((point) => ({ x: point.keys, run: point.run }))), rss], caption),
  };
}

function ms(us: number): string {
  return (us / 1000).toFixed(2);
}

function fixed1(value: number | null): string {
  return value === null ? "?" : value.toFixed(1);
}

function fixed(value: number | null): string {
  return value === null ? "?" : value.toFixed(0);
}

function megabytes(bytes: number | null): string {
  return bytes === null ? "?" : (bytes / 1e6).toFixed(0);
}
