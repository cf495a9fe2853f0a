import { describe, expect, it } from "vitest";
import type { CounterName, MetricLabels, MetricsSink } from "../metrics-sink.js";
import { CounterBatch, CounterCell } from "./counter-batch.js";

function recordingSink(): { sink: MetricsSink; increments: [CounterName, MetricLabels | undefined, number | undefined][] } {
  const increments: [CounterName, MetricLabels | undefined, number | undefined][] = [];
  return { increments, sink: { increment: (name, labels, by) => void increments.push([name, labels, by]), observe: () => undefined, set: () => undefined } };
}

describe("CounterBatch", () => {
  it("reports each series once, summed, when the batch ends", () => {
    const { sink, increments } = recordingSink();
    const batch = new CounterBatch(sink);
    const ok = new CounterCell("proposals_total", { result: "ok" });
    const refused = new CounterCell("proposals_total", { result: "invalid_transition" });
    const transition = new CounterCell("transitions_total", { from: "Init", to: "Running", result: "ok" });
    batch.run(() => {
      for (let i = 0; i < 5; i++) batch.increment(ok);
      batch.increment(refused);
      batch.increment(transition);
      expect(increments).toEqual([]);
    });
    expect(increments).toEqual([
      ["proposals_total", ok.labels, 5],
      ["proposals_total", refused.labels, 1],
      ["transitions_total", transition.labels, 1],
    ]);
    // The next batch counts from zero.
    batch.run(() => batch.increment(ok));
    expect(increments.at(-1)).toEqual(["proposals_total", ok.labels, 1]);
  });

  it("passes an increment outside a batch straight through, and reports a batch that threw", () => {
    const { sink, increments } = recordingSink();
    const batch = new CounterBatch(sink);
    const ok = new CounterCell("proposals_total", { result: "ok" });
    batch.increment(ok);
    expect(increments).toEqual([["proposals_total", ok.labels, undefined]]);
    expect(() =>
      batch.run(() => {
        batch.increment(ok);
        throw new Error("apply failed");
      }),
    ).toThrow("apply failed");
    expect(increments).toEqual([
      ["proposals_total", ok.labels, undefined],
      ["proposals_total", ok.labels, 1],
    ]);
    // Nothing is left over for the next batch.
    batch.run(() => undefined);
    expect(increments).toHaveLength(2);
    expect(ok.pending).toBe(0);
  });

  it("counts a nested run in the outer batch", () => {
    const { sink, increments } = recordingSink();
    const batch = new CounterBatch(sink);
    const ok = new CounterCell("proposals_total", { result: "ok" });
    batch.run(() => {
      batch.increment(ok);
      batch.run(() => batch.increment(ok));
      expect(increments).toEqual([]);
    });
    expect(increments).toEqual([["proposals_total", ok.labels, 2]]);
  });
});
