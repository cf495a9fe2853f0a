import type { IncomingMessage } from "node:http";
import { decodeRpcAnswerFrame, rpcPath, tickCork, type RpcMethod } from "@lockstep/protocol";
import WebSocket from "ws";

export interface RpcConnectionOptions {
  /** Sent on the upgrade as `Authorization: Bearer`; the node checks it again for every request. */
  readonly token: string | undefined;
  /** PEM CAs to trust for wss:// instead of the system's. */
  readonly ca: string | undefined;
  /** A PEM client certificate and its key, for a port that asks for one. */
  readonly cert: string | undefined;
  readonly key: string | undefined;
  /** Largest answer frame read; a larger one closes the connection. */
  readonly answerBytesMax: number;
  /** Requests in flight on this connection at once; one more is refused locally (`overloaded`). */
  readonly requestsInflightMax: number;
  /** A connection silent to a ping for this long is closed (its requests' outcomes are then unknown). */
  readonly pingIntervalMs: number;
}

/**
 * How one request on the connection ended. `answer`: the node's status and body. `refused`: the
 * upgrade itself was answered with an HTTP error (e.g. 401), whose body is `text`. `failed`: no
 * answer; `sent` is false only when the frame was certainly never written (the connection never
 * opened, or the local in-flight bound refused it), so nothing can have been applied.
 */
export type RpcOutcome =
  | { readonly kind: "answer"; readonly status: number; readonly body: unknown; readonly text: string | undefined }
  | { readonly kind: "refused"; readonly status: number; readonly text: string }
  | { readonly kind: "failed"; readonly sent: boolean; readonly reason: string; readonly code: string | undefined; readonly local?: "overloaded" };

interface Pending {
  readonly resolve: (outcome: RpcOutcome) => void;
  readonly timer: NodeJS.Timeout;
}

/** An upgrade refusal's body is a small JSON error; more is cut. */
const refusalBytesMax = 64 * 1024;

/** `http://host:port` -> `ws://host:port/v1/rpc` (https -> wss). */
export function rpcUrl(endpoint: string): string {
  const url = new URL(endpoint);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.pathname = rpcPath;
  return url.toString();
}

/**
 * One `/v1/rpc` WebSocket to one node: many requests in flight, each answer matched by its id.
 * When the connection ends, every request still waiting fails with `sent: true` (its outcome is
 * unknown; the caller retries it, with the same request id, on a new connection).
 */
export class RpcConnection {
  readonly #socket: WebSocket;
  readonly #options: RpcConnectionOptions;
  readonly #pending = new Map<number, Pending>();
  readonly #opened: Promise<RpcOutcome | null>;
  #nextId = 1;
  #closed = false;
  #alive = true;
  #pinger: NodeJS.Timeout | undefined;
  /** Corks the socket until the tick ends, so the requests sent in one tick leave in one write (one TLS record); set on the upgrade. */
  #holdForTick: (() => void) | undefined;

