import { describe, expect, it } from "vitest";
import { createMetrics } from "./create-metrics.js";
import { counterDefinitions, gaugeDefinitions, histogramDefinitions } from "./metric-definitions.js";
import { counterNames, gaugeNames, histogramNames, type MetricLabels } from "./metrics-sink.js";

/** One plausible value for every label name used in §7, so each metric gets one fully labelled series. */
const sampleLabelValues: Readonly<Record<string, string>> = {
  type: "Proposal",
  peer: "n2",
  reason: "queue_full",
  result: "committed",
  from: "Init",
  to: "Running",
  stage: "persist",
};

function sampleLabels(labelNames: readonly string[]): MetricLabels {
  return Object.fromEntries(labelNames.map((labelName) => [labelName, sampleLabelValues[labelName] ?? "x"]));
}

function renderLabels(labels: MetricLabels): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${value}"`);
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

function recordingLogger(): { warnings: { fields: object; message: string }[]; warn(fields: object, message: string): void } {
  const warnings: { fields: object; message: string }[] = [];
  return { warnings, warn: (fields, message) => warnings.push({ fields, message }) };
}

describe("createMetrics", () => {
  it("exposes every DESIGN.md §7 metric with HELP, TYPE and its labels after one report", async () => {
    const { sink, text } = createMetrics({ collectProcessMetrics: false });
    for (const name of counterNames) sink.increment(name, sampleLabels(counterDefinitions[name].labelNames), 2);
    for (const name of histogramNames) sink.observe(name, sampleLabels(histogramDefinitions[name].labelNames), 0.003);
    for (const name of gaugeNames) sink.set(name, sampleLabels(gaugeDefinitions[name].labelNames), 7);
    const exposition = await text();

    for (const name of counterNames) {
      const labels = renderLabels(sampleLabels(counterDefinitions[name].labelNames));
      expect(exposition).toContain(`# HELP lockstep_${name} ${counterDefinitions[name].help}`);
      expect(exposition).toContain(`# TYPE lockstep_${name} counter`);
      expect(exposition).toContain(`lockstep_${name}${labels} 2\n`);
    }
    for (const name of histogramNames) {
      const labelNames = histogramDefinitions[name].labelNames;
      const labels = renderLabels(sampleLabels(labelNames));
      const bucketLabels = renderLabels({ le: "0.005", ...sampleLabels(labelNames) });
      expect(exposition).toContain(`# TYPE lockstep_${name} histogram`);
      expect(exposition).toContain(`lockstep_${name}_count${labels} 1\n`);
      expect(exposition).toContain(`lockstep_${name}_bucket${bucketLabels} 1\n`);
    }
    for (const name of gaugeNames) {
      const labels = renderLabels(sampleLabels(gaugeDefinitions[name].labelNames));
      expect(exposition).toContain(`# TYPE lockstep_${name} gauge`);
      expect(exposition).toContain(`lockstep_${name}${labels} 7\n`);
    }
  });

  it("keeps counting across reports and separates series by label value", async () => {
    const { sink, text } = createMetrics({ collectProcessMetrics: false });
    sink.increment("messages_sent_total", { type: "Proposal", peer: "n2" });
    sink.increment("messages_sent_total", { type: "Proposal", peer: "n2" });
    sink.increment("messages_sent_total", { type: "Vote", peer: "n3" }, 5);
    const exposition = await text();
    expect(exposition).toContain('lockstep_messages_sent_total{type="Proposal",peer="n2"} 2\n');
    expect(exposition).toContain('lockstep_messages_sent_total{type="Vote",peer="n3"} 5\n');
  });

  it("drops an undeclared label with one warning and still counts the report", async () => {
    const logger = recordingLogger();
    const { sink, text } = createMetrics({ collectProcessMetrics: false, logger });
    const badLabels = { result: "committed", colour: "blue" };
    expect(() => {
      sink.increment("proposals_total", badLabels);
      sink.increment("proposals_total", badLabels);
      sink.set("term", { colour: "blue" }, 3);
      sink.observe("wal_fsync_seconds", { disk: "sda" }, 0.01);
    }).not.toThrow();
    const exposition = await text();
    expect(exposition).toContain('lockstep_proposals_total{result="committed"} 2\n');
    expect(exposition).not.toContain("colour");
    expect(exposition).toContain("lockstep_term 3\n");
    expect(exposition).toContain("lockstep_wal_fsync_seconds_count 1\n");
    // One warning per metric and label, not one per report.
    expect(logger.warnings.map((warning) => warning.fields)).toEqual([
      expect.objectContaining({ metric: "proposals_total", label: "colour" }),
      expect.objectContaining({ metric: "term", label: "colour" }),
      expect.objectContaining({ metric: "wal_fsync_seconds", label: "disk" }),
    ]);
  });

  it("drops non-finite values and negative counter increments without throwing", async () => {
    const logger = recordingLogger();
    const { sink, text } = createMetrics({ collectProcessMetrics: false, logger });
    expect(() => {
      sink.increment("leader_changes_total", {}, -1);
      sink.observe("snapshot_seconds", {}, Number.NaN);
      sink.set("commit_index", {}, Number.POSITIVE_INFINITY);
    }).not.toThrow();
    const exposition = await text();
    expect(exposition).toContain("lockstep_leader_changes_total 0\n");
    // The NaN observation created no sample: the histogram has no series at all.
    expect(exposition).not.toContain("lockstep_snapshot_seconds_count");
    expect(exposition).toContain("lockstep_commit_index 0\n");
    expect(logger.warnings).toHaveLength(3);
  });

  it("stops creating series past seriesPerMetricMax", async () => {
    const logger = recordingLogger();
    const { sink, text } = createMetrics({ collectProcessMetrics: false, logger, seriesPerMetricMax: 2 });
    for (const peer of ["n1", "n2", "n3", "n4"]) sink.set("send_queue_messages", { peer }, 1);
    sink.set("send_queue_messages", { peer: "n1" }, 9);
    const exposition = await text();
    expect(exposition).toContain('lockstep_send_queue_messages{peer="n1"} 9\n');
    expect(exposition).toContain('lockstep_send_queue_messages{peer="n2"} 1\n');
    expect(exposition).not.toContain('peer="n3"');
    expect(logger.warnings).toHaveLength(1);
  });

  it("adds process metrics, default labels and the prefix", async () => {
    const { sink, text } = createMetrics({ prefix: "test_", defaultLabels: { node: "n1" } });
    sink.set("is_leader", {}, 1);
    const exposition = await text();
    expect(exposition).toContain('test_is_leader{node="n1"} 1\n');
    expect(exposition).toMatch(/^test_process_cpu_user_seconds_total\{node="n1"\} /m);
    expect(exposition).toMatch(/^test_nodejs_heap_size_used_bytes\{node="n1"\} /m);
    expect(exposition).not.toContain("lockstep_");
  });

  it("leaves process metrics out when asked, and gives each call its own registry", async () => {
    const first = createMetrics({ collectProcessMetrics: false });
    const second = createMetrics({ collectProcessMetrics: false });
    first.sink.set("term", {}, 4);
    expect(await first.text()).not.toContain("process_cpu");
    expect(await first.text()).toContain("lockstep_term 4\n");
    expect(await second.text()).toContain("lockstep_term 0\n");
  });
});
