import { ClusterIdSchema, NodeIdSchema } from "@lockstep/protocol";
import { defaultDriverConfig } from "@lockstep/consensus";
import { defaultStoreLimits } from "@lockstep/state-machine";
import { z } from "zod";

/** Peer transport defaults, mirrored from @lockstep/transport-tcp so this file documents them in one place. */
const transportDefaults = {
  frameBytesMax: 4 * 1024 * 1024,
  sendQueueMessagesMax: 10_000,
  sendQueueBytesMax: 32 * 1024 * 1024,
  peerConnectTimeoutMs: 2000,
  reconnectDelayMinMs: 50,
  reconnectDelayMaxMs: 2000,
  deliveryRetryAttemptsMax: 3,
  deliveryRetryDelayMs: 20,
  peerHeartbeatIntervalMs: 500,
  peerIdleTimeoutMs: 3000,
  peerInboundConnectionsMax: 64,
} as const;

const positiveInteger = (fallback: number) => z.number().int().positive().max(Number.MAX_SAFE_INTEGER).default(fallback);
const nonNegativeInteger = (fallback: number) => z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).default(fallback);

/** `host:port`, e.g. `127.0.0.1:7401`; IPv6 hosts in brackets (`[::1]:7401`). */
export const HostPortSchema = z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/, "expected host:port");

/** `http://host:port` with no path. */
export const ClientUrlSchema = z.string().regex(/^http:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})\/?$/, "expected http://host:port");

export const MemberSchema = z.strictObject({
  id: NodeIdSchema,
  peerAddress: HostPortSchema,
  clientUrl: ClientUrlSchema,
  /** The member's Ed25519 public key (base64 SPKI, from `lockstep keygen`); required when `authPrivateKeyFile` is set. */
  publicKey: z.string().min(40).max(100).regex(/^[A-Za-z0-9+/]+=*$/).optional(),
});
export type MemberConfig = z.infer<typeof MemberSchema>;

/**
 * Every option of `lockstep start`. Names carry their unit. The file, the `LOCKSTEP_*`
 * environment and the flags all fill this one flat object, so that one name works everywhere:
 * `tickMs` is `LOCKSTEP_TICK_MS` and `--tick-ms`.
 */
export const NodeConfigSchema = z.strictObject({
  nodeId: NodeIdSchema,
  cluster: ClusterIdSchema.default("lockstep"),
  /** Every member, this node included. Default: this node alone on 127.0.0.1:7401 / :8401. */
  members: z.array(MemberSchema).min(1).max(15).optional(),
  /** Where the peer (TCP) listener binds; default this member's peerAddress. */
  peerListenAddress: HostPortSchema.optional(),
  /** Where the HTTP API binds; default the host and port of this member's clientUrl. */
  clientListenAddress: HostPortSchema.optional(),
  /** Default `lockstep-data/<nodeId>`, relative to the working directory. */
  dataDirectory: z.string().min(1).optional(),
  /** A JSON state-machine definition; default the built-in lifecycle. */
  definitionFile: z.string().min(1).optional(),
  authPrivateKeyFile: z.string().min(1).optional(),
  fsyncPolicy: z.enum(["always", "none"]).default("always"),
  logLevel: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),

  // Consensus driver (DESIGN.md §6).
  tickMs: positiveInteger(defaultDriverConfig.tickMs),
  electionTimeoutTicks: positiveInteger(defaultDriverConfig.electionTimeoutTicks),
  heartbeatTicks: positiveInteger(defaultDriverConfig.heartbeatTicks),
  consensusTimeoutMs: positiveInteger(defaultDriverConfig.consensusTimeoutMs),
  pendingRequestsMax: positiveInteger(defaultDriverConfig.pendingRequestsMax),
  pendingReadsMax: positiveInteger(defaultDriverConfig.pendingReadsMax),
  snapshotEntriesThreshold: positiveInteger(defaultDriverConfig.snapshotEntriesThreshold),
  entriesPerProposalMax: positiveInteger(defaultDriverConfig.entriesPerProposalMax),
  bytesPerProposalMax: positiveInteger(defaultDriverConfig.bytesPerProposalMax),
  inflightProposalsMax: positiveInteger(defaultDriverConfig.inflightProposalsMax),
  uncommittedEntriesMax: positiveInteger(defaultDriverConfig.uncommittedEntriesMax),
  snapshotChunkBytesMax: positiveInteger(defaultDriverConfig.snapshotChunkBytesMax),
  preVote: z.boolean().default(defaultDriverConfig.preVote),
  checkQuorum: z.boolean().default(defaultDriverConfig.checkQuorum),

  // Peer transport (DESIGN.md §4).
  frameBytesMax: positiveInteger(transportDefaults.frameBytesMax),
  sendQueueMessagesMax: positiveInteger(transportDefaults.sendQueueMessagesMax),
  sendQueueBytesMax: positiveInteger(transportDefaults.sendQueueBytesMax),
  peerConnectTimeoutMs: positiveInteger(transportDefaults.peerConnectTimeoutMs),
  reconnectDelayMinMs: positiveInteger(transportDefaults.reconnectDelayMinMs),
  reconnectDelayMaxMs: positiveInteger(transportDefaults.reconnectDelayMaxMs),
  deliveryRetryAttemptsMax: nonNegativeInteger(transportDefaults.deliveryRetryAttemptsMax),
  deliveryRetryDelayMs: positiveInteger(transportDefaults.deliveryRetryDelayMs),
  peerHeartbeatIntervalMs: positiveInteger(transportDefaults.peerHeartbeatIntervalMs),
  peerIdleTimeoutMs: positiveInteger(transportDefaults.peerIdleTimeoutMs),
  peerInboundConnectionsMax: positiveInteger(transportDefaults.peerInboundConnectionsMax),

  // Replicated store limits (quota and sessions): replicated state, the leader proposes its values.
  keysMax: positiveInteger(defaultStoreLimits.keysMax),
  stateBytesMax: positiveInteger(defaultStoreLimits.stateBytesMax),
  sessionsMax: positiveInteger(defaultStoreLimits.sessionsMax),
  sessionWindowSeqs: positiveInteger(defaultStoreLimits.sessionWindowSeqs),
  sessionIdleEntriesMax: positiveInteger(defaultStoreLimits.sessionIdleEntriesMax),

  // HTTP and WebSocket API (DESIGN.md §5).
  requestBodyBytesMax: positiveInteger(64 * 1024),
  httpConnectionsMax: positiveInteger(1024),
  httpRequestsInflightMax: positiveInteger(4096),
  httpRequestTimeoutMs: positiveInteger(30_000),
  watchHistoryEventsMax: positiveInteger(100_000),
  watchBufferedBytesMax: positiveInteger(1024 * 1024),
  watchClientsMax: positiveInteger(1024),
  dashboardFeedIntervalMs: positiveInteger(500),
  dashboardClientsMax: positiveInteger(64),
  shutdownDrainMs: nonNegativeInteger(2000),
});

