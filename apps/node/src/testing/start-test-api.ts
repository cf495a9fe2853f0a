import { ConsensusNode } from "@lockstep/consensus";
import { createMetrics } from "@lockstep/metrics";
import { lifecycleDefinition, sameStoreLimits, type StoreLimits } from "@lockstep/state-machine";
import { MemoryStorage } from "@lockstep/storage";
import { CountingMetricsSink } from "../counting-metrics-sink.js";
import { createApiServer, type ApiServer, type ApiTls, type RpcOptions } from "../server/api-server.js";
import { WatchHub } from "../server/watch-hub.js";
import { createSystemClock } from "../system-clock.js";
import type { MembershipControl } from "../membership/membership-control.js";
import type { ApiContext } from "../server/api-context.js";
import { FakeMembership } from "./fake-membership.js";
import { LoopbackTransport } from "./loopback-transport.js";

export interface TestApi {
  node: ConsensusNode;
  /** The node's Prometheus text, to see what was counted. */
  metricsText(): Promise<string>;
  baseUrl: string;
  webSocketUrl: string;
  /** The API server itself (its TLS reload, its underlying node:http server). */
  api: ApiServer;
  stop(): Promise<void>;
}

export interface TestApiOptions {
  /** Serve HTTPS with these PEMs (baseUrl is then https://). */
  tls?: ApiTls;
  authentication?: "tokens" | "none";
  corsAllowedOrigins?: string[];
  connectionsPerSourceMax?: number;
  watchHistoryEventsMax?: number;
  requestBodyBytesMax?: number;
  leaderWaitMs?: number;
  /** The configuration the membership routes see; default a FakeMembership holding n1. */
  membership?: MembershipControl;
  joinSigner?: ApiContext["joinSigner"];
  nowMs?: () => number;
  /** Store limits the node proposes once it leads; the API starts once they are applied. */
  storeLimits?: StoreLimits;
  /** Limits of `/v1/rpc` connections (defaults: 64 in flight, 1 MiB unsent, pings every 10 s). */
  rpc?: Partial<RpcOptions>;
  /** `httpRequestsInflightMax` (default 64). */
  httpRequestsInflightMax?: number;
  /** `clientSocketRecheckIntervalMs` (default 1000). */
  socketRecheckIntervalMs?: number;
}

/** The one member of the test API, as the guard reads it (a constant: its allowlists are built once). */
const testMemberClientUrls: readonly string[] = ["http://127.0.0.1:2"];

/**
 * A single-node cluster in this process (memory storage, no network) behind the real HTTP and
 * WebSocket server on an OS-chosen loopback port, for handler tests. Resolves once the node
 * has elected itself.
 */
export async function startTestApi(options: TestApiOptions = {}): Promise<TestApi> {
  const metrics = createMetrics({ collectProcessMetrics: false });
  const sink = new CountingMetricsSink(metrics.sink);
  const node = await ConsensusNode.start({
    id: "n1",
    cluster: "test",
    members: ["n1"],
    definition: lifecycleDefinition,
    transport: new LoopbackTransport("n1"),
    storage: new MemoryStorage({ freezeEntries: true }),
    clock: createSystemClock(),
    random: () => 0.5,
    config: { tickMs: 5, electionTimeoutTicks: 4, consensusTimeoutMs: 2_000 },
    metrics: sink,
    ...(options.storeLimits === undefined ? {} : { storeLimits: options.storeLimits }),
  });
  const hub = new WatchHub({
    historyEventsMax: options.watchHistoryEventsMax ?? 1_000,
    bufferedBytesMax: 1024 * 1024,
    clientsMax: 16,
    appliedIndex: node.localStore.appliedIndex,
  });
  node.onApplied((event) => hub.onApplied(event));
  const api = createApiServer({
    context: {
      node,
      selfId: "n1",
      identity: { format: 1, cluster: "test", clusterUuid: "6f1c2a3e-8d4b-4c2a-9f00-0123456789ab", nodeId: "n1", origin: "bootstrap" },
      members: [{ id: "n1", peerAddress: "127.0.0.1:1", clientUrl: "http://127.0.0.1:2" }],
      metricsText: async () => ({ contentType: metrics.registry.contentType, text: await metrics.text() }),
      counters: () => sink.counters,
      commitLatenciesMs: () => sink.drainCommitLatenciesMs(),
      requestBodyBytesMax: options.requestBodyBytesMax ?? 64 * 1024,
      membership: options.membership ?? new FakeMembership([{ id: "n1", peerAddress: "127.0.0.1:1", clientUrl: "http://127.0.0.1:2", voter: true }]),
      forwardTimeoutMs: 2_000,
      nowMs: options.nowMs ?? (() => Date.now()),
      ...(options.joinSigner === undefined ? {} : { joinSigner: options.joinSigner }),
      proposal: { timeoutMs: 2_000, retryIntervalMs: 50 },
    },
    hub,
    connectionsPerSourceMax: options.connectionsPerSourceMax ?? 64,
    security: {
      authentication: options.authentication ?? "none",
      tls: options.tls !== undefined,
      memberClientUrls: () => testMemberClientUrls,
      corsAllowedOrigins: options.corsAllowedOrigins ?? [],
      hostAllowlist: [],
      tokens: () => node.localStore.tokens,
      countRefusal: (reason) => sink.increment("client_refusals_total", { reason }),
    },
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    httpConnectionsMax: 64,
    httpRequestsInflightMax: options.httpRequestsInflightMax ?? 64,
    rpc: { requestsInflightMax: 64, bufferedBytesMax: 1024 * 1024, pingIntervalMs: 10_000, ...options.rpc },
    countRequest: (transport) => sink.increment("client_requests_total", { transport }),
    httpRequestTimeoutMs: 10_000,
    httpHeadersTimeoutMs: 5_000,
    dashboard: { intervalMs: 50, clientsMax: 4, bufferedBytesMax: 1024 * 1024 },
    socketRecheckIntervalMs: options.socketRecheckIntervalMs ?? 1_000,
  });
  const address = await api.listen("127.0.0.1", 0);
  const deadline = Date.now() + (options.leaderWaitMs ?? 5_000);
  const limits = options.storeLimits;
  while (node.summary().leader !== "n1" || (limits !== undefined && !sameStoreLimits(node.localStore.limits, limits))) {
    if (Date.now() > deadline) throw new Error("the single test node did not elect itself");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return {
    node,
    metricsText: () => metrics.text(),
    baseUrl: `${options.tls === undefined ? "http" : "https"}://127.0.0.1:${address.port}`,
    webSocketUrl: `${options.tls === undefined ? "ws" : "wss"}://127.0.0.1:${address.port}`,
    api,
    stop: async () => {
      await api.close();
      await node.stop(0);
    },
  };
}
