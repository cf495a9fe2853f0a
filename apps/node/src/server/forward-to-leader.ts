import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApiContext } from "./api-context.js";
import { sendError } from "./send-json.js";

/** Marks a request a follower forwarded, so that it is forwarded at most once (no loops during an election). */
export const forwardedHeader = "x-lockstep-forwarded-by";
/** The leader's answer to a forwarded request is small JSON; anything larger is cut. */
const forwardedAnswerBytesMax = 1024 * 1024;

/**
 * Sends a membership request this follower cannot decide to the leader it knows, and relays the
 * leader's answer as it is. A request already forwarded once, or with no leader known, gets
 * `503 no_leader` (retry later, on any node).
 */
export async function forwardToLeader(context: ApiContext, request: IncomingMessage, response: ServerResponse, body: unknown, leader: string | null | undefined): Promise<void> {
  const target = leader === null || leader === undefined ? undefined : context.membership.members().find((member) => member.id === leader);
  if (target === undefined || leader === context.selfId || request.headers[forwardedHeader] !== undefined) {
    return sendError(response, "no_leader", "no leader is known to take this change now; retry", typeof leader === "string" ? { leader } : {});
  }
  const url = `${target.clientUrl.replace(/\/$/, "")}${request.url ?? "/"}`;
  const headers: Record<string, string> = { "content-type": "application/json", [forwardedHeader]: context.selfId };
  const authorization = request.headers.authorization;
  if (authorization !== undefined) headers.authorization = authorization;
  let answer: Response;
  try {
    answer = await (context.forwardFetch ?? fetch)(url, {
      method: request.method ?? "POST",
      headers,
      ...(request.method === "GET" || request.method === "DELETE" ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(context.forwardTimeoutMs),
    });
  } catch (error) {
    return sendError(response, "no_leader", `the leader ${target.id} did not answer (${error instanceof Error ? error.message : String(error)}); retry`, { leader: target.id });
  }
  const bytes = Buffer.from(await answer.arrayBuffer());
  if (bytes.length > forwardedAnswerBytesMax) return sendError(response, "internal", `the leader's answer is larger than ${forwardedAnswerBytesMax} bytes`);
  response.statusCode = answer.status;
  response.setHeader("Content-Type", answer.headers.get("content-type") ?? "application/json; charset=utf-8");
  response.setHeader("Content-Length", bytes.length);
  response.setHeader("Cache-Control", "no-store");
  response.end(bytes);
}
