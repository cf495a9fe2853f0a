import { Agent, request } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/** What a POST ended with: the status and the parsed body, or the socket error's code. */
export type HttpJsonResult = { ok: true; status: number; body: unknown } | { ok: false; code: string };

/** What a load client needs of its connection: one JSON POST, answered or failed with a code. */
export interface JsonPoster {
  post(path: string, payload: unknown): Promise<HttpJsonResult>;
}

/** The largest answer body read; a benchmark answer is a few hundred bytes. */
export const responseBytesMax = 1024 * 1024;
/** A request that takes longer than this is abandoned as `client_timeout` (etcd and lockstep both answer in well under it). */
export const requestTimeoutMs = 30_000;

/** For an https:// base URL: the CA to trust (else the system's) and a bearer token for every request. */
export interface HttpJsonSecurity {
  ca?: string;
  token?: string;
}

/**
 * A minimal keep-alive JSON client over node:http (node:https for an https:// base URL), used by
 * the load generator for lockstep and etcd alike so that neither pays a different client cost.
 * One socket per concurrent client: `socketsMax` should be at least the number of clients. Over
 * HTTPS each socket does one TLS handshake and then stays open (keep-alive), and the agent keeps
 * TLS sessions for resumption, as a long-running application's HTTP client does.
 */
export class HttpJsonClient implements JsonPoster {
  private readonly agent: Agent;
  private readonly send: typeof request;
  private readonly authorization: string | undefined;

  constructor(
    private readonly baseUrl: URL,
    socketsMax: number,
    security: HttpJsonSecurity = {},
  ) {
    const https = baseUrl.protocol === "https:";
    const agentOptions = { keepAlive: true, maxSockets: socketsMax, maxFreeSockets: socketsMax };
    this.agent = https ? new HttpsAgent({ ...agentOptions, maxCachedSessions: socketsMax, ...(security.ca === undefined ? {} : { ca: security.ca }) }) : new Agent(agentOptions);
    this.send = https ? httpsRequest : request;
    this.authorization = security.token === undefined ? undefined : `Bearer ${security.token}`;
  }

  post(path: string, payload: unknown): Promise<HttpJsonResult> {
    const bytes = Buffer.from(JSON.stringify(payload));
    return new Promise((resolve) => {
      const outgoing = this.send(
        {
          agent: this.agent,
          host: this.baseUrl.hostname,
          port: this.baseUrl.port,
          method: "POST",
          path,
          headers: { "content-type": "application/json", "content-length": bytes.byteLength, ...(this.authorization === undefined ? {} : { authorization: this.authorization }) },
          timeout: requestTimeoutMs,
        },
        (response) => {
          const chunks: Buffer[] = [];
          let received = 0;
          response.on("data", (chunk: Buffer) => {
            received += chunk.byteLength;
            if (received <= responseBytesMax) chunks.push(chunk);
          });
          response.on("error", (error: NodeJS.ErrnoException) => resolve({ ok: false, code: error.code ?? "response_error" }));
          response.on("end", () => {
            if (received > responseBytesMax) return resolve({ ok: false, code: "response_too_large" });
            resolve({ ok: true, status: response.statusCode ?? 0, body: parseJson(Buffer.concat(chunks).toString("utf8")) });
          });
        },
      );
      outgoing.on("timeout", () => outgoing.destroy(Object.assign(new Error("request timed out"), { code: "client_timeout" })));
      outgoing.on("error", (error: NodeJS.ErrnoException) => resolve({ ok: false, code: error.code ?? "request_error" }));
      outgoing.end(bytes);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
