import type { ServerResponse } from "node:http";
import { errorHttpStatus, type ErrorCode, type ErrorResponse } from "@lockstep/protocol";

/** Extra fields an error may carry (ErrorResponseSchema): the states involved and the known leader. */
export type ErrorDetails = Omit<ErrorResponse["error"], "code" | "message">;

/** Writes one JSON response. CORS headers, when the origin is allowed, were set by the ClientGuard. */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.statusCode = status;
  response.setHeader("Content-Type", "application/json; charset=utf-8");
  response.setHeader("Content-Length", Buffer.byteLength(text));
  response.setHeader("Cache-Control", "no-store");
  response.end(text);
}

export function sendError(response: ServerResponse, code: ErrorCode, message: string, details: ErrorDetails = {}): void {
  const body: ErrorResponse = { error: { code, message, ...details } };
  sendJson(response, errorHttpStatus[code], body);
}
