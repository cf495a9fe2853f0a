import type { IncomingMessage, ServerResponse } from "node:http";
import type { SessionResponse } from "@lockstep/protocol";
import type { ApiContext } from "./api-context.js";
import { sendError, sendJson } from "./send-json.js";

/**
 * `POST /v1/sessions`: registers a client session through the log (Raft thesis §6.3). The answer's
 * `sessionId` is the first half of every `requestId` the client sends afterwards. Registering is
 * safe to retry: an unused session only expires.
 */
export async function postSession(context: ApiContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  request.resume();
  const outcome = await context.node.registerSession();
  if (outcome.ok) {
    const body: SessionResponse = { sessionId: outcome.clientId };
    return sendJson(response, 200, body);
  }
  const leader = context.node.summary().leader;
  sendError(response, outcome.code, `the session was not registered: ${outcome.code}; retry`, leader === null ? {} : { leader });
}
