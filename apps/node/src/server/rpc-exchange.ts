import { EventEmitter } from "node:events";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { Readable } from "node:stream";
import type { RpcRequestFrame } from "@lockstep/protocol";

/** What the handler answered: the HTTP status, the Content-Type and the body bytes. */
export interface RpcExchangeAnswer {
  status: number;
  contentType: string;
  body: Buffer;
}

/**
 * One request frame dressed as the HTTP request it stands for, so that it goes through the very
 * listener HTTP requests go through (guard, in-flight limit, route table, handlers, forwarding),
 * and the answer that listener writes, collected instead of sent. Only the parts of
 * `IncomingMessage` and `ServerResponse` the handlers use exist: method, url, headers and a body
 * stream, and the connection's socket; statusCode, setHeader, end, headersSent, destroy and the `close` event.
 */
export function rpcExchange(
  frame: RpcRequestFrame,
  upgrade: IncomingMessage,
  onAnswer: (answer: RpcExchangeAnswer) => void,
): { request: IncomingMessage; response: ServerResponse } {
  const bodyText = frame.body === undefined ? "" : JSON.stringify(frame.body);
  const request = new RpcRequest(frame, requestHeaders(upgrade.headers, Buffer.byteLength(bodyText)), bodyText, upgrade);
  const response = new RpcResponse(onAnswer);
  return { request: request as unknown as IncomingMessage, response: response as unknown as ServerResponse };
}

/**
 * The headers a frame's request carries: those of the upgrade that identify the caller (Host,
 * Origin, Authorization: checked for every frame as for every HTTP request), the JSON content
 * type (a frame's body is JSON by construction) and the body's length.
 */
function requestHeaders(upgrade: IncomingHttpHeaders, contentLength: number): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = { "content-type": "application/json", "content-length": String(contentLength) };
  if (upgrade.host !== undefined) headers.host = upgrade.host;
  if (upgrade.origin !== undefined) headers.origin = upgrade.origin;
  if (upgrade.authorization !== undefined) headers.authorization = upgrade.authorization;
  // A browser carries its token in a subprotocol; the guard reads it from there, as on the upgrade.
  if (upgrade["sec-websocket-protocol"] !== undefined) headers["sec-websocket-protocol"] = upgrade["sec-websocket-protocol"];
  return headers;
}

/** The upgrade of the `/v1/rpc` connection a request came on as a frame; undefined for a plain HTTP request. */
export function rpcUpgradeOf(request: IncomingMessage): IncomingMessage | undefined {
  return request instanceof RpcRequest ? request.upgrade : undefined;
}

/**
 * A frame's body as the frame decoder already parsed it (`{}` for none, as an empty HTTP body
 * reads), so that `readJsonBody` need not read it back from the stream and parse it again;
 * undefined for a plain HTTP request, whose body is still to be read.
 */
export function rpcParsedBodyOf(request: IncomingMessage): { value: unknown } | undefined {
  if (!(request instanceof RpcRequest)) return undefined;
  return { value: request.parsedBody === undefined ? {} : request.parsedBody };
}

class RpcRequest extends Readable {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The connection's socket: a client certificate is checked on it for every frame, as for every HTTP request. */
  readonly socket: Socket;
  /** The frame's body, parsed once by the frame decoder; undefined when the frame had none. */
  readonly parsedBody: unknown;
  private pushed = false;

  constructor(
    frame: RpcRequestFrame,
    headers: IncomingHttpHeaders,
    private readonly bodyText: string,
    /** The connection's upgrade request: its headers (and so its token) are every frame's. */
    readonly upgrade: IncomingMessage,
  ) {
    super();
    this.socket = upgrade.socket;
    this.method = frame.method;
    this.url = frame.path;
    this.headers = headers;
    this.parsedBody = frame.body;
  }

  /** The body is pushed when someone reads the stream; `readJsonBody` takes `parsedBody` instead. */
  override _read(): void {
    if (this.pushed) return;
    this.pushed = true;
    if (this.bodyText !== "") this.push(this.bodyText);
    this.push(null);
  }
}

class RpcResponse extends EventEmitter {
  statusCode = 200;
  headersSent = false;
  private closed = false;
  private readonly headerValues = new Map<string, string>();

  constructor(private readonly onAnswer: (answer: RpcExchangeAnswer) => void) {
    super();
  }

  setHeader(name: string, value: string | number | readonly string[]): this {
    this.headerValues.set(name.toLowerCase(), Array.isArray(value) ? value.join(", ") : String(value));
    return this;
  }

  getHeader(name: string): string | undefined {
    return this.headerValues.get(name.toLowerCase());
  }

  end(chunk?: string | Uint8Array): this {
    if (this.headersSent) return this;
    this.headersSent = true;
    const body = chunk === undefined ? Buffer.alloc(0) : typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk);
    this.onAnswer({ status: this.statusCode, contentType: this.headerValues.get("content-type") ?? "", body });
    this.emitCloseOnce();
    return this;
  }

  /** A handler gave up after starting an answer (only on a bug): the frame is answered 500. */
  destroy(): this {
    if (!this.headersSent) {
      this.headersSent = true;
      const body = Buffer.from(JSON.stringify({ error: { code: "internal", message: "internal error; see the node's log" } }));
      this.onAnswer({ status: 500, contentType: "application/json", body });
    }
    this.emitCloseOnce();
    return this;
  }

  /** `close` once, as a real response: the in-flight count is released on it. */
  private emitCloseOnce(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit("close");
  }
}
