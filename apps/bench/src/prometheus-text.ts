/** Samples kept from one scrape; a lockstep node exports a few hundred. */
export const samplesMax = 20_000;

/** One sample of the Prometheus text format: name, labels, value. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * Parses Prometheus text exposition (what `GET /metrics` answers). Comments and lines that are
 * not samples are skipped, never thrown on: a bench must not die on a metric it does not know.
 */
export function parsePrometheusText(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of text.split("\n")) {
    if (samples.length >= samplesMax) break;
    if (line.startsWith("#")) continue;
    const match = sampleLine.exec(line);
    if (match === null) continue;
    const value = Number(match[3]);
    if (Number.isNaN(value)) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(labelPair)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** The sum of every sample called `name` whose labels include all of `where`. */
export function sumOf(samples: readonly MetricSample[], name: string, where: Record<string, string> = {}): number {
  let total = 0;
  for (const sample of samples) {
    if (sample.name !== name) continue;
    if (Object.entries(where).every(([label, value]) => sample.labels[label] === value)) total += sample.value;
  }
  return total;
}