export type NodeConfigInput = z.input<typeof NodeConfigSchema>;
export type ParsedNodeConfig = z.infer<typeof NodeConfigSchema>;
export type ConfigFieldName = keyof typeof NodeConfigSchema.shape;

/** What each option expects, in words, for error messages that a user can act on. */
export const configFieldExpectations: Record<ConfigFieldName, string> = {
  nodeId: "a node id (1-64 letters, digits, '_', '.', '-', starting with a letter or digit)",
  cluster: "a cluster id (1-64 letters, digits, '_', '.', '-', starting with a letter or digit)",
  members: "a list of 1 to 15 members { id, peerAddress: \"host:port\", clientUrl: \"http://host:port\" }",
  peerListenAddress: "host:port",
  clientListenAddress: "host:port",
  dataDirectory: "a directory path",
  definitionFile: "a path to a JSON definition file",
  authPrivateKeyFile: "a path to this node's Ed25519 private key (PEM, from lockstep keygen)",
  fsyncPolicy: "\"always\" or \"none\"",
  logLevel: "one of trace, debug, info, warn, error, fatal, silent",
  tickMs: "a positive integer",
  electionTimeoutTicks: "a positive integer",
  heartbeatTicks: "a positive integer",
  consensusTimeoutMs: "a positive integer",
  pendingRequestsMax: "a positive integer",
  pendingReadsMax: "a positive integer",
  snapshotEntriesThreshold: "a positive integer",
  entriesPerProposalMax: "a positive integer",
  bytesPerProposalMax: "a positive integer",
  inflightProposalsMax: "a positive integer",
  uncommittedEntriesMax: "a positive integer",
  snapshotChunkBytesMax: "a positive integer",
  preVote: "true or false",
  checkQuorum: "true or false",
  frameBytesMax: "a positive integer",
  sendQueueMessagesMax: "a positive integer",
  sendQueueBytesMax: "a positive integer",
  peerConnectTimeoutMs: "a positive integer",
  reconnectDelayMinMs: "a positive integer",
  reconnectDelayMaxMs: "a positive integer",
  deliveryRetryAttemptsMax: "a non-negative integer",
  deliveryRetryDelayMs: "a positive integer",
  peerHeartbeatIntervalMs: "a positive integer",
  peerIdleTimeoutMs: "a positive integer",
  peerInboundConnectionsMax: "a positive integer",
  keysMax: "a positive integer",
  stateBytesMax: "a positive integer",
  sessionsMax: "a positive integer",
  sessionWindowSeqs: "a positive integer",
  sessionIdleEntriesMax: "a positive integer",
  requestBodyBytesMax: "a positive integer",
  httpConnectionsMax: "a positive integer",
  httpRequestsInflightMax: "a positive integer",
  httpRequestTimeoutMs: "a positive integer",
  watchHistoryEventsMax: "a positive integer",
  watchBufferedBytesMax: "a positive integer",
  watchClientsMax: "a positive integer",
  dashboardFeedIntervalMs: "a positive integer",
  dashboardClientsMax: "a positive integer",
  shutdownDrainMs: "a non-negative integer",
};

export const configFieldNames = Object.keys(NodeConfigSchema.shape) as ConfigFieldName[];

export type ConfigFieldKind = "string" | "number" | "boolean" | "json";

/** How a text value (from the environment or a flag) is turned into the type the field wants. */
export function configFieldKind(name: ConfigFieldName): ConfigFieldKind {
  let def = (NodeConfigSchema.shape[name] as unknown as { _zod: { def: ZodDefLike } })._zod.def;
  // Defaults and optionals wrap the real type; unwrap them (bounded: schemas nest a few levels at most).
  for (let depth = 0; depth < 8 && (def.type === "default" || def.type === "optional") && def.innerType; depth++) {
    def = def.innerType._zod.def;
  }
  switch (def.type) {
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "array":
    case "object":
      return "json";
    default:
      return "string";
  }
}

interface ZodDefLike {
  type: string;
  innerType?: { _zod: { def: ZodDefLike } };
}
