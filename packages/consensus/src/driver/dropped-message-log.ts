import type { NodeId } from "@lockstep/protocol";
import type { Logger } from "../interfaces.js";
import type { MetricsSink } from "../metrics-sink.js";
import type { DroppedMessages } from "../ready.js";

/** A peer that sends broken messages is logged about at most once per this many milliseconds. */
export const droppedMessageLogIntervalMs = 60_000;

/** Peers whose last log time is remembered; past it the oldest is forgotten (it may be logged again early). */
export const droppedMessageLogPeersMax = 1_024;

/**
 * Counts the messages the core dropped (`messages_dropped_total{type,reason}`) and logs them at
 * warn, at most once per peer per `droppedMessageLogIntervalMs`, with how many were dropped
 * since the last line for that peer. A flood of bad frames costs a counter increment each.
 */
export class DroppedMessageLog {
  /** Peer -> when it was last logged, and what was dropped since then without a log line. */
  private readonly peers = new Map<NodeId, { loggedAtMs: number; suppressed: number }>();

  constructor(
    private readonly metrics: MetricsSink,
    private readonly logger: Logger,
  ) {}

  record(dropped: readonly DroppedMessages[], nowMs: number): void {
    for (const drop of dropped) {
      this.metrics.increment("messages_dropped_total", { type: drop.type, reason: drop.reason }, drop.count);
      const known = this.peers.get(drop.from);
      if (known !== undefined && nowMs - known.loggedAtMs < droppedMessageLogIntervalMs) {
        known.suppressed += drop.count;
        continue;
      }
      const suppressed = known?.suppressed ?? 0;
      this.peers.delete(drop.from);
      if (this.peers.size >= droppedMessageLogPeersMax) {
        const oldest = this.peers.keys().next();
        if (oldest.done !== true) this.peers.delete(oldest.value);
      }
      this.peers.set(drop.from, { loggedAtMs: nowMs, suppressed: 0 });
      this.logger.warn(
        { peer: drop.from, type: drop.type, reason: drop.reason, count: drop.count, droppedSinceLastLog: suppressed },
        "peer message dropped: the consensus core cannot accept it (logged once per peer per minute)",
      );
    }
  }

  /** For tests: how many peers are remembered. */
  get peersRemembered(): number {
    return this.peers.size;
  }
}
