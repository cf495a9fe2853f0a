import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import type { Logger, MetricsSink, TimerHandle } from "@lockstep/consensus";
import type { ConsensusEnvelope, DecodeFailureReason, Envelope, Hello, NodeId } from "@lockstep/protocol";
import { FramedConnection } from "./framed-connection.js";
import type { Handshake, PeerSession } from "./handshake.js";
import type { PeerRefusalReason } from "./peer-refusal.js";
import type { PeerTls } from "./peer-tls.js";
import type { ResolvedTcpTransportOptions } from "./tcp-transport-options.js";

/** The `peer` label before a connection has said who it is. */
export const unknownPeerLabel = "unknown";

export type InboundConnectionContext = {
  options: ResolvedTcpTransportOptions;
  /** The TLS identity in force now (it changes on reload; a connection keeps the one it was accepted with). */
  tls: PeerTls;
  handshake: Handshake;
  metrics: MetricsSink;
  logger: Logger;
  /** The connection proved to be `peerId`: the transport replaces any older connection from that peer. */
  onHandshake(connection: InboundConnection): void;
  deliver(envelope: ConsensusEnvelope, peerId: NodeId): void;
  onClose(connection: InboundConnection): void;
};

/**
 * An accepted connection, used only for receiving. TLS first (this node's certificate, the
 * peer's checked by `PeerTls.checkPeer`), then the first frame must be an acceptable Hello signed
 * for this session, all within `handshakeTimeoutMs` and `handshakeBytesMax`. After that every
 * frame must be a consensus message from that peer to this node (or the peer's Hello again, as a
 * heartbeat). Anything else is counted, logged and answered by closing this connection only.
 */
export class InboundConnection {
  readonly connection: FramedConnection;
  readonly socket: TLSSocket;
  private session: PeerSession | undefined;
  private hello: Hello | undefined;
  private deadline: TimerHandle | undefined;
  private refused = false;
  private secured = false;
  private readonly logger: Logger;

  constructor(
    raw: Socket,
    private readonly context: InboundConnectionContext,
  ) {
    const { options, tls } = context;
    this.logger = context.logger.child({ remote: `${raw.remoteAddress ?? "?"}:${raw.remotePort ?? "?"}` });
    raw.setNoDelay(true);
    raw.setKeepAlive(true, options.idleTimeoutMs);
    this.socket = new TLSSocket(raw, { isServer: true, secureContext: tls.secureContext, requestCert: true, rejectUnauthorized: false });
    this.connection = new FramedConnection(this.socket, options, {
      onEnvelope: (envelope) => this.onEnvelope(envelope),
      onInvalid: (reason, detail) => this.onUndecodable(reason, detail),
      onHandshakeTooLarge: (bytes) => this.count("handshake_too_large", `${bytes} bytes before the Hello was accepted (handshakeBytesMax ${options.handshakeBytesMax})`),
      onIdle: () => this.onIdle(),
      onClose: (error) => this.onClose(error),
    });
    this.deadline = options.clock.setTimeout(() => {
      this.deadline = undefined;
      this.refuseConnection("handshake_timeout", `no accepted Hello within ${options.handshakeTimeoutMs} ms`);
    }, options.handshakeTimeoutMs);
    this.socket.once("secure", () => this.onSecure());
  }

  get peerId(): NodeId | undefined {
    return this.hello?.nodeId;
  }

  /** The certificate the peer authenticated with, once TLS is done. */
  get peerCertificate(): PeerSession["certificate"] | undefined {
    return this.session?.certificate;
  }

  close(reason?: PeerRefusalReason, detail?: string): void {
    if (reason !== undefined) return this.refuseConnection(reason, detail ?? reason);
    this.connection.closeWith();
  }

  private onSecure(): void {
    this.secured = true;
    const check = this.context.tls.checkPeer(this.socket);
    if (!check.ok) return this.refuseConnection(check.reason, check.detail);
    this.session = { socket: this.socket, peerId: check.peerId, certificate: check.certificate };
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
    if (body.type === "Hello") return; // The peer's heartbeat: its arrival already reset the idle timer.
    this.context.metrics.increment("messages_received_total", { type: body.type, peer: peerId });
    this.context.deliver({ ...envelope, body }, peerId);
  }

  private onFirstFrame(envelope: Envelope): void {
    const { handshake, tls } = this.context;
    // Application data only flows after the TLS handshake, so a session exists unless it was refused.
    if (this.session === undefined) return this.refuseConnection("malformed", "a frame before the TLS handshake completed");
    const check = handshake.check(envelope, this.session);
    if (!check.ok) return this.refuseConnection(check.reason, check.detail);
    if (this.deadline !== undefined) this.context.options.clock.clearTimeout(this.deadline);
    this.deadline = undefined;
    this.hello = envelope.body.type === "Hello" ? envelope.body : undefined;
    const helloFrame = handshake.helloFrame(tls, this.socket, check.peerId);
    this.connection.write(helloFrame);
    this.connection.authenticated(helloFrame);
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
    this.refuseConnection(reason === "unsupported_version" ? "version_mismatch" : "malformed", detail);
  }

  private refuseFrame(reason: string, detail: string): void {
    const peer = this.peerId ?? unknownPeerLabel;
    this.context.metrics.increment("messages_invalid_total", { reason, peer });
    this.logger.warn({ peer, reason, detail }, "invalid frame from peer; closing the connection");
    this.connection.closeWith(this.context.handshake.goodbyeFrame(peer, "malformed", `${reason}: ${detail}`));
  }

  /** Counts once, logs, and closes; over an established TLS session the peer is told why in a Goodbye. */
  private refuseConnection(reason: PeerRefusalReason, detail: string): void {
    this.count(reason, detail);
    const goodbye = this.secured ? this.context.handshake.goodbyeFrame(this.session?.peerId ?? unknownPeerLabel, reason, detail) : undefined;
    this.connection.closeWith(goodbye);
  }

  private count(reason: PeerRefusalReason, detail: string): void {
    if (this.refused) return;
    this.refused = true;
    this.context.metrics.increment("peer_connections_refused_total", { reason });
    this.logger.warn({ reason, detail, claimedId: this.session?.peerId }, "refused peer connection");
  }

  private onIdle(): void {
    this.count("idle_timeout", `nothing received for ${this.context.options.idleTimeoutMs} ms`);
  }

  private onClose(error: Error | undefined): void {
    if (this.deadline !== undefined) this.context.options.clock.clearTimeout(this.deadline);
    this.deadline = undefined;
    // A TLS handshake that failed (a plaintext client, no shared version) ends here without a check.
    if (!this.secured && !this.refused) this.count("tls_failed", error?.message ?? "closed during the TLS handshake");
    // A record that fails TLS's integrity check (altered or lost on the path) ends the connection: count it like a bad frame.
    if (this.hello !== undefined && isTlsError(error)) {
      this.context.metrics.increment("messages_invalid_total", { reason: "tls_error", peer: this.hello.nodeId });
      this.logger.warn({ peer: this.hello.nodeId, error: error.message }, "TLS error on a peer connection; closed");
    }
    this.context.onClose(this);
  }
}

/** OpenSSL errors surface with codes like `ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC`. */
export function isTlsError(error: Error | undefined): error is Error & { code: string } {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && code.startsWith("ERR_SSL");
}
