import type { ConsensusNode } from "@lockstep/consensus";
import type { MemberConfig } from "../config/node-config-schema.js";
import type { DashboardCounters } from "../counting-metrics-sink.js";
import type { ProposeAndWaitOptions } from "./replicated-proposal.js";
import type { ClusterIdentity } from "../membership/cluster-identity.js";

/** Everything the HTTP and WebSocket handlers need from the running node. */
export interface ApiContext {
  node: ConsensusNode;
  selfId: string;
  /** Which cluster this node belongs to (its data directory's identity file). */
  identity: ClusterIdentity;
  members: readonly MemberConfig[];
  /** Prometheus text exposition and its content type. */
  metricsText(): Promise<{ contentType: string; text: string }>;
  /** A few counters the dashboard shows. */
  counters(): DashboardCounters;
  requestBodyBytesMax: number;
  /** How token changes wait for their commit (consensusTimeoutMs, tickMs). */
  proposal: ProposeAndWaitOptions;
  /** Commit latencies (ms) observed since the last call, for the dashboard's chart; emptied by each call. */
  commitLatenciesMs?: () => number[];
  /** The dashboard's chart points (`GET /v1/dashboard-samples`); set by the API server. */
  dashboardSamples?: () => unknown;
}
