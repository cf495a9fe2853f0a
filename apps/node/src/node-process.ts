import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { signNodeCertificate } from "@lockstep/certs";
import { ConsensusNode, type Logger } from "@lockstep/consensus";
import { createMetrics } from "@lockstep/metrics";
import { definitionHash, type Definition } from "@lockstep/state-machine";
import { FileStorage, type FileSystem } from "@lockstep/storage";
import { TcpTransport, type PeerAddress } from "@lockstep/transport-tcp";
import { parseHostPort, type NodeConfig } from "./config/load-config.js";
import { CountingMetricsSink } from "./counting-metrics-sink.js";
import type { ClusterIdentity } from "./membership/cluster-identity.js";
import { establishMembership } from "./membership/establish-membership.js";
import { cryptoRandom } from "./crypto-random.js";
import type { ApiContext } from "./server/api-context.js";
import { createApiServer, type ApiServer } from "./server/api-server.js";
import type { ApiTls } from "./server/client-tls-material.js";
import { createClientTlsReloader, leaderFetch, readClientTlsSync } from "./client-tls-reloader.js";
import type { TlsReloader } from "./tls-reloader.js";
import { BufferBudget } from "./server/buffer-budget.js";
import { watchInitialAdminToken } from "./server/initial-admin-token.js";
import { WatchHub } from "./server/watch-hub.js";
import { PeerTlsReloader, readPeerTlsMaterial, type ReloadOutcome } from "./peer-tls-reloader.js";
import { createSystemClock } from "./system-clock.js";
import { DepartingPeers } from "./departing-peers.js";

/**
 * How long, in election timeouts, a member that left stays among the transport's peers: past the
 * leader's wait for the remaining voters to know of a removal (4 election timeouts in the core).
 */
const departedPeerGraceElectionTimeouts = 6;

export interface NodeProcess {
  readonly node: ConsensusNode;
  /** Where the HTTP API listens (the OS-chosen port when the config asked for 0). */
  readonly clientAddress: AddressInfo;
  /**
   * Stops cleanly: no new HTTP requests, the consensus node drains its in-flight writes (up to
   * `shutdownDrainMs`), then the transport and the storage close.
   */
  stop(): Promise<void>;
  /** Re-reads the peer TLS files and applies them if they changed (SIGHUP). Never throws. */
  reloadPeerTls(): Promise<ReloadOutcome>;
  /** The same for the client port's files ("unchanged" when it serves plain HTTP). Never throws. */
  reloadClientTls(): Promise<ReloadOutcome>;
}

export interface StartNodeProcessOptions {
  config: NodeConfig;
  definition: Definition;
  logger: Logger;
  /** Called once the node exists, so that log lines can carry its term. */
  onNodeStarted?: (node: ConsensusNode) => void;
  /** The file system under the data directory: node:fs unless a test says otherwise. */
  fileSystem?: FileSystem;
  /** The consensus node halted on a storage or state-machine failure; the process should exit. */
  onFatal?: (error: unknown) => void;
}

/**
 * Assembles one node: FileStorage in the data directory, metrics, the TCP transport, the
 * consensus node and the HTTP/WebSocket API. Throws what the pieces throw (a `StorageError`
 * for an unusable data directory, a `TcpTransportError` for a port in use); whatever was
 * already started is closed first.
 */
