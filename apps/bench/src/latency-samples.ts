/**
 * Latencies of one measured phase, kept as raw samples so that percentiles are exact. The bound
 * is far above what a 2-core machine completes in a phase (about 100,000 operations in 10 s);
 * past it, samples are counted but no longer stored, and the summary says how many were dropped.
 */
export const latencySamplesMax = 4_000_000;

export interface LatencySummary {
  count: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
  meanUs: number;
  /** Samples counted but not stored because the bound was reached. */
  droppedSamples: number;
}

export class LatencySamples {
  private samplesUs = new Float64Array(1024);
  private length = 0;
  private dropped = 0;

  constructor(private readonly samplesMax: number = latencySamplesMax) {}

  get count(): number {
    return this.length + this.dropped;
  }

  record(latencyUs: number): void {
    if (this.length >= this.samplesMax) {
      this.dropped += 1;
      return;
    }
    if (this.length === this.samplesUs.length) {
      const grown = new Float64Array(Math.min(this.samplesMax, this.samplesUs.length * 2));
      grown.set(this.samplesUs);
      this.samplesUs = grown;
    }
    this.samplesUs[this.length] = latencyUs;
    this.length += 1;
  }

  summary(): LatencySummary {
    const sorted = this.samplesUs.slice(0, this.length).sort();
    let total = 0;
    for (const sample of sorted) total += sample;
    return {
      count: this.count,
      p50Us: percentile(sorted, 0.5),
      p90Us: percentile(sorted, 0.9),
      p99Us: percentile(sorted, 0.99),
      maxUs: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
      meanUs: sorted.length === 0 ? Number.NaN : total / sorted.length,
      droppedSamples: this.dropped,
    };
  }
}

/** Nearest-rank percentile of sorted samples: the smallest sample with at least `fraction` of them at or below it. */
export function percentile(sorted: Float64Array | readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(fraction * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}
