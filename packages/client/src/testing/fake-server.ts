/**
 * A fake lockstep cluster for tests: N HTTP + WebSocket servers on 127.0.0.1 sharing one store,
 * speaking the client API of @lockstep/protocol, with switches that inject the failures a real
 * cluster produces (a timeout after the entry was applied, a leader change, a broken answer, a
 * dropped watch). Not exported from the package: tests import it by path.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import {
  errorHttpStatus,
  TransitionRequestSchema,
  type ClusterStatus,
  type ErrorCode,
  type ErrorResponse,
  type TransitionResponse,
  type WatchEvent,
} from "@lockstep/protocol";
import { WebSocketServer, type WebSocket } from "ws";

/** The default lifecycle of DESIGN.md §1. */
const allowedTransitions: Readonly<Record<string, readonly string[]>> = {
  Init: ["Running"],
  Running: ["Stopped"],
  Stopped: ["Init"],
};
const requestBodyBytesMax = 64 * 1024;

export interface RecordedRequest {
  readonly nodeId: string;
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
  /** `rpc` for a frame of a `/v1/rpc` connection. */
  readonly transport: "http" | "rpc";
}

export interface FakeNode {
  readonly id: string;
  readonly url: string;
  readonly server: Server;
  readonly watchServer: WebSocketServer;
  readonly rpcServer: WebSocketServer;
  /** `/v1/rpc` connections accepted so far. */
  rpcConnections: number;
  running: boolean;
}

type ApplyResult = { readonly ok: true; readonly response: TransitionResponse } | { readonly ok: false; readonly error: ErrorResponse["error"] };

export class FakeCluster {
  readonly nodes: FakeNode[] = [];
  readonly requests: RecordedRequest[] = [];
  readonly events: WatchEvent[] = [];
  readonly machines = new Map<string, { state: string; revision: number }>();
  /** Every watch connection's `from` query, in order. */
  readonly watchFroms: number[] = [];
  leaderId: string | null = null;
  /** How a non-leader answers a transition: apply it (as if forwarded) or 503 with a leader hint. */
  followerWrites: "forward" | "redirect" = "forward";
  /** The next N transitions are applied, then answered `503 timeout`. */
  timeoutsAfterApply = 0;
  /** The next N answers (any path) are a 200 whose body breaks the schema. */
  invalidAnswers = 0;
  /** The next N `/v1/rpc` requests are handled (a transition applied), then the connection is cut instead of answering. */
  rpcCutsAfterHandling = 0;
  /** The next N `/v1/rpc` requests are handled, then never answered (the connection stays). */
  rpcSilences = 0;
  /** The next N `/v1/rpc` requests are answered with a frame that is not JSON. */
  rpcGarbageAnswers = 0;
  /** When set, `/v1/rpc` upgrades are refused with this status and error. */
  rpcRefusal: { status: number; error: ErrorResponse["error"] } | null = null;
  /** A resumed watch first repeats this many already-sent events (a real server may overlap). */
  watchReplayOverlap = 0;
  /** Watches asking for a revision below this get a `compacted` error, then a close. */
  watchOldestRevision = 1;
  revision = 0;
  /** How many times each request id was applied (at most once if the fake's dedupe holds). */
  readonly applyCountByRequestId = new Map<string, number>();
  readonly #answers = new Map<string, { command: string; response: TransitionResponse }>();
  /** Registered session ids (a real cluster uses log indexes; the fake counts from 1000). */
  readonly sessions = new Set<string>();
  #nextSessionId = 1000;
  readonly #watchers = new Set<WebSocket>();

  static async start(nodeCount = 3): Promise<FakeCluster> {
    const cluster = new FakeCluster();
    for (let index = 1; index <= nodeCount; index += 1) await cluster.#startNode(`n${index}`);
    cluster.leaderId = "n1";
    return cluster;
  }

  node(id: string): FakeNode {
    const node = this.nodes.find((candidate) => candidate.id === id);
    if (node === undefined) throw new Error(`no fake node ${id}`);
    return node;
  }

  /** Forgets every session, as a cluster whose sessions expired would. */
  expireSessions(): void {
    this.sessions.clear();
  }

