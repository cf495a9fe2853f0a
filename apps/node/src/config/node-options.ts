import { defaultDriverConfig } from "@lockstep/consensus";
import { ClusterIdSchema, NodeIdSchema } from "@lockstep/protocol";
import { defaultStoreLimits } from "@lockstep/state-machine";
import { tcpTransportDefaults } from "@lockstep/transport-tcp";
import { z } from "zod";

/** The sections of `lockstep start --help` and docs/configuration.md, in that order. */
export const optionGroups = {
  identity: "Node identity, addresses, files",
  consensus: "Consensus timing and limits",
  peer: "Peer transport",
  store: "Replicated store limits (quota and sessions)",
  client: "HTTP and WebSocket API",
  membership: "Joining a running cluster",
  clientSecurity: "Client port security",
} as const;
export type OptionGroup = keyof typeof optionGroups;

/**
 * One option of `lockstep start`, declared once. The config schema, the `LOCKSTEP_*` variable,
 * the flag, `--help` and docs/configuration.md are all derived from it (the variable and the flag
 * from the option's name: `tickMs` is `LOCKSTEP_TICK_MS` and `--tick-ms`).
 */
export interface NodeOption<Schema extends z.ZodType = z.ZodType> {
  /** Type, range and default (`.default(...)`), or `.optional()` when the default is derived. */
  readonly schema: Schema;
  readonly group: OptionGroup;
  /** What one unit of the value is (`ms`, `bytes`, `entries`); null for text, paths and flags. */
  readonly unit: string | null;
  /** The type in words, for error messages a user can act on ("a positive integer"). */
  readonly expects: string;
  /** What the option does, in full sentences (Markdown). */
  readonly meaning: string;
  /** For an option whose default depends on other options: that rule, in words. */
  readonly derivedDefault?: string;
  /** A path: relative to the config file's folder when given there, else to the working directory. */
  readonly path?: true;
}

function option<Schema extends z.ZodType>(declaration: NodeOption<Schema>): NodeOption<Schema> {
  return declaration;
}

const integerMax = Number.MAX_SAFE_INTEGER;

/** An integer option with a lower bound: `count(...)` for `> 0`, `{ min: 0 }` for `>= 0`. */
function integer(declaration: { group: OptionGroup; unit: string; default: number; meaning: string; min?: 0 | 1; max?: number }) {
  const min = declaration.min ?? 1;
  const max = declaration.max ?? integerMax;
  const expects = max !== integerMax ? `an integer from ${min} to ${max}` : min === 0 ? "a non-negative integer" : "a positive integer";
  return option({
    schema: z.number().int().min(min).max(max).default(declaration.default),
    group: declaration.group,
    unit: declaration.unit,
    expects,
    meaning: declaration.meaning,
  });
}

function boolean(declaration: { group: OptionGroup; default: boolean; meaning: string }) {
  return option({ schema: z.boolean().default(declaration.default), group: declaration.group, unit: null, expects: "true or false", meaning: declaration.meaning });
}

function optionalPath(declaration: { group: OptionGroup; expects: string; derivedDefault: string; meaning: string }) {
  return option({ schema: z.string().min(1).optional(), unit: null, path: true, ...declaration });
}

/** `host:port`, e.g. `127.0.0.1:7401`; IPv6 hosts in brackets (`[::1]:7401`). */
export const HostPortSchema = z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/, "expected host:port");

/** `http://host:port` or `https://host:port` with no path. */
export const ClientUrlSchema = z.string().regex(/^https?:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})\/?$/, "expected http://host:port or https://host:port");

export const MemberSchema = z.strictObject({
  id: NodeIdSchema,
  peerAddress: HostPortSchema,
  clientUrl: ClientUrlSchema,
});
export type MemberConfig = z.infer<typeof MemberSchema>;

const driver = defaultDriverConfig;
const transport = tcpTransportDefaults;

/**
 * Every option of `lockstep start`, in the order `--help` and the documentation list them.
 * Library defaults are imported, never restated: the node runs the consensus driver and the peer
 * transport with exactly the defaults those packages document.
 */
