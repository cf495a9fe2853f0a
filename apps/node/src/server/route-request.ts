import type { IncomingMessage, ServerResponse } from "node:http";
import { dashboardHtml } from "../dashboard/dashboard-page.js";
import type { ApiContext } from "./api-context.js";
import { clusterStatus } from "./cluster-status.js";
import { getLivez, getMetrics, getReadyz } from "./health-routes.js";
import { deleteMachine, getMachine, listMachines, postTransition } from "./machine-routes.js";
import { postSession } from "./session-routes.js";
import { sendError, sendJson } from "./send-json.js";
import { deleteToken, listTokens, postToken } from "./token-routes.js";
import { getSnapshot } from "./snapshot-route.js";
import { postJoin, postJoinToken } from "./join-routes.js";
import { changeMember, getMembers, postMember } from "./member-routes.js";
import { requestUrl } from "./request-url.js";

const machinesPrefix = "/v1/machines/";
const transitionSuffix = "/transition";
const tokensPrefix = "/v1/tokens/";

/** Dispatches one HTTP request to its handler (DESIGN.md §5); 404 for anything else. */
export async function routeRequest(context: ApiContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = requestUrl(request);
  const path = url.pathname;
  const method = request.method ?? "GET";
  if (method === "GET" || method === "HEAD") {
    if (path === "/") return sendDashboard(response);
    if (path === "/livez") return getLivez(response);
    if (path === "/readyz") return getReadyz(context, response);
    if (path === "/metrics") return getMetrics(context, response);
    if (path === "/v1/snapshot") return getSnapshot(context, response);
    if (path === "/v1/members") return getMembers(context, response);
    if (path === "/v1/cluster") return sendJson(response, 200, clusterStatus(context));
    if (path === "/v1/dashboard-samples" && context.dashboardSamples !== undefined) return sendJson(response, 200, context.dashboardSamples());
    if (path === "/v1/machines") return listMachines(context, url, response);
    if (path === "/v1/tokens") return listTokens(context, response);
    if (path.startsWith(machinesPrefix) && path.length > machinesPrefix.length) {
      const key = decodeKey(path.slice(machinesPrefix.length));
      if (key === null) return sendError(response, "bad_request", "key: invalid percent-encoding");
      return getMachine(context, key, url, response);
    }
  }
  const membershipRoute = routeMembership(context, method, path, request, response);
  if (membershipRoute !== null) return membershipRoute;
  if (method === "POST" && path.startsWith(machinesPrefix) && path.endsWith(transitionSuffix)) {
    const key = decodeKey(path.slice(machinesPrefix.length, path.length - transitionSuffix.length));
    if (key === null || key === "") return sendError(response, "bad_request", "key: missing or invalid percent-encoding");
    return postTransition(context, key, request, response);
  }
  if (method === "POST" && path === "/v1/tokens") return postToken(context, request, response);
  if (method === "DELETE" && path.startsWith(tokensPrefix) && path.length > tokensPrefix.length) {
    const name = decodeKey(path.slice(tokensPrefix.length));
    if (name === null) return sendError(response, "bad_request", "name: invalid percent-encoding");
    return deleteToken(context, name, request, response);
  }
  if (method === "POST" && path === "/v1/sessions") return postSession(context, request, response);
  if (method === "DELETE" && path.startsWith(machinesPrefix) && path.length > machinesPrefix.length) {
    const key = decodeKey(path.slice(machinesPrefix.length));
    if (key === null) return sendError(response, "bad_request", "key: invalid percent-encoding");
    return deleteMachine(context, key, url, request, response);
  }
  request.resume();
  sendError(response, "not_found", `no route for ${method} ${path}`);
}

const memberPattern = /^\/v1\/members\/([^/]+)(\/promote)?$/;

/** The membership and join routes (DESIGN.md §9); null when the request is not one of them. */
function routeMembership(context: ApiContext, method: string, path: string, request: IncomingMessage, response: ServerResponse): Promise<void> | null {
  if (method === "POST" && path === "/v1/members") return postMember(context, request, response);
  if (method === "POST" && path === "/v1/join") return postJoin(context, request, response);
  if (method === "POST" && path === "/v1/join-tokens") return postJoinToken(context, request, response);
  const match = memberPattern.exec(path);
  if (match === null) return null;
  const id = decodeKey(match[1]!) ?? "";
  if (method === "POST" && match[2] !== undefined) return changeMember(context, request, response, "promote", id);
  if (method === "DELETE" && match[2] === undefined) return changeMember(context, request, response, "remove", id);
  return null;
}

function decodeKey(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

function sendDashboard(response: ServerResponse): void {
  const html = dashboardHtml();
  response.statusCode = 200;
  response.setHeader("Content-Type", "text/html; charset=utf-8");
  response.setHeader("Content-Length", Buffer.byteLength(html));
  response.setHeader("Cache-Control", "no-store");
  response.end(html);
}
