import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer, type WebSocket } from "ws";
import { LockstepLoadClient } from "./lockstep-load-client.js";
import { RpcJsonClient } from "./rpc-json-client.js";

let server: Server | null = null;
let client: RpcJsonClient | null = null;

afterEach(async () => {
  client?.close();
  await new Promise<void>((resolve) => (server === null ? resolve() : server.close(() => resolve())));
  server = null;
  client = null;
});

/** A `/v1/rpc` endpoint that hands each frame and its socket to `onFrame`, counting connections. */
async function rpcServer(onFrame: (frame: { id: number; path: string; body: Record<string, unknown> }, socket: WebSocket) => void): Promise<{ connections: () => number }> {
  let connections = 0;
  server = createServer();
  const webSockets = new WebSocketServer({ server, path: "/v1/rpc" });
  webSockets.on("connection", (socket) => {
    connections += 1;
    socket.on("message", (data: Buffer) => onFrame(JSON.parse(data.toString("utf8")) as { id: number; path: string; body: Record<string, unknown> }, socket));
  });
  server.on("close", () => {
    for (const socket of webSockets.clients) socket.terminate();
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("no address");
  client = new RpcJsonClient(new URL(`http://127.0.0.1:${address.port}`));
  return { connections: () => connections };
}

describe("RpcJsonClient", () => {
  it("multiplexes every post on one connection and matches answers out of order by id", async () => {
    const held: Array<{ id: number; path: string; socket: WebSocket }> = [];
    const endpoint = await rpcServer((frame, socket) => {
      held.push({ id: frame.id, path: frame.path, socket });
      if (held.length === 3) for (const request of held.reverse()) request.socket.send(JSON.stringify({ id: request.id, status: 200, body: { path: request.path } }));
    });
    const answers = await Promise.all(["/a", "/b", "/c"].map((path) => client!.post(path, { to: "Running" })));
    expect(answers).toEqual(["/a", "/b", "/c"].map((path) => ({ ok: true, status: 200, body: { path } })));
    expect(endpoint.connections()).toBe(1);
  });

  it("fails the posts waiting on a lost connection and reconnects for the next; the load client retries with the same requestId", async () => {
    const requestIds: unknown[] = [];
    let cut = true;
    const endpoint = await rpcServer((frame, socket) => {
      if (frame.path === "/v1/sessions") return socket.send(JSON.stringify({ id: frame.id, status: 200, body: { sessionId: "9" } }));
      requestIds.push(frame.body.requestId);
      if (cut) {
        cut = false;
        return socket.terminate();
      }
      socket.send(JSON.stringify({ id: frame.id, status: 200, body: { key: "k", from: "Init", to: "Running", revision: 3 } }));
    });
    const load = new LockstepLoadClient(client!, "run", 0);
    expect(await load.next()).toEqual({ ok: false, code: "connection_closed" });
    expect(await load.next()).toEqual({ ok: true });
    expect(requestIds).toEqual(["9:1", "9:1"]);
    expect(endpoint.connections()).toBe(2);
  });

  it("reports a refused connection without hanging", async () => {
    client = new RpcJsonClient(new URL("http://127.0.0.1:1"));
    expect(await client.post("/v1/sessions", {})).toEqual({ ok: false, code: "connection_refused" });
  });
});
