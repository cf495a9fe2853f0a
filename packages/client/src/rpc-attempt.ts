import type { RpcMethod } from "@lockstep/protocol";
import { decodeAnswer, decodeAnswerJson, protocolFailure, type HttpAttemptResult, type ResponseSchema } from "./http-attempt.js";
import { LockstepError } from "./lockstep-error.js";
import { RpcConnection, type RpcConnectionOptions } from "./rpc-connection.js";

/** One `/v1/rpc` connection per endpoint, opened on first use and again after it ended. */
export class RpcPool {
  readonly #connections = new Map<string, RpcConnection>();

  constructor(private readonly options: RpcConnectionOptions) {}

  connection(endpoint: string): RpcConnection {
    const existing = this.#connections.get(endpoint);
    if (existing?.usable === true) return existing;
    const connection = new RpcConnection(endpoint, this.options);
    this.#connections.set(endpoint, connection);
    return connection;
  }

  close(): void {
    for (const connection of this.#connections.values()) connection.close();
    this.#connections.clear();
  }
}

export interface RpcAttemptRequest<T> {
  readonly endpoint: string;
  readonly method: RpcMethod;
  readonly path: string;
  readonly body?: unknown;
  readonly timeoutMs: number;
  readonly schema: ResponseSchema<T>;
}

/**
 * One request over the endpoint's `/v1/rpc` connection, with the same outcome kinds as an HTTP
 * attempt, so that the retry rules (and what a failure says about the outcome) are the same.
 */
export async function rpcAttempt<T>(pool: RpcPool, request: RpcAttemptRequest<T>): Promise<HttpAttemptResult<T>> {
  const where = `${request.method} ${request.endpoint}${request.path} (rpc)`;
  const outcome = await pool.connection(request.endpoint).request(request.method, request.path, request.body, request.timeoutMs);
  switch (outcome.kind) {
    case "answer":
      if (outcome.text !== undefined) return protocolFailure(where, outcome.status, "a text answer where JSON was expected");
      return decodeAnswerJson(where, outcome.status, outcome.body, request.schema);
    case "refused":
      return decodeAnswer(where, outcome.status, outcome.text, request.schema);
    case "failed":
      if (outcome.local === "overloaded") return { kind: "api_error", error: new LockstepError("overloaded", `${where}: ${outcome.reason}`) };
      return { kind: "network", sent: outcome.sent, error: new LockstepError("unavailable", `${where}: ${outcome.code ?? outcome.reason}`, { cause: outcome.reason }) };
  }
}
