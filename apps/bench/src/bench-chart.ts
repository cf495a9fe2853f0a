import type { ClusterRun, SystemName } from "./cluster-bench.js";
import { renderChart, type ChartSeries } from "./svg-chart.js";

const colors: Record<SystemName, string> = { lockstep: "#1f77b4", "lockstep-secure": "#9467bd", "lockstep-rpc": "#2ca02c", "lockstep-secure-rpc": "#17becf", etcd: "#ff7f0e", "etcd-gateway": "#bbbbbb" };

/** The chart docs/benchmarks.md shows: writes/s and p99 latency against concurrency, a line per system. */
export function throughputAndLatencyChart(runs: readonly ClusterRun[], caption: string): string {
  const systems = [...new Set(runs.map((run) => run.system))];
  const series = (value: (run: ClusterRun) => number): ChartSeries[] =>
    systems.map((system) => ({
      name: system,
      color: colors[system],
      points: runs.filter((run) => run.system === system).map((run) => ({ x: run.concurrency, value: value(run) })),
    }));
  return renderChart(
    [
      { title: "Committed writes per second", yLabel: "writes/s", series: series((run) => run.result.committedPerSecond) },
      { title: "p99 latency", yLabel: "ms", series: series((run) => run.result.latency.p99Us / 1000) },
    ],
    caption,
  );
}
