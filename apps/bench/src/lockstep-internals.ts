import { parsePrometheusText, sumOf, type MetricSample } from "./prometheus-text.js";
import { setupRequest } from "./secure-client-port.js";

/** Where a lockstep leader's time went during one phase, from the deltas of its own metrics (DESIGN.md §7). */
export interface LockstepInternals {
  /** Mean seconds per entry (or per write, for persist) of each `entry_stage_seconds` stage, in ms. */
  stageMeanMs: Record<string, number>;
  fsyncsPerSecond: number;
  fsyncMeanMs: number;
  /** Committed transitions per leader fsync: how well group commit batches. */
  commitsPerFsync: number;
  /** Consensus messages the leader sent per committed transition, by type. */
  messagesPerCommit: Record<string, number>;
}

/** The leader's `/metrics`, parsed; null if it does not answer (the bench then reports no internals). */
export async function scrapeMetrics(baseUrl: URL, ca?: string): Promise<MetricSample[] | null> {
  try {
    // `/metrics` needs no token; over HTTPS the scrape trusts the cluster CA.
    const answer = await setupRequest(new URL("/metrics", baseUrl), ca === undefined ? {} : { ca });
    return answer.status === 200 ? parsePrometheusText(answer.text) : null;
  } catch {
    return null;
  }
}

export function internalsBetween(before: readonly MetricSample[], after: readonly MetricSample[], committed: number, seconds: number): LockstepInternals {
  const delta = (name: string, where: Record<string, string> = {}): number => sumOf(after, name, where) - sumOf(before, name, where);
  const stageMeanMs: Record<string, number> = {};
  const stages = new Set(after.filter((sample) => sample.name === "lockstep_entry_stage_seconds_count").map((sample) => sample.labels["stage"] ?? ""));
  for (const stage of stages) {
    const count = delta("lockstep_entry_stage_seconds_count", { stage });
    if (count > 0) stageMeanMs[stage] = (delta("lockstep_entry_stage_seconds_sum", { stage }) / count) * 1000;
  }
  const fsyncs = delta("lockstep_wal_fsync_seconds_count");
  const messagesPerCommit: Record<string, number> = {};
  const types = new Set(after.filter((sample) => sample.name === "lockstep_messages_sent_total").map((sample) => sample.labels["type"] ?? ""));
  for (const type of types) {
    const sent = delta("lockstep_messages_sent_total", { type });
    if (sent > 0 && committed > 0) messagesPerCommit[type] = sent / committed;
  }
  return {
    stageMeanMs,
    fsyncsPerSecond: fsyncs / seconds,
    fsyncMeanMs: fsyncs === 0 ? Number.NaN : (delta("lockstep_wal_fsync_seconds_sum") / fsyncs) * 1000,
    commitsPerFsync: fsyncs === 0 ? Number.NaN : committed / fsyncs,
    messagesPerCommit,
  };
}
