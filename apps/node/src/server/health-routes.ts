import type { ServerResponse } from "node:http";
import type { ApiContext } from "./api-context.js";
import { sendJson } from "./send-json.js";

/** `GET /livez`: the process is up and its event loop answers. */
export function getLivez(response: ServerResponse): void {
  sendJson(response, 200, { status: "ok" });
}

/**
 * `GET /readyz`: ready to serve reads and writes, meaning a leader is known and this node has
 * applied everything up to the commit index it knows (DESIGN.md §5). 503 with the reason otherwise.
 */
export function getReadyz(context: ApiContext, response: ServerResponse): void {
  const status = context.node.status();
  const reason = status.stopped
    ? "stopped"
    : status.leader === null
      ? "no leader known"
      : status.appliedIndex < status.commitIndex
        ? `applied index ${status.appliedIndex} behind commit index ${status.commitIndex}`
        : null;
  const body = { ready: reason === null, leader: status.leader, term: status.term, commitIndex: status.commitIndex, appliedIndex: status.appliedIndex };
  sendJson(response, reason === null ? 200 : 503, reason === null ? body : { ...body, reason });
}

/** `GET /metrics`: Prometheus text exposition. */
export async function getMetrics(context: ApiContext, response: ServerResponse): Promise<void> {
  const { contentType, text } = await context.metricsText();
  response.statusCode = 200;
  response.setHeader("Content-Type", contentType);
  response.end(text);
}
