
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
  return {
    endpoints: [...new Set(options.endpoints.map(checkEndpoint))],
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
    fetch: options.fetch ?? globalThis.fetch,
    random: options.random ?? Math.random,
  };
}