  /** Applies as the replicated store would: sessions and request ids first, then the lifecycle rules. */
  applyTransition(key: string, to: string, expect?: string, requestId?: string): ApplyResult {
    const command = JSON.stringify([key, to, expect ?? null]);
    if (requestId !== undefined) {
      const sessionId = requestId.slice(0, requestId.lastIndexOf(":"));
      if (!this.sessions.has(sessionId)) {
        return { ok: false, error: { code: "session_expired", message: `session ${sessionId} is not known`, reason: "unknown_session" } };
      }
      const first = this.#answers.get(requestId);
      if (first !== undefined && first.command !== command) return { ok: false, error: { code: "request_id_reused", message: `${requestId} answered another command` } };
      if (first !== undefined) return { ok: true, response: first.response };
    }
    const current = this.machines.get(key) ?? { state: "Init", revision: 0 };
    if (expect !== undefined && current.state !== expect) {
      return { ok: false, error: { code: "expect_failed", message: `${key} is ${current.state}`, actual: current.state } };
    }
    const allowed = allowedTransitions[current.state] ?? [];
    if (!allowed.includes(to)) {
      const message = `cannot go from ${current.state} to ${to}`;
      return { ok: false, error: { code: "invalid_transition", message, from: current.state, to, allowed: [...allowed] } };
    }
    this.revision += 1;
    this.machines.set(key, { state: to, revision: this.revision });
    const response = { key, from: current.state, to, revision: this.revision };
    if (requestId !== undefined) {
      this.#answers.set(requestId, { command, response });
      this.applyCountByRequestId.set(requestId, (this.applyCountByRequestId.get(requestId) ?? 0) + 1);
    }
    const event: WatchEvent = { type: "transition", ...response };
    this.events.push(event);
    for (const socket of this.#watchers) socket.send(JSON.stringify(event));
    return { ok: true, response };
  }

  /** Cuts every watch connection without a close handshake, as a crashed node would. */
  dropWatchers(): void {
    for (const socket of this.#watchers) socket.terminate();
    this.#watchers.clear();
  }

  clusterStatus(selfId: string): ClusterStatus {
    const isLeader = selfId === this.leaderId;
    return {
      self: selfId,
      leader: this.leaderId,
      term: 1,
      commitIndex: this.revision,
      appliedIndex: this.revision,
      members: this.nodes.map((node) => ({
        id: node.id,
        peerAddress: `127.0.0.1:${7400 + Number(node.id.slice(1))}`,
        clientUrl: node.url,
        role: node.id === this.leaderId ? ("leader" as const) : ("follower" as const),
        voter: true,
        matchIndex: isLeader ? this.revision : null,
        lag: isLeader ? 0 : null,
      })),
    };
  }

  /** Stops one node: its port then refuses connections. */
  async stopNode(id: string): Promise<void> {
    const node = this.node(id);
    if (!node.running) return;
    node.running = false;
    for (const socket of node.watchServer.clients) socket.terminate();
    for (const socket of node.rpcServer.clients) socket.terminate();
    node.watchServer.close();
    node.rpcServer.close();
    node.server.closeAllConnections();
    node.server.close();
    await once(node.server, "close");
  }

  async stop(): Promise<void> {
    for (const node of this.nodes) await this.stopNode(node.id);
  }

  async #startNode(id: string): Promise<void> {
    const server = createServer((request, response) => {
      void this.#handle(id, request, response);
    });
    const watchServer = new WebSocketServer({ noServer: true });
    watchServer.on("connection", (socket, request) => this.#onWatch(socket, request));
    const rpcServer = new WebSocketServer({ noServer: true });
    rpcServer.on("connection", (socket) => this.#onRpc(id, socket));
    server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = new URL(request.url ?? "/", "http://fake").pathname;
      if (path === "/v1/watch") return watchServer.handleUpgrade(request, socket, head, (ws) => watchServer.emit("connection", ws, request));
      if (path !== "/v1/rpc") return socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
      if (this.rpcRefusal !== null) {
        const text = JSON.stringify({ error: this.rpcRefusal.error });
        return socket.end(`HTTP/1.1 ${this.rpcRefusal.status} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
      }
      this.node(id).rpcConnections += 1;
      rpcServer.handleUpgrade(request, socket, head, (ws) => rpcServer.emit("connection", ws, request));
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    this.nodes.push({ id, url: `http://127.0.0.1:${port}`, server, watchServer, rpcServer, rpcConnections: 0, running: true });
  }

  /** `/v1/rpc`: each frame through the same routes as HTTP, answered by id (with the rpc switches). */
  #onRpc(nodeId: string, socket: WebSocket): void {
    socket.on("message", (data: Buffer) => {
      const frame = JSON.parse(data.toString("utf8")) as { id: number; method: string; path: string; body?: unknown };
      const url = new URL(frame.path, "http://fake");
      const answer = this.#answer(nodeId, frame.method, url, frame.method === "POST" ? frame.body : undefined, "rpc");
      if (this.rpcCutsAfterHandling > 0) {
        this.rpcCutsAfterHandling -= 1;
        socket.terminate();
        return;
      }
      if (this.rpcSilences > 0) {
        this.rpcSilences -= 1;
        return;
      }
      if (this.rpcGarbageAnswers > 0) {
        this.rpcGarbageAnswers -= 1;
        socket.send("{garbage");
        return;
      }
      socket.send(JSON.stringify({ id: frame.id, status: answer.status, body: answer.body }));
    });
  }

  #onWatch(socket: WebSocket, request: IncomingMessage): void {
    const from = Number(new URL(request.url ?? "/", "http://fake").searchParams.get("from") ?? "1");
    this.watchFroms.push(from);
    if (from < this.watchOldestRevision) {
      const message = `revisions before ${this.watchOldestRevision} were compacted`;
      socket.send(JSON.stringify({ type: "error", code: "compacted", message, oldestRevision: this.watchOldestRevision }));
      socket.close();
      return;
    }
    const firstRevision = from - this.watchReplayOverlap;
    for (const event of this.events) if (event.revision >= firstRevision) socket.send(JSON.stringify(event));
    this.#watchers.add(socket);
    socket.on("close", () => this.#watchers.delete(socket));
  }

  async #handle(nodeId: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://fake");
    const body = request.method === "POST" ? await readJson(request) : undefined;
    const answer = this.#answer(nodeId, request.method ?? "", url, body, "http");
    send(response, answer.status, answer.body);
  }

  #answer(nodeId: string, method: string, url: URL, body: unknown, transport: "http" | "rpc"): { status: number; body: unknown } {
    this.requests.push({ nodeId, method, path: url.pathname + url.search, body, transport });
    if (this.invalidAnswers > 0) {
      this.invalidAnswers -= 1;
      return { status: 200, body: { unexpected: "shape" } };
    }
    return this.#route(nodeId, method, url, body);
  }

  #route(nodeId: string, method: string, url: URL, body: unknown): { status: number; body: unknown } {
    const path = url.pathname;
    if (method === "GET" && path === "/v1/cluster") return { status: 200, body: this.clusterStatus(nodeId) };
    if (method === "POST" && path === "/v1/sessions") {
      const sessionId = String(this.#nextSessionId++);
      this.sessions.add(sessionId);
      return { status: 200, body: { sessionId } };
    }
    if (method === "GET" && path === "/v1/machines") {
      const limit = Number(url.searchParams.get("limit") ?? "1000");
      const after = url.searchParams.get("after");
      const sorted = [...this.machines].map(([key, value]) => ({ key, ...value })).sort((left, right) => (left.key < right.key ? -1 : 1));
      const rest = after === null ? sorted : sorted.filter((machine) => machine.key > after);
      const machines = rest.slice(0, limit);
      return { status: 200, body: { revision: this.revision, machines, next: rest.length > limit ? machines.at(-1)!.key : null } };
    }
    const match = /^\/v1\/machines\/([^/]+)(\/transition)?$/.exec(path);
    const key = match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
    if (key !== undefined && method === "GET" && match?.[2] === undefined) {
      return { status: 200, body: { key, ...(this.machines.get(key) ?? { state: "Init", revision: 0 }) } };
    }
    if (key !== undefined && method === "POST" && match?.[2] !== undefined) return this.#transition(nodeId, key, body);
    if (key !== undefined && method === "DELETE" && match?.[2] === undefined) {
      const current = this.machines.get(key);
      this.machines.delete(key);
      this.revision += 1;
      return { status: 200, body: { key, from: current?.state ?? "Init", deleted: current !== undefined, revision: this.revision } };
    }
    return errorAnswer({ code: "not_found", message: `no route ${method} ${path}` });
  }

  #transition(nodeId: string, key: string, body: unknown): { status: number; body: unknown } {
    const parsed = TransitionRequestSchema.safeParse(body);
    if (!parsed.success) return errorAnswer({ code: "bad_request", message: parsed.error.message });
    if (nodeId !== this.leaderId && this.followerWrites === "redirect") {
      const leader = this.leaderId === null ? {} : { leader: this.leaderId };
      return errorAnswer({ code: "no_quorum", message: "not the leader", ...leader });
    }
    const result = this.applyTransition(key, parsed.data.to, parsed.data.expect, parsed.data.requestId);
    if (!result.ok) return errorAnswer(result.error);
    if (this.timeoutsAfterApply > 0) {
      this.timeoutsAfterApply -= 1;
      return errorAnswer({ code: "timeout", message: "commit not confirmed in time" });
    }
    return { status: 200, body: result.response };
  }
}

/** A base URL where nothing listens (a port that was just released): connections are refused. */
export async function unusedEndpoint(): Promise<string> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, "close");
  return `http://127.0.0.1:${port}`;
}

function errorAnswer(error: ErrorResponse["error"]): { status: number; body: ErrorResponse } {
  const code: ErrorCode = error.code;
  return { status: errorHttpStatus[code], body: { error } };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > requestBodyBytesMax) return undefined;
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}
