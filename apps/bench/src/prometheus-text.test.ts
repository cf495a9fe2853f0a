import { describe, expect, it } from "vitest";
import { parsePrometheusText, sumOf } from "./prometheus-text.js";

const text = `# HELP lockstep_messages_sent_total Messages sent
# TYPE lockstep_messages_sent_total counter
lockstep_messages_sent_total{type="Proposal",peer="n2",node="n1"} 5060
lockstep_messages_sent_total{type="Proposal",peer="n3",node="n1"} 40
lockstep_messages_sent_total{type="Commit",peer="n3",node="n1"} 7
lockstep_entry_stage_seconds_sum{node="n1",stage="persist"} 3.25
lockstep_entry_stage_seconds_count{node="n1",stage="persist"} 307
lockstep_weird{label="with \\"quote\\", comma"} 1e3
not a sample at all
lockstep_nan NaN
`;

describe("parsePrometheusText", () => {
  it("reads names, labels (escaped quotes included) and values, skipping comments and junk", () => {
    const samples = parsePrometheusText(text);
    expect(samples).toHaveLength(6);
    expect(samples[0]).toEqual({ name: "lockstep_messages_sent_total", labels: { type: "Proposal", peer: "n2", node: "n1" }, value: 5060 });
    expect(samples[5]).toEqual({ name: "lockstep_weird", labels: { label: 'with \\"quote\\", comma' }, value: 1000 });
  });

  it("sums the samples that match a label filter", () => {
    const samples = parsePrometheusText(text);
    expect(sumOf(samples, "lockstep_messages_sent_total")).toBe(5107);
    expect(sumOf(samples, "lockstep_messages_sent_total", { type: "Proposal" })).toBe(5100);
    expect(sumOf(samples, "lockstep_entry_stage_seconds_count", { stage: "persist" })).toBe(307);
    expect(sumOf(samples, "lockstep_missing")).toBe(0);
  });
});
