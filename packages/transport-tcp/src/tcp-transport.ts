import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { noopMetrics, silentLogger, type Logger, type MetricsSink, type Transport } from "@lockstep/consensus";
import { encodeEnvelopeFrame, type ConsensusEnvelope, type Envelope, type NodeId } from "@lockstep/protocol";
import { Handshake } from "./handshake.js";
import { InboundConnection } from "./inbound-connection.js";
import { OutboundPeer, type DeliveryFailureReason } from "./outbound-peer.js";
import type { OutboundStateKind } from "./outbound-state.js";
import type { PeerRefusalReason } from "./peer-refusal.js";
import { PeerTls, type PeerTlsMaterial } from "./peer-tls.js";
import { TcpTransportError } from "./tcp-transport-error.js";
import {
  resolveTcpTransportOptions,
  type PeerAddress,
  type ResolvedTcpTransportOptions,
  type TcpTransportOptions,
} from "./tcp-transport-options.js";

/** What a reload changed, for the caller's log line. */
export type TlsReloadSummary = { expiresAtSeconds: number; authorities: number; connectionsClosed: number };

/**
 * `Transport` over mutual TLS 1.3 on TCP (DESIGN.md §4, §10). Each node dials one connection to
 * every peer and sends on it only; it receives on the connections its peers dialed. With one
 * direction per connection there is no question of which of two simultaneous dials wins and no
 * reader ever waits on its own writer (the layout of etcd's rafthttp streams).
 */
