import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerOptions, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import type { ApiContext } from "./api-context.js";
import { ClientGuard, type ClientGuardOptions, type Refusal } from "./client-guard.js";
import { checkClientTls, ClientTlsError, secureContextOptions, type ApiTls, type CheckedClientTls } from "./client-tls-material.js";
import { limitConnectionsPerSource } from "./connection-limiter.js";
import { OpenSocketSweep, type OpenSocketStream } from "./open-socket-sweep.js";
import { DashboardFeed, type DashboardFeedOptions } from "./dashboard-feed.js";
import { routeRequest } from "./route-request.js";
import type { BufferBudget } from "./buffer-budget.js";
import { createRpcRoute } from "./rpc-route.js";
import { sendError } from "./send-json.js";
import type { WatchHub } from "./watch-hub.js";
import { attachWebSocketRoutes, type WebSocketRoutes } from "./websocket-routes.js";

export type { ApiTls } from "./client-tls-material.js";

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
  /** Connections open at once from one source address. */
  connectionsPerSourceMax: number;
  dashboard: DashboardFeedOptions;
  /** Host, Origin, Content-Type and token checks (everything but the counter, which `security.countRefusal` is). */
  security: ClientGuardOptions;
  /** Serve HTTPS instead of HTTP. */
  tls?: ApiTls;
  /** The multiplexed API on `/v1/rpc` (docs/api.md): its limits per connection. */
  rpc: RpcOptions;
  /** Counts one API request by transport: `http`, or `rpc` for a frame of `/v1/rpc`. */
  countRequest?: (transport: "http" | "rpc") => void;
  /** Told about a handler that threw (a bug): the request got a 500. */
  onInternalError?: (error: unknown) => void;
  /**
   * How often the token and client certificate of every open watch, dashboard and `/v1/rpc`
   * socket are checked again (besides right after each applied token change).
   */
  socketRecheckIntervalMs: number;
  /** Told about each open socket closed because its credentials stopped holding (for the log). */
  onSocketRefused?: (stream: OpenSocketStream, refusal: Refusal) => void;
}

export interface RpcOptions {
  /** Requests of one connection in flight at once; more are answered 503 `overloaded` at once. */
  requestsInflightMax: number;
  /** Unsent answer bytes of one connection above which its frames are not read until they drain. */
  bufferedBytesMax: number;
  /** A connection that does not answer a ping within this interval is closed. */
  pingIntervalMs: number;
  /** The node-wide budget of bytes buffered for slow readers (shared with watches and dashboards). */
  budget?: BufferBudget;
}

export interface ApiServer {
  readonly server: Server;
  listen(host: string, port: number): Promise<AddressInfo>;
  /**
   * Puts new client-port TLS material in use without a restart: validated as a whole first
   * (throws `ClientTlsError` and changes nothing when it is unusable), then new connections get
   * the new certificate while open ones keep theirs; when the client CA bundle changed, a
   * connection whose certificate does not chain to the new bundle is refused from its next
   * request and its open sockets are closed.
   */
  reloadTls(tls: ApiTls): { expiresAtSeconds: number; socketsClosed: number };
  /** Stops accepting connections and closes the open ones (WebSockets included). */
  close(): Promise<void>;
}

