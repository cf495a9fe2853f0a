import type { Clock, Logger, MetricsSink } from "@lockstep/consensus";
import { ClusterIdSchema, NodeIdSchema, defaultFrameBytesMax, frameLengthPrefixBytes, type NodeId } from "@lockstep/protocol";
import type { PeerTlsMaterial } from "./peer-tls.js";
import { exponentialBackoff } from "./reconnect-delay.js";
import { systemClock } from "./system-clock.js";
import { TcpTransportError } from "./tcp-transport-error.js";

export type PeerAddress = { host: string; port: number };

export type TcpTransportOptions = {
  nodeId: NodeId;
  cluster: string;
  /** The cluster's uuid (stored when it was bootstrapped): a peer that presents another one is refused. */
  clusterUuid?: string | undefined;
  /** SHA-256 (64 lowercase hex digits) of the state-machine definition; peers must present the same. */
  definitionHash: string;
  /** Port 0 picks a free port; read it back with `address()`. */
  listen: PeerAddress;
  /** Every other member. An entry for `nodeId` itself is ignored, so the node can pass its whole member list. */
  peers: Readonly<Record<NodeId, PeerAddress>>;
  /** Largest frame payload sent or accepted. Default 4 MiB. */
  frameBytesMax?: number | undefined;
  /** Messages waiting per peer; past it the oldest is dropped. Default 10 000. */
  sendQueueMessagesMax?: number | undefined;
  /** Bytes waiting per peer; past it the oldest are dropped. Default 32 MiB. */
  sendQueueBytesMax?: number | undefined;
  /**
   * The peer port's TLS identity: the CA bundle, this node's certificate (naming `lockstep://node/<nodeId>`)
   * and its ECDSA P-256 or Ed25519 key, as PEM. Required: there is no plaintext mode. Replace it at run time with `reloadTls`.
   */
  tls: PeerTlsMaterial;
  /** Time for a dialed connection: TCP connect, TLS and the peer's Hello. Default 2000. */
  connectTimeoutMs?: number | undefined;
  /** Reconnect backoff floor. Default 50. */
  reconnectDelayMinMs?: number | undefined;
  /** Reconnect backoff cap. Default 2000. */
  reconnectDelayMaxMs?: number | undefined;
  /** Delay before reconnect attempt `attempt` (0-based, reset by a successful Hello). Default: full-jitter exponential backoff. */
  reconnectDelay?: ((attempt: number) => number) | undefined;
  /** Retries of a message that finds its peer's connection down, before it is dropped. Default 3. */
  deliveryRetryAttemptsMax?: number | undefined;
  /** Time between those retries. Default 20. */
  deliveryRetryDelayMs?: number | undefined;
  /** A connection that sent nothing for this long sends its Hello again as a heartbeat. Default 500. */
  heartbeatIntervalMs?: number | undefined;
  /** A connection that received no frame for this long is closed as dead. Default 3000; at least twice the heartbeat interval. */
  idleTimeoutMs?: number | undefined;
  /** Accepted connections open at once, handshaken or not; more are refused. Default 64. */
  inboundConnectionsMax?: number | undefined;
  /** Accepted connections open at once from one IP address; more are refused before any TLS work. Default 8. */
  connectionsPerSourceMax?: number | undefined;
  /** An accepted connection must finish TLS and have its Hello accepted within this time. Default 5000. */
  handshakeTimeoutMs?: number | undefined;
  /** Bytes a connection may send before its Hello is accepted (a Hello is about 400). Default 4096. */
  handshakeBytesMax?: number | undefined;
  /** Every timer (deadlines, heartbeats, reconnect delays, retries) comes from it. Default: the system clock. */
  clock?: Clock | undefined;
  /** Uniform in [0, 1), for the default backoff's jitter. Default `Math.random`. */
  random?: (() => number) | undefined;
  metrics?: MetricsSink | undefined;
  logger?: Logger | undefined;
};

type ResolvedKey = Exclude<keyof TcpTransportOptions, "metrics" | "logger" | "random" | "reconnectDelay" | "peers" | "tls" | "clock" | "clusterUuid">;

export type ResolvedTcpTransportOptions = { [K in ResolvedKey]-?: Exclude<TcpTransportOptions[K], undefined> } & {
  peers: ReadonlyMap<NodeId, PeerAddress>;
  clusterUuid: string | undefined;
  reconnectDelay: (attempt: number) => number;
  clock: Clock;
};

export const tcpTransportDefaults = {
  frameBytesMax: defaultFrameBytesMax,
  sendQueueMessagesMax: 10_000,
  sendQueueBytesMax: 32 * 1024 * 1024,
  connectTimeoutMs: 2000,
  reconnectDelayMinMs: 50,
  reconnectDelayMaxMs: 2000,
  deliveryRetryAttemptsMax: 3,
  deliveryRetryDelayMs: 20,
  heartbeatIntervalMs: 500,
  idleTimeoutMs: 3000,
  inboundConnectionsMax: 64,
  connectionsPerSourceMax: 8,
  handshakeTimeoutMs: 5000,
  handshakeBytesMax: 4096,
} as const;

/** A signed Hello is about 400 bytes; the budget must leave room for it. */
const handshakeBytesFloor = 1024;

/** A Hello or Goodbye must always fit, or no connection could ever be set up. */
const frameBytesFloor = 1024;

const definitionHashPattern = /^[0-9a-f]{64}$/;

/**
 * Fills defaults and checks every option once, at start: a bad limit is a configuration bug and
 * must stop the node with a message naming the option, not misbehave under load.
 */