  constructor(endpoint: string, options: RpcConnectionOptions) {
    this.#options = options;
    this.#socket = new WebSocket(rpcUrl(endpoint), {
      maxPayload: options.answerBytesMax,
      perMessageDeflate: false,
      ...(options.token === undefined ? {} : { headers: { authorization: `Bearer ${options.token}` } }),
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(options.cert === undefined ? {} : { cert: options.cert, key: options.key }),
    });
    this.#socket.once("upgrade", (response: IncomingMessage) => (this.#holdForTick = tickCork(response.socket)));
    this.#opened = new Promise((resolve) => {
      this.#socket.once("open", () => {
        this.#startPinging();
        this.#holdProcess(false);
        resolve(null);
      });
      this.#socket.once("unexpected-response", (_request, response) => {
        // Read the refusal before ending the socket: ending it first would report a bare failure.
        void readRefusal(response).then((text) => {
          resolve({ kind: "refused", status: response.statusCode ?? 0, text });
          this.#socket.terminate();
        });
      });
      this.#socket.once("error", (error: NodeJS.ErrnoException) => resolve({ kind: "failed", sent: false, reason: error.message, code: error.code }));
      this.#socket.once("close", () => resolve({ kind: "failed", sent: false, reason: "the connection closed before it opened", code: undefined }));
    });
    this.#socket.on("message", (data: Buffer, isBinary: boolean) => this.#onMessage(data, isBinary));
    this.#socket.on("pong", () => (this.#alive = true));
    this.#socket.on("error", () => this.#fail("the connection failed"));
    this.#socket.on("close", (code, reason) => this.#fail(`the connection closed (${code}${reason.length > 0 ? ` ${reason.toString("utf8")}` : ""})`));
  }

  /** False once the connection ended; the caller then opens a new one. */
  get usable(): boolean {
    return !this.#closed;
  }

  /** Sends one request and resolves with its outcome; never rejects. */
  async request(method: RpcMethod, path: string, body: unknown, timeoutMs: number): Promise<RpcOutcome> {
    const failedToOpen = await this.#opened;
    if (failedToOpen !== null) return failedToOpen;
    if (this.#closed) return { kind: "failed", sent: false, reason: "the connection is closed", code: undefined };
    if (this.#pending.size >= this.#options.requestsInflightMax) {
      return { kind: "failed", sent: false, reason: `too many requests in flight on one connection (rpcRequestsInflightMax ${this.#options.requestsInflightMax})`, code: undefined, local: "overloaded" };
    }
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        this.#holdProcess(this.#pending.size > 0);
        resolve({ kind: "failed", sent: true, reason: `no answer within ${timeoutMs} ms`, code: "ETIMEDOUT" });
      }, timeoutMs);
      this.#pending.set(id, { resolve, timer });
      this.#holdProcess(true);
      this.#holdForTick?.();
      this.#socket.send(JSON.stringify(body === undefined ? { id, method, path } : { id, method, path, body }));
    });
  }

  close(): void {
    this.#fail("the client was closed");
    this.#socket.terminate();
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    this.#alive = true;
    const decoded = isBinary ? { ok: false as const, reason: "a binary frame" } : decodeRpcAnswerFrame(data.toString("utf8"));
    if (!decoded.ok || decoded.frame.id === null) {
      // An answer we cannot match, or the node saying it could not read one of our frames: none of
      // the waiting requests can be trusted to be answered now, so the connection is replaced.
      this.close();
      return;
    }
    const frame = decoded.frame;
    const id = decoded.frame.id;
    const pending = this.#pending.get(id);
    // A late answer to a request that timed out is dropped: the caller has already moved on.
    if (pending === undefined) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    this.#holdProcess(this.#pending.size > 0);
    pending.resolve({ kind: "answer", status: frame.status, body: frame.body, text: frame.text });
  }

  /** Ends the connection's requests: each was sent, so its outcome is unknown. */
  #fail(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#pinger);
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.resolve({ kind: "failed", sent: true, reason, code: "ECONNRESET" });
    }
    this.#pending.clear();
  }

  #startPinging(): void {
    this.#pinger = setInterval(() => {
      if (!this.#alive) {
        this.#fail(`no pong within ${this.#options.pingIntervalMs} ms`);
        this.#socket.terminate();
        return;
      }
      this.#alive = false;
      this.#socket.ping();
    }, this.#options.pingIntervalMs);
    this.#pinger.unref();
  }

  /**
   * An idle connection must not keep the process alive (as fetch's idle keep-alive sockets do
   * not); one with requests waiting must. `ws` exposes no public handle on its socket for this.
   */
  #holdProcess(hold: boolean): void {
    const socket = (this.#socket as unknown as { _socket?: { ref(): void; unref(): void } })._socket;
    if (socket === undefined) return;
    if (hold) socket.ref();
    else socket.unref();
  }
}

function readRefusal(response: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    response.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= refusalBytesMax) chunks.push(chunk);
    });
    response.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    response.on("error", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}
