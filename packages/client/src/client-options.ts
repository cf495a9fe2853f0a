import { fetchWithTls } from "./tls-fetch.js";

export interface LockstepClientOptions {
  /** Base URLs of the nodes' client API, e.g. `http://127.0.0.1:8401`. At least one. */
  readonly endpoints: readonly string[];
  /** How long one HTTP attempt may take, body included. Default 10 000. */
  readonly requestTimeoutMs?: number;
  /** Retries after the first attempt of one call. Default 5 (so at most 6 requests). */
  readonly retryAttemptsMax?: number;
  /** The first retry delay; doubles per retry, with jitter. Default 100. */
  readonly retryDelayMs?: number;
  /** The cap on one retry delay. Default 2 000. */
  readonly retryDelayMaxMs?: number;
  /** Largest response body the client reads. Default 16 MiB. */
  readonly responseBytesMax?: number;
  /** A watch connection with no pong within this interval is closed and resumed. Default 10 000. */
  readonly watchPingIntervalMs?: number;
  /** Consecutive failed watch connections before the watch gives up. Default 10. */
  readonly watchReconnectAttemptsMax?: number;
  /**
   * A bearer token (`lockstep token create`), sent as `Authorization: Bearer` on every request and
   * watch. Give https:// endpoints with it: a token sent over plain HTTP can be read on the way.
   */
  readonly token?: string;
  /**
   * PEM certificates (the cluster CA) to trust for https:// endpoints instead of the system's;
   * with it, only https:// endpoints are accepted.
   */
  readonly ca?: string;
  /**
   * How requests travel. `http` (default): one HTTP request each (keep-alive). `ws`: every request
   * multiplexed on one WebSocket per node (`/v1/rpc`), answers matched by id; same answers, errors
   * and retry rules. Watches and snapshot downloads use their own connections either way.
   */
  readonly transport?: "http" | "ws";
  /** `ws` transport: requests in flight on one connection at once (the node's default bound is 1024). Default 1024. */
  readonly rpcRequestsInflightMax?: number;
  /** `ws` transport: a connection silent to a ping for this long is replaced. Default 10 000. */
  readonly rpcPingIntervalMs?: number;
  /**
   * A PEM client certificate (`lockstep certs create-client NAME`: `client.NAME.crt`), presented
   * to nodes whose client port asks for one (`clientTlsCaFile`). Needs `key` and https:// endpoints.
   */
  readonly cert?: string;
  /** The PEM private key of `cert` (`client.NAME.key`). */
  readonly key?: string;
  /** Injectable for tests; default the global `fetch`. */
  readonly fetch?: typeof fetch;
  /** A number in [0, 1) for retry jitter; default `Math.random`. */
  readonly random?: () => number;
}

/** The options with every default filled in and every value checked. */
export interface ResolvedClientOptions {
  readonly endpoints: readonly string[];
  readonly requestTimeoutMs: number;
  readonly retryAttemptsMax: number;
  readonly retryDelayMs: number;
  readonly retryDelayMaxMs: number;
  readonly responseBytesMax: number;
  readonly watchPingIntervalMs: number;
  readonly watchReconnectAttemptsMax: number;
  readonly token: string | undefined;
  readonly ca: string | undefined;
  readonly transport: "http" | "ws";
  readonly rpcRequestsInflightMax: number;
  readonly rpcPingIntervalMs: number;
  readonly cert: string | undefined;
  readonly key: string | undefined;
  readonly fetch: typeof fetch;
  readonly random: () => number;
}

export const clientDefaults = {
  requestTimeoutMs: 10_000,
  retryAttemptsMax: 5,
  retryDelayMs: 100,
  retryDelayMaxMs: 2_000,
  responseBytesMax: 16 * 1024 * 1024,
  watchPingIntervalMs: 10_000,
  watchReconnectAttemptsMax: 10,
  transport: "http",
  rpcRequestsInflightMax: 1024,
  rpcPingIntervalMs: 10_000,
} as const;