export function resolveTcpTransportOptions(options: TcpTransportOptions): ResolvedTcpTransportOptions {
  requireValid(NodeIdSchema.safeParse(options.nodeId).success, "nodeId", options.nodeId);
  requireValid(ClusterIdSchema.safeParse(options.cluster).success, "cluster", options.cluster);
  requireValid(definitionHashPattern.test(options.definitionHash), "definitionHash", options.definitionHash);
  const peers = new Map<NodeId, PeerAddress>();
  for (const [peerId, address] of Object.entries(options.peers)) {
    if (peerId === options.nodeId) continue;
    requireValid(NodeIdSchema.safeParse(peerId).success, "peers", peerId);
    requireValid(isPort(address.port) && address.port > 0, `peers.${peerId}.port`, address.port);
    peers.set(peerId, { host: address.host, port: address.port });
  }
  requireValid(isPort(options.listen.port), "listen.port", options.listen.port);

  const resolved = {
    nodeId: options.nodeId,
    cluster: options.cluster,
    clusterUuid: options.clusterUuid,
    definitionHash: options.definitionHash,
    listen: { host: options.listen.host, port: options.listen.port },
    peers,
    frameBytesMax: options.frameBytesMax ?? tcpTransportDefaults.frameBytesMax,
    sendQueueMessagesMax: options.sendQueueMessagesMax ?? tcpTransportDefaults.sendQueueMessagesMax,
    sendQueueBytesMax: options.sendQueueBytesMax ?? tcpTransportDefaults.sendQueueBytesMax,
    connectTimeoutMs: options.connectTimeoutMs ?? tcpTransportDefaults.connectTimeoutMs,
    reconnectDelayMinMs: options.reconnectDelayMinMs ?? tcpTransportDefaults.reconnectDelayMinMs,
    reconnectDelayMaxMs: options.reconnectDelayMaxMs ?? tcpTransportDefaults.reconnectDelayMaxMs,
    deliveryRetryAttemptsMax: options.deliveryRetryAttemptsMax ?? tcpTransportDefaults.deliveryRetryAttemptsMax,
    deliveryRetryDelayMs: options.deliveryRetryDelayMs ?? tcpTransportDefaults.deliveryRetryDelayMs,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? tcpTransportDefaults.heartbeatIntervalMs,
    idleTimeoutMs: options.idleTimeoutMs ?? tcpTransportDefaults.idleTimeoutMs,
    inboundConnectionsMax: options.inboundConnectionsMax ?? tcpTransportDefaults.inboundConnectionsMax,
    connectionsPerSourceMax: options.connectionsPerSourceMax ?? tcpTransportDefaults.connectionsPerSourceMax,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? tcpTransportDefaults.handshakeTimeoutMs,
    handshakeBytesMax: options.handshakeBytesMax ?? tcpTransportDefaults.handshakeBytesMax,
  };
  for (const name of [
    "frameBytesMax",
    "sendQueueMessagesMax",
    "sendQueueBytesMax",
    "connectTimeoutMs",
    "reconnectDelayMinMs",
    "reconnectDelayMaxMs",
    "deliveryRetryDelayMs",
    "heartbeatIntervalMs",
    "idleTimeoutMs",
    "inboundConnectionsMax",
    "connectionsPerSourceMax",
    "handshakeTimeoutMs",
    "handshakeBytesMax",
  ] as const) {
    requireValid(Number.isSafeInteger(resolved[name]) && resolved[name] > 0, name, resolved[name]);
  }
  requireValid(
    Number.isSafeInteger(resolved.deliveryRetryAttemptsMax) && resolved.deliveryRetryAttemptsMax >= 0,
    "deliveryRetryAttemptsMax",
    resolved.deliveryRetryAttemptsMax,
  );
  requireValid(
    resolved.frameBytesMax >= frameBytesFloor && resolved.frameBytesMax <= 0xffff_ffff,
    "frameBytesMax",
    resolved.frameBytesMax,
  );
  requireValid(resolved.handshakeBytesMax >= handshakeBytesFloor, "handshakeBytesMax", resolved.handshakeBytesMax);
  requireRelation(
    resolved.sendQueueBytesMax >= resolved.frameBytesMax + frameLengthPrefixBytes,
    "sendQueueBytesMax must hold at least one frame of frameBytesMax",
  );
  requireRelation(resolved.reconnectDelayMaxMs >= resolved.reconnectDelayMinMs, "reconnectDelayMaxMs must be >= reconnectDelayMinMs");
  // Heartbeats may be up to two intervals apart (the timer skips a beat after any recent write).
  requireRelation(
    resolved.idleTimeoutMs >= 2 * resolved.heartbeatIntervalMs,
    "idleTimeoutMs must be at least twice heartbeatIntervalMs",
  );

  const reconnectDelay =
    options.reconnectDelay ??
    exponentialBackoff({
      delayMinMs: resolved.reconnectDelayMinMs,
      delayMaxMs: resolved.reconnectDelayMaxMs,
      random: options.random ?? Math.random,
    });
  return { ...resolved, reconnectDelay, clock: options.clock ?? systemClock() };
}

function isPort(port: unknown): port is number {
  return typeof port === "number" && Number.isInteger(port) && port >= 0 && port <= 65_535;
}

function requireValid(valid: boolean, name: string, value: unknown): void {
  if (!valid) throw new TcpTransportError("invalid_option", `option ${name} is invalid: ${JSON.stringify(value) ?? String(value)}`);
}

function requireRelation(valid: boolean, message: string): void {
  if (!valid) throw new TcpTransportError("invalid_option", message);
}
