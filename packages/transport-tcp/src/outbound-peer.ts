import { connect } from "node:net";
import type { Logger, MetricsSink } from "@lockstep/consensus";
import type { Envelope, NodeId } from "@lockstep/protocol";
import { FramedConnection } from "./framed-connection.js";
import type { Handshake } from "./handshake.js";
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
  handshake: Handshake;
  metrics: MetricsSink;
  logger: Logger;
  /** Called whenever this peer's connection opens (handshake done) or is lost. */
  onOpenChange(): void;
};

/**
 * The one outbound connection to a peer, used only for sending, and the bounded queue in front of
 * it. Messages wait in the queue while the connection is being (re)established or the socket
 * buffer is full; each turn of the event loop writes what is queued as one batch.
 */
export class OutboundPeer {
  private readonly queue: SendQueue;
  private readonly logger: Logger;
  private readonly labels: { peer: NodeId };
  private connection: FramedConnection | undefined;
  private open = false;
  private blocked = false;
  private reconnectAttempt = 0;
  private turnScheduled = false;
  private closed = false;
  private connectTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly peerId: NodeId,
    private readonly address: PeerAddress,
    private readonly context: OutboundPeerContext,
  ) {
    const { options } = context;
    this.queue = new SendQueue({ messagesMax: options.sendQueueMessagesMax, bytesMax: options.sendQueueBytesMax });
    this.logger = context.logger.child({ peer: peerId });
    this.labels = { peer: peerId };
  }

  get isOpen(): boolean {
    return this.open;
  }

  get queuedMessages(): number {
    return this.queue.length;
  }

  start(): void {
    this.connect();
  }

  enqueue(type: string, frame: Uint8Array): void {
    if (this.closed) return this.countFailures([{ frame, type, retries: 0 }], "transport_closed");
    const dropped = this.queue.push({ frame, type, retries: 0 });
    if (dropped.length > 0) this.countFailures(dropped, "queue_full");
    this.scheduleTurn();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.connectTimer);
    clearTimeout(this.reconnectTimer);
    clearInterval(this.retryTimer);
    this.countFailures(this.queue.clear(), "transport_closed");
    this.reportQueue();
    const connection = this.connection;
    if (connection === undefined) return;
    connection.socket.destroy();
    await connection.closed;
  }

  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(() => this.turn());
  }

  /** Runs once per event-loop turn in which something was queued: one batched write, one gauge update. */
  private turn(): void {
    this.turnScheduled = false;
    if (this.closed) return;
    if (this.open) this.flush();
    else if (this.queue.length > 0) this.startRetryTimer();
    this.reportQueue();
  }

  private flush(): void {
    const connection = this.connection;
    while (this.open && !this.blocked && connection !== undefined && !connection.isClosing && this.queue.length > 0) {
      const batch = this.queue.takeBatch(writeBatchBytesMax);
      const bytes = batch.length === 1 ? batch[0]!.frame : Buffer.concat(batch.map((item) => item.frame));
      // Frames handed to the socket count as sent: from here on loss is the network's, as with any transport.
      this.blocked = !connection.write(bytes);
      this.countByType(batch, (type, count) => this.context.metrics.increment("messages_sent_total", { type, ...this.labels }, count));
    }
  }

  private startRetryTimer(): void {
    if (this.retryTimer !== undefined) return;
    this.retryTimer = setInterval(() => this.onRetryTick(), this.context.options.deliveryRetryDelayMs);
  }

  private stopRetryTimer(): void {
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
  }

  /**
   * Each tick while the connection is down is one delivery retry for every waiting message; a
   * message out of retries is dropped. Consensus resends what still matters, so a bounded wait
   * beats holding stale messages for a peer that may be gone for minutes.
   */
  private onRetryTick(): void {
    if (this.open || this.queue.length === 0) {
      this.stopRetryTimer();
      if (this.open) this.scheduleTurn();
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
    if (this.queue.length === 0) this.stopRetryTimer();
    this.reportQueue();
  }

  private connect(): void {
    this.reconnectTimer = undefined;
    if (this.closed) return;
    const { options, handshake } = this.context;
    const socket = connect({ host: this.address.host, port: this.address.port });
    const connection = new FramedConnection(socket, options, {
      onEnvelope: (envelope) => this.onEnvelope(connection, envelope),
      onInvalid: (reason, detail) => this.onInvalidFrame(reason, detail),
      onIdle: () => this.onIdle(),
      onClose: (error) => this.onClose(connection, error),
    });
    this.connection = connection;
    this.connectTimer = setTimeout(() => {
      this.logger.debug({ connectTimeoutMs: options.connectTimeoutMs }, "peer connection attempt timed out");
      connection.closeWith();
    }, options.connectTimeoutMs);
    socket.once("connect", () => {
      // Consensus messages are small and latency-bound: never wait for Nagle. Keepalive lets the
      // kernel notice a vanished host even when neither side has anything to say.
      socket.setNoDelay(true);
      socket.setKeepAlive(true, options.idleTimeoutMs);
      connection.write(handshake.helloFrame(this.peerId));
    });
    socket.on("drain", () => {
      this.blocked = false;
      this.scheduleTurn();
    });
  }

  private onEnvelope(connection: FramedConnection, envelope: Envelope): void {
    const { body } = envelope;
    if (body.type === "Goodbye") {
      this.logger.warn({ reason: body.reason, detail: body.detail }, "peer refused or closed the connection");
      connection.closeWith();
      return;
    }
    if (!this.open) return this.onHandshake(connection, envelope);
    // After the handshake the accepting side sends only its Hello, as a heartbeat.
    if (body.type === "Hello" && envelope.from === this.peerId && body.nodeId === this.peerId) return;
    this.onInvalidFrame("unexpected_message", `a ${body.type} on the sending connection to ${this.peerId}`);
    connection.closeWith();
  }

  private onHandshake(connection: FramedConnection, envelope: Envelope): void {
    const { handshake, metrics } = this.context;
    const check = handshake.check(envelope, this.peerId);
    if (!check.ok) {
      metrics.increment("peer_connections_refused_total", { reason: check.reason });
      this.logger.warn({ reason: check.reason, detail: check.detail }, "refused peer's Hello on outbound connection");
      connection.closeWith(handshake.goodbyeFrame(envelope.from, check.reason, check.detail));
      return;
    }
    clearTimeout(this.connectTimer);
    this.open = true;
    this.reconnectAttempt = 0;
    connection.startHeartbeat(handshake.helloFrame(this.peerId));
    this.logger.info({ address: this.address }, "connected to peer");
    this.context.onOpenChange();
    this.stopRetryTimer();
    this.scheduleTurn();
  }

  private onInvalidFrame(reason: string, detail: string): void {
    this.context.metrics.increment("messages_invalid_total", { reason, ...this.labels });
    this.logger.warn({ reason, detail }, "invalid frame from peer; closing the connection");
  }

  private onIdle(): void {
    this.context.metrics.increment("peer_connections_refused_total", { reason: "idle_timeout" });
    this.logger.warn({ idleTimeoutMs: this.context.options.idleTimeoutMs }, "peer connection idle; closing it");
  }

  private onClose(connection: FramedConnection, error: Error | undefined): void {
    if (this.connection !== connection) return;
    clearTimeout(this.connectTimer);
    const wasOpen = this.open;
    this.connection = undefined;
    this.open = false;
    this.blocked = false;
    if (this.closed) return;
    if (wasOpen) {
      this.logger.info({ error: error?.message }, "lost connection to peer");
      this.context.onOpenChange();
    } else {
      this.logger.debug({ error: error?.message, attempt: this.reconnectAttempt }, "could not connect to peer");
    }
    const delayMs = this.context.options.reconnectDelay(this.reconnectAttempt);
    this.reconnectAttempt++;
    this.reconnectTimer = setTimeout(() => this.connect(), delayMs);
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
