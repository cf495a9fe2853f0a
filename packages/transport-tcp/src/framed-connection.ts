import type { Socket } from "node:net";
import type { Clock, TimerHandle } from "@lockstep/consensus";
import { FrameParser, type DecodeFailureReason, type Envelope } from "@lockstep/protocol";

export type FramedConnectionOptions = {
  frameBytesMax: number;
  heartbeatIntervalMs: number;
  idleTimeoutMs: number;
  /** Bytes the other side may send before `authenticated()`: a Hello fits many times over. */
  handshakeBytesMax: number;
  clock: Clock;
};

export type FramedConnectionEvents = {
  /** A valid frame. Not called again once the connection is closing. */
  onEnvelope(envelope: Envelope): void;
  /** A frame that failed to decode. The connection closes right after (the handler may send a Goodbye first). */
  onInvalid(reason: DecodeFailureReason, detail: string): void;
  /** More than `handshakeBytesMax` arrived before the peer was authenticated; the connection closes right after. */
  onHandshakeTooLarge(bytes: number): void;
  /** No frame arrived for `idleTimeoutMs` after authentication; the connection closes right after. */
  onIdle(): void;
  /** The socket is gone, for whatever reason. Called exactly once. */
  onClose(error: Error | undefined): void;
};

/** After `closeWith` ends the socket politely, it is destroyed if the other side has not closed within this time. */
const lingerMs = 1000;

/**
 * One socket (a TLS socket on the peer port) speaking length-prefixed frames. It owns what both
 * ends of a peer connection need: parsing every chunk with a `FrameParser`; until the peer is
 * authenticated, a budget of `handshakeBytesMax` bytes (so a stranger cannot make this node
 * buffer a 4 MiB "Hello"); after it, a heartbeat (the Hello re-sent when nothing else was written
 * for `heartbeatIntervalMs`) and an idle timeout (no frame for `idleTimeoutMs` means the peer or
 * the path is dead). One timer per connection, from the injected clock, serves both, so the hot
 * path only stores timestamps and tests can run it on virtual time.
 */
export class FramedConnection {
  readonly closed: Promise<void>;
  private readonly parser: FrameParser;
  private readonly clock: Clock;
  private timer: TimerHandle | undefined;
  private lastReceivedMs: number;
  private lastWrittenMs: number;
  private heartbeatFrame: Uint8Array | undefined;
  private bytesBeforeAuthentication = 0;
  private closing = false;

  constructor(
    readonly socket: Socket,
    private readonly options: FramedConnectionOptions,
    private readonly events: FramedConnectionEvents,
  ) {
    this.clock = options.clock;
    this.lastReceivedMs = this.clock.nowMs();
    this.lastWrittenMs = this.lastReceivedMs;
    this.parser = new FrameParser({ frameBytesMax: options.frameBytesMax });
    let resolveClosed: () => void = () => undefined;
    this.closed = new Promise((resolve) => (resolveClosed = resolve));
    let socketError: Error | undefined;
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (error) => (socketError ??= error));
    socket.on("close", () => {
      this.closing = true;
      this.stopTimer();
      events.onClose(socketError);
      resolveClosed();
    });
    this.armTimer();
  }

  get isClosing(): boolean {
    return this.closing;
  }

  get isAuthenticated(): boolean {
    return this.heartbeatFrame !== undefined;
  }

  /**
   * The other side proved who it is: lift the handshake byte budget, start watching for
   * idleness, and re-send `heartbeatFrame` whenever nothing else was written for an interval.
   */
  authenticated(heartbeatFrame: Uint8Array): void {
    this.heartbeatFrame = heartbeatFrame;
    this.lastReceivedMs = this.clock.nowMs();
  }

  /** `socket.write`'s answer: false means stop writing until the socket emits 'drain'. */
  write(bytes: Uint8Array): boolean {
    if (this.closing) return false;
    this.lastWrittenMs = this.clock.nowMs();
    return this.socket.write(bytes);
  }

  /** Sends `finalFrame` (a Goodbye) if given, then closes; frames arriving meanwhile are ignored. */
  closeWith(finalFrame?: Uint8Array): void {
    if (this.closing) return;
    this.closing = true;
    this.stopTimer();
    if (this.socket.destroyed) return;
    if (finalFrame === undefined || !this.socket.writable) {
      this.socket.destroy();
      return;
    }
    this.socket.end(finalFrame);
    const linger = setTimeout(() => this.socket.destroy(), lingerMs);
    linger.unref();
    this.socket.once("close", () => clearTimeout(linger));
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    if (!this.isAuthenticated) {
      // Counted before parsing: the parser never holds more than the budget for a stranger.
      this.bytesBeforeAuthentication += chunk.byteLength;
      if (this.bytesBeforeAuthentication > this.options.handshakeBytesMax) {
        this.events.onHandshakeTooLarge(this.bytesBeforeAuthentication);
        this.closeWith();
        return;
      }
    }
    for (const event of this.parser.push(chunk)) {
      if (!event.ok) {
        this.events.onInvalid(event.reason, event.detail);
        this.closeWith();
        return;
      }
      this.lastReceivedMs = this.clock.nowMs();
      this.events.onEnvelope(event.value);
      if (this.closing) return;
    }
  }

  private armTimer(): void {
    this.timer = this.clock.setTimeout(() => this.onTimer(), this.options.heartbeatIntervalMs);
  }

  private stopTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.closing) return;
    // Before authentication the owner's handshake deadline bounds the connection's life.
    if (this.heartbeatFrame !== undefined) {
      const nowMs = this.clock.nowMs();
      if (nowMs - this.lastReceivedMs >= this.options.idleTimeoutMs) {
        this.events.onIdle();
        this.closeWith();
        return;
      }
      // The timer fires every heartbeat interval; a write since the last tick already proves liveness.
      if (nowMs - this.lastWrittenMs >= this.options.heartbeatIntervalMs * 0.9) this.write(this.heartbeatFrame);
    }
    this.armTimer();
  }
}
