import type { HttpJsonResult, JsonPoster } from "./http-json-client.js";
import type { LoadClient, OperationOutcome } from "./load-generator.js";

/** The built-in lifecycle, walked in a circle so that every transition a client asks for is valid. */
export const lifecycleNext: Readonly<Record<string, string>> = { Init: "Running", Running: "Stopped", Stopped: "Init" };

/**
 * A closed-loop lockstep client on its own key (`bench-<runId>-<index>`): it registers a session
 * (`POST /v1/sessions`) before its first write, asks for the next lifecycle state with a
 * `requestId`, and retries an unanswered request with the SAME requestId (the outcome of a 503 is
 * unknown; the session makes the retry safe), as a real client must.
 */
export class LockstepLoadClient implements LoadClient {
  private state = "Init";
  private seq = 0;
  private pending: { to: string; requestId: string } | null = null;
  private readonly path: string;
  /** The session the cluster registered for this client; null until the first write, or after it expired. */
  private sessionId: string | null = null;

  constructor(
    private readonly http: JsonPoster,
    runId: string,
    index: number,
  ) {
    this.path = `/v1/machines/bench-${runId}-${index}/transition`;
  }

  async next(): Promise<OperationOutcome> {
    if (this.sessionId === null) {
      const registered = await this.register();
      if (registered !== null) return registered;
    }
    if (this.pending === null) {
      this.seq += 1;
      this.pending = { to: lifecycleNext[this.state] ?? "Running", requestId: `${this.sessionId}:${this.seq}` };
    }
    const request = this.pending;
    const result = await this.http.post(this.path, request);
    return this.settle(request.to, result);
  }

  /** Registers a session; null on success, else the failed outcome (the next call tries again). */
  private async register(): Promise<OperationOutcome | null> {
    const result = await this.http.post("/v1/sessions", {});
    if (!result.ok) return result;
    const sessionId = sessionIdOf(result.body);
    if (result.status !== 200 || sessionId === undefined) return { ok: false, code: errorOf(result.body).code };
    this.sessionId = sessionId;
    this.seq = 0;
    this.pending = null;
    return null;
  }

  private settle(to: string, result: HttpJsonResult): OperationOutcome {
    if (!result.ok) return result;
    if (result.status === 200) {
      this.state = to;
      this.pending = null;
      return { ok: true };
    }
    const error = errorOf(result.body);
    if (error.code === "invalid_transition" && error.from !== undefined) {
      // Should not happen with one client per key; resynchronise on the server's state rather than loop.
      this.state = error.from;
      this.pending = null;
    } else if (error.code === "session_expired") {
      this.sessionId = null;
      this.pending = null;
    } else if (error.code === "bad_request" || error.code === "request_id_reused") {
      this.pending = null;
    }
    return { ok: false, code: error.code };
  }
}

/** The `error` object of a lockstep error answer, read without trusting its shape. */
export function errorOf(body: unknown): { code: string; from?: string } {
  if (typeof body !== "object" || body === null || !("error" in body)) return { code: "unparsable_answer" };
  const error = body.error;
  if (typeof error !== "object" || error === null) return { code: "unparsable_answer" };
  const code = "code" in error && typeof error.code === "string" ? error.code : "unparsable_answer";
  const from = "from" in error && typeof error.from === "string" ? error.from : undefined;
  return from === undefined ? { code } : { code, from };
}

function sessionIdOf(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || !("sessionId" in body)) return undefined;
  return typeof body.sessionId === "string" ? body.sessionId : undefined;
}