export async function startNodeProcess(options: StartNodeProcessOptions): Promise<NodeProcess> {
  const { definition, logger } = options;
  const cleanup: Array<() => Promise<void>> = [];
  try {
    const metrics = createMetrics({ defaultLabels: { node: options.config.nodeId } });
    const sink = new CountingMetricsSink(metrics.sink);
    const storage = await FileStorage.open({
      directory: options.config.dataDirectory,
      fsyncPolicy: options.config.fsyncPolicy,
      ...(options.fileSystem === undefined ? {} : { fileSystem: options.fileSystem }),
      metrics: sink,
      logger,
    });
    cleanup.push(() => storage.close());
    const established = await establishMembership(options.config, definition, storage, logger);
    const config: NodeConfig = { ...options.config, members: established.members };
    const { identity } = established;
    const peerTls = await readPeerTlsMaterial(config.peerTls);
    logger.info({ cluster: identity.cluster, clusterUuid: identity.clusterUuid, origin: identity.origin }, "data directory identity");
    const transport = await TcpTransport.start({
      nodeId: config.nodeId,
      cluster: config.cluster,
      clusterUuid: identity.clusterUuid,
      definitionHash: definitionHash(definition),
      listen: config.peerListen,
      peers: peerAddresses(config),
      frameBytesMax: config.frameBytesMax,
      sendQueueMessagesMax: config.sendQueueMessagesMax,
      sendQueueBytesMax: config.sendQueueBytesMax,
      connectTimeoutMs: config.peerConnectTimeoutMs,
      reconnectDelayMinMs: config.reconnectDelayMinMs,
      reconnectDelayMaxMs: config.reconnectDelayMaxMs,
      deliveryRetryAttemptsMax: config.deliveryRetryAttemptsMax,
      deliveryRetryDelayMs: config.deliveryRetryDelayMs,
      heartbeatIntervalMs: config.peerHeartbeatIntervalMs,
      idleTimeoutMs: config.peerIdleTimeoutMs,
      inboundConnectionsMax: config.peerInboundConnectionsMax,
      connectionsPerSourceMax: config.peerConnectionsPerSourceMax,
      handshakeTimeoutMs: config.peerHandshakeTimeoutMs,
      handshakeBytesMax: config.peerHandshakeBytesMax,
      tls: peerTls,
      clock: createSystemClock(),
      random: cryptoRandom,
      metrics: sink,
      logger,
    });
    cleanup.push(() => transport.close());
    const tlsReloader = new PeerTlsReloader({ files: config.peerTls, transport, metrics: sink, logger, intervalMs: config.peerTlsReloadIntervalMs, initial: peerTls });
    tlsReloader.start();
    cleanup.push(() => Promise.resolve(tlsReloader.stop()));
    const budget = new BufferBudget(config.clientBufferedBytesMax, (stream) => sink.increment("client_streams_cut_total", { stream }));
    // Created before the node starts and fed from its very first applied entry: the entries the
    // node re-applies from its log at start are in the watch history, so a watch resumes across
    // a restart from any revision after the snapshot (bounded by watchHistoryEventsMax).
    const hub = new WatchHub({
      historyEventsMax: config.watchHistoryEventsMax,
      bufferedBytesMax: config.watchBufferedBytesMax,
      clientsMax: config.watchClientsMax,
      appliedIndex: 0,
      budget,
    });
    const node = await ConsensusNode.start({
      onApplied: (event) => hub.onApplied(event),
      id: config.nodeId,
      cluster: config.cluster,
      // The founders' configuration, written into the log once by the first leader; a node that
      // joined starts with none and learns it from the leader (it never campaigns until a voter).
      members: established.joined ? [] : config.members.map((member) => ({ id: member.id, peerAddress: member.peerAddress, clientUrl: member.clientUrl, voter: true })),
      definition,
      transport,
      storage,
      clock: createSystemClock(),
      random: cryptoRandom,
      config: driverConfig(config),
      storeLimits: {
        keysMax: config.keysMax,
        stateBytesMax: config.stateBytesMax,
        sessionsMax: config.sessionsMax,
        sessionWindowSeqs: config.sessionWindowSeqs,
        sessionIdleEntriesMax: config.sessionIdleEntriesMax,
      },
      metrics: sink,
      logger: logger.child({ component: "consensus" }),
      // Batch every request that arrived in one I/O turn into one append and one Proposal.
      schedule: setImmediate,
      ...(options.onFatal === undefined ? {} : { onFatal: options.onFatal }),
    });
    // The transport dials whom the configuration names, as it changes (DESIGN.md §9).
    // A member that left stays reachable for a while: a leader that removed itself, or a member,
    // waits for the remaining voters to answer a round after the commit (departing-peers.ts).
    const departingPeers = new DepartingPeers(departedPeerGraceElectionTimeouts * config.tickMs * config.electionTimeoutTicks, (peers) => transport.setPeers(peers));
    cleanup.push(() => Promise.resolve(departingPeers.clear()));
    const followConfiguration = (members: readonly { id: string; peerAddress: string }[]): void => {
      departingPeers.follow(
        new Map(
          members
            .filter((member) => member.id !== config.nodeId)
            .flatMap((member) => {
              const address = parseHostPort(member.peerAddress);
              return address === null ? [] : [[member.id, address] as const];
            }),
        ),
      );
    };
    // The client port answers the Host and Origin of every member the configuration names now
    // (the dashboard served by one member reads all the others), not only of those in the
    // config file: members that joined later have their own client URLs.
    let memberClientUrls: readonly string[] = config.members.map((member) => member.clientUrl);
    const followClientUrls = (members: readonly { clientUrl: string }[]): void => {
      memberClientUrls = [...new Set([config.self.clientUrl, ...members.map((member) => member.clientUrl)])];
    };
    // A node that just joined has no configuration yet: it keeps the peers the join answer named.
    if (node.members().length > 0) {
      followConfiguration(node.members());
      followClientUrls(node.members());
    }
    let wasMember = node.members().some((member) => member.id === config.nodeId);
    let removalNotice: ReturnType<typeof setTimeout> | null = null;
    node.onMembersChanged((members) => {
      logger.info({ members: members.map((member) => `${member.id}${member.voter ? "" : " (learner)"}`) }, "configuration changed");
      followConfiguration(members);
      followClientUrls(members);
      // Said plainly: a removed node that keeps running only dials peers that refuse it. Only when
      // it stays out for an election timeout: a node that lost its disk and joined again under its
      // id replays its removal and, just after it, its return; a node that joined replays
      // configurations from before it was added, which never named it (so never "removed" it).
      const isMember = members.some((member) => member.id === config.nodeId);
      if (wasMember && !isMember && removalNotice === null) {
        removalNotice = setTimeout(() => {
          removalNotice = null;
          if (node.members().some((member) => member.id === config.nodeId)) return;
          logger.warn({ members: node.members().map((member) => member.id) }, "this node was removed from the cluster: stop it, and wipe its data directory before it joins again");
        }, config.tickMs * config.electionTimeoutTicks);
        removalNotice.unref();
      }
      wasMember = isMember;
    });
    // Every entry applied since the store was restored reached the hub (re-applied from the log at
    // start too); when none was, the history starts after what the snapshot holds.
    hub.startAfter(node.localStore.appliedIndex);
    cleanup.push(() => node.stop(0));
    options.onNodeStarted?.(node);
    const clientTls = config.clientTls === undefined ? undefined : readClientTlsSync(config.clientTls);
    // Replaced when the client-port files are reloaded, so forwarding presents the new certificate.
    const forwarding = { fetch: clientTls === undefined ? undefined : leaderFetch(clientTls, config.peerTls.caFile) };
    const api = createNodeApi({
      config,
      identity,
      node,
      hub,
      budget,
      memberClientUrls: () => memberClientUrls,
      clientTls,
      forwardFetch: forwarding.fetch === undefined ? undefined : (input, init) => forwarding.fetch!(input, init),
      metricsText: async () => ({ contentType: metrics.registry.contentType, text: await metrics.text() }),
      sink,
      logger,
    });
    const clientAddress = await api.listen(config.clientListen.host, config.clientListen.port);
    const clientTlsReloader = startClientTlsReloader({ config, clientTls, api, forwarding, sink, logger });
    const stopBootstrap =
      config.initialAdminTokenFile === undefined
        ? () => undefined
        : watchInitialAdminToken({ node, file: config.initialAdminTokenFile, logger, proposal: { timeoutMs: config.consensusTimeoutMs, retryIntervalMs: config.tickMs * config.electionTimeoutTicks } });
    if (config.clientAuthentication === "none" || config.clientTls === undefined) {
      logger.warn(
        { clientAddress: `${clientAddress.address}:${clientAddress.port}`, tls: config.clientTls !== undefined, authentication: config.clientAuthentication },
        config.insecure ? "the client port is not fully secured (--insecure): anyone who can reach it may read or change state" : "the client port is on loopback without HTTPS or tokens: only this machine can reach it",
      );
    }
    logger.info({ clientAddress: `${clientAddress.address}:${clientAddress.port}`, peerAddress: `${config.peerListen.host}:${config.peerListen.port}`, dataDirectory: config.dataDirectory }, "node started");
    return {
      node,
      clientAddress,
      reloadPeerTls: () => tlsReloader.reload(),
      reloadClientTls: () => clientTlsReloader?.reload() ?? Promise.resolve("unchanged"),
      stop: async () => {
        stopBootstrap();
        tlsReloader.stop();
        clientTlsReloader?.stop();
        await api.close();
        await node.stop(config.shutdownDrainMs);
        await transport.close();
        await storage.close();
      },
    };
  } catch (error) {
    for (const close of cleanup.reverse()) await close().catch(() => undefined);
    throw error;
  }
}

