import type { Socket } from "node:net";
import { FrameParser, type DecodeFailureReason, type Envelope } from "@lockstep/protocol";

export type FramedConnectionOptions = {
  frameBytesMax: number;
  heartbeatIntervalMs: number;
  idleTimeoutMs: number;
};

export type FramedConnectionEvents = {
  /** A valid frame. Not called again once the connection is closing. */
  onEnvelope(envelope: Envelope): void;
  /** A frame that failed to decode. The connection closes right after (the handler may send a Goodbye first). */
  onInvalid(reason: DecodeFailureReason, detail: string): void;
  /** No frame arrived for `idleTimeoutMs`; the connection closes right after. */
  onIdle(): void;
  /** The socket is gone, for whatever reason. Called exactly once. */
  onClose(error: Error | undefined): void;
};

/** After `closeWith` ends the socket politely, it is destroyed if the other side has not closed within this time. */
const lingerMs = 1000;

/**
 * One socket speaking length-prefixed frames, in either direction. It owns what both ends of a
 * peer connection need: parsing every chunk with a `FrameParser` (bounded by `frameBytesMax`), a
 * heartbeat (the Hello re-sent when nothing else was written for `heartbeatIntervalMs`) and an
 * idle timeout (no frame received for `idleTimeoutMs` means the peer or the path is dead). One
 * interval timer per connection serves both, so the hot path only stores timestamps.
 */
export class FramedConnection {
  readonly closed: Promise<void>;
  private readonly parser: FrameParser;
  private readonly timer: NodeJS.Timeout;
  private lastReceivedMs = performance.now();
  private lastWrittenMs = performance.now();
  private heartbeatFrame: Uint8Array | undefined;
  private closing = false;

  constructor(
    readonly socket: Socket,
    private readonly options: FramedConnectionOptions,
    private readonly events: FramedConnectionEvents,
  ) {
    this.parser = new FrameParser({ frameBytesMax: options.frameBytesMax });
    let resolveClosed: () => void = () => undefined;
    this.closed = new Promise((resolve) => (resolveClosed = resolve));
    let socketError: Error | undefined;
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (error) => (socketError = error));
    socket.on("close", () => {
      this.closing = true;
      clearInterval(this.timer);
      events.onClose(socketError);
      resolveClosed();
    });
    this.timer = setInterval(() => this.onTimer(), options.heartbeatIntervalMs);
    this.timer.unref();
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /** Starts re-sending `frame` whenever nothing else was written for a heartbeat interval. */
  startHeartbeat(frame: Uint8Array): void {
    this.heartbeatFrame = frame;
  }

  /** `socket.write`'s answer: false means stop writing until the socket emits 'drain'. */
  write(bytes: Uint8Array): boolean {
    if (this.closing) return false;
    this.lastWrittenMs = performance.now();
    return this.socket.write(bytes);
  }

  /** Sends `finalFrame` (a Goodbye) if given, then closes; frames arriving meanwhile are ignored. */
  closeWith(finalFrame?: Uint8Array): void {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.timer);
    if (this.socket.destroyed) return;
    if (finalFrame === undefined || !this.socket.writable) {
      this.socket.destroy();
      return;
    }
    this.socket.end(finalFrame);
    setTimeout(() => this.socket.destroy(), lingerMs).unref();
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    for (const event of this.parser.push(chunk)) {
      if (!event.ok) {
        this.events.onInvalid(event.reason, event.detail);
        this.closeWith();
        return;
      }
      this.lastReceivedMs = performance.now();
      this.events.onEnvelope(event.value);
      if (this.closing) return;
    }
  }

  private onTimer(): void {
    if (this.closing) return;
    const nowMs = performance.now();
    if (nowMs - this.lastReceivedMs >= this.options.idleTimeoutMs) {
      this.events.onIdle();
      this.closeWith();
      return;
    }
    // The timer fires every heartbeat interval; a write since the last tick already proves liveness.
    if (this.heartbeatFrame !== undefined && nowMs - this.lastWrittenMs >= this.options.heartbeatIntervalMs * 0.9) {
      this.write(this.heartbeatFrame);
    }
  }
}
