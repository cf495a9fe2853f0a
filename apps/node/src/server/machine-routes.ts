import type { IncomingMessage, ServerResponse } from "node:http";
import {
  KeySchema,
  machineListLimitDefault,
  machineListLimitMax,
  parseRequestId,
  StateNameSchema,
  TransitionRequestSchema,
  type ClientSession,
  type MachineList,
  type MachineState,
} from "@lockstep/protocol";
import type { ApiContext } from "./api-context.js";
import { readJsonBody } from "./read-json-body.js";
import { sendError, sendJson } from "./send-json.js";
import { sendTransitionOutcome } from "./transition-response.js";

type Consistency = "linearizable" | "stale";

export function parseConsistency(url: URL): Consistency | null {
  const value = url.searchParams.get("consistency");
  if (value === null || value === "linearizable") return "linearizable";
  return value === "stale" ? "stale" : null;
}

function leaderDetail(context: ApiContext): { leader?: string } {
  const leader = context.node.summary().leader;
  return leader === null ? {} : { leader };
}

/** `GET /v1/machines/:key`: linearizable (ReadIndex) unless `?consistency=stale`. */
export async function getMachine(context: ApiContext, key: string, url: URL, response: ServerResponse): Promise<void> {
  const consistency = parseConsistency(url);
  if (consistency === null) return sendError(response, "bad_request", 'consistency: expected "linearizable" or "stale"');
  if (!KeySchema.safeParse(key).success) return sendError(response, "bad_request", `key: "${key}" is not a valid key`);
  const read = await context.node.read(key, consistency);
  if (!read.ok) return sendError(response, read.code, `read failed: ${read.code}`, leaderDetail(context));
  const body: MachineState = { key, state: read.state, revision: read.revision };
  sendJson(response, 200, body);
}

/**
 * `GET /v1/machines?limit=N&after=KEY`: one page of the keys held, sorted, at one store revision.
 * `next` is the `after` of the following page, null on the last one.
 */
export async function listMachines(context: ApiContext, url: URL, response: ServerResponse): Promise<void> {
  const consistency = parseConsistency(url);
  if (consistency === null) return sendError(response, "bad_request", 'consistency: expected "linearizable" or "stale"');
  const limitText = url.searchParams.get("limit");
  const limit = limitText === null ? machineListLimitDefault : /^[1-9][0-9]{0,5}$/.test(limitText) ? Number(limitText) : Number.NaN;
  if (!(limit >= 1 && limit <= machineListLimitMax)) {
    return sendError(response, "bad_request", `limit: expected an integer from 1 to ${machineListLimitMax}, got ${JSON.stringify(limitText)}`);
  }
  const after = url.searchParams.get("after") ?? undefined;
  if (after !== undefined && !KeySchema.safeParse(after).success) return sendError(response, "bad_request", `after: "${after}" is not a valid key`);
  if (consistency === "linearizable") {
    const barrier = await context.node.readBarrier();
    if (!barrier.ok) return sendError(response, barrier.code, `read failed: ${barrier.code}`, leaderDetail(context));
  }
  // Read right after the barrier, in the same turn, as readBarrier asks.
  const store = context.node.localStore;
  const page = store.page(after, limit);
  const body: MachineList = { revision: store.appliedIndex, machines: page.entries, next: page.more ? page.entries.at(-1)!.key : null };
  sendJson(response, 200, body);
}

/** `POST /v1/machines/:key/transition` `{ to, expect?, requestId? }`. */
export async function postTransition(context: ApiContext, key: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const body = await readJsonBody(request, context.requestBodyBytesMax);
  if (!body.ok) {
    if (body.code === "payload_too_large") response.setHeader("Connection", "close");
    return sendError(response, body.code, body.message);
  }
  if (!KeySchema.safeParse(key).success) return sendError(response, "bad_request", `key: "${key}" is not a valid key`);
  const parsed = TransitionRequestSchema.safeParse(body.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length === 0 ? "body" : issue.path.map(String).join(".");
    return sendError(response, "bad_request", `${field}: ${issue.message}`);
  }
  const { to, expect, requestId } = parsed.data;
  const session = requestId === undefined ? undefined : parseRequestId(requestId);
  if (requestId !== undefined && session === undefined) return sendError(response, "bad_request", "requestId: must look like <sessionId>:<seq>, seq >= 1");
  const outcome = await context.node.transition({
    key,
    to,
    ...(expect === undefined ? {} : { expect }),
    ...(session === undefined ? {} : { session }),
  });
  sendTransitionOutcome(response, outcome, context.node.summary().leader);
}

/** `DELETE /v1/machines/:key?expect=STATE&requestId=ID`: forgets the key (always allowed, also over quota). */
export async function deleteMachine(context: ApiContext, key: string, url: URL, request: IncomingMessage, response: ServerResponse): Promise<void> {
  request.resume();
  if (!KeySchema.safeParse(key).success) return sendError(response, "bad_request", `key: "${key}" is not a valid key`);
  const expect = url.searchParams.get("expect") ?? undefined;
  if (expect !== undefined && !StateNameSchema.safeParse(expect).success) return sendError(response, "bad_request", `expect: "${expect}" is not a valid state name`);
  const requestId = url.searchParams.get("requestId") ?? undefined;
  let session: ClientSession | undefined;
  if (requestId !== undefined) {
    session = parseRequestId(requestId);
    if (session === undefined) return sendError(response, "bad_request", "requestId: must look like <sessionId>:<seq>, seq >= 1");
  }
  const outcome = await context.node.delete({
    key,
    ...(expect === undefined ? {} : { expect }),
    ...(session === undefined ? {} : { session }),
  });
  sendTransitionOutcome(response, outcome, context.node.summary().leader);
}
