import { isIP } from "node:net";
import { connect, type TLSSocket } from "node:tls";
import type { Logger, MetricsSink, TimerHandle } from "@lockstep/consensus";
import type { Envelope, NodeId } from "@lockstep/protocol";
import { FramedConnection } from "./framed-connection.js";
import type { Handshake, PeerSession } from "./handshake.js";
import { isTlsError } from "./inbound-connection.js";
import { assertTransition, type OutboundState } from "./outbound-state.js";
import type { PeerRefusalReason } from "./peer-refusal.js";
import type { PeerTls } from "./peer-tls.js";
import { SendQueue, type QueuedFrame } from "./send-queue.js";
import type { PeerAddress, ResolvedTcpTransportOptions } from "./tcp-transport-options.js";

/**
 * Frames concatenated into one `socket.write`. Large enough that a busy turn is one syscall,
 * small enough that a slow peer never has more than this beyond the socket's own buffer.
 */
export const writeBatchBytesMax = 1024 * 1024;

/** Why a message never reached the wire: the `reason` label of `message_delivery_failures_total`. */
export type DeliveryFailureReason = "queue_full" | "peer_unreachable" | "oversized" | "unknown_peer" | "transport_closed";

export type OutboundPeerContext = {
  options: ResolvedTcpTransportOptions;
  /** The TLS identity in force now; each dial takes the current one, so a reload applies to the next dial. */
  tls(): PeerTls;
  handshake: Handshake;
  metrics: MetricsSink;
  logger: Logger;
  /** Called whenever this peer's connection opens (handshake done) or is lost. */
  onOpenChange(): void;
};

/**
 * The one outbound connection to a peer, used only for sending, and the bounded queue in front of
 * it. The connection's lifecycle is one `OutboundState` (see there); every timer comes from the
 * injected clock. Messages wait in the queue while the connection is being (re)established or the
 * socket buffer is full; each turn of the event loop writes what is queued as one batch.
 */
export class OutboundPeer {
  private readonly queue: SendQueue;
  private readonly logger: Logger;
  private readonly labels: { peer: NodeId };
  private state: OutboundState = { kind: "idle" };
  private reconnectAttempt = 0;
  /** Delivery retries belong to the queue, not to the connection: they tick while it is not open. */
  private retryTimer: TimerHandle | undefined;
  private turnScheduled = false;

  constructor(
    readonly peerId: NodeId,
    readonly address: PeerAddress,
    private readonly context: OutboundPeerContext,
  ) {
    const { options } = context;
    this.queue = new SendQueue({ messagesMax: options.sendQueueMessagesMax, bytesMax: options.sendQueueBytesMax });
    this.logger = context.logger.child({ peer: peerId });
    this.labels = { peer: peerId };
  }

  get isOpen(): boolean {
    return this.state.kind === "open";
  }

  /** The lifecycle state's name, for tests and diagnostics. */
  get stateKind(): OutboundState["kind"] {
    return this.state.kind;
  }

  /** The certificate the peer presented on the open connection. */
  get peerCertificate(): PeerSession["certificate"] | undefined {
    return this.state.kind === "open" ? this.state.session.certificate : undefined;
  }

  get queuedMessages(): number {
    return this.queue.length;
  }

  start(): void {
    this.connect();
  }

  enqueue(type: string, frame: Uint8Array): void {
    if (this.state.kind === "closed") return this.countFailures([{ frame, type, retries: 0 }], "transport_closed");
    const dropped = this.queue.push({ frame, type, retries: 0 });
    if (dropped.length > 0) this.countFailures(dropped, "queue_full");
    this.scheduleTurn();
  }

  /**
   * Writes what is queued now, in one batch, instead of at this turn's end (`turn` still runs and
   * finds nothing left). A peer not connected keeps its queue for the retry loop, as always.
   */
  flushNow(): void {
    if (this.state.kind === "open" && this.queue.length > 0) this.flush();
  }

  /** Closes the current connection (it is redialed as after any loss), e.g. when a reload no longer trusts its certificate. */
  drop(reason: PeerRefusalReason, detail: string): void {
    if (this.state.kind !== "open" && this.state.kind !== "handshaking") return;
    this.refuse(this.state.connection, reason, detail);
  }

  async close(): Promise<void> {
    const previous = this.state;
    if (previous.kind === "closed") return;
    this.transition({ kind: "closed" });
    this.clearStateTimer(previous);
    this.stopRetryTimer();
    this.countFailures(this.queue.clear(), "transport_closed");
    this.reportQueue();
    if (previous.kind === "connecting" || previous.kind === "handshaking" || previous.kind === "open" || previous.kind === "closing") {
      previous.connection.socket.destroy();
      await previous.connection.closed;
    }
  }

  private transition(next: OutboundState): void {
    assertTransition(this.state.kind, next.kind);
    this.state = next;
  }

