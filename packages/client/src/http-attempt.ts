import { ErrorResponseSchema } from "@lockstep/protocol";
import { LockstepError } from "./lockstep-error.js";
import { readBodyBytes } from "./read-body-bytes.js";

/** Any zod schema, described structurally so this package needs no zod dependency of its own. */
export interface ResponseSchema<T> {
  safeParse(input: unknown): { success: true; data: T } | { success: false; error: { message: string } };
}

export interface HttpAttemptRequest<T> {
  readonly fetch: typeof fetch;
  readonly url: string;
  readonly method: "GET" | "POST" | "DELETE";
  readonly body?: unknown;
  readonly timeoutMs: number;
  readonly responseBytesMax: number;
  readonly schema: ResponseSchema<T>;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string | undefined;
}

/**
 * The outcome of one HTTP request. `api_error` is an answer the server meant (an ErrorResponse);
 * `network` is no answer at all, with `sent` false only when the request certainly never reached
 * a server (connection refused, unknown host); `protocol` is an answer we could not understand.
 */
export type HttpAttemptResult<T> =
  | { readonly kind: "ok"; readonly value: T }
  | { readonly kind: "api_error"; readonly error: LockstepError }
  | { readonly kind: "network"; readonly error: LockstepError; readonly sent: boolean }
  | { readonly kind: "protocol"; readonly error: LockstepError };

/** Error codes of a connection that was never made: nothing can have been applied. */
const notSentCodes = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

function failureCode(error: unknown): string | undefined {
  const cause = error instanceof Error ? error.cause : undefined;
  if (typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string") return cause.code;
  return undefined;
}

export async function httpAttempt<T>(request: HttpAttemptRequest<T>): Promise<HttpAttemptResult<T>> {
  const where = `${request.method} ${request.url}`;
  let response: Response;
  let text: string | undefined;
  try {
    response = await request.fetch(request.url, {
      method: request.method,
      signal: AbortSignal.timeout(request.timeoutMs),
      // POST and DELETE always say application/json: the node refuses any other (a browser's
      // cross-site "simple" request would not).
      headers: {
        ...(request.method === "GET" ? {} : { "content-type": "application/json" }),
        ...(request.token === undefined ? {} : { authorization: `Bearer ${request.token}` }),
      },
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
    });
    text = await readBodyText(response, request.responseBytesMax);
  } catch (error) {
    const code = failureCode(error);
    const reason = code ?? (error instanceof Error ? error.message : String(error));
    return {
      kind: "network",
      sent: code === undefined || !notSentCodes.has(code),
      error: new LockstepError("unavailable", `${where}: ${reason}`, { cause: error }),
    };
  }
  if (text === undefined) {
    return protocolFailure(where, response.status, `body longer than ${request.responseBytesMax} bytes`);
  }
  return decodeAnswer(where, response.status, text, request.schema);
}

/** Reads an answer's JSON text: the value on 200, else the API error it carries. */
export function decodeAnswer<T>(where: string, status: number, text: string, schema: ResponseSchema<T>): HttpAttemptResult<T> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return protocolFailure(where, status, `status ${status}, body is not JSON: ${text.slice(0, 120)}`);
  }
  return decodeAnswerJson(where, status, json, schema);
}

/** The same for an answer whose body is already parsed (a `/v1/rpc` answer frame). */
export function decodeAnswerJson<T>(where: string, status: number, json: unknown, schema: ResponseSchema<T>): HttpAttemptResult<T> {
  if (status === 200) {
    const parsed = schema.safeParse(json);
    if (parsed.success) return { kind: "ok", value: parsed.data };
    return protocolFailure(where, status, `answer does not match the API schema: ${parsed.error.message.slice(0, 300)}`);
  }
  const parsed = ErrorResponseSchema.safeParse(json);
  if (!parsed.success) return protocolFailure(where, status, `status ${status} without a valid error body`);
  const { code, message, from, to, allowed, actual, leader, reason, quota, limit, used } = parsed.data.error;
  const details = {
    ...(from === undefined ? {} : { from }),
    ...(reason === undefined ? {} : { reason }),
    ...(quota === undefined ? {} : { quota }),
    ...(limit === undefined ? {} : { limit }),
    ...(used === undefined ? {} : { used }),
    ...(to === undefined ? {} : { to }),
    ...(allowed === undefined ? {} : { allowed }),
    ...(actual === undefined ? {} : { actual }),
    ...(leader === undefined ? {} : { leader }),
    ...(reason === undefined ? {} : { reason }),
  };
  return { kind: "api_error", error: new LockstepError(code, message, { status, details }) };
}

export function protocolFailure<T>(where: string, status: number, reason: string): HttpAttemptResult<T> {
  return { kind: "protocol", error: new LockstepError("protocol", `${where}: ${reason}`, { status }) };
}

/** Reads the body as UTF-8, or returns undefined once it passes `bytesMax`. */
async function readBodyText(response: Response, bytesMax: number): Promise<string | undefined> {
  const bytes = await readBodyBytes(response, bytesMax);
  return bytes === undefined ? undefined : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
}
