import type { Counter, Gauge, Histogram } from "prom-client";
import type {
  CounterName,
  GaugeName,
  HistogramName,
  MetricLabels,
  MetricName,
  MetricsLogger,
  MetricsSink,
} from "./metrics-sink.js";

/** Distinct label sets one metric may hold; past it new series are dropped, so a label bug cannot eat memory. */
export const defaultSeriesPerMetricMax = 10_000;
/** Distinct warnings remembered (each is logged once); past it, further problems are dropped silently. */
const warningKeysMax = 1_000;

export type PrometheusMetrics = {
  counters: Readonly<Record<CounterName, Counter>>;
  histograms: Readonly<Record<HistogramName, Histogram>>;
  gauges: Readonly<Record<GaugeName, Gauge>>;
  labelNames: Readonly<Record<MetricName, readonly string[]>>;
};

export type PrometheusSinkOptions = {
  logger?: MetricsLogger | undefined;
  seriesPerMetricMax?: number | undefined;
};

type LabelPolicy = { allowed: ReadonlySet<string>; ordered: readonly string[]; series: Set<string> };

/**
 * Reports to prom-client and never throws: a metrics bug must not take down consensus. A label the
 * metric was not declared with is dropped (prom-client would throw), a non-finite or negative
 * value is dropped, a label set beyond `seriesPerMetricMax` is dropped; each kind of problem is
 * logged once per metric through the optional logger.
 */
export class PrometheusSink implements MetricsSink {
  private readonly policies = new Map<MetricName, LabelPolicy>();
  private readonly warned = new Set<string>();
  private readonly logger: MetricsLogger | undefined;
  private readonly seriesPerMetricMax: number;

  constructor(
    private readonly metrics: PrometheusMetrics,
    options: PrometheusSinkOptions = {},
  ) {
    this.logger = options.logger;
    this.seriesPerMetricMax = options.seriesPerMetricMax ?? defaultSeriesPerMetricMax;
    for (const [name, labelNames] of Object.entries(metrics.labelNames) as [MetricName, readonly string[]][]) {
      this.policies.set(name, { allowed: new Set(labelNames), ordered: labelNames, series: new Set() });
    }
  }

  increment(name: CounterName, labels: MetricLabels = {}, by = 1): void {
    if (!Number.isFinite(by) || by < 0) return this.warnOnce(name, "bad_value", { value: by });
    const accepted = this.acceptLabels(name, labels);
    if (accepted === undefined) return;
    this.guard(name, () => this.metrics.counters[name].inc(accepted, by));
  }

  observe(name: HistogramName, labels: MetricLabels, value: number): void {
    if (!Number.isFinite(value)) return this.warnOnce(name, "bad_value", { value });
    const accepted = this.acceptLabels(name, labels);
    if (accepted === undefined) return;
    this.guard(name, () => this.metrics.histograms[name].observe(accepted, value));
  }

  set(name: GaugeName, labels: MetricLabels, value: number): void {
    if (!Number.isFinite(value)) return this.warnOnce(name, "bad_value", { value });
    const accepted = this.acceptLabels(name, labels);
    if (accepted === undefined) return;
    this.guard(name, () => this.metrics.gauges[name].set(accepted, value));
  }

  /** The labels to report (undeclared ones removed), or undefined when the series limit is reached. */
  private acceptLabels(name: MetricName, labels: MetricLabels): MetricLabels | undefined {
    const policy = this.policies.get(name);
    if (policy === undefined) {
      // Only reachable from untyped callers passing a name outside the unions.
      this.warnOnce(name, "unknown_metric", {});
      return undefined;
    }
    let accepted = labels;
    for (const labelName in labels) {
      if (policy.allowed.has(labelName)) continue;
      this.warnOnce(name, `unknown_label:${labelName}`, { label: labelName, allowed: policy.ordered });
      accepted = pickLabels(labels, policy.allowed);
      break;
    }
    if (policy.ordered.length === 0) return accepted;
    const seriesKey = policy.ordered.map((labelName) => accepted[labelName] ?? "").join("\u0000");
    if (policy.series.has(seriesKey)) return accepted;
    if (policy.series.size >= this.seriesPerMetricMax) {
      this.warnOnce(name, "series_limit", { seriesPerMetricMax: this.seriesPerMetricMax });
      return undefined;
    }
    policy.series.add(seriesKey);
    return accepted;
  }

  private guard(name: MetricName, report: () => void): void {
    try {
      report();
    } catch (error) {
      this.warnOnce(name, "report_failed", { error: error instanceof Error ? error.message : String(error) });
    }
  }

  private warnOnce(metric: string, problem: string, fields: object): void {
    const key = `${metric}\u0000${problem}`;
    if (this.warned.has(key) || this.warned.size >= warningKeysMax) return;
    this.warned.add(key);
    this.logger?.warn({ metric, problem, ...fields }, "metric report dropped; further reports like it are dropped silently");
  }
}

function pickLabels(labels: MetricLabels, allowed: ReadonlySet<string>): MetricLabels {
  const picked: Record<string, string> = {};
  for (const [labelName, value] of Object.entries(labels)) {
    if (allowed.has(labelName)) picked[labelName] = value;
  }
  return picked;
}