/** The client port's reloader (HTTPS only), started; its gauge set for the certificate in use. */
function startClientTlsReloader(parts: {
  config: NodeConfig;
  clientTls: ApiTls | undefined;
  api: ApiServer;
  forwarding: { fetch: typeof fetch | undefined };
  sink: CountingMetricsSink;
  logger: Logger;
}): TlsReloader<ApiTls> | undefined {
  const { config, clientTls } = parts;
  if (config.clientTls === undefined || clientTls === undefined) return undefined;
  parts.sink.set("client_certificate_expiry_timestamp_seconds", {}, Math.floor(Date.parse(new X509Certificate(clientTls.cert).validTo) / 1000));
  const reloader = createClientTlsReloader({
    files: config.clientTls,
    initial: clientTls,
    api: parts.api,
    onApplied: (material) => (parts.forwarding.fetch = leaderFetch(material, config.peerTls.caFile)),
    metrics: parts.sink,
    logger: parts.logger,
    intervalMs: config.clientTlsReloadIntervalMs,
  });
  reloader.start();
  return reloader;
}

function createNodeApi(parts: {
  config: NodeConfig;
  identity: ClusterIdentity;
  node: ConsensusNode;
  hub: WatchHub;
  budget: BufferBudget;
  memberClientUrls: () => readonly string[];
  clientTls: ApiTls | undefined;
  forwardFetch: typeof fetch | undefined;
  metricsText: () => Promise<{ contentType: string; text: string }>;
  sink: CountingMetricsSink;
  logger: Logger;
}): ApiServer {
  const { config } = parts;
  return createApiServer({
    context: {
      node: parts.node,
      selfId: config.nodeId,
      identity: parts.identity,
      members: config.members,
      metricsText: parts.metricsText,
      counters: () => parts.sink.counters,
      commitLatenciesMs: () => parts.sink.drainCommitLatenciesMs(),
      requestBodyBytesMax: config.requestBodyBytesMax,
      membership: parts.node,
      forwardTimeoutMs: config.consensusTimeoutMs + 1_000,
      ...(parts.forwardFetch === undefined ? {} : { forwardFetch: parts.forwardFetch }),
      nowMs: () => Date.now(),
      ...(config.joinCaKeyFile === undefined ? {} : { joinSigner: joinSignerFrom(config.joinCaKeyFile, config.peerTls.caFile) }),
      onJoined: (nodeId) => parts.logger.info({ joined: nodeId }, "a node joined as a learner"),
      proposal: { timeoutMs: config.consensusTimeoutMs, retryIntervalMs: config.tickMs * config.electionTimeoutTicks },
    },
    hub: parts.hub,
    connectionsPerSourceMax: config.clientConnectionsPerSourceMax,
    security: {
      authentication: config.clientAuthentication,
      tls: config.clientTls !== undefined,
      memberClientUrls: parts.memberClientUrls,
      corsAllowedOrigins: config.corsAllowedOrigins,
      hostAllowlist: config.hostAllowlist,
      tokens: () => parts.node.localStore.tokens,
      countRefusal: (reason) => parts.sink.increment("client_refusals_total", { reason }),
    },
    ...(parts.clientTls === undefined ? {} : { tls: parts.clientTls }),
    httpConnectionsMax: config.httpConnectionsMax,
    httpRequestsInflightMax: config.httpRequestsInflightMax,
    rpc: { requestsInflightMax: config.rpcRequestsInflightMax, bufferedBytesMax: config.rpcBufferedBytesMax, pingIntervalMs: config.rpcPingIntervalMs, budget: parts.budget },
    countRequest: (transport) => parts.sink.increment("client_requests_total", { transport }),
    httpRequestTimeoutMs: config.httpRequestTimeoutMs,
    httpHeadersTimeoutMs: config.httpHeadersTimeoutMs,
    dashboard: { intervalMs: config.dashboardFeedIntervalMs, clientsMax: config.dashboardClientsMax, bufferedBytesMax: config.watchBufferedBytesMax, budget: parts.budget },
    onInternalError: (error) => parts.logger.error({ err: error }, "HTTP handler failed"),
    socketRecheckIntervalMs: config.clientSocketRecheckIntervalMs,
    onSocketRefused: (stream, refusal) => parts.logger.info({ stream, reason: refusal.reason, detail: refusal.message }, "open client socket closed: its credentials no longer hold"),
  });
}

