import type { IncomingMessage, RequestListener } from "node:http";
import { decodeRpcRequestFrame, errorHttpStatus, rpcPath, tickCork, type ErrorCode } from "@lockstep/protocol";
import { WebSocket } from "ws";
import type { BufferBudget } from "./buffer-budget.js";
import type { Refusal } from "./client-guard.js";
import { refusalCloseFrame } from "./open-socket-sweep.js";
import { rpcExchange, type RpcExchangeAnswer } from "./rpc-exchange.js";

export interface RpcConnectionOptions {
  /** The client port's HTTP listener: every frame goes through it, exactly as an HTTP request. */
  dispatch: RequestListener;
  /** Requests of one connection in flight at once; a frame beyond it is answered `503 overloaded` at once. */
  requestsInflightMax: number;
  /** Unsent answer bytes of one connection above which the node stops reading its frames until they drain. */
  bufferedBytesMax: number;
  /** The node-wide budget of bytes buffered for slow readers; a connection lagging when it is spent is cut. */
  budget: BufferBudget | undefined;
  /** A connection that has not answered a ping within this interval is closed. */
  pingIntervalMs: number;
  /** Counts one request frame accepted for dispatch. */
  onRequest?: () => void;
}

/** Routes whose answer is not JSON (or is a file): they stay on plain HTTP. */
const httpOnlyPaths = new Set(["/", "/metrics", "/v1/snapshot"]);
/** After a shutdown or a revocation began, answers still in flight get this long before the socket goes. */
const shutdownDrainMs = 1_000;

/**
 * One open `/v1/rpc` connection. `shutdown` stops it taking frames and closes it once its answers
 * are out; `revoke` does the same for a connection whose token stopped holding, answering new
 * frames with the refusal (as HTTP would) and closing with 4401 or 4403.
 */
export interface RpcConnection {
  shutdown(): void;
  revoke(refusal: Refusal): void;
}

/**
 * Serves one multiplexed connection: each text frame is one API request, decoded (a bad frame
 * gets an error answer and the connection stays), bounded (in flight per connection, unsent
 * bytes, the node-wide buffer budget) and handed to the HTTP listener; each answer goes back
 * tagged with the frame's id, in whatever order the handlers finish.
 */
export function serveRpcConnection(webSocket: WebSocket, upgrade: IncomingMessage, options: RpcConnectionOptions): RpcConnection {
  const inflight = new Set<number>();
  let alive = true;
  let paused = false;
  let draining = false;
  /** Set once the connection's token stopped holding: every frame is answered with it. */
  let revoked: Refusal | undefined;
  options.budget?.add(webSocket);

  // The answers of one commit finish in the same tick and leave in one write (one TLS record).
  const holdForTick = tickCork(upgrade.socket);
  const send = (text: string): void => {
    if (webSocket.readyState !== WebSocket.OPEN) return;
    if (options.budget?.shouldCut(webSocket, "rpc") === true) {
      webSocket.close(1013, "overloaded: the node's client buffer budget is spent");
      return;
    }
    holdForTick();
    webSocket.send(text, () => {
      if (paused && webSocket.bufferedAmount <= options.bufferedBytesMax / 2) {
        paused = false;
        webSocket.resume();
      }
    });
    if (!paused && webSocket.bufferedAmount > options.bufferedBytesMax) {
      // Backpressure: a client that does not read its answers gets no more of its requests read.
      paused = true;
      webSocket.pause();
    }
  };
  const refuse = (id: number | null, code: ErrorCode, message: string): void => {
    send(JSON.stringify({ id, status: errorHttpStatus[code], body: { error: { code, message } } }));
  };
  const finishDrain = (): void => {
    if (inflight.size !== 0 || webSocket.readyState !== WebSocket.OPEN) return;
    if (revoked !== undefined) {
      const frame = refusalCloseFrame(revoked);
      webSocket.close(frame.code, frame.reason);
    } else if (draining) webSocket.close(1001, "node shutting down");
  };
  const endSoon = (): void => {
    finishDrain();
    setTimeout(() => webSocket.terminate(), shutdownDrainMs).unref();
  };

  webSocket.on("message", (data: Buffer, isBinary: boolean) => {
    alive = true;
    if (isBinary) return refuse(null, "bad_request", "frames are JSON text; binary frames are not read");
    const decoded = decodeRpcRequestFrame(data.toString("utf8"));
    if (!decoded.ok) return refuse(decoded.id, "bad_request", decoded.reason);
    const frame = decoded.frame;
    const path = frame.path.split("?")[0]!;
    if (httpOnlyPaths.has(path) || path === rpcPath) return refuse(frame.id, "bad_request", `${frame.method} ${path} is served over plain HTTP only`);
    if (inflight.has(frame.id)) return refuse(frame.id, "bad_request", `id ${frame.id} is already in flight on this connection; use a new id per request`);
    if (revoked !== undefined) return refuse(frame.id, revoked.code, revoked.message);
    if (draining) return refuse(frame.id, "shutting_down", "this node is shutting down; retry on another node with the same requestId");
    if (inflight.size >= options.requestsInflightMax) {
      return refuse(frame.id, "overloaded", `too many requests in flight on this connection (rpcRequestsInflightMax ${options.requestsInflightMax}); retry later`);
    }
    inflight.add(frame.id);
    options.onRequest?.();
    const { request, response } = rpcExchange(frame, upgrade, (answer) => {
      inflight.delete(frame.id);
      send(answerFrame(frame.id, answer));
      finishDrain();
    });
    options.dispatch(request, response);
  });
  webSocket.on("pong", () => (alive = true));
  const pinger = setInterval(() => {
    if (!alive) return webSocket.terminate();
    alive = false;
    webSocket.ping();
  }, options.pingIntervalMs);
  pinger.unref();
  webSocket.on("close", () => {
    clearInterval(pinger);
    options.budget?.remove(webSocket);
  });
  return {
    shutdown(): void {
      draining = true;
      endSoon();
    },
    revoke(refusal): void {
      if (revoked !== undefined) return;
      revoked = refusal;
      endSoon();
    },
  };
}

/**
 * `{"id":N,"status":S,"body":<the JSON the handler wrote>}`: the body's bytes are placed as they
 * are (handlers write JSON with JSON.stringify), so an answer is never parsed again here.
 */
export function answerFrame(id: number, answer: RpcExchangeAnswer): string {
  const head = `{"id":${id},"status":${answer.status}`;
  if (answer.body.length === 0) return `${head}}`;
  if (answer.contentType.startsWith("application/json")) return `${head},"body":${answer.body.toString("utf8")}}`;
  return `${head},"text":${JSON.stringify(answer.body.toString("utf8"))}}`;
}
