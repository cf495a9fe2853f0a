import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { rpcFrameOverheadBytes } from "@lockstep/protocol";
import { WebSocketServer } from "ws";
import { webSocketProtocol } from "./client-guard.js";
import type { OpenSocketSweep } from "./open-socket-sweep.js";
import { serveRpcConnection, type RpcConnection, type RpcConnectionOptions } from "./rpc-connection.js";

export interface RpcRouteOptions extends RpcConnectionOptions {
  /** A frame's body is bounded like an HTTP body; the frame adds at most `rpcFrameOverheadBytes`. */
  requestBodyBytesMax: number;
  /** Keeps checking each connection's token while it is open; a refused one is revoked. */
  sweep?: OpenSocketSweep;
}

/** The `/v1/rpc` WebSocket endpoint: accepts upgrades the guard admitted, and ends them on shutdown. */
export interface RpcRoute {
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): void;
}

export function createRpcRoute(options: RpcRouteOptions): RpcRoute {
  const webSockets = new WebSocketServer({
    noServer: true,
    // A larger frame closes the connection with 1009: its id cannot be read to answer it.
    maxPayload: options.requestBodyBytesMax + rpcFrameOverheadBytes,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(webSocketProtocol) ? webSocketProtocol : false),
  });
  const connections = new Set<RpcConnection>();
  return {
    handleUpgrade(request, socket, head): void {
      webSockets.handleUpgrade(request, socket, head, (webSocket) => {
        webSocket.on("error", () => webSocket.terminate());
        const connection = serveRpcConnection(webSocket, request, options);
        connections.add(connection);
        const untrack = options.sweep?.track({ stream: "rpc", upgrade: request, end: (refusal) => connection.revoke(refusal) });
        webSocket.on("close", () => {
          connections.delete(connection);
          untrack?.();
        });
      });
    },
    close(): void {
      for (const connection of connections) connection.shutdown();
      webSockets.close();
    },
  };
}
