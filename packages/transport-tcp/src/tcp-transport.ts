import type { MessageAuth } from "./message-auth.js";
import { createServer, type AddressInfo, type Server } from "node:net";
import { noopMetrics, silentLogger, type Logger, type MetricsSink, type Transport } from "@lockstep/consensus";
import { encodeEnvelopeFrame, type ConsensusEnvelope, type Envelope, type NodeId } from "@lockstep/protocol";
import { Handshake } from "./handshake.js";
import { InboundConnection } from "./inbound-connection.js";
import { OutboundPeer, type DeliveryFailureReason } from "./outbound-peer.js";
import { TcpTransportError } from "./tcp-transport-error.js";
import {
  resolveTcpTransportOptions,
  type PeerAddress,
  type ResolvedTcpTransportOptions,
  type TcpTransportOptions,
} from "./tcp-transport-options.js";

/**
 * `Transport` over TCP (DESIGN.md §4). Each node dials one connection to every peer and sends on
 * it only; it receives on the connections its peers dialed. With one direction per connection
 * there is no question of which of two simultaneous dials wins and no reader ever waits on its
 * own writer (the layout of etcd's rafthttp streams).
 */
export class TcpTransport implements Transport {
  private readonly outbound = new Map<NodeId, OutboundPeer>();
  private readonly inbound = new Set<InboundConnection>();
  private readonly inboundByPeer = new Map<NodeId, InboundConnection>();
  private readonly handshake: Handshake;
  private handler: ((envelope: ConsensusEnvelope) => void) | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly options: ResolvedTcpTransportOptions,
    private readonly server: Server,
    private readonly metrics: MetricsSink,
    private readonly logger: Logger,
    private readonly auth: MessageAuth | undefined,
  ) {
    this.handshake = new Handshake(
      {
        nodeId: options.nodeId,
        cluster: options.cluster,
        definitionHash: options.definitionHash,
        peerIds: new Set(options.peers.keys()),
      },
      auth,
    );
  }

  /** Validates the options, listens, and starts dialing every peer. Throws `TcpTransportError`. */
  static async start(options: TcpTransportOptions): Promise<TcpTransport> {
    const resolved = resolveTcpTransportOptions(options);
    const metrics = options.metrics ?? noopMetrics;
    const logger = (options.logger ?? silentLogger).child({ component: "transport-tcp", nodeId: resolved.nodeId });
    const server = createServer();
    server.maxConnections = resolved.inboundConnectionsMax;
    await listen(server, resolved.listen);
    const transport = new TcpTransport(resolved, server, metrics, logger, options.auth);
    if (options.auth !== undefined) logger.info({}, "peer messages are signed and verified (ed25519)");
    transport.begin();
    return transport;
  }

  /** The bound address; with `listen.port` 0 this is where the OS-chosen port is read. */
  address(): PeerAddress {
    const bound = this.server.address() as AddressInfo | null;
    if (bound === null) throw new TcpTransportError("already_closed", "the transport is closed");
    return { host: bound.address, port: bound.port };
  }

  /** Peers whose outbound connection is open (handshake done). */
  connectedPeers(): NodeId[] {
    return [...this.outbound.values()].filter((peer) => peer.isOpen).map((peer) => peer.peerId);
  }

  send(envelope: Envelope): void {
    const type = envelope.body.type;
    const peer = this.outbound.get(envelope.to);
    if (peer === undefined || this.closing !== undefined) {
      return this.countFailure(type, envelope.to, peer === undefined ? "unknown_peer" : "transport_closed");
    }
    const signed = this.auth === undefined ? envelope : this.auth.sign(envelope);
    const encoded = encodeEnvelopeFrame(signed, { frameBytesMax: this.options.frameBytesMax });
    if (!encoded.ok) {
      this.logger.warn({ peer: envelope.to, type, reason: encoded.reason, detail: encoded.detail }, "message not sent");
      return this.countFailure(type, envelope.to, "oversized");
    }
    peer.enqueue(type, encoded.value);
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
    this.server.on("connection", (socket) => {
      if (this.closing !== undefined) return void socket.destroy();
      const connection = new InboundConnection(socket, {
        options: this.options,
        handshake: this.handshake,
        metrics: this.metrics,
        logger: this.logger,
        onHandshake: (accepted) => this.onInboundHandshake(accepted),
        deliver: (envelope, peerId) => this.deliver(envelope, peerId),
        onClose: (closed) => this.onInboundClose(closed),
      });
      this.inbound.add(connection);
    });
    this.server.on("drop", () => {
      this.metrics.increment("peer_connections_refused_total", { reason: "too_many_connections" });
      this.logger.warn({ inboundConnectionsMax: this.options.inboundConnectionsMax }, "refused a connection: too many open");
    });
    this.server.on("error", (error) => this.logger.error({ error: error.message }, "peer listener failed"));
    for (const [peerId, address] of this.options.peers) {
      const peer = new OutboundPeer(peerId, address, {
        options: this.options,
        handshake: this.handshake,
        metrics: this.metrics,
        logger: this.logger,
        onOpenChange: () => this.metrics.set("peers_connected", {}, this.connectedPeers().length),
      });
      this.outbound.set(peerId, peer);
      this.metrics.set("send_queue_messages", { peer: peerId }, 0);
      peer.start();
    }
    this.metrics.set("peers_connected", {}, 0);
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
      connection.connection.socket.destroy();
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
