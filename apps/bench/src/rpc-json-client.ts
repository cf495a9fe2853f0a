import type { IncomingMessage } from "node:http";
import { tickCork } from "@lockstep/protocol";
import WebSocket from "ws";
import { requestTimeoutMs, responseBytesMax, type HttpJsonResult, type JsonPoster } from "./http-json-client.js";
import type { ClientPortCredentials } from "./secure-client-port.js";

/** Requests one connection carries at once at most (the node's `rpcRequestsInflightMax` default). */
export const rpcRequestsInflightMax = 1024;

interface Pending {
  resolve: (result: HttpJsonResult) => void;
  timer: NodeJS.Timeout;
}

/**
 * lockstep's multiplexed protocol for the load generator: every client's POST is a frame on ONE
 * WebSocket to the leader's `/v1/rpc` (as etcd's gRPC rows put every call on one HTTP/2
 * connection), answers matched by id. As minimal as `HttpJsonClient`, so the two lockstep rows
 * differ only by the protocol. A lost connection fails the requests waiting on it
 * (`connection_closed`: outcome unknown, retried by the load client with the same requestId)
 * and the next request opens a new one.
 */
export class RpcJsonClient implements JsonPoster {
  private socket: WebSocket | null = null;
  private opened: Promise<boolean> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** The requests sent in one tick leave in one write, as `@lockstep/client` sends them (and as node:http2 sends etcd's calls). */
  private holdForTick: (() => void) | undefined;

  /** With `credentials`, the socket trusts only their CA and sends their bearer token on the upgrade (the node checks it again for every frame). */
  constructor(
    private readonly baseUrl: URL,
    private readonly credentials: Partial<ClientPortCredentials> = {},
  ) {}

  async post(path: string, payload: unknown): Promise<HttpJsonResult> {
    const socket = await this.connection();
    if (socket === null) return { ok: false, code: "connection_refused" };
    if (this.pending.size >= rpcRequestsInflightMax) return { ok: false, code: "client_inflight_full" };
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ ok: false, code: "client_timeout" });
      }, requestTimeoutMs);
      this.pending.set(id, { resolve, timer });
      this.holdForTick?.();
      socket.send(`{"id":${id},"method":"POST","path":${JSON.stringify(path)},"body":${JSON.stringify(payload)}}`);
    });
  }

  close(): void {
    this.socket?.terminate();
    this.failAll("connection_closed");
  }

  /** The open connection, opened on first use and after a loss; null if it cannot be opened. */
  private async connection(): Promise<WebSocket | null> {
    if (this.socket !== null && this.socket.readyState === WebSocket.OPEN) return this.socket;
    this.opened ??= this.open();
    const ok = await this.opened;
    return ok ? this.socket : null;
  }

  private open(): Promise<boolean> {
    const url = new URL("/v1/rpc", this.baseUrl);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(url, {
      perMessageDeflate: false,
      maxPayload: responseBytesMax,
      ...(this.credentials.ca === undefined ? {} : { ca: this.credentials.ca }),
      ...(this.credentials.token === undefined ? {} : { headers: { authorization: `Bearer ${this.credentials.token}` } }),
    });
    this.socket = socket;
    socket.once("upgrade", (response: IncomingMessage) => (this.holdForTick = tickCork(response.socket)));
    return new Promise((resolve) => {
      socket.once("open", () => resolve(true));
      socket.once("error", () => resolve(false));
      socket.on("message", (data: Buffer) => this.onAnswer(data));
      socket.on("close", () => {
        this.opened = null;
        this.failAll("connection_closed");
        resolve(false);
      });
    });
  }

  private onAnswer(data: Buffer): void {
    let frame: { id?: unknown; status?: unknown; body?: unknown };
    try {
      frame = JSON.parse(data.toString("utf8")) as typeof frame;
    } catch {
      return this.socket?.terminate();
    }
    if (typeof frame.id !== "number" || typeof frame.status !== "number") return this.socket?.terminate();
    const pending = this.pending.get(frame.id);
    if (pending === undefined) return;
    this.pending.delete(frame.id);
    clearTimeout(pending.timer);
    pending.resolve({ ok: true, status: frame.status, body: frame.body ?? null });
  }

  private failAll(code: string): void {
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.resolve({ ok: false, code });
    }
    this.pending.clear();
  }
}
