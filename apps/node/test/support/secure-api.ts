import type { X509Certificate } from "node:crypto";
import { request as httpsRequest } from "node:https";
import { connect } from "node:tls";

/** One answer as curl would show it: the status and the parsed JSON body (or the raw text). */
export type SecureAnswer = { status: number; body: unknown; text: string };

const requestTimeoutMs = 10_000;
/** Larger answers are a bug in the test or the node: /metrics of a test node is tens of KiB. */
const responseBytesMax = 4 * 1024 * 1024;

export interface SecureRequest {
  /** The cluster CA (bundle) the request trusts: the system's CAs never do. */
  ca: string;
  method?: "GET" | "POST" | "DELETE";
  /** Sent as `Authorization: Bearer`; none when absent. */
  token?: string;
  /** Sent as JSON. POST and DELETE always carry `Content-Type: application/json`. */
  body?: unknown;
}

/**
 * Raw HTTPS against one node, a fresh connection each time (no agent): what a user's curl with
 * `--cacert` and `-H "Authorization: Bearer ..."` would see, status codes included.
 */
export function secureRequest(url: string, options: SecureRequest): Promise<SecureAnswer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const method = options.method ?? "GET";
  const headers: Record<string, string> = {
    ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
    // The client port takes state-changing requests only as JSON (a browser's "simple" POST is refused).
    ...(method === "GET" ? {} : { "content-type": "application/json", "content-length": String(payload === undefined ? 0 : Buffer.byteLength(payload)) }),
  };
  return new Promise((resolve, reject) => {
    const request = httpsRequest(url, { method, headers, ca: options.ca, agent: false, timeout: requestTimeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      let received = 0;
      response.on("data", (chunk: Buffer) => {
        received += chunk.byteLength;
        if (received > responseBytesMax) response.destroy(new Error(`${url}: answer larger than ${responseBytesMax} bytes`));
        else chunks.push(chunk);
      });
      response.on("error", reject);
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: response.statusCode ?? 0, body: parseJson(text), text });
      });
    });
    request.on("timeout", () => request.destroy(new Error(`${url}: no answer within ${requestTimeoutMs} ms`)));
    request.on("error", reject);
    request.end(payload);
  });
}

/** A node's Prometheus text over HTTPS (`/metrics` needs no token). */
export async function secureMetricsText(clientUrl: string, ca: string): Promise<string> {
  const answer = await secureRequest(`${clientUrl}/metrics`, { ca });
  if (answer.status !== 200) throw new Error(`GET ${clientUrl}/metrics answered ${answer.status}`);
  return answer.text;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The certificate a node's peer port presents to a new connection (read before the node checks ours). */
export function presentedPeerCertificate(port: number): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const certificate = socket.getPeerX509Certificate();
      socket.destroy();
      if (certificate === undefined) reject(new Error("no certificate presented"));
      else resolve(certificate);
    });
    socket.on("error", reject);
  });
}
