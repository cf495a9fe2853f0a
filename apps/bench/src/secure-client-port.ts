import { randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

/**
 * What a load client needs to reach a lockstep client port that serves HTTPS and requires
 * tokens: the CA its certificate chains to, and a bearer token.
 */
export interface ClientPortCredentials {
  /** PEM of the cluster CA. */
  ca: string;
  /** A `write` token (`<name>.<secret>`), sent as `Authorization: Bearer` on every request. */
  token: string;
}

/** One JSON answer of the bench's set-up requests (not the measured ones: those go through HttpJsonClient). */
export type SetupAnswer = { status: number; body: unknown };

const setupTimeoutMs = 2_000;
const setupAnswerBytesMax = 4 * 1024 * 1024;

/** An initial admin token in the node's file format, known before the cluster starts. */
export function newAdminToken(): string {
  return `initial-admin.${randomBytes(32).toString("base64url")}`;
}

/**
 * A set-up request (leader probe, token creation, metrics scrape) to a plain or secured client
 * port: over HTTPS it trusts only `credentials.ca`; with `token` it sends that bearer token.
 * Rejects on a network error or timeout.
 */
export function setupRequest(url: URL, options: { method?: "GET" | "POST"; body?: unknown; ca?: string; token?: string } = {}): Promise<SetupAnswer & { text: string }> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = {
    ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
    ...(payload === undefined ? {} : { "content-type": "application/json", "content-length": String(Buffer.byteLength(payload)) }),
  };
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(url, { method: options.method ?? "GET", headers, timeout: setupTimeoutMs, agent: false, ...(options.ca === undefined ? {} : { ca: options.ca }) }, (response) => {
      const chunks: Buffer[] = [];
      let received = 0;
      response.on("data", (chunk: Buffer) => {
        received += chunk.byteLength;
        if (received > setupAnswerBytesMax) response.destroy(new Error(`${url.href}: answer larger than ${setupAnswerBytesMax} bytes`));
        else chunks.push(chunk);
      });
      response.on("error", reject);
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown = null;
        try {
          body = JSON.parse(text) as unknown;
        } catch {
          body = null;
        }
        resolve({ status: response.statusCode ?? 0, body, text });
      });
    });
    request.on("timeout", () => request.destroy(new Error(`${url.href}: no answer within ${setupTimeoutMs} ms`)));
    request.on("error", reject);
    request.end(payload);
  });
}

/** Creates the `write` token the load clients use, through the leader, with the initial admin token. */
export async function createWriteToken(leaderUrl: URL, ca: string, adminToken: string): Promise<string> {
  const answer = await setupRequest(new URL("/v1/tokens", leaderUrl), { method: "POST", body: { name: "bench-writer", role: "write" }, ca, token: adminToken });
  const token = typeof answer.body === "object" && answer.body !== null && "token" in answer.body ? answer.body.token : undefined;
  if (answer.status !== 200 || typeof token !== "string") throw new Error(`creating the bench's write token answered ${answer.status}: ${answer.text}`);
  return token;
}