/** The client-facing HTTP(S) and WebSocket server of one node (DESIGN.md §5, §10). */
export function createApiServer(options: ApiServerOptions): ApiServer {
  let inflight = 0;
  const guard = new ClientGuard({ ...options.security, clientCertificates: options.tls?.ca !== undefined });
  const listener: RequestListener = (request, response) => {
    if (!guard.admitRequest(request, response)) return;
    if (inflight >= options.httpRequestsInflightMax) {
      request.resume();
      sendError(response, "overloaded", `too many requests in flight (httpRequestsInflightMax ${options.httpRequestsInflightMax}); retry later`);
      return;
    }
    inflight++;
    response.once("close", () => inflight--);
    handle(options, request, response);
  };
  const httpListener: RequestListener = (request, response) => {
    options.countRequest?.("http");
    listener(request, response);
  };
  const timeouts: ServerOptions = { requestTimeout: options.httpRequestTimeoutMs, headersTimeout: options.httpHeadersTimeoutMs };
  const tlsInUse: CheckedClientTls | undefined = options.tls === undefined ? undefined : checkClientTls(options.tls);
  const server: Server =
    options.tls === undefined
      ? createServer(timeouts, httpListener)
      : createHttpsServer(
          {
            ...timeouts,
            ...secureContextOptions(options.tls),
            // The handshake asks for a certificate and records whether it verified; the guard refuses
            // an unverified one per request with a JSON answer that says why (not a bare TLS alert).
            ...(options.tls.ca === undefined ? {} : { requestCert: true, rejectUnauthorized: false }),
          },
          httpListener,
        );
  // Handshakes that fail (plain HTTP on the HTTPS port, no common version, a scanner) are refusals too.
  if (options.tls !== undefined) {
    server.on("tlsClientError", (_error: Error, socket: TLSSocket) => {
      options.security.countRefusal("tls_handshake");
      socket.destroy();
    });
  }
  server.maxConnections = options.httpConnectionsMax;
  limitConnectionsPerSource(server, options.connectionsPerSourceMax, () => options.security.countRefusal("too_many_connections"));
  const { sweep, stopWatchingTokens } = startSocketSweep(options, guard);
  const feed = new DashboardFeed(options.context, options.dashboard);
  options.context.dashboardSamples = () => feed.samples();
  // Every frame of `/v1/rpc` goes through the same listener as an HTTP request: guard, in-flight limit, routes.
  const rpc = createRpcRoute({
    dispatch: listener,
    requestBodyBytesMax: options.context.requestBodyBytesMax,
    requestsInflightMax: options.rpc.requestsInflightMax,
    bufferedBytesMax: options.rpc.bufferedBytesMax,
    pingIntervalMs: options.rpc.pingIntervalMs,
    budget: options.rpc.budget,
    onRequest: () => options.countRequest?.("rpc"),
    sweep,
  });
  const webSockets: WebSocketRoutes = attachWebSocketRoutes(server, options.hub, feed, guard, rpc, sweep);

  return {
    server,
    reloadTls: tlsReload(server, tlsInUse, guard, sweep),
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
        stopWatchingTokens();
        sweep.stop();
        webSockets.close();
        server.close(() => resolve());
        server.closeIdleConnections();
        // Requests still running get a moment to answer (the node answers them `shutting_down`), then go.
        setTimeout(() => server.closeAllConnections(), 1_000).unref();
      }),
  };
}

/** The re-check of open sockets' credentials: started, and run after each applied token change. */
function startSocketSweep(options: ApiServerOptions, guard: ClientGuard): { sweep: OpenSocketSweep; stopWatchingTokens: () => void } {
  const sweep = new OpenSocketSweep({
    recheck: (upgrade, nowMs) => guard.recheckOpenSocket(upgrade, nowMs),
    countRefusal: options.security.countRefusal,
    intervalMs: options.socketRecheckIntervalMs,
    nowMs: () => Date.now(),
    ...(options.onSocketRefused === undefined ? {} : { onEnded: options.onSocketRefused }),
  });
  sweep.start();
  // A revoke (or a create that reuses a revoked name) is applied in the log's order on every node:
  // each node ends its own sockets of that token as soon as it applied the entry.
  const stopWatchingTokens = options.context.node.onApplied((event) => {
    if (event.command.kind === "token_revoke" || event.command.kind === "token_create") sweep.checkSoon();
  });
  return { sweep, stopWatchingTokens };
}

/** `ApiServer.reloadTls` for a server started with `initial` (undefined: plain HTTP, nothing to reload). */
function tlsReload(server: Server, initial: CheckedClientTls | undefined, guard: ClientGuard, sweep: OpenSocketSweep): ApiServer["reloadTls"] {
  let inUse = initial;
  return (tls) => {
    if (inUse === undefined) throw new ClientTlsError("client TLS: this node's client port serves plain HTTP; HTTPS needs clientTlsCertFile and clientTlsKeyFile at start");
    if ((tls.ca === undefined) !== (inUse.tls.ca === undefined)) {
      throw new ClientTlsError("client TLS: clientTlsCaFile cannot be added or removed by a reload (restart the node to start or stop asking for client certificates)");
    }
    const checked = checkClientTls(tls);
    (server as HttpsServer).setSecureContext(secureContextOptions(tls));
    const authoritiesChanged = checked.authorities !== undefined && tls.ca !== inUse.tls.ca;
    inUse = checked;
    let socketsClosed = 0;
    if (authoritiesChanged) {
      guard.setClientAuthorities(checked.authorities);
      socketsClosed = sweep.checkNow();
    }
    return { expiresAtSeconds: Math.floor(Date.parse(checked.certificate.validTo) / 1000), socketsClosed };
  };
}

function handle(options: ApiServerOptions, request: IncomingMessage, response: ServerResponse): void {
  routeRequest(options.context, request, response).catch((error: unknown) => {
    options.onInternalError?.(error);
    if (!response.headersSent) sendError(response, "internal", "internal error; see the node's log");
    else response.destroy();
  });
}