export class TcpTransport implements Transport {
  private readonly outbound = new Map<NodeId, OutboundPeer>();
  private readonly inbound = new Set<InboundConnection>();
  private readonly inboundByPeer = new Map<NodeId, InboundConnection>();
  /** Open accepted connections per remote IP address (bounded by `inboundConnectionsMax` entries). */
  private readonly connectionsBySource = new Map<string, number>();
  private readonly handshake: Handshake;
  /** The members a Hello may come from; `setPeers` changes it as the configuration changes. */
  private readonly peerIds = new Set<NodeId>();
  private handler: ((envelope: ConsensusEnvelope) => void) | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly options: ResolvedTcpTransportOptions,
    private readonly server: Server,
    private readonly metrics: MetricsSink,
    private readonly logger: Logger,
    private tls: PeerTls,
  ) {
    for (const peerId of options.peers.keys()) this.peerIds.add(peerId);
    this.handshake = new Handshake({
      nodeId: options.nodeId,
      cluster: options.cluster,
      clusterUuid: options.clusterUuid,
      definitionHash: options.definitionHash,
      peerIds: this.peerIds,
    });
  }

  /** Validates the options and the TLS material, listens, and starts dialing every peer. Throws `TcpTransportError`. */
  static async start(options: TcpTransportOptions): Promise<TcpTransport> {
    const resolved = resolveTcpTransportOptions(options);
    const tls = PeerTls.create(resolved.nodeId, options.tls);
    const metrics = options.metrics ?? noopMetrics;
    const logger = (options.logger ?? silentLogger).child({ component: "transport-tcp", nodeId: resolved.nodeId });
    const server = createServer();
    server.maxConnections = resolved.inboundConnectionsMax;
    await listen(server, resolved.listen);
    const transport = new TcpTransport(resolved, server, metrics, logger, tls);
    metrics.set("peer_certificate_expiry_timestamp_seconds", {}, tls.expiresAtSeconds);
    logger.info({ certificateExpires: tls.certificate.validTo, authorities: tls.authorities.length }, "peer port: mutual TLS 1.3");
    transport.begin();
    return transport;
  }

  /** The bound address; with `listen.port` 0 this is where the OS-chosen port is read. */
  address(): PeerAddress {
    const bound = this.server.address() as AddressInfo | null;
    if (bound === null) throw new TcpTransportError("already_closed", "the transport is closed");
    return { host: bound.address, port: bound.port };
  }

  /** The lifecycle state of the outbound connection to each peer (`open`, `backoff`, ...), for diagnostics. */
  peerConnectionStates(): Record<NodeId, OutboundStateKind> {
    return Object.fromEntries([...this.outbound.values()].map((peer) => [peer.peerId, peer.stateKind]));
  }

  /** Peers whose outbound connection is open (handshake done). */
  connectedPeers(): NodeId[] {
    return [...this.outbound.values()].filter((peer) => peer.isOpen).map((peer) => peer.peerId);
  }

  /**
   * Replaces the CA bundle, certificate and key without a restart. New connections, dialed and
   * accepted, use the new material; established ones stay up unless the peer's certificate no
   * longer chains to a CA of the new bundle, in which case they are closed
   * (`certificate_revoked`) and redialed. Throws `TcpTransportError` `invalid_tls` and keeps the
   * old material when the new one is unusable.
   */
  reloadTls(material: PeerTlsMaterial): TlsReloadSummary {
    const next = PeerTls.create(this.options.nodeId, material);
    this.tls = next;
    this.metrics.set("peer_certificate_expiry_timestamp_seconds", {}, next.expiresAtSeconds);
    let connectionsClosed = 0;
    const detail = "its certificate no longer chains to a CA of the reloaded bundle";
    for (const connection of this.inbound) {
      const certificate = connection.peerCertificate;
      if (certificate !== undefined && !next.trusts(certificate)) {
        connection.close("certificate_revoked", detail);
        connectionsClosed++;
      }
    }
    for (const peer of this.outbound.values()) {
      const certificate = peer.peerCertificate;
      if (certificate !== undefined && !next.trusts(certificate)) {
        peer.drop("certificate_revoked", detail);
        connectionsClosed++;
      }
    }
    return { expiresAtSeconds: next.expiresAtSeconds, authorities: next.authorities.length, connectionsClosed };
  }

  send(envelope: Envelope): void {
    const type = envelope.body.type;
    const peer = this.outbound.get(envelope.to);
    if (peer === undefined || this.closing !== undefined) {
      return this.countFailure(type, envelope.to, peer === undefined ? "unknown_peer" : "transport_closed");
    }
    const encoded = encodeEnvelopeFrame(envelope, { frameBytesMax: this.options.frameBytesMax });
    if (!encoded.ok) {
      this.logger.warn({ peer: envelope.to, type, reason: encoded.reason, detail: encoded.detail }, "message not sent");
      return this.countFailure(type, envelope.to, "oversized");
    }
    peer.enqueue(type, encoded.value);
  }

  /** Writes every peer's queue now (see `Transport.flush`); a closing transport writes nothing more. */
  flush(): void {
    if (this.closing !== undefined) return;
    for (const peer of this.outbound.values()) peer.flushNow();
  }

  onMessage(handler: (envelope: ConsensusEnvelope) => void): void {
    this.handler = handler;
  }

  /** Stops listening, closes every connection and timer, and resolves once every socket is closed. */
  close(): Promise<void> {
    this.closing ??= this.closeAll();
    return this.closing;
  }

  private begin(): void {
    this.server.on("connection", (socket) => this.onConnection(socket));
    this.server.on("drop", () => this.countRefusal("too_many_connections", { inboundConnectionsMax: this.options.inboundConnectionsMax }));
    this.server.on("error", (error) => this.logger.error({ error: error.message }, "peer listener failed"));
    for (const [peerId, address] of this.options.peers) this.dial(peerId, address);
    this.metrics.set("peers_connected", {}, 0);
  }

  private dial(peerId: NodeId, address: PeerAddress): void {
    const peer = new OutboundPeer(peerId, address, {
      options: this.options,
      tls: () => this.tls,
      handshake: this.handshake,
      metrics: this.metrics,
      logger: this.logger,
      onOpenChange: () => this.metrics.set("peers_connected", {}, this.connectedPeers().length),
    });
    this.outbound.set(peerId, peer);
    this.metrics.set("send_queue_messages", { peer: peerId }, 0);
    peer.start();
  }

  /**
   * Follows a configuration change (DESIGN.md §9): dials members that joined, hangs up on members
   * that left (their Hellos are refused from now on), and redials a member whose address changed.
   * An entry for this node itself is ignored.
   */
  setPeers(peers: Readonly<Record<NodeId, PeerAddress>>): void {
    if (this.closing !== undefined) return;
    const wanted = new Map(Object.entries(peers).filter(([peerId]) => peerId !== this.options.nodeId));
    for (const [peerId, peer] of [...this.outbound]) {
      const address = wanted.get(peerId);
      if (address !== undefined && address.host === peer.address.host && address.port === peer.address.port) continue;
      this.outbound.delete(peerId);
      void peer.close();
      if (address === undefined) {
        this.peerIds.delete(peerId);
        this.inboundByPeer.get(peerId)?.close();
      }
    }
    for (const [peerId, address] of wanted) {
      this.peerIds.add(peerId);
      if (!this.outbound.has(peerId)) this.dial(peerId, { host: address.host, port: address.port });
    }
    this.metrics.set("peers_connected", {}, this.connectedPeers().length);
  }

  /**
   * A raw TCP connection: the per-source limit is checked before any TLS work, so one address
   * cannot make this node run handshakes for it without bound.
   */
  private onConnection(socket: Socket): void {
    if (this.closing !== undefined) return void socket.destroy();
    const source = socket.remoteAddress ?? "unknown";
    const open = this.connectionsBySource.get(source) ?? 0;
    if (open >= this.options.connectionsPerSourceMax) {
      this.countRefusal("too_many_from_source", { source, connectionsPerSourceMax: this.options.connectionsPerSourceMax });
      return void socket.destroy();
    }
    this.connectionsBySource.set(source, open + 1);
    socket.once("close", () => {
      const remaining = (this.connectionsBySource.get(source) ?? 1) - 1;
      if (remaining <= 0) this.connectionsBySource.delete(source);
      else this.connectionsBySource.set(source, remaining);
    });
    socket.on("error", () => undefined);
    const connection = new InboundConnection(socket, {
      options: this.options,
      tls: this.tls,
      handshake: this.handshake,
      metrics: this.metrics,
      logger: this.logger,
      onHandshake: (accepted) => this.onInboundHandshake(accepted),
      deliver: (envelope, peerId) => this.deliver(envelope, peerId),
      onClose: (closed) => this.onInboundClose(closed),
    });
    this.inbound.add(connection);
  }

  private countRefusal(reason: PeerRefusalReason, fields: object): void {
    this.metrics.increment("peer_connections_refused_total", { reason });
    this.logger.warn({ reason, ...fields }, "refused a peer connection");
  }

  /** A peer that reconnects (it restarted, or its old connection is half-dead) replaces its old connection. */
  private onInboundHandshake(accepted: InboundConnection): void {
    const peerId = accepted.peerId;
    if (peerId === undefined) return;
    const previous = this.inboundByPeer.get(peerId);
    this.inboundByPeer.set(peerId, accepted);
    if (previous !== undefined && previous !== accepted) previous.close();
  }

  private onInboundClose(closed: InboundConnection): void {
    this.inbound.delete(closed);
    const peerId = closed.peerId;
    if (peerId !== undefined && this.inboundByPeer.get(peerId) === closed) this.inboundByPeer.delete(peerId);
  }

  private deliver(envelope: ConsensusEnvelope, peerId: NodeId): void {
    if (this.closing !== undefined) return;
    if (this.handler === undefined) {
      this.logger.debug({ peer: peerId, type: envelope.body.type }, "message dropped: no handler set yet");
      return;
    }
    this.handler(envelope);
  }

  private countFailure(type: string, peer: NodeId, reason: DeliveryFailureReason): void {
    this.metrics.increment("message_delivery_failures_total", { type, peer, reason });
  }

  private async closeAll(): Promise<void> {
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const inboundClosed = [...this.inbound].map((connection) => {
      connection.socket.destroy();
      return connection.connection.closed;
    });
    await Promise.all([...[...this.outbound.values()].map((peer) => peer.close()), ...inboundClosed, serverClosed]);
    this.metrics.set("peers_connected", {}, 0);
  }
}

function listen(server: Server, address: PeerAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(
        new TcpTransportError("listen_failed", `cannot listen on ${address.host}:${address.port}: ${error.message}`, {
          cause: error,
        }),
      );
    };
    server.once("error", onError);
    server.listen({ host: address.host, port: address.port }, () => {
      server.off("error", onError);
      resolve();
    });
  });
}
