import type { ConsensusNode } from "@lockstep/consensus";
import type { MemberConfig } from "../config/node-config-schema.js";
import type { DashboardCounters } from "../counting-metrics-sink.js";
import type { ProposeAndWaitOptions } from "./replicated-proposal.js";
import type { ClusterIdentity } from "../membership/cluster-identity.js";
import type { MembershipControl } from "../membership/membership-control.js";

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
  /** The configuration and its changes (DESIGN.md §9). */
  membership: MembershipControl;
  /** How long a follower waits for the leader's answer to a request it forwarded. */
  forwardTimeoutMs: number;
  /**
   * How a follower reaches the leader's client port to forward a request: over HTTPS it must
   * trust the cluster's CA (and present a certificate when client certificates are required).
   * Default: the global fetch (plain HTTP between members).
   */
  forwardFetch?: typeof fetch;
  /** Wall-clock milliseconds (join-token expiry is decided in wall-clock time). */
  nowMs(): number;
  /** Certifies a joining node's key with the cluster CA; absent on a node that holds no CA key. */
  joinSigner?: (request: { nodeId: string; hosts: string[]; publicKeyPem: string }) => Promise<{ certPem: string; caCertPem: string }>;
  /** Called once a node joined through this one (for logs). */
  onJoined?: (nodeId: string) => void;
  /** How token changes wait for their commit (consensusTimeoutMs, tickMs). */
  proposal: ProposeAndWaitOptions;
  /** Commit latencies (ms) observed since the last call, for the dashboard's chart; emptied by each call. */
  commitLatenciesMs?: () => number[];
  /** The dashboard's chart points (`GET /v1/dashboard-samples`); set by the API server. */
  dashboardSamples?: () => unknown;
}