  private clearStateTimer(state: OutboundState): void {
    const { clock } = this.context.options;
    if (state.kind === "connecting" || state.kind === "handshaking") clock.clearTimeout(state.deadline);
    if (state.kind === "backoff") clock.clearTimeout(state.timer);
  }

  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(() => this.turn());
  }

  /** Runs once per event-loop turn in which something was queued: one batched write, one gauge update. */
  private turn(): void {
    this.turnScheduled = false;
    if (this.state.kind === "closed") return;
    if (this.state.kind === "open") this.flush();
    else if (this.queue.length > 0) this.startRetryTimer();
    this.reportQueue();
  }

  private flush(): void {
    while (this.state.kind === "open" && !this.state.blocked && !this.state.connection.isClosing && this.queue.length > 0) {
      const batch = this.queue.takeBatch(writeBatchBytesMax);
      const bytes = batch.length === 1 ? batch[0]!.frame : Buffer.concat(batch.map((item) => item.frame));
      // Frames handed to the socket count as sent: from here on loss is the network's, as with any transport.
      this.state.blocked = !this.state.connection.write(bytes);
      this.countByType(batch, (type, count) => this.context.metrics.increment("messages_sent_total", { type, ...this.labels }, count));
    }
  }

  private startRetryTimer(): void {
    if (this.retryTimer !== undefined) return;
    this.retryTimer = this.context.options.clock.setTimeout(() => this.onRetryTick(), this.context.options.deliveryRetryDelayMs);
  }

  private stopRetryTimer(): void {
    if (this.retryTimer !== undefined) this.context.options.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /**
   * Each tick while the connection is down is one delivery retry for every waiting message; a
   * message out of retries is dropped. Consensus resends what still matters, so a bounded wait
   * beats holding stale messages for a peer that may be gone for minutes.
   */
  private onRetryTick(): void {
    this.retryTimer = undefined;
    if (this.state.kind === "open" || this.queue.length === 0) {
      if (this.state.kind === "open") this.scheduleTurn();
      return;
    }
    const retried: QueuedFrame[] = [];
    const exhausted = this.queue.retain((item) => {
      if (item.retries >= this.context.options.deliveryRetryAttemptsMax) return false;
      item.retries++;
      retried.push(item);
      return true;
    });
    this.countByType(retried, (type, count) => this.context.metrics.increment("message_retries_total", { type, ...this.labels }, count));
    if (exhausted.length > 0) this.countFailures(exhausted, "peer_unreachable");
    if (this.queue.length > 0) this.startRetryTimer();
    this.reportQueue();
  }

  private connect(): void {
    if (this.state.kind === "closed") return;
    const { options } = this.context;
    const tls = this.context.tls();
    const socket = connect({
      host: this.address.host,
      port: this.address.port,
      secureContext: tls.secureContext,
      // The peer's certificate is checked by PeerTls.checkPeer (chain, expiry, member id), not by
      // host name: a member is who its certificate names, wherever it runs.
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
      ...(isIP(this.address.host) === 0 ? { servername: this.address.host } : {}),
    });
    const connection = new FramedConnection(socket, options, {
      onEnvelope: (envelope) => this.onEnvelope(connection, envelope),
      onInvalid: (reason, detail) => this.onInvalidFrame(connection, reason, detail),
      onHandshakeTooLarge: (bytes) => this.countRefusal("handshake_too_large", `${bytes} bytes before the peer's Hello`),
      onIdle: () => this.countRefusal("idle_timeout", `nothing received for ${options.idleTimeoutMs} ms`),
      onClose: (error) => this.onClose(connection, error),
    });
    const deadline = options.clock.setTimeout(() => {
      this.logger.debug({ connectTimeoutMs: options.connectTimeoutMs }, "peer connection attempt timed out");
      this.closeConnection(connection);
    }, options.connectTimeoutMs);
    this.transition({ kind: "connecting", socket, connection, deadline });
    socket.once("secureConnect", () => this.onSecureConnect(socket, connection, tls));
    socket.on("drain", () => {
      if (this.state.kind !== "open" || this.state.connection !== connection) return;
      this.state.blocked = false;
      this.scheduleTurn();
    });
  }

  private onSecureConnect(socket: TLSSocket, connection: FramedConnection, tls: PeerTls): void {
    const state = this.state;
    if (state.kind !== "connecting" || state.connection !== connection) return;
    // Consensus messages are small and latency-bound: never wait for Nagle. Keepalive lets the
    // kernel notice a vanished host even when neither side has anything to say.
    socket.setNoDelay(true);
    socket.setKeepAlive(true, this.context.options.idleTimeoutMs);
    const check = tls.checkPeer(socket, this.peerId);
    if (!check.ok) return this.refuse(connection, check.reason, check.detail);
    const session: PeerSession = { socket, peerId: check.peerId, certificate: check.certificate };
    const helloFrame = this.context.handshake.helloFrame(tls, socket, this.peerId);
    this.transition({ kind: "handshaking", socket, connection, deadline: state.deadline, session, helloFrame });
    connection.write(helloFrame);
  }

  private onEnvelope(connection: FramedConnection, envelope: Envelope): void {
    const state = this.state;
    if ((state.kind !== "handshaking" && state.kind !== "open") || state.connection !== connection) return;
    const { body } = envelope;
    if (body.type === "Goodbye") {
      this.logger.warn({ reason: body.reason, detail: body.detail }, "peer refused or closed the connection");
      return this.closeConnection(connection);
    }
    if (state.kind === "handshaking") return this.onHandshake(state, envelope);
    // After the handshake the accepting side sends only its Hello, as a heartbeat.
    if (body.type === "Hello" && envelope.from === this.peerId && body.nodeId === this.peerId) return;
    this.onInvalidFrame(connection, "unexpected_message", `a ${body.type} on the sending connection to ${this.peerId}`);
    this.closeConnection(connection);
  }

  private onHandshake(state: Extract<OutboundState, { kind: "handshaking" }>, envelope: Envelope): void {
    const { handshake, options } = this.context;
    const check = handshake.check(envelope, state.session);
    if (!check.ok) return this.refuse(state.connection, check.reason, check.detail);
    options.clock.clearTimeout(state.deadline);
    this.transition({ kind: "open", socket: state.socket, connection: state.connection, session: state.session, blocked: false });
    this.reconnectAttempt = 0;
    state.connection.authenticated(state.helloFrame);
    this.logger.info({ address: this.address }, "connected to peer");
    this.context.onOpenChange();
    this.stopRetryTimer();
    this.scheduleTurn();
  }

  private refuse(connection: FramedConnection, reason: PeerRefusalReason, detail: string): void {
    this.countRefusal(reason, detail);
    this.closeConnection(connection, this.context.handshake.goodbyeFrame(this.peerId, reason, detail));
  }

  private countRefusal(reason: PeerRefusalReason, detail: string): void {
    this.context.metrics.increment("peer_connections_refused_total", { reason });
    this.logger.warn({ reason, detail }, "refused peer on outbound connection");
  }

  private onInvalidFrame(connection: FramedConnection, reason: string, detail: string): void {
    if (this.state.kind === "closed") return;
    this.context.metrics.increment("messages_invalid_total", { reason, ...this.labels });
    this.logger.warn({ reason, detail }, "invalid frame from peer; closing the connection");
    this.closeConnection(connection);
  }

  /** Moves to `closing` (if this is still the current connection) and closes the socket. */
  private closeConnection(connection: FramedConnection, finalFrame?: Uint8Array): void {
    const state = this.state;
    if ((state.kind === "connecting" || state.kind === "handshaking" || state.kind === "open") && state.connection === connection) {
      this.clearStateTimer(state);
      this.transition({ kind: "closing", connection, wasOpen: state.kind === "open" });
    }
    connection.closeWith(finalFrame);
  }

  private onClose(connection: FramedConnection, error: Error | undefined): void {
    const state = this.state;
    if (state.kind === "closed" || state.kind === "idle" || state.kind === "backoff") return;
    if (state.connection !== connection) return;
    this.clearStateTimer(state);
    const wasOpen = state.kind === "open" || (state.kind === "closing" && state.wasOpen);
    if (wasOpen && isTlsError(error)) this.context.metrics.increment("messages_invalid_total", { reason: "tls_error", ...this.labels });
    if (wasOpen) {
      this.logger.info({ error: error?.message }, "lost connection to peer");
    } else {
      this.logger.debug({ error: error?.message, attempt: this.reconnectAttempt }, "could not connect to peer");
    }
    if (state.kind !== "closing") this.transition({ kind: "closing", connection, wasOpen });
    const delayMs = this.context.options.reconnectDelay(this.reconnectAttempt);
    this.reconnectAttempt++;
    const timer = this.context.options.clock.setTimeout(() => this.connect(), delayMs);
    this.transition({ kind: "backoff", timer, delayMs });
    if (wasOpen) this.context.onOpenChange();
    if (this.queue.length > 0) this.startRetryTimer();
  }

  private countFailures(items: readonly QueuedFrame[], reason: DeliveryFailureReason): void {
    this.countByType(items, (type, count) =>
      this.context.metrics.increment("message_delivery_failures_total", { type, ...this.labels, reason }, count),
    );
  }

  private reportQueue(): void {
    this.context.metrics.set("send_queue_messages", this.labels, this.queue.length);
  }

  /** One metric call per message type rather than per message: batches hold hundreds of frames. */
  private countByType(items: readonly QueuedFrame[], report: (type: string, count: number) => void): void {
    if (items.length === 1) return report(items[0]!.type, 1);
    const counts = new Map<string, number>();
    for (const item of items) counts.set(item.type, (counts.get(item.type) ?? 0) + 1);
    for (const [type, count] of counts) report(type, count);
  }
}
