import type { CounterName, GaugeName, HistogramName, MetricLabels, MetricsSink } from "@lockstep/consensus";

/** Commit latencies kept between two dashboard samples (one a second); beyond it they are not kept. */
const commitLatenciesKeptMax = 20_000;

/** The handful of numbers the dashboard shows, counted since this process started. */
export interface DashboardCounters {
  proposalsOk: number;
  proposalsFailed: number;
  transitionsOk: number;
  transitionsRejected: number;
  leaderChanges: number;
  messagesSent: number;
  messageDeliveryFailures: number;
  peersConnected: number;
}

/**
 * Passes every report on to the real sink and keeps the dashboard's few counters, so the
 * dashboard needs neither prom-client's JSON API nor a parse of the text exposition.
 */
export class CountingMetricsSink implements MetricsSink {
  readonly counters: DashboardCounters = {
    proposalsOk: 0,
    proposalsFailed: 0,
    transitionsOk: 0,
    transitionsRejected: 0,
    leaderChanges: 0,
    messagesSent: 0,
    messageDeliveryFailures: 0,
    peersConnected: 0,
  };

  constructor(private readonly inner: MetricsSink) {}

  increment(name: CounterName, labels: MetricLabels = {}, by = 1): void {
    this.inner.increment(name, labels, by);
    switch (name) {
      case "proposals_total":
        if (labels.result === "ok") this.counters.proposalsOk += by;
        else this.counters.proposalsFailed += by;
        break;
      case "transitions_total":
        if (labels.result === "ok") this.counters.transitionsOk += by;
        else this.counters.transitionsRejected += by;
        break;
      case "leader_changes_total":
        this.counters.leaderChanges += by;
        break;
      case "messages_sent_total":
        this.counters.messagesSent += by;
        break;
      case "message_delivery_failures_total":
        this.counters.messageDeliveryFailures += by;
        break;
      default:
        break;
    }
  }

  observe(name: HistogramName, labels: MetricLabels, value: number): void {
    this.inner.observe(name, labels, value);
    if (name === "entry_stage_seconds" && labels.stage === "commit" && this.commitLatencies.length < commitLatenciesKeptMax) this.commitLatencies.push(value * 1000);
  }

  /** The commit latencies (ms) observed since the last call (at most `commitLatenciesKeptMax` of them). */
  drainCommitLatenciesMs(): number[] {
    return this.commitLatencies.splice(0);
  }

  private readonly commitLatencies: number[] = [];

  set(name: GaugeName, labels: MetricLabels, value: number): void {
    this.inner.set(name, labels, value);
    // The transport reports one gauge per peer or one in total; either way the sum is what the dashboard wants.
    if (name === "peers_connected") this.peersConnectedByLabels.set(JSON.stringify(labels), value);
    if (name === "peers_connected") this.counters.peersConnected = [...this.peersConnectedByLabels.values()].reduce((sum, count) => sum + count, 0);
  }

  private readonly peersConnectedByLabels = new Map<string, number>();
}
