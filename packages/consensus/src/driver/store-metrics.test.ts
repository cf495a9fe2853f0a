import { lifecycleDefinition, type ApplyResult } from "@lockstep/state-machine";
import { describe, expect, it } from "vitest";
import type { MetricLabels } from "../metrics-sink.js";
import { RecordingMetrics } from "../testing/driver-harness.js";
import { StoreMetrics } from "./store-metrics.js";

const ok = (from: string, to: string): ApplyResult => ({ ok: true, kind: "transition", key: "k", from, to, revision: 1 });
const invalid = (from: string, to: string): ApplyResult => ({ ok: false, code: "invalid_transition", key: "k", from, to, allowed: [] });

describe("StoreMetrics.transitionApplied", () => {
  it("labels transitions_total with the definition's states only, everything else as other", () => {
    const metrics = new RecordingMetrics();
    const storeMetrics = new StoreMetrics(metrics, lifecycleDefinition);
    storeMetrics.transitionApplied("Running", ok("Init", "Running"));
    storeMetrics.transitionApplied("Running", ok("Init", "Running"));
    storeMetrics.transitionApplied("Stopped", invalid("Init", "Stopped"));
    storeMetrics.transitionApplied("Flying", invalid("Init", "Flying"));
    storeMetrics.transitionApplied("Running", invalid("Nowhere", "Running"));
    storeMetrics.transitionApplied("Running", { ok: false, code: "session_expired", clientId: "1", seq: 1, reason: "unknown_session", oldestSeq: null });
    const count = (labels: MetricLabels): number => metrics.counter("transitions_total", labels);
    expect(count({ from: "Init", to: "Running", result: "ok" })).toBe(2);
    // Init -> Stopped is not a transition of the definition: its `to` is other, whatever the state is called.
    expect(count({ from: "Init", to: "other", result: "invalid_transition" })).toBe(2);
    expect(count({ from: "other", to: "other", result: "invalid_transition" })).toBe(1);
    expect(count({ from: "other", to: "other", result: "session_expired" })).toBe(1);
    expect([...metrics.counters.values()].reduce((total, value) => total + value, 0)).toBe(6);
  });

  it("hands the sink one frozen labels object per series, not a new one per transition", () => {
    const seen: MetricLabels[] = [];
    const sink = new RecordingMetrics();
    sink.increment = (_name, labels = {}) => void seen.push(labels);
    const storeMetrics = new StoreMetrics(sink, lifecycleDefinition);
    storeMetrics.transitionApplied("Running", ok("Init", "Running"));
    storeMetrics.transitionApplied("Running", ok("Init", "Running"));
    storeMetrics.transitionApplied("Stopped", ok("Running", "Stopped"));
    expect(seen[0]).toBe(seen[1]);
    expect(seen[2]).toEqual({ from: "Running", to: "Stopped", result: "ok" });
    expect(Object.isFrozen(seen[0])).toBe(true);
  });
});
