/** A metrics sink and a logger that remember what they were given, for assertions in tests. */
import type { CounterName, GaugeName, HistogramName, Logger, MetricLabels, MetricsSink } from "@lockstep/consensus";

export interface RecordedMetric {
  kind: "increment" | "observe" | "set";
  name: CounterName | HistogramName | GaugeName;
  labels: MetricLabels;
  value: number;
}

export class RecordingMetrics implements MetricsSink {
  readonly records: RecordedMetric[] = [];

  increment(name: CounterName, labels: MetricLabels = {}, by = 1): void {
    this.records.push({ kind: "increment", name, labels, value: by });
  }

  observe(name: HistogramName, labels: MetricLabels, value: number): void {
    this.records.push({ kind: "observe", name, labels, value });
  }

  set(name: GaugeName, labels: MetricLabels, value: number): void {
    this.records.push({ kind: "set", name, labels, value });
  }

  /** The sum of a counter's increments (or the count of a histogram's observations). */
  total(name: CounterName | HistogramName): number {
    return this.records
      .filter((record) => record.name === name)
      .reduce((sum, record) => sum + (record.kind === "observe" ? 1 : record.value), 0);
  }

  last(name: GaugeName): RecordedMetric | undefined {
    return this.records.filter((record) => record.name === name).at(-1);
  }
}

export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  fields: object;
  message: string;
}

export function recordingLogger(lines: LogLine[] = [], bound: object = {}): Logger & { lines: LogLine[] } {
  const log = (level: LogLine["level"]) => (fields: object, message: string) => void lines.push({ level, fields: { ...bound, ...fields }, message });
  return {
    lines,
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    child: (fields: object) => recordingLogger(lines, { ...bound, ...fields }),
  };
}
