import { counterNames, createMetrics, defaultMetricPrefix, gaugeNames, histogramNames } from "@lockstep/metrics";

/**
 * Every series name a node's `/metrics` can carry: the lockstep metrics of packages/metrics
 * (histograms with their `_bucket`, `_sum` and `_count` series) and prom-client's process metrics,
 * read from a real registry built the way the node builds it.
 */
export async function exportedSeriesNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const name of [...counterNames, ...gaugeNames]) names.add(defaultMetricPrefix + name);
  for (const name of histogramNames) for (const suffix of ["_bucket", "_sum", "_count"]) names.add(defaultMetricPrefix + name + suffix);
  const { registry } = createMetrics({ defaultLabels: { node: "n1" } });
  for (const metric of await registry.getMetricsAsJSON()) {
    names.add(metric.name);
    const type = String(metric.type);
    if (type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(metric.name + suffix);
    if (type === "summary") for (const suffix of ["_sum", "_count"]) names.add(metric.name + suffix);
  }
  return names;
}

/** The `lockstep_*` names a PromQL expression reads. */
export function lockstepNamesIn(expression: string): string[] {
  return [...expression.matchAll(/\blockstep_[a-z0-9_]+/g)].map((match) => match[0]);
}
