import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ApiContext } from "./api-context.js";
import { DashboardFeed, type DashboardFeedOptions } from "./dashboard-feed.js";
import { routeRequest } from "./route-request.js";
import { sendError } from "./send-json.js";
import type { WatchHub } from "./watch-hub.js";
import { attachWebSocketRoutes, type WebSocketRoutes } from "./websocket-routes.js";

export interface ApiServerOptions {
  context: ApiContext;
  hub: WatchHub;
  /** TCP connections open at once; the kernel queue holds the rest. */
  httpConnectionsMax: number;
  /** Requests being handled at once; more are answered 503 `overloaded` at once. */
  httpRequestsInflightMax: number;
  /** A request (headers and body) must arrive within this time. */
  httpRequestTimeoutMs: number;
  /** A request's headers must arrive within this time (at most httpRequestTimeoutMs). */
  httpHeadersTimeoutMs: number;
  dashboard: DashboardFeedOptions;
  /** Told about a handler that threw (a bug): the request got a 500. */
  onInternalError?: (error: unknown) => void;
}

export interface ApiServer {
  readonly server: Server;
  listen(host: string, port: number): Promise<AddressInfo>;
  /** Stops accepting connections and closes the open ones (WebSockets included). */
  close(): Promise<void>;
}

/** The client-facing HTTP and WebSocket server of one node (DESIGN.md §5). */
export function createApiServer(options: ApiServerOptions): ApiServer {
  let inflight = 0;
  const server = createServer({ requestTimeout: options.httpRequestTimeoutMs, headersTimeout: options.httpHeadersTimeoutMs }, (request, response) => {
    if (inflight >= options.httpRequestsInflightMax) {
      request.resume();
      sendError(response, "overloaded", `too many requests in flight (httpRequestsInflightMax ${options.httpRequestsInflightMax}); retry later`);
      return;
    }
    inflight++;
    response.once("close", () => inflight--);
    handle(options, request, response);
  });
  server.maxConnections = options.httpConnectionsMax;
  const feed = new DashboardFeed(options.context, options.dashboard);
  options.context.dashboardSamples = () => feed.samples();
  const webSockets: WebSocketRoutes = attachWebSocketRoutes(server, options.hub, feed);

  return {
    server,
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve(server.address() as AddressInfo);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        webSockets.close();
        server.close(() => resolve());
        server.closeIdleConnections();
        // Requests still running get a moment to answer (the node answers them `shutting_down`), then go.
        setTimeout(() => server.closeAllConnections(), 1_000).unref();
      }),
  };
}

function handle(options: ApiServerOptions, request: IncomingMessage, response: ServerResponse): void {
  routeRequest(options.context, request, response).catch((error: unknown) => {
    options.onInternalError?.(error);
    if (!response.headersSent) sendError(response, "internal", "internal error; see the node's log");
    else response.destroy();
  });
}
