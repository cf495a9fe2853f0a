import type { ConsensusNode } from "@lockstep/consensus";
import type { MemberConfig } from "../config/node-config-schema.js";
import type { DashboardCounters } from "../counting-metrics-sink.js";
import type { ProposeAndWaitOptions } from "./replicated-proposal.js";

/** Everything the HTTP and WebSocket handlers need from the running node. */
export interface ApiContext {
  node: ConsensusNode;
  selfId: string;
  members: readonly MemberConfig[];
  /** Prometheus text exposition and its content type. */
  metricsText(): Promise<{ contentType: string; text: string }>;
  /** A few counters the dashboard shows. */
  counters(): DashboardCounters;
  requestBodyBytesMax: number;
  /** How token changes wait for their commit (consensusTimeoutMs, tickMs). */
  proposal: ProposeAndWaitOptions;
}
