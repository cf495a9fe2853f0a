export { createMetrics, defaultMetricPrefix, type CreateMetricsOptions, type Metrics } from "./create-metrics.js";
export {
  counterNames,
  gaugeNames,
  histogramNames,
  type CounterName,
  type GaugeName,
  type HistogramName,
  type MetricLabels,
  type MetricName,
  type MetricsLogger,
  type MetricsSink,
} from "./metrics-sink.js";
export { counterDefinitions, gaugeDefinitions, histogramDefinitions, secondsBuckets } from "./metric-definitions.js";
export { PrometheusSink, defaultSeriesPerMetricMax, type PrometheusSinkOptions } from "./prometheus-sink.js";
