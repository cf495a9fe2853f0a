import { describe, expect, it } from "vitest";
import { LatencySamples, percentile } from "./latency-samples.js";

describe("LatencySamples", () => {
  it("gives nearest-rank percentiles over 1..100", () => {
    const samples = new LatencySamples();
    // Recorded in reverse so that the summary has to sort.
    for (let value = 100; value >= 1; value--) samples.record(value);
    const summary = samples.summary();
    expect(summary).toMatchObject({ count: 100, p50Us: 50, p90Us: 90, p99Us: 99, maxUs: 100, meanUs: 50.5, droppedSamples: 0 });
  });

  it("grows past its initial buffer and counts what it cannot keep", () => {
    const samples = new LatencySamples(3000);
    for (let value = 0; value < 3500; value++) samples.record(value);
    const summary = samples.summary();
    expect(summary.count).toBe(3500);
    expect(summary.droppedSamples).toBe(500);
    expect(summary.maxUs).toBe(2999);
  });

  it("reports NaN, not zero, when nothing was measured", () => {
    const summary = new LatencySamples().summary();
    expect(summary.count).toBe(0);
    expect(summary.p50Us).toBeNaN();
  });

  it("percentile of one sample is that sample", () => {
    expect(percentile([7], 0.5)).toBe(7);
    expect(percentile([7], 0.99)).toBe(7);
  });
});
