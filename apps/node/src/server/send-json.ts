import type { ServerResponse } from "node:http";
import { errorHttpStatus, type ErrorCode, type ErrorResponse } from "@lockstep/protocol";

/** Extra fields an error may carry (ErrorResponseSchema): the states involved and the known leader. */
export type ErrorDetails = Omit<ErrorResponse["error"], "code" | "message">;

/**
 * Writes one JSON response. GET answers carry `Access-Control-Allow-Origin: *` so that the
 * dashboard served by one node can read every other node's status.
 */
export function sendJson(response: ServerResponse, status: number, body: unknown, options: { cors?: boolean } = {}): void {
  const text = JSON.stringify(body);
  response.statusCode = status;
  response.setHeader("Content-Type", "application/json; charset=utf-8");
  response.setHeader("Content-Length", Buffer.byteLength(text));
  response.setHeader("Cache-Control", "no-store");
  if (options.cors === true) response.setHeader("Access-Control-Allow-Origin", "*");
  response.end(text);
}

export function sendError(response: ServerResponse, code: ErrorCode, message: string, details: ErrorDetails = {}, options: { cors?: boolean } = {}): void {
  const body: ErrorResponse = { error: { code, message, ...details } };
  sendJson(response, errorHttpStatus[code], body, options);
}
