import type { Socket } from "node:net";
import type { Logger, MetricsSink } from "@lockstep/consensus";
import type { ConsensusEnvelope, DecodeFailureReason, Envelope, Hello, NodeId } from "@lockstep/protocol";
import { FramedConnection } from "./framed-connection.js";
import type { GoodbyeReason, Handshake } from "./handshake.js";
import type { ResolvedTcpTransportOptions } from "./tcp-transport-options.js";

/** The `peer` label before a connection has said who it is. */
export const unknownPeerLabel = "unknown";

export type InboundConnectionContext = {
  options: ResolvedTcpTransportOptions;
  handshake: Handshake;
  metrics: MetricsSink;
  logger: Logger;
  /** The connection proved to be `peerId`: the transport replaces any older connection from that peer. */
  onHandshake(connection: InboundConnection): void;
  deliver(envelope: ConsensusEnvelope, peerId: NodeId): void;
  onClose(connection: InboundConnection): void;
};

/**
 * An accepted connection, used only for receiving. Its first frame must be an acceptable Hello;
 * after that every frame must be a consensus message from that peer to this node (or the peer's
 * Hello again, as a heartbeat). Anything else is counted, logged and answered by closing this
 * connection only.
 */
export class InboundConnection {
  readonly connection: FramedConnection;
  private hello: Hello | undefined;
  private readonly logger: Logger;

  constructor(
    socket: Socket,
    private readonly context: InboundConnectionContext,
  ) {
    this.logger = context.logger.child({ remote: `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}` });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, context.options.idleTimeoutMs);
    this.connection = new FramedConnection(socket, context.options, {
      onEnvelope: (envelope) => this.onEnvelope(envelope),
      onInvalid: (reason, detail) => this.onUndecodable(reason, detail),
      onIdle: () => this.onIdle(),
      onClose: () => context.onClose(this),
    });
  }

  get peerId(): NodeId | undefined {
    return this.hello?.nodeId;
  }

  close(): void {
    this.connection.closeWith();
  }

  private onEnvelope(envelope: Envelope): void {
    if (this.hello === undefined) return this.onFirstFrame(envelope);
    const peerId = this.hello.nodeId;
    const { body } = envelope;
    if (body.type === "Goodbye") {
      this.logger.info({ peer: peerId, reason: body.reason, detail: body.detail }, "peer closed its connection");
      this.connection.closeWith();
      return;
    }
    const problem = this.checkAddressing(envelope, peerId);
    if (problem !== undefined) return this.refuseFrame(problem.reason, problem.detail);
    const signed = this.context.handshake.verify(envelope);
    if (!signed.ok) return this.refuseFrame("auth_failed", signed.detail);
    if (body.type === "Hello") return; // The peer's heartbeat: its arrival already reset the idle timer.
    this.context.metrics.increment("messages_received_total", { type: body.type, peer: peerId });
    this.context.deliver({ ...envelope, body }, peerId);
  }

  private onFirstFrame(envelope: Envelope): void {
    const { handshake } = this.context;
    const check = handshake.check(envelope);
    if (!check.ok) return this.refuseConnection(envelope.from, check.reason, check.detail);
    this.hello = envelope.body.type === "Hello" ? envelope.body : undefined;
    this.connection.write(handshake.helloFrame(check.peerId));
    this.connection.startHeartbeat(handshake.helloFrame(check.peerId));
    this.logger.info({ peer: check.peerId }, "accepted peer connection");
    this.context.onHandshake(this);
  }

  /** Frames after the handshake must come from the peer that said Hello, to this node, in this cluster. */
  private checkAddressing(envelope: Envelope, peerId: NodeId): { reason: string; detail: string } | undefined {
    const { nodeId, cluster } = this.context.options;
    if (envelope.from !== peerId) return { reason: "sender_mismatch", detail: `from ${envelope.from} on ${peerId}'s connection` };
    if (envelope.to !== nodeId) return { reason: "wrong_recipient", detail: `addressed to ${envelope.to}, this is ${nodeId}` };
    if (envelope.cluster !== cluster) return { reason: "cluster_mismatch", detail: `cluster ${envelope.cluster}, this is ${cluster}` };
    const { body } = envelope;
    if (body.type === "Hello" && (body.nodeId !== peerId || body.cluster !== cluster || body.definitionHash !== this.hello?.definitionHash)) {
      return { reason: "unexpected_hello", detail: `a Hello for ${body.nodeId} that differs from the handshake` };
    }
    return undefined;
  }

  private onUndecodable(reason: DecodeFailureReason, detail: string): void {
    const peer = this.peerId ?? unknownPeerLabel;
    this.context.metrics.increment("messages_invalid_total", { reason, peer });
    this.logger.warn({ peer, reason, detail }, "invalid frame from peer; closing the connection");
    if (this.hello !== undefined) return;
    // A connection that never said Hello is also a refused handshake; tell the other side why.
    const goodbyeReason: GoodbyeReason = reason === "unsupported_version" ? "version_mismatch" : "malformed";
    this.context.metrics.increment("peer_connections_refused_total", { reason: goodbyeReason });
    this.connection.closeWith(this.context.handshake.goodbyeFrame(unknownPeerLabel, goodbyeReason, detail));
  }

  private refuseFrame(reason: string, detail: string): void {
    const peer = this.peerId ?? unknownPeerLabel;
    this.context.metrics.increment("messages_invalid_total", { reason, peer });
    this.logger.warn({ peer, reason, detail }, "invalid frame from peer; closing the connection");
    this.connection.closeWith(this.context.handshake.goodbyeFrame(peer, "malformed", `${reason}: ${detail}`));
  }

  private refuseConnection(claimedId: NodeId, reason: GoodbyeReason, detail: string): void {
    this.context.metrics.increment("peer_connections_refused_total", { reason });
    this.logger.warn({ claimedId, reason, detail }, "refused peer connection");
    this.connection.closeWith(this.context.handshake.goodbyeFrame(claimedId, reason, detail));
  }

  private onIdle(): void {
    this.context.metrics.increment("peer_connections_refused_total", { reason: "idle_timeout" });
    this.logger.warn({ peer: this.peerId, idleTimeoutMs: this.context.options.idleTimeoutMs }, "peer connection idle; closing it");
  }
}
