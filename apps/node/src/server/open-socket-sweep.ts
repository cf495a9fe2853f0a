import type { IncomingMessage } from "node:http";
import type { Refusal } from "./client-guard.js";
import type { CountClientRefusal } from "./client-refusals.js";

/** The WebSocket routes whose sockets outlive the request that admitted them. */
export type OpenSocketStream = "watch" | "dashboard" | "rpc";

/** One open WebSocket, with what it was admitted with and how to end it. */
export interface TrackedSocket {
  readonly stream: OpenSocketStream;
  /** The upgrade request: its token (header or subprotocol), path and TLS socket are checked again. */
  readonly upgrade: IncomingMessage;
  /** Ends the socket because its credentials no longer hold; called at most once. */
  end(refusal: Refusal): void;
}

export interface OpenSocketSweepOptions {
  /** `ClientGuard.recheckOpenSocket`: null while the socket may stay. */
  recheck(upgrade: IncomingMessage, nowMs: number): Refusal | null;
  countRefusal: CountClientRefusal;
  /** How often every open socket is checked, whatever happened (certificate expiry, a snapshot that replaced the token table). */
  intervalMs: number;
  nowMs(): number;
  /** Told about each socket ended (for the log). */
  onEnded?: (stream: OpenSocketStream, refusal: Refusal) => void;
}

/**
 * WebSocket close codes for a socket whose credentials stopped holding: the HTTP status a new
 * request would get, in the range RFC 6455 §7.4.2 leaves to applications.
 */
export const closeCodeUnauthenticated = 4401;
export const closeCodeForbidden = 4403;
/** RFC 6455 §5.5: a close frame's payload is at most 125 bytes, two of them the code. */
const closeReasonBytesMax = 123;

/**
 * A token is checked when a socket opens; this keeps checking it while the socket lives, so that
 * a revoked token (or one whose role or prefixes no longer cover the route, or a client
 * certificate that expired) stops streaming and writing. Every tracked socket is checked soon
 * after each applied token change (`checkSoon`, on the next turn of the event loop) and every
 * `intervalMs` in any case. The set is bounded by the routes' own limits (`watchClientsMax`,
 * `dashboardClientsMax`, `httpConnectionsMax` for `/v1/rpc`).
 */
export class OpenSocketSweep {
  private readonly sockets = new Set<TrackedSocket>();
  private timer: NodeJS.Timeout | undefined;
  private scheduled: NodeJS.Immediate | undefined;

  constructor(private readonly options: OpenSocketSweepOptions) {}

  get size(): number {
    return this.sockets.size;
  }

  /** Starts checking `socket`; the returned function stops (call it when the socket closes). */
  track(socket: TrackedSocket): () => void {
    this.sockets.add(socket);
    return () => this.sockets.delete(socket);
  }

  /** Checks every socket on the next turn of the event loop; several calls in one turn check once. */
  checkSoon(): void {
    this.scheduled ??= setImmediate(() => {
      this.scheduled = undefined;
      this.checkNow();
    });
  }

  /** Checks every socket now and ends those refused; returns how many it ended. */
  checkNow(): number {
    const nowMs = this.options.nowMs();
    let ended = 0;
    for (const socket of [...this.sockets]) {
      const refusal = this.options.recheck(socket.upgrade, nowMs);
      if (refusal === null) continue;
      this.sockets.delete(socket);
      this.options.countRefusal(refusal.reason);
      this.options.onEnded?.(socket.stream, refusal);
      socket.end(refusal);
      ended++;
    }
    return ended;
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.checkNow(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.sockets.clear();
  }
}

/** The close frame for a refused socket: 4401 or 4403, and `reason: message` cut to what a frame carries. */
export function refusalCloseFrame(refusal: Refusal): { code: number; reason: string } {
  const code = refusal.code === "forbidden" ? closeCodeForbidden : closeCodeUnauthenticated;
  const characters = Array.from(`${refusal.reason}: ${refusal.message}`);
  while (Buffer.byteLength(characters.join(""), "utf8") > closeReasonBytesMax) characters.pop();
  return { code, reason: characters.join("") };
}
