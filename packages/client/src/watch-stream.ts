import type { WatchEvent } from "@lockstep/protocol";
import WebSocket from "ws";
import type { ResolvedClientOptions } from "./client-options.js";
import type { EndpointRouter } from "./endpoint-router.js";
import { LockstepError } from "./lockstep-error.js";
import { computeRetryDelayMs } from "./retry-delay.js";
import { decodeWatchMessage, watchUrl } from "./watch-message.js";

export interface WatchOptions {
  /** The first revision to deliver (inclusive). Default: whatever commits after the call. */
  readonly from?: number;
  /** Called once per committed transition, in revision order, never twice for one revision. */
  readonly onEvent: (event: WatchEvent) => void;
  /** Called once if the watch stops on its own (see `WatchHandle.stopped`). */
  readonly onError?: (error: LockstepError) => void;
}

export interface WatchHandle {
  /** Stops the watch; no event is delivered after it returns. */
  close(): void;
  /** The revision of the last delivered event (or the revision the watch started after). */
  readonly lastRevision: number;
  /**
   * Settles when the watch stops: undefined after `close()`, or the error that stopped it
   * (`compacted`, `bad_request`, `unauthenticated` or `forbidden` when the node ended it because
   * its token was revoked, `protocol`, or `unavailable` once reconnecting failed
   * `watchReconnectAttemptsMax` times in a row). Never rejects.
   */
  readonly stopped: Promise<LockstepError | undefined>;
}

export interface WatchDependencies {
  readonly options: ResolvedClientOptions;
  readonly router: EndpointRouter;
  /** The store's current revision, read linearizably, for a watch without `from`. */
  readonly currentRevision: () => Promise<number>;
}

/** A watch message larger than this is refused by the socket (closing it, then resuming). */
const watchMessageBytesMax = 1024 * 1024;
/** A connection that lived this long was healthy: its loss starts the backoff afresh. */
const connectionStableMs = 1_000;

export class WatchStream implements WatchHandle {
  readonly stopped: Promise<LockstepError | undefined>;
  readonly #dependencies: WatchDependencies;
  readonly #watch: WatchOptions;
  #resolveStopped: (error: LockstepError | undefined) => void = () => undefined;
  #lastRevision: number;
  #socket: WebSocket | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Consecutive connections that failed or did not last; bounded by `watchReconnectAttemptsMax`. */
  #failures = 0;
  /** Rotates through the endpoints, one step per lost connection. */
  #endpointTurn = 0;

  constructor(dependencies: WatchDependencies, watch: WatchOptions) {
    this.#dependencies = dependencies;
    this.#watch = watch;
    this.#lastRevision = watch.from === undefined ? 0 : Math.max(watch.from - 1, 0);
    this.stopped = new Promise((resolve) => {
      this.#resolveStopped = resolve;
    });
    void this.#start();
  }

  get lastRevision(): number {
    return this.#lastRevision;
  }

  close(): void {
    this.#stop(undefined);
  }

  async #start(): Promise<void> {
    if (this.#watch.from === undefined) {
      try {
        this.#lastRevision = await this.#dependencies.currentRevision();
      } catch (error) {
        this.#stop(error instanceof LockstepError ? error : new LockstepError("unavailable", String(error), { cause: error }));
        return;
      }
    }
    this.#connect();
  }

  #connect(): void {
    if (this.#closed) return;
    const candidates = this.#dependencies.router.candidates();
    const endpoint = candidates[this.#endpointTurn % candidates.length] ?? candidates[0] ?? "";
    const socket = new WebSocket(watchUrl(endpoint, this.#lastRevision + 1), {
      maxPayload: watchMessageBytesMax,
      handshakeTimeout: this.#dependencies.options.requestTimeoutMs,
      ...(this.#dependencies.options.token === undefined ? {} : { headers: { authorization: `Bearer ${this.#dependencies.options.token}` } }),
      ...(this.#dependencies.options.ca === undefined ? {} : { ca: this.#dependencies.options.ca }),
      ...(this.#dependencies.options.cert === undefined ? {} : { cert: this.#dependencies.options.cert, key: this.#dependencies.options.key }),
    });
    this.#socket = socket;
    let openedAtMs: number | undefined;
    let overloaded = false;
    let awaitingPong = false;
    socket.on("open", () => {
      openedAtMs = Date.now();
      // A peer that vanished without a FIN is noticed only by a missing pong.
      this.#pingTimer = setInterval(() => {
        if (awaitingPong) {
          socket.terminate();
          return;
        }
        awaitingPong = true;
        socket.ping();
      }, this.#dependencies.options.watchPingIntervalMs);
    });
    socket.on("pong", () => {
      awaitingPong = false;
    });
    socket.on("message", (data) => {
      if (this.#onMessage(rawDataText(data)) === "overloaded") overloaded = true;
    });
    // Every failure is followed by "close", which decides what to do; this only keeps ws quiet.
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearInterval(this.#pingTimer);
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      const stable = openedAtMs !== undefined && !overloaded && Date.now() - openedAtMs >= connectionStableMs;
      this.#scheduleReconnect(stable);
    });
  }

  #onMessage(text: string): "ok" | "overloaded" {
    if (this.#closed) return "ok";
    const decoded = decodeWatchMessage(text);
    switch (decoded.kind) {
      case "event":
        // A resumed stream may repeat what we already have; the revision tells.
        if (decoded.event.revision <= this.#lastRevision) return "ok";
        this.#lastRevision = decoded.event.revision;
        this.#watch.onEvent(decoded.event);
        return "ok";
      case "error":
        if (decoded.error.code === "overloaded") {
          this.#socket?.terminate();
          return "overloaded";
        }
        this.#stop(watchError(decoded.error.code, decoded.error.message, decoded.error.oldestRevision));
        return "ok";
      case "invalid":
        this.#stop(new LockstepError("protocol", decoded.reason));
        return "ok";
    }
  }

  #scheduleReconnect(stable: boolean): void {
    if (this.#closed) return;
    this.#failures = stable ? 1 : this.#failures + 1;
    this.#endpointTurn += 1;
    const options = this.#dependencies.options;
    if (this.#failures > options.watchReconnectAttemptsMax) {
      this.#stop(new LockstepError("unavailable", `watch: ${this.#failures} connections in a row failed`));
      return;
    }
    const delayMs = computeRetryDelayMs({ ...options, retryNumber: this.#failures });
    this.#reconnectTimer = setTimeout(() => this.#connect(), delayMs);
  }

  #stop(error: LockstepError | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    clearInterval(this.#pingTimer);
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.terminate();
    if (error !== undefined) this.#watch.onError?.(error);
    this.#resolveStopped(error);
  }
}

/** An error the server ended the watch with: none of them gets better by reconnecting. */
function watchError(code: "compacted" | "bad_request" | "unauthenticated" | "forbidden", message: string, oldestRevision: number | undefined): LockstepError {
  return new LockstepError(code, message, oldestRevision === undefined ? {} : { details: { oldestRevision } });
}

function rawDataText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
  return data.toString("utf8");
}
