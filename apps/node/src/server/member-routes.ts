import type { IncomingMessage, ServerResponse } from "node:http";
import { AddMemberRequestSchema, NodeIdSchema, type MembersResponse, type MembershipChangeResponse } from "@lockstep/protocol";
import type { MembershipChange, MembershipChangeOutcome } from "../membership/membership-control.js";
import type { ApiContext } from "./api-context.js";
import { forwardToLeader } from "./forward-to-leader.js";
import { readJsonBody } from "./read-json-body.js";
import { sendError, sendJson } from "./send-json.js";

/** `GET /v1/members`: the configuration this node has applied. */
export function getMembers(context: ApiContext, response: ServerResponse): void {
  const body: MembersResponse = { leader: context.node.summary().leader, members: context.membership.members() };
  sendJson(response, 200, body);
}

/** `POST /v1/members` `{ id, peerAddress, clientUrl }`: adds a learner. */
export async function postMember(context: ApiContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const body = await readJsonBody(request, context.requestBodyBytesMax);
  if (!body.ok) return sendError(response, body.code, body.message);
  const parsed = AddMemberRequestSchema.safeParse(body.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length === 0 ? "body" : issue.path.map(String).join(".");
    return sendError(response, "bad_request", `${field}: ${issue.code === "unrecognized_keys" ? `unknown field ${issue.keys.join(", ")}` : issue.message}`);
  }
  await changeAndAnswer(context, request, response, { kind: "add_learner", member: parsed.data }, parsed.data);
}

/** `POST /v1/members/:id/promote` and `DELETE /v1/members/:id`. */
export async function changeMember(context: ApiContext, request: IncomingMessage, response: ServerResponse, kind: "promote" | "remove", id: string): Promise<void> {
  request.resume();
  if (!NodeIdSchema.safeParse(id).success) return sendError(response, "bad_request", `id: ${JSON.stringify(id)} is not a valid member id`);
  await changeAndAnswer(context, request, response, { kind, id }, undefined);
}

async function changeAndAnswer(context: ApiContext, request: IncomingMessage, response: ServerResponse, change: MembershipChange, body: unknown): Promise<void> {
  const outcome = await context.membership.changeMembership(change);
  if (!outcome.ok && outcome.reason === "not_leader") return forwardToLeader(context, request, response, body, outcome.leader ?? context.node.summary().leader);
  sendChangeOutcome(response, change, outcome);
}

/** Answers a configuration change: 200 with the new configuration, or the refusal's status. */
export function sendChangeOutcome(response: ServerResponse, change: MembershipChange, outcome: MembershipChangeOutcome): void {
  if (outcome.ok) {
    const body: MembershipChangeResponse = { index: outcome.index, members: outcome.members };
    return sendJson(response, 200, body);
  }
  const id = change.kind === "add_learner" ? change.member.id : change.id;
  const leader = outcome.leader === undefined ? {} : { leader: outcome.leader };
  const reason = { reason: outcome.reason };
  switch (outcome.reason) {
    case "not_leader":
    case "no_leader":
      return sendError(response, "no_leader", "no leader is known to take this change now; retry", { ...leader, ...reason });
    case "timeout":
      return sendError(response, "timeout", `the change was proposed but not committed in time; read GET /v1/members before retrying`, { ...leader, ...reason });
    case "change_in_progress":
      return sendError(response, "change_in_progress", "another membership change is not committed yet; retry once it is", { ...leader, ...reason });
    case "would_lose_quorum":
      return sendError(response, "would_lose_quorum", `removing ${id} would leave the voters a majority still needs unable to decide`, { ...leader, ...reason });
    case "unknown_member":
      return sendError(response, "unknown_member", `${id} is not a member`, reason);
    case "already_member":
      return sendError(response, "already_member", `${id} is already a member`, reason);
    case "not_a_learner":
      return sendError(response, "not_a_learner", `${id} is already a voter`, reason);
    case "learner_not_caught_up":
      return sendError(response, "learner_not_caught_up", `${id} has not yet acknowledged the leader's log through the configuration that names it; retry once it has caught up (GET /v1/cluster shows its progress)`, { ...leader, ...reason });
  }
}
