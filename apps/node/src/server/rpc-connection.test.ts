import { EventEmitter } from "node:events";
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import type { WebSocket } from "ws";
import { BufferBudget } from "./buffer-budget.js";
import { serveRpcConnection } from "./rpc-connection.js";

/** A WebSocket whose buffer the test controls: sent bytes stay buffered until `drain()`. */
class FakeSocket extends EventEmitter {
  readyState = 1;
  bufferedAmount = 0;
  paused = false;
  readonly sent: Array<{ id: number | null; status: number; body?: { error?: { code: string } } }> = [];
  closedWith: { code: number; reason: string } | null = null;
  private callbacks: Array<() => void> = [];

  send(text: string, callback: () => void): void {
    this.sent.push(JSON.parse(text) as FakeSocket["sent"][number]);
    this.bufferedAmount += text.length;
    this.callbacks.push(callback);
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }
  ping(): void {}
  terminate(): void {
    this.readyState = 3;
  }
  drain(): void {
    this.bufferedAmount = 0;
    for (const callback of this.callbacks.splice(0)) callback();
  }
  frame(id: number, path = "/v1/cluster"): void {
    this.emit("message", Buffer.from(JSON.stringify({ id, method: "GET", path })), false);
  }
}

/** The connection's TCP or TLS socket: counts how often it is corked and how many corks are open. */
const transport = {
  corks: 0,
  open: 0,
  cork(): void {
    this.corks++;
    this.open++;
  },
  uncork(): void {
    this.open--;
  },
};
const upgrade = { headers: { host: "127.0.0.1" }, socket: transport } as unknown as IncomingMessage;

/** A listener that answers at once, or holds every answer until `release()`. */
function listener(hold: boolean): { dispatch: RequestListener; release(): void } {
  const held: ServerResponse[] = [];
  const answer = (response: ServerResponse): void => {
    response.statusCode = 200;
    response.setHeader("Content-Type", "application/json");
    response.end(JSON.stringify({ padding: "x".repeat(100) }));
  };
  return {
    dispatch: (_request, response) => (hold ? held.push(response) : answer(response)),
    release: () => held.splice(0).forEach(answer),
  };
}

function serve(socket: FakeSocket, options: { dispatch: RequestListener; bufferedBytesMax?: number; budget?: BufferBudget }) {
  return serveRpcConnection(socket as unknown as WebSocket, upgrade, {
    dispatch: options.dispatch,
    requestsInflightMax: 16,
    bufferedBytesMax: options.bufferedBytesMax ?? 1024 * 1024,
    budget: options.budget,
    pingIntervalMs: 60_000,
  });
}

describe("serveRpcConnection", () => {
  it("holds the answers of one tick back (corked) and lets them leave together at its end: one write, over TLS one record", async () => {
    const socket = new FakeSocket();
    const held = listener(true);
    serve(socket, { dispatch: held.dispatch });
    for (let id = 1; id <= 5; id++) socket.frame(id);
    const before = transport.corks;
    held.release();
    expect(socket.sent.map((answer) => answer.id)).toEqual([1, 2, 3, 4, 5]);
    expect(transport.corks - before).toBe(1);
    expect(transport.open).toBe(1);
    await new Promise<void>((resolve) => process.nextTick(resolve));
    expect(transport.open).toBe(0);
  });

  it("stops reading frames while its unsent answers exceed rpcBufferedBytesMax, and reads again once they drain", () => {
    const socket = new FakeSocket();
    serve(socket, { dispatch: listener(false).dispatch, bufferedBytesMax: 50 });
    socket.frame(1);
    expect(socket.sent.map((answer) => answer.id)).toEqual([1]);
    expect(socket.paused).toBe(true);
    socket.drain();
    expect(socket.paused).toBe(false);
  });

  it("is cut with 1013 when the node-wide budget is spent while it lags, and counted as rpc", () => {
    const cuts: string[] = [];
    const budget = new BufferBudget(50, (stream) => cuts.push(stream));
    const socket = new FakeSocket();
    serve(socket, { dispatch: listener(false).dispatch, budget });
    socket.frame(1);
    socket.frame(2);
    expect(socket.closedWith?.code).toBe(1013);
    expect(cuts).toEqual(["rpc"]);
    expect(socket.sent.map((answer) => answer.id)).toEqual([1]);
  });

  it("on shutdown refuses new frames with shutting_down and closes with 1001 once the answers in flight are out", () => {
    const held = listener(true);
    const socket = new FakeSocket();
    const connection = serve(socket, { dispatch: held.dispatch });
    socket.frame(1);
    connection.shutdown();
    socket.frame(2);
    expect(socket.sent).toEqual([{ id: 2, status: 503, body: { error: { code: "shutting_down", message: expect.any(String) } } }]);
    expect(socket.closedWith).toBeNull();
    held.release();
    expect(socket.sent.map((answer) => [answer.id, answer.status])).toEqual([
      [2, 503],
      [1, 200],
    ]);
    expect(socket.closedWith?.code).toBe(1001);
  });

  it("once its token is revoked answers new frames 401 as HTTP would, and closes with 4401 once the answers in flight are out", () => {
    const held = listener(true);
    const socket = new FakeSocket();
    const connection = serve(socket, { dispatch: held.dispatch });
    socket.frame(1);
    connection.revoke({ code: "unauthenticated", reason: "invalid_token", message: "the token is unknown or revoked" });
    socket.frame(2);
    expect(socket.sent).toEqual([{ id: 2, status: 401, body: { error: { code: "unauthenticated", message: "the token is unknown or revoked" } } }]);
    expect(socket.closedWith).toBeNull();
    held.release();
    expect(socket.sent.map((answer) => [answer.id, answer.status])).toEqual([
      [2, 401],
      [1, 200],
    ]);
    expect(socket.closedWith).toEqual({ code: 4401, reason: "invalid_token: the token is unknown or revoked" });
  });

  it("closes a connection whose token no longer covers it with 4403", () => {
    const socket = new FakeSocket();
    const connection = serve(socket, { dispatch: listener(false).dispatch });
    connection.revoke({ code: "forbidden", reason: "forbidden_role", message: 'token "t" has role read; this needs write' });
    expect(socket.closedWith).toEqual({ code: 4403, reason: 'forbidden_role: token "t" has role read; this needs write' });
  });
});
