import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { counterDefinitions, gaugeDefinitions, histogramDefinitions, secondsBuckets } from "./metric-definitions.js";
import {
  counterNames,
  gaugeNames,
  histogramNames,
  type CounterName,
  type GaugeName,
  type HistogramName,
  type MetricName,
  type MetricsLogger,
  type MetricsSink,
} from "./metrics-sink.js";
import { PrometheusSink } from "./prometheus-sink.js";

export const defaultMetricPrefix = "lockstep_";

export type CreateMetricsOptions = {
  /** Prepended to every metric name, process metrics included. Default `lockstep_`. */
  prefix?: string | undefined;
  /** Also export prom-client's Node.js process metrics (CPU, memory, event loop lag, GC). Default true. */
  collectProcessMetrics?: boolean | undefined;
  /** Labels added to every series, e.g. `{ node: "n1" }`. */
  defaultLabels?: Record<string, string> | undefined;
  /** Receives one warning per kind of dropped report (unknown label, bad value, series limit). */
  logger?: MetricsLogger | undefined;
  /** Distinct label sets one metric may hold before new ones are dropped. Default 10 000. */
  seriesPerMetricMax?: number | undefined;
};

export type Metrics = {
  /** A registry of its own (not prom-client's global one), so several nodes can live in one process. */
  registry: Registry;
  sink: MetricsSink;
  /** The Prometheus text exposition of every metric, for `GET /metrics` (content type: `registry.contentType`). */
  text: () => Promise<string>;
};

/** Registers every metric of DESIGN.md §7 in a fresh registry and returns the sink that reports to it. */
export function createMetrics(options: CreateMetricsOptions = {}): Metrics {
  const prefix = options.prefix ?? defaultMetricPrefix;
  const registry = new Registry();
  if (options.defaultLabels !== undefined) registry.setDefaultLabels(options.defaultLabels);
  const registers = [registry];

  const counters = buildRecord(counterNames, (name: CounterName) => {
    const { help, labelNames } = counterDefinitions[name];
    return new Counter({ name: prefix + name, help, labelNames, registers });
  });
  const histograms = buildRecord(histogramNames, (name: HistogramName) => {
    const { help, labelNames } = histogramDefinitions[name];
    return new Histogram({ name: prefix + name, help, labelNames, buckets: [...secondsBuckets], registers });
  });
  const gauges = buildRecord(gaugeNames, (name: GaugeName) => {
    const { help, labelNames } = gaugeDefinitions[name];
    return new Gauge({ name: prefix + name, help, labelNames, registers });
  });
  const labelNames: Record<MetricName, readonly string[]> = {
    ...buildRecord(counterNames, (name) => counterDefinitions[name].labelNames),
    ...buildRecord(histogramNames, (name) => histogramDefinitions[name].labelNames),
    ...buildRecord(gaugeNames, (name) => gaugeDefinitions[name].labelNames),
  };

  if (options.collectProcessMetrics ?? true) collectDefaultMetrics({ register: registry, prefix });

  const sink = new PrometheusSink(
    { counters, histograms, gauges, labelNames },
    { logger: options.logger, seriesPerMetricMax: options.seriesPerMetricMax },
  );
  return { registry, sink, text: () => registry.metrics() };
}

function buildRecord<K extends string, V>(keys: readonly K[], build: (key: K) => V): Record<K, V> {
  const record = {} as Record<K, V>;
  for (const key of keys) record[key] = build(key);
  return record;
}