export const nodeOptions = {
  // Node identity, addresses, files.
  nodeId: option({
    schema: NodeIdSchema,
    group: "identity",
    unit: null,
    expects: "a node id (1-64 letters, digits, '_', '.', '-', starting with a letter or digit)",
    meaning: "This node's id: unique in the cluster, stable across restarts. 1–64 of `A-Z a-z 0-9 _ . -`, starting with a letter or digit. **Required.**",
  }),
  cluster: option({
    schema: ClusterIdSchema.default("lockstep"),
    group: "identity",
    unit: null,
    expects: "a cluster id (1-64 letters, digits, '_', '.', '-', starting with a letter or digit)",
    meaning: "Checked in every peer handshake: nodes of different clusters refuse each other. Same syntax as `nodeId`.",
  }),
  members: option({
    schema: z.array(MemberSchema).min(1).max(15).optional(),
    group: "identity",
    unit: null,
    expects: 'a list of 1 to 15 members { id, peerAddress: "host:port", clientUrl: "http(s)://host:port" }',
    derivedDefault: 'this node alone: `[{ "id": nodeId, "peerAddress": "127.0.0.1:7401", "clientUrl": "http://127.0.0.1:8401" }]`',
    meaning:
      "Every voting member, this node included, each `{ id, peerAddress, clientUrl }` (JSON text in the environment and on the command line). `peerAddress` is `host:port` that the **other nodes** dial; `clientUrl` is `http://host:port`, or `https://host:port` when the client port has TLS (no path), that **clients and browsers** use (it is published in `/v1/cluster` and the dashboard fetches it). Every node must have the same list. IPv6 hosts in brackets: `[::1]:7401`.",
  }),
  peerListenAddress: option({
    schema: HostPortSchema.optional(),
    group: "identity",
    unit: null,
    expects: "host:port",
    derivedDefault: "this member's `peerAddress`",
    meaning: "Where the peer TCP listener binds, e.g. `0.0.0.0:7401` behind NAT or to listen on every interface.",
  }),
  clientListenAddress: option({
    schema: HostPortSchema.optional(),
    group: "identity",
    unit: null,
    expects: "host:port",
    derivedDefault: "host and port of this member's `clientUrl`",
    meaning: "Where the HTTP/WebSocket API binds.",
  }),
  dataDirectory: optionalPath({
    group: "identity",
    expects: "a directory path",
    derivedDefault: "`lockstep-data/<nodeId>`, relative to the working directory",
    meaning:
      "The node's write-ahead log and snapshots. Created if missing, **provided its parent exists** (so with the default, `lockstep-data/` must exist). One process per directory: a `LOCK` file refuses a second one (`StorageError locked`, exit 1).",
  }),
  definitionFile: optionalPath({
    group: "identity",
    expects: "a path to a JSON definition file",
    derivedDefault: "none: the built-in lifecycle",
    meaning: "A JSON state-machine definition (below). Every member must use the same one.",
  }),
  fsyncPolicy: option({
    schema: z.enum(["always", "none"]).default("always"),
    group: "identity",
    unit: null,
    expects: '"always" or "none"',
    meaning:
      "`always`: a write is acknowledged only after `fdatasync`; survives power loss. `none`: no syncs; survives a process crash but not a power loss or kernel crash; for tests and benchmarks (the node logs a warning).",
  }),
  logLevel: option({
    schema: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
    group: "identity",
    unit: null,
    expects: "one of trace, debug, info, warn, error, fatal, silent",
    meaning: "pino log level.",
  }),

  // Consensus driver (DESIGN.md §6); defaults from @lockstep/consensus's defaultDriverConfig.
  tickMs: integer({ group: "consensus", unit: "ms", default: driver.tickMs, meaning: "Length of one consensus tick. Election and heartbeat timeouts are counted in ticks." }),
  electionTimeoutTicks: integer({
    group: "consensus",
    unit: "ticks",
    default: driver.electionTimeoutTicks,
    meaning: "A follower that hears no leader for a random time in `[e, 2e)` ticks starts an election. Also the check-quorum window. Must exceed `heartbeatTicks`.",
  }),
  heartbeatTicks: integer({ group: "consensus", unit: "ticks", default: driver.heartbeatTicks, meaning: "The leader sends a heartbeat (an empty `Proposal`) every this many ticks." }),
  consensusTimeoutMs: integer({
    group: "consensus",
    unit: "ms",
    default: driver.consensusTimeoutMs,
    meaning:
      "How long a transition or a linearizable read may wait (checked on every tick, so up to `tickMs` more). Then a transition fails with `timeout` (it was proposed) or `no_quorum` (no leader accepted it), a read with `timeout` or `no_quorum`: outcome unknown.",
  }),
  pendingRequestsMax: integer({ group: "consensus", unit: "requests", default: driver.pendingRequestsMax, meaning: "Transitions waiting for an answer on this node; more fail with `overloaded`." }),
  pendingReadsMax: integer({
    group: "consensus",
    unit: "reads",
    default: driver.pendingReadsMax,
    meaning: "Linearizable reads waiting on this node (and, on the leader, read-index requests); more fail with `overloaded`.",
  }),
  snapshotEntriesThreshold: integer({
    group: "consensus",
    unit: "entries",
    default: driver.snapshotEntriesThreshold,
    meaning:
      "Every this many applied entries the node snapshots its store, saves it and deletes the log segments it covers. A follower that needs entries older than the leader's snapshot receives the snapshot.",
  }),
  logBytesInMemoryMax: integer({
    group: "consensus",
    unit: "bytes",
    default: driver.logBytesInMemoryMax,
    meaning:
      "The log kept in memory since the last snapshot has this byte limit (entries counted at their encoded size; the JavaScript heap holds about 1.3 times that): once the entries applied since the last snapshot pass it, the node snapshots and compacts at once instead of waiting for `snapshotEntriesThreshold`.",
  }),
  entriesPerProposalMax: integer({ group: "consensus", unit: "entries", default: driver.entriesPerProposalMax, meaning: "Most entries one `Proposal` message carries." }),
  bytesPerProposalMax: integer({ group: "consensus", unit: "bytes", default: driver.bytesPerProposalMax, meaning: "Most entry bytes one `Proposal` carries. Keep it below `frameBytesMax`." }),
  inflightProposalsMax: integer({ group: "consensus", unit: "messages", default: driver.inflightProposalsMax, meaning: "Unacknowledged `Proposal`s per follower (pipelining) before the leader waits." }),
  uncommittedEntriesMax: integer({
    group: "consensus",
    unit: "entries",
    default: driver.uncommittedEntriesMax,
    meaning: "Entries the leader has appended but not committed; more proposals fail with `overloaded`.",
  }),
  snapshotChunkBytesMax: integer({ group: "consensus", unit: "bytes", default: driver.snapshotChunkBytesMax, meaning: "Raw snapshot bytes per `SnapshotChunk` (sent base64-encoded)." }),
  preVote: boolean({
    group: "consensus",
    default: driver.preVote,
    meaning: 'Ask "would you vote for me?" before raising the term, so a node cut off from the cluster cannot disrupt it when it returns.',
  }),
  checkQuorum: boolean({
    group: "consensus",
    default: driver.checkQuorum,
    meaning: "A leader that has not heard from a majority within an election timeout steps down; followers that recently heard a leader ignore vote requests.",
  }),
  autoPromote: boolean({
    group: "consensus",
    default: driver.autoPromote,
    meaning: "The leader promotes a learner to voter by itself once it has stayed within `promoteLagEntriesMax` of the log for `promoteStableMs`.",
  }),
  promoteLagEntriesMax: integer({ group: "consensus", unit: "entries", min: 0, default: driver.promoteLagEntriesMax, meaning: "A learner this close to the leader's last index counts as caught up." }),
  promoteStableMs: integer({ group: "consensus", unit: "ms", default: driver.promoteStableMs, meaning: "How long a learner must stay caught up before it is promoted." }),
  votersMin: integer({ group: "consensus", unit: "voters", default: driver.votersMin, meaning: "Dead-server cleanup never removes a voter below this many voters." }),

  // Peer transport (DESIGN.md §4); defaults from @lockstep/transport-tcp's tcpTransportDefaults.
  frameBytesMax: integer({
    group: "peer",
    unit: "bytes",
    default: transport.frameBytesMax,
    meaning: "Largest frame payload sent or accepted. A peer announcing a larger one is disconnected; a larger outgoing message is dropped and counted (`oversized`).",
  }),
  sendQueueMessagesMax: integer({ group: "peer", unit: "messages", default: transport.sendQueueMessagesMax, meaning: "Messages waiting per peer; beyond it the oldest is dropped (`queue_full`)." }),
  sendQueueBytesMax: integer({ group: "peer", unit: "bytes", default: transport.sendQueueBytesMax, meaning: "Bytes waiting per peer; beyond it the oldest are dropped. Must be ≥ `frameBytesMax + 4`." }),
  peerConnectTimeoutMs: integer({ group: "peer", unit: "ms", default: transport.connectTimeoutMs, meaning: "One connection attempt to a peer: TCP connect plus the peer's `Hello`." }),
  reconnectDelayMinMs: integer({
    group: "peer",
    unit: "ms",
    default: transport.reconnectDelayMinMs,
    meaning: "Reconnect backoff floor. The delay before attempt `n` (from 0) is uniform in `[min, min(max, min·2ⁿ)]` (full jitter); it resets after a successful handshake.",
  }),
  reconnectDelayMaxMs: integer({ group: "peer", unit: "ms", default: transport.reconnectDelayMaxMs, meaning: "Reconnect backoff cap. Must be ≥ `reconnectDelayMinMs`." }),
  deliveryRetryAttemptsMax: integer({
    group: "peer",
    unit: "attempts",
    min: 0,
    default: transport.deliveryRetryAttemptsMax,
    meaning: "Retries of a message whose peer connection is down before it is dropped (`peer_unreachable`). 0: drop at once.",
  }),
  deliveryRetryDelayMs: integer({ group: "peer", unit: "ms", default: transport.deliveryRetryDelayMs, meaning: "Time between those retries; consensus resends what still matters." }),
  peerHeartbeatIntervalMs: integer({ group: "peer", unit: "ms", default: transport.heartbeatIntervalMs, meaning: "A connection on which nothing was written for this long re-sends its `Hello` as a keep-alive." }),
  peerIdleTimeoutMs: integer({
    group: "peer",
    unit: "ms",
    default: transport.idleTimeoutMs,
    meaning: "A connection that received nothing for this long is closed as dead and redialed. Must be ≥ 2 × `peerHeartbeatIntervalMs`.",
  }),
  peerInboundConnectionsMax: integer({
    group: "peer",
    unit: "connections",
    default: transport.inboundConnectionsMax,
    meaning: "Accepted peer connections open at once, handshaken or not; more are refused (`too_many_connections`).",
  }),
  // Peer TLS (DESIGN.md §10): the peer port is always mutual TLS 1.3. Kept together so they move as one.
  certsDirectory: optionalPath({
    group: "peer",
    expects: "a directory path",
    derivedDefault: "`certs`, relative to the working directory",
    meaning:
      "This node's certificates in the `lockstep certs` layout: `ca.crt` (the CA bundle: every CA this node trusts), `node.crt` (this node's certificate, naming `lockstep://node/<nodeId>`) and `node.key` (its ECDSA P-256 or Ed25519 key, mode 600). The three `peer*File` options below default to these files. A node without them does not start (exit 1): the peer port has no plaintext mode.",
  }),
  peerCaFile: optionalPath({
    group: "peer",
    expects: "a path to a PEM file of CA certificates",
    derivedDefault: "`<certsDirectory>/ca.crt`",
    meaning: "The CAs a peer's certificate may be issued by. During a CA rotation it holds the old and the new CA.",
  }),
  peerCertFile: optionalPath({
    group: "peer",
    expects: "a path to a PEM certificate",
    derivedDefault: "`<certsDirectory>/node.crt`",
    meaning: "This node's certificate; it must name this node's id and be issued by a CA of `peerCaFile`.",
  }),
  peerKeyFile: optionalPath({
    group: "peer",
    expects: "a path to a PEM ECDSA P-256 or Ed25519 private key",
    derivedDefault: "`<certsDirectory>/node.key`",
    meaning: "The key of `peerCertFile`. It also signs this node's `Hello` for each TLS session.",
  }),
  peerTlsReloadIntervalMs: integer({
    group: "peer",
    unit: "ms",
    min: 0,
    default: 10_000,
    meaning:
      "How often the node checks the three files for a change and reloads them (as on `SIGHUP`): new connections use the new material; connections whose peer certificate no longer chains to the bundle are closed. Unusable files are refused and the old material stays (`peer_tls_reloads_total{result=\"failed\"}`). 0: only on `SIGHUP`.",
  }),
  peerHandshakeTimeoutMs: integer({
    group: "peer",
    unit: "ms",
    default: transport.handshakeTimeoutMs,
    meaning: "An accepted peer connection must finish TLS and have its `Hello` accepted within this time, or it is closed (`handshake_timeout`).",
  }),
  peerHandshakeBytesMax: integer({
    group: "peer",
    unit: "bytes",
    default: transport.handshakeBytesMax,
    meaning: "Bytes a peer connection may send before its `Hello` is accepted (a `Hello` is about 400); more closes it (`handshake_too_large`). At least 1024.",
  }),
  peerConnectionsPerSourceMax: integer({
    group: "peer",
    unit: "connections",
    default: transport.connectionsPerSourceMax,
    meaning: "Accepted peer connections open at once from one IP address; more are closed before any TLS work (`too_many_from_source`). A member needs one, two while it reconnects.",
  }),

  // Replicated store limits (DESIGN.md §10): replicated state, changed through the log.
  keysMax: integer({
    group: "store",
    unit: "keys",
    default: defaultStoreLimits.keysMax,
    meaning: "Keys the replicated store holds at most. A write that would add one more is refused by every replica with `507 quota_exceeded`; deletes are always allowed. Replicated state, not a per-node setting: the leader proposes its value through the log (a `limits` entry) when the store's differs, so every replica decides every write the same way. Set the same value on every node.",
  }),
  stateBytesMax: integer({
    group: "store",
    unit: "bytes",
    default: defaultStoreLimits.stateBytesMax,
    meaning: "Bytes of replicated state at most, counted per key as its key's and state's UTF-8 length plus 16. A write that would grow it past this gets `507 quota_exceeded`. Replicated state, not a per-node setting: the leader proposes its value through the log (a `limits` entry) when the store's differs, so every replica decides every write the same way. Set the same value on every node.",
  }),
  sessionsMax: integer({
    group: "store",
    unit: "sessions",
    default: defaultStoreLimits.sessionsMax,
    meaning: "Client sessions held. Registering one more expires the least recently active; its requests then get `409 session_expired`. Replicated state, not a per-node setting: the leader proposes its value through the log (a `limits` entry) when the store's differs, so every replica decides every write the same way. Set the same value on every node.",
  }),
  sessionWindowSeqs: integer({
    group: "store",
    unit: "seqs",
    default: defaultStoreLimits.sessionWindowSeqs,
    meaning: "Answers each session keeps, for its most recent seqs: a client may have this many requests in flight. An older seq gets `409 session_expired`. Replicated state, not a per-node setting: the leader proposes its value through the log (a `limits` entry) when the store's differs, so every replica decides every write the same way. Set the same value on every node.",
  }),
  sessionIdleEntriesMax: integer({
    group: "store",
    unit: "entries",
    default: defaultStoreLimits.sessionIdleEntriesMax,
    meaning: "A session with no request for this many log entries expires (measured in log positions, never by a clock, so every replica expires it at the same entry). Replicated state, not a per-node setting: the leader proposes its value through the log (a `limits` entry) when the store's differs, so every replica decides every write the same way. Set the same value on every node.",
  }),

  // HTTP and WebSocket API (DESIGN.md §5).
  requestBodyBytesMax: integer({ group: "client", unit: "bytes", default: 64 * 1024, meaning: "Larger bodies get `413 payload_too_large`." }),
  httpConnectionsMax: integer({
    group: "client",
    unit: "connections",
    default: 1024,
    meaning: "Node.js `server.maxConnections`: connections beyond it are closed as soon as they are accepted.",
  }),
  httpRequestsInflightMax: integer({ group: "client", unit: "requests", default: 4096, meaning: "Requests being handled at once; more get `503 overloaded` at once." }),
  httpHeadersTimeoutMs: integer({
    group: "client",
    unit: "ms",
    default: 10_000,
    meaning: "A request's headers must arrive within this time (node:http's `headersTimeout`), so a client that trickles headers cannot hold a connection. At most `httpRequestTimeoutMs`.",
  }),
  httpRequestTimeoutMs: integer({
    group: "client",
    unit: "ms",
    default: 30_000,
    meaning: "A request's headers and body must arrive within this time (node:http's `requestTimeout`). It does not bound how long the node takes to answer (that is `consensusTimeoutMs`).",
  }),
  rpcRequestsInflightMax: integer({
    group: "client",
    unit: "requests",
    default: 1024,
    meaning: "Requests one `/v1/rpc` connection may have in flight at once; a frame beyond it is answered `503 overloaded` at once (never queued). They also count toward `httpRequestsInflightMax`.",
  }),
  rpcBufferedBytesMax: integer({
    group: "client",
    unit: "bytes",
    default: 1024 * 1024,
    meaning: "Unsent answer bytes of one `/v1/rpc` connection above which the node stops reading that connection's frames until its answers drain (backpressure); all such bytes also count toward `clientBufferedBytesMax`.",
  }),
  rpcPingIntervalMs: integer({
    group: "client",
    unit: "ms",
    default: 30_000,
    meaning: "The node pings each `/v1/rpc` connection this often and closes one that did not answer the previous ping (or send a frame) in that time.",
  }),
  watchHistoryEventsMax: integer({
    group: "client",
    unit: "events",
    default: 100_000,
    meaning: "Transitions kept in memory for resuming watches. A watch that falls this far behind is closed with `overloaded`.",
  }),
  watchBufferedBytesMax: integer({
    group: "client",
    unit: "bytes",
    default: 1024 * 1024,
    meaning: "Unsent bytes per watch (and dashboard) socket above which the node stops feeding it until it drains.",
  }),
  watchClientsMax: integer({ group: "client", unit: "sockets", default: 1024, meaning: "Watches open at once; more are refused with `overloaded`." }),
  dashboardFeedIntervalMs: integer({ group: "client", unit: "ms", default: 500, meaning: "How often `/v1/dashboard-feed` sends a snapshot." }),
  dashboardClientsMax: integer({ group: "client", unit: "sockets", default: 64, meaning: "Dashboard feeds open at once." }),
  shutdownDrainMs: integer({
    group: "client",
    unit: "ms",
    min: 0,
    default: 2000,
    meaning: "On SIGTERM/SIGINT, how long the node keeps running consensus to finish transitions already in flight before it fails the rest with `shutting_down`.",
  }),

  // Joining a running cluster (DESIGN.md §9).
  join: option({
    schema: z.string().regex(/^https?:\/\/[^,\s]+(,https?:\/\/[^,\s]+)*$/, "expected URL[,URL...]").max(4096).optional(),
    group: "membership",
    unit: null,
    expects: "client URLs of members, comma-separated (http://host:port,...)",
    derivedDefault: "none: bootstrap from `members`",
    meaning:
      "Members to ask to join the cluster, e.g. `http://10.0.0.1:8401,http://10.0.0.2:8401`. Used only when the data directory is empty: the node is added as a learner, receives its certificate, the cluster uuid, the definition and the member list, catches up and is promoted by the cluster. A directory that already belongs to the cluster restarts normally and ignores it. Needs `joinToken` and the node's own `peerListenAddress`/`clientListenAddress` (or `advertise*`).",
  }),
  joinDns: option({
    schema: z.string().min(1).max(260).optional(),
    group: "membership",
    unit: null,
    expects: "NAME or NAME:PORT",
    derivedDefault: "none",
    meaning:
      "Instead of `join`: the SRV records `_lockstep-client._tcp.NAME` give the members' client URLs; without SRV records, the A/AAAA records of NAME (a headless service) with PORT (default 8401).",
  }),
  joinToken: option({
    schema: z.string().regex(/^[a-z0-9]{6}\.[a-z0-9]{32}$/, "expected <6 characters>.<32 characters>").optional(),
    group: "membership",
    unit: null,
    expects: "a join token (lockstep member join-token)",
    derivedDefault: "none",
    meaning: "The one-time join token (`lockstep member join-token`, or `joinToken` in the local cluster's `.lockstep-data/join.json`). Spent through the log: no node accepts it twice.",
  }),
  advertisePeerAddress: option({
    schema: HostPortSchema.optional(),
    group: "membership",
    unit: null,
    expects: "host:port",
    derivedDefault: "`peerListenAddress`, unless that is a wildcard (`0.0.0.0`, `::`): then required",
    meaning: "The peer address the other members dial, when joining.",
  }),
  advertiseClientUrl: option({
    schema: ClientUrlSchema.optional(),
    group: "membership",
    unit: null,
    expects: "http://host:port",
    derivedDefault: "`http://<clientListenAddress>`, unless that is a wildcard: then required",
    meaning: "The client URL this node publishes in the member list, when joining.",
  }),
  joinAttemptsMax: integer({ group: "membership", unit: "attempts", default: 30, meaning: "Join requests before the node gives up (exit 1). Each round asks every URL once, following the leader hint; rounds are spaced by `joinRetryDelayMaxMs` at most." }),
  joinRetryDelayMaxMs: integer({ group: "membership", unit: "ms", default: 2000, meaning: "Cap of the exponential backoff between join rounds (it starts at 100 ms)." }),
  joinCaKeyFile: optionalPath({
    group: "membership",
    expects: "a path to the cluster CA's private key (PEM)",
    derivedDefault: "none: this node certifies no joining node",
    meaning:
      "The CA key with which this node, as leader, signs the certificate of a node that joins with a valid token (its CA certificate is the first of `peerCaFile`). Give it to the nodes that may answer joins; a join answered by a leader without it carries no certificate, and the joining node must then have its own.",
  }),
  // Client port security (DESIGN.md §10, docs/security.md).
  insecure: boolean({
    group: "clientSecurity",
    default: false,
    meaning:
      "Lets a client port on a non-loopback address serve plain HTTP or go without tokens. Without it such a node refuses to start and says why in one line. Never needed on loopback (`127.0.0.0/8`, `::1`, `localhost`).",
  }),
  clientTlsCertFile: optionalPath({
    group: "clientSecurity",
    expects: "a path to a PEM certificate (chain)",
    derivedDefault: "none: plain HTTP",
    meaning:
      "The client port's certificate (PEM, leaf first). With `clientTlsKeyFile` the port serves only HTTPS (TLS 1.2 or later), and this member's `clientUrl` must be `https://`. The node's own certificate from `lockstep certs create-node` will do when it names the client host.",
  }),
  clientTlsKeyFile: optionalPath({
    group: "clientSecurity",
    expects: "a path to a PEM private key",
    derivedDefault: "none",
    meaning: "The private key of `clientTlsCertFile`. Both are given or neither.",
  }),
  clientTlsReloadIntervalMs: integer({
    group: "clientSecurity",
    unit: "ms",
    min: 0,
    default: 10_000,
    meaning:
      "How often the node checks `clientTlsCertFile`, `clientTlsKeyFile` and `clientTlsCaFile` for a change and reloads them (as on `SIGHUP`, and as the peer port's files): new connections get the new certificate, open ones stay; after a change of the client CA bundle, connections whose client certificate does not chain to the new bundle are refused and their sockets closed. Unusable files are refused and the old material stays (`client_tls_reloads_total{result=\"failed\"}`). 0: only on `SIGHUP`.",
  }),
  clientTlsCaFile: optionalPath({
    group: "clientSecurity",
    expects: "a path to PEM CA certificates",
    derivedDefault: "none: no client certificates asked for",
    meaning:
      "Requires a client certificate signed by one of these CAs (normally the cluster CA, whose `lockstep certs create-client NAME` makes `client.NAME.crt` and `.key`). The TLS handshake asks for it; every request and WebSocket upgrade, health checks and `/metrics` included, without a verified one is answered `401 unauthenticated` with the reason (`client_refusals_total{reason=\"no_client_certificate\"|\"client_certificate_untrusted\"}`). A certificate grants no role: tokens are still checked on top when `clientAuthentication` is `tokens`. Needs `clientTlsCertFile`.",
  }),
  clientAuthentication: option({
    schema: z.enum(["tokens", "none"]).optional(),
    group: "clientSecurity",
    unit: null,
    expects: '"tokens" or "none"',
    derivedDefault: '`"none"` when the client port listens on loopback, else `"tokens"`',
    meaning:
      "`tokens`: every API request but `/`, `/livez`, `/readyz` and `/metrics` needs `Authorization: Bearer <token>` with a role that covers it (`read`, `write`, `admin`, optionally limited to key prefixes); `401 unauthenticated` without a valid one, `403 forbidden` when its role or prefixes fall short. Tokens are replicated through the log (`lockstep token create\|list\|revoke`). `none`: anyone who reaches the port may do anything.",
  }),
  initialAdminTokenFile: optionalPath({
    group: "clientSecurity",
    expects: "a file path",
    derivedDefault: "`<dataDirectory>/initial-admin-token` when `clientAuthentication` is `tokens`",
    meaning:
      "The bootstrap admin token of a new cluster. When a leader finds that the cluster has never had a token, it reads this file (or, if it does not exist, writes a fresh token into it, mode 0600) and proposes that token as `initial-admin` with role `admin`. It is created once per cluster: after the first token, the file is never used again, so revoking `initial-admin` is final. Give every member the same file to know in advance which token it will be.",
  }),
  corsAllowedOrigins: option({
    schema: z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, "expected an origin like https://ops.example.com")).max(64).default([]),
    group: "clientSecurity",
    unit: null,
    expects: 'a JSON list of origins, e.g. ["https://ops.example.com"]',
    meaning:
      "Web origins whose pages may call the API from a browser (CORS). Besides these only the members' own `clientUrl` origins are allowed, as the replicated configuration names them now (members that joined later included: the dashboard of one member reads the others). A request that carries any other `Origin` is refused (`403 forbidden`), WebSocket upgrades included. Every answer carries `Vary: Origin`.",
  }),
  hostAllowlist: option({
    schema: z.array(z.string().min(1).max(253).regex(/^(\*|[A-Za-z0-9.-]+)$/, "expected a host name or *")).max(64).default([]),
    group: "clientSecurity",
    unit: null,
    expects: 'a JSON list of host names, or ["*"]',
    meaning:
      "Host names the client port answers to (`Host` header), against DNS rebinding (etcd's `--host-whitelist`). Always allowed: IP literals (a rebinding page cannot use one), `localhost`, and the hosts of the members' `clientUrl`s (as the replicated configuration names them now). Add the names of a load balancer here; `[\"*\"]` turns the check off. Others get `403 forbidden`.",
  }),
  clientConnectionsPerSourceMax: integer({
    group: "clientSecurity",
    unit: "connections",
    default: 256,
    meaning: "Client-port connections open at once from one source IP address; more are closed as soon as they are accepted (`client_refusals_total{reason=\"too_many_connections\"}`).",
  }),
  clientBufferedBytesMax: integer({
    group: "clientSecurity",
    unit: "bytes",
    default: 64 * 1024 * 1024,
    meaning:
      "All bytes buffered for watches, dashboard feeds and `/v1/rpc` connections together. When they exceed it, a socket that still has unsent bytes is cut (close code 1013; `client_streams_cut_total`) rather than the node holding more: a watch may reconnect from its last revision, an rpc client retries its requests (with the same `requestId`) on a new connection.",
  }),
  clientSocketRecheckIntervalMs: integer({
    group: "clientSecurity",
    unit: "ms",
    min: 1,
    max: 60_000,
    default: 1_000,
    meaning:
      "How often the node checks again the token and client certificate of every open `/v1/watch`, `/v1/dashboard-feed` and `/v1/rpc` socket. Besides this, each node checks them right after it applies a token revoke or create, so a revoked token's sockets close at once; this sweep bounds the rest (a client certificate that expired, a token table replaced by a snapshot). A refused socket is closed with 4401 (unauthenticated) or 4403 (forbidden) and counted in `client_refusals_total{reason}`.",
  }),
} satisfies Record<string, NodeOption>;

export type NodeOptionName = keyof typeof nodeOptions;
export type NodeOptionSchemas = { [Name in NodeOptionName]: (typeof nodeOptions)[Name]["schema"] };

export const nodeOptionNames = Object.keys(nodeOptions) as NodeOptionName[];

/** The option's declaration, widened for code that walks every option. */
export function nodeOption(name: NodeOptionName): NodeOption {
  return nodeOptions[name];
}
