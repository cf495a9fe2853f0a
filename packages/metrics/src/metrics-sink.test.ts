import type * as consensus from "@lockstep/consensus";
import { describe, expect, expectTypeOf, it } from "vitest";
import { createMetrics } from "./create-metrics.js";
import { counterNames, gaugeNames, histogramNames, type CounterName, type GaugeName, type HistogramName, type MetricsSink } from "./metrics-sink.js";

/**
 * `@lockstep/metrics` copies the sink's name unions instead of importing consensus. These
 * assertions fail the typecheck (`tsc -p packages/metrics`) the day the two drift apart.
 */
describe("MetricsSink matches @lockstep/consensus", () => {
  it("has exactly the same metric names", () => {
    expectTypeOf<CounterName>().toEqualTypeOf<consensus.CounterName>();
    expectTypeOf<HistogramName>().toEqualTypeOf<consensus.HistogramName>();
    expectTypeOf<GaugeName>().toEqualTypeOf<consensus.GaugeName>();
    // The runtime lists name each metric once; the type assertions above make them complete.
    const names = [...counterNames, ...histogramNames, ...gaugeNames];
    expect(new Set(names).size).toBe(names.length);
  });

  it("is assignable in both directions, so createMetrics().sink plugs into consensus", () => {
    expectTypeOf<MetricsSink>().toExtend<consensus.MetricsSink>();
    expectTypeOf<consensus.MetricsSink>().toExtend<MetricsSink>();
    const sink: consensus.MetricsSink = createMetrics({ collectProcessMetrics: false }).sink;
    expect(() => sink.increment("leader_changes_total")).not.toThrow();
  });

  it("accepts a consensus Logger as its logger", () => {
    const logger: consensus.Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
      child: () => logger,
    };
    expect(() => createMetrics({ collectProcessMetrics: false, logger }).sink.set("term", { bad: "x" }, 1)).not.toThrow();
  });
});