/**
 * Certifies joining nodes with the CA key in `joinCaKeyFile` and the CA bundle of `peerCaFile`,
 * both read at each join so that a rotated CA is used at once.
 */
function joinSignerFrom(caKeyFile: string, caFile: string): NonNullable<ApiContext["joinSigner"]> {
  return async ({ nodeId, hosts, publicKeyPem }) => {
    const caCertPem = readFileSync(caFile, "utf8");
    const signed = await signNodeCertificate({ caCertPem, caKeyPem: readFileSync(caKeyFile, "utf8"), nodeId, hosts, publicKeyPem });
    return { certPem: signed.certPem, caCertPem };
  };
}

function peerAddresses(config: NodeConfig): Record<string, PeerAddress> {
  const peers: Record<string, PeerAddress> = {};
  for (const member of config.members) {
    if (member.id === config.nodeId) continue;
    // The config loader has already checked every address parses.
    peers[member.id] = parseHostPort(member.peerAddress)!;
  }
  return peers;
}

function driverConfig(config: NodeConfig) {
  return {
    tickMs: config.tickMs,
    electionTimeoutTicks: config.electionTimeoutTicks,
    heartbeatTicks: config.heartbeatTicks,
    consensusTimeoutMs: config.consensusTimeoutMs,
    pendingRequestsMax: config.pendingRequestsMax,
    pendingReadsMax: config.pendingReadsMax,
    snapshotEntriesThreshold: config.snapshotEntriesThreshold,
    logBytesInMemoryMax: config.logBytesInMemoryMax,
    entriesPerProposalMax: config.entriesPerProposalMax,
    bytesPerProposalMax: config.bytesPerProposalMax,
    inflightProposalsMax: config.inflightProposalsMax,
    uncommittedEntriesMax: config.uncommittedEntriesMax,
    snapshotChunkBytesMax: config.snapshotChunkBytesMax,
    preVote: config.preVote,
    checkQuorum: config.checkQuorum,
    autoPromote: config.autoPromote,
    promoteLagEntriesMax: config.promoteLagEntriesMax,
    promoteStableMs: config.promoteStableMs,
    votersMin: config.votersMin,
  };
}
