import { describe, expect, it } from "vitest";
import type { CounterName, MetricLabels, MetricsSink } from "../metrics-sink.js";
import { CounterBatch } from "./counter-batch.js";

function recordingSink(): { sink: MetricsSink; increments: [CounterName, MetricLabels | undefined, number | undefined][] } {
  const increments: [CounterName, MetricLabels | undefined, number | undefined][] = [];
  return { increments, sink: { increment: (name, labels, by) => void increments.push([name, labels, by]), observe: () => undefined, set: () => undefined } };
}

describe("CounterBatch", () => {
  it("reports each series once, summed, when the batch ends", () => {
    const { sink, increments } = recordingSink();
    const batch = new CounterBatch(sink);
    const ok = Object.freeze({ result: "ok" });
    const refused = Object.freeze({ result: "invalid_transition" });
    batch.run(() => {
      for (let i = 0; i < 5; i++) batch.increment("proposals_total", ok);
      batch.increment("proposals_total", refused);
      batch.increment("transitions_total", ok);
      expect(increments).toEqual([]);
    });
    expect(increments).toEqual([
      ["proposals_total", ok, 5],
      ["proposals_total", refused, 1],
      ["transitions_total", ok, 1],
    ]);
  });

  it("passes an increment outside a batch straight through, and reports a batch that threw", () => {
    const { sink, increments } = recordingSink();
    const batch = new CounterBatch(sink);
    const ok = { result: "ok" };
    batch.increment("proposals_total", ok);
    expect(increments).toEqual([["proposals_total", ok, undefined]]);
    expect(() =>
      batch.run(() => {
        batch.increment("proposals_total", ok);
        throw new Error("apply failed");
      }),
    ).toThrow("apply failed");
    expect(increments).toEqual([
      ["proposals_total", ok, undefined],
      ["proposals_total", ok, 1],
    ]);
    // Nothing is left over for the next batch.
    batch.run(() => undefined);
    expect(increments).toHaveLength(2);
  });
});