/** Endpoints are compared as strings, so one spelling per node: no trailing slash. */
export function normalizeEndpoint(endpoint: string): string {
  return endpoint.replace(/\/+$/, "");
}

function checkInteger(name: string, value: number, minimum: number): number {
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new TypeError(`LockstepClient: ${name} must be an integer >= ${minimum}, got ${value}`);
  }
  return value;
}

function checkEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new TypeError(`LockstepClient: endpoint ${JSON.stringify(endpoint)} is not a URL (expected http://host:port)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`LockstepClient: endpoint ${JSON.stringify(endpoint)} must be http:// or https://`);
  }
  return normalizeEndpoint(endpoint);
}

/** Bad options are a programmer error: they throw a `TypeError` from the constructor. */
export function resolveClientOptions(options: LockstepClientOptions): ResolvedClientOptions {
  if (options.endpoints.length === 0) throw new TypeError("LockstepClient: endpoints must not be empty");
  const endpoints = [...new Set(options.endpoints.map(checkEndpoint))];
  // One scheme for the whole cluster: the client never moves from https to http (or back).
  if (new Set(endpoints.map((endpoint) => new URL(endpoint).protocol)).size > 1) {
    throw new TypeError("LockstepClient: endpoints mix http:// and https://; a cluster is reached by one scheme");
  }
  if (options.token !== undefined && !/^[\x21-\x7e]{1,256}$/.test(options.token)) {
    throw new TypeError("LockstepClient: token must be 1-256 printable characters without spaces");
  }
  if (options.ca !== undefined && endpoints.some((endpoint) => !endpoint.startsWith("https://"))) {
    throw new TypeError("LockstepClient: a ca is for https:// endpoints only");
  }
  const transport = options.transport ?? clientDefaults.transport;
  if (transport !== "http" && transport !== "ws") throw new TypeError(`LockstepClient: transport must be "http" or "ws", got ${JSON.stringify(transport)}`);
  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new TypeError("LockstepClient: a client certificate needs both cert and key");
  }
  if (options.cert !== undefined && endpoints.some((endpoint) => !endpoint.startsWith("https://"))) {
    throw new TypeError("LockstepClient: a client certificate is for https:// endpoints only");
  }
  const tls = { ca: options.ca, cert: options.cert, key: options.key };
  const usesTls = options.ca !== undefined || options.cert !== undefined;
  return {
    endpoints,
    token: options.token,
    ca: options.ca,
    transport,
    rpcRequestsInflightMax: checkInteger("rpcRequestsInflightMax", options.rpcRequestsInflightMax ?? clientDefaults.rpcRequestsInflightMax, 1),
    rpcPingIntervalMs: checkInteger("rpcPingIntervalMs", options.rpcPingIntervalMs ?? clientDefaults.rpcPingIntervalMs, 1),
    cert: options.cert,
    key: options.key,
    requestTimeoutMs: checkInteger("requestTimeoutMs", options.requestTimeoutMs ?? clientDefaults.requestTimeoutMs, 1),
    retryAttemptsMax: checkInteger("retryAttemptsMax", options.retryAttemptsMax ?? clientDefaults.retryAttemptsMax, 0),
    retryDelayMs: checkInteger("retryDelayMs", options.retryDelayMs ?? clientDefaults.retryDelayMs, 0),
    retryDelayMaxMs: checkInteger("retryDelayMaxMs", options.retryDelayMaxMs ?? clientDefaults.retryDelayMaxMs, 0),
    responseBytesMax: checkInteger("responseBytesMax", options.responseBytesMax ?? clientDefaults.responseBytesMax, 1),
    watchPingIntervalMs: checkInteger("watchPingIntervalMs", options.watchPingIntervalMs ?? clientDefaults.watchPingIntervalMs, 1),
    watchReconnectAttemptsMax: checkInteger(
      "watchReconnectAttemptsMax",
      options.watchReconnectAttemptsMax ?? clientDefaults.watchReconnectAttemptsMax,
      0,
    ),
    fetch: options.fetch ?? (usesTls ? fetchWithTls(tls) : globalThis.fetch),
    random: options.random ?? Math.random,
  };
}
