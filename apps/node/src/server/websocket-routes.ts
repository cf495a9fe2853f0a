import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { refusalHttpText, webSocketProtocol, type ClientGuard, type Refusal } from "./client-guard.js";
import type { DashboardFeed } from "./dashboard-feed.js";
import { refusalCloseFrame, type OpenSocketSweep } from "./open-socket-sweep.js";
import type { RpcRoute } from "./rpc-route.js";
import type { WatchHub } from "./watch-hub.js";
import { requestUrl } from "./request-url.js";

/** Clients send nothing on these sockets; a small limit keeps a misbehaving one cheap. */
const clientMessageBytesMax = 4096;
/** A refused socket's last message and close frame get this long to leave before the socket is dropped. */
const refusedCloseWaitMs = 1_000;

export interface WebSocketRoutes {
  close(): void;
}

/**
 * Serves the WebSocket routes on the HTTP server's port: `/v1/watch?from=REVISION` (applied
 * transitions, resumable), `/v1/dashboard-feed` (periodic snapshots for the dashboard) and
 * `/v1/rpc` (the multiplexed API, rpc-route.ts).
 */
export function attachWebSocketRoutes(server: Server, hub: WatchHub, feed: DashboardFeed, guard: ClientGuard, rpc: RpcRoute, sweep: OpenSocketSweep): WebSocketRoutes {
  const webSockets = new WebSocketServer({
    noServer: true,
    maxPayload: clientMessageBytesMax,
    perMessageDeflate: false,
    // A browser that offered subprotocols (one of them carrying its token) must get one back.
    handleProtocols: (protocols) => (protocols.has(webSocketProtocol) ? webSocketProtocol : false),
  });
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = requestUrl(request);
    if (url.pathname !== "/v1/watch" && url.pathname !== "/v1/dashboard-feed" && url.pathname !== "/v1/rpc") {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    // Browsers send cookies and reach loopback on a WebSocket from any page: Host, Origin and token first.
    const refusal = guard.admitUpgrade(request);
    if (refusal !== null) {
      socket.end(refusalHttpText(refusal));
      return;
    }
    if (url.pathname === "/v1/rpc") return rpc.handleUpgrade(request, socket, head);
    webSockets.handleUpgrade(request, socket, head, (webSocket) => {
      webSocket.on("error", () => webSocket.terminate());
      if (url.pathname === "/v1/watch") {
        const untrack = sweep.track({ stream: "watch", upgrade: request, end: (refusal) => endWatch(webSocket, hub, refusal) });
        webSocket.on("close", untrack);
        startWatch(webSocket, url, hub);
      } else {
        const untrack = sweep.track({ stream: "dashboard", upgrade: request, end: (refusal) => endDashboard(webSocket, feed, refusal) });
        webSocket.on("close", () => {
          untrack();
          feed.remove(webSocket);
        });
        webSocket.on("message", (data: Buffer, isBinary: boolean) => {
          if (!isBinary) feed.onMessage(webSocket, data.toString("utf8"));
        });
        feed.add(webSocket);
      }
    });
  };
  server.on("upgrade", onUpgrade);
  return {
    close(): void {
      server.off("upgrade", onUpgrade);
      hub.close();
      feed.close();
      rpc.close();
      for (const client of webSockets.clients) client.terminate();
      webSockets.close();
    },
  };
}

/**
 * A watch whose token stopped holding gets nothing more from the hub from this moment, then one
 * error message that says why (so a client stops rather than reconnects) and the close frame.
 */
function endWatch(webSocket: WebSocket, hub: WatchHub, refusal: Refusal): void {
  hub.unsubscribe(webSocket);
  const frame = refusalCloseFrame(refusal);
  const error = { type: "error", code: refusal.code === "forbidden" ? "forbidden" : "unauthenticated", message: refusal.message };
  webSocket.send(JSON.stringify(error), () => webSocket.close(frame.code, frame.reason));
  setTimeout(() => webSocket.terminate(), refusedCloseWaitMs).unref();
}

/** A dashboard feed is dropped from the broadcast at once; the page asks over HTTP why and shows the token form. */
function endDashboard(webSocket: WebSocket, feed: DashboardFeed, refusal: Refusal): void {
  feed.remove(webSocket);
  const frame = refusalCloseFrame(refusal);
  webSocket.close(frame.code, frame.reason);
  setTimeout(() => webSocket.terminate(), refusedCloseWaitMs).unref();
}

function startWatch(webSocket: WebSocket, url: URL, hub: WatchHub): void {
  const fromText = url.searchParams.get("from");
  const from = fromText === null ? undefined : /^[0-9]{1,16}$/.test(fromText) ? Number(fromText) : Number.NaN;
  if (from !== undefined && !Number.isSafeInteger(from)) {
    const error = { type: "error", code: "bad_request", message: `from: expected a non-negative integer revision, got ${JSON.stringify(fromText)}` };
    webSocket.send(JSON.stringify(error), () => webSocket.close(1008, "bad_request"));
    return;
  }
  webSocket.on("close", () => hub.unsubscribe(webSocket));
  hub.subscribe(webSocket, from);
}
