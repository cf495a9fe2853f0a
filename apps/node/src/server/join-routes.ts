import type { IncomingMessage, ServerResponse } from "node:http";
import { CreateJoinTokenRequestSchema, JoinRequestSchema, type CreateJoinTokenResponse, type JoinRequest, type JoinResponse } from "@lockstep/protocol";
import { generateJoinToken, parseJoinToken, sameSecretHash } from "../membership/join-token.js";
import type { MembershipChangeOutcome } from "../membership/membership-control.js";
import type { ApiContext } from "./api-context.js";
import { forwardToLeader } from "./forward-to-leader.js";
import { sendChangeOutcome } from "./member-routes.js";
import { readJsonBody } from "./read-json-body.js";
import { sendError, sendJson } from "./send-json.js";

/** A join token lives an hour unless asked otherwise. */
const joinTokenTtlSecondsDefault = 3600;

/** `POST /v1/join-tokens` `{ ttlSeconds? }` (admin): a one-time token; the cluster keeps only its hash. */
export async function postJoinToken(context: ApiContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const body = await readJsonBody(request, context.requestBodyBytesMax);
  if (!body.ok) return sendError(response, body.code, body.message);
  const parsed = CreateJoinTokenRequestSchema.safeParse(body.value);
  if (!parsed.success) return sendError(response, "bad_request", `${parsed.error.issues[0]!.path.join(".") || "body"}: ${parsed.error.issues[0]!.message}`);
  const generated = generateJoinToken();
  const createdAtMs = context.nowMs();
  const expiresAtMs = createdAtMs + (parsed.data.ttlSeconds ?? joinTokenTtlSecondsDefault) * 1000;
  const outcome = await context.node.proposeCommand({ kind: "join_token_create", tokenId: generated.tokenId, secretSha256: generated.secretSha256, createdAtMs, expiresAtMs });
  if (!outcome.ok) {
    if (outcome.code === "not_leader") return forwardToLeader(context, request, response, parsed.data, outcome.leader);
    return sendError(response, outcome.code, `the join token was not created: ${outcome.code}`);
  }
  if (!outcome.result.ok) return sendError(response, "internal", `the cluster refused the new join token: ${outcome.result.code}`);
  const answer: CreateJoinTokenResponse = { token: generated.token, tokenId: generated.tokenId, expiresAtMs };
  sendJson(response, 200, answer);
}

/**
 * `POST /v1/join`: a new node with a one-time join token asks to join (DESIGN.md §9). On the
 * leader: the token is checked, then spent through the log (so no node of the cluster accepts it
 * again), the node is added as a learner (a replaced node with an empty data directory is first
 * removed, so it cannot vote with data it lost), and its key is certified by the cluster CA.
 */
export async function postJoin(context: ApiContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const body = await readJsonBody(request, context.requestBodyBytesMax);
  if (!body.ok) return sendError(response, body.code, body.message);
  const parsed = JoinRequestSchema.safeParse(body.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return sendError(response, "bad_request", `${issue.path.map(String).join(".") || "body"}: ${issue.message}`);
  }
  const join = parsed.data;
  const status = context.node.status();
  if (status.role !== "leader") return forwardToLeader(context, request, response, join, status.leader);
  const spent = await spendToken(context, join);
  if (spent !== null) {
    if (spent.kind === "not_leader") return forwardToLeader(context, request, response, join, spent.leader);
    return sendError(response, spent.code, spent.message, spent.reason === undefined ? {} : { reason: spent.reason });
  }
  const added = await addAsLearner(context, join);
  if (!added.ok) return sendChangeOutcome(response, { kind: "add_learner", member: join.member }, added);
  let certificate: { certPem: string; caCertPem: string } | undefined;
  if (join.publicKeyPem !== undefined && context.joinSigner !== undefined) {
    try {
      certificate = await context.joinSigner({ nodeId: join.member.id, hosts: hostsOf(join), publicKeyPem: join.publicKeyPem });
    } catch (error) {
      return sendError(response, "bad_request", `publicKeyPem: cannot be certified: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const store = context.node.localStore;
  const answer: JoinResponse = {
    cluster: context.identity.cluster,
    clusterUuid: context.identity.clusterUuid,
    definition: store.definition,
    definitionHash: store.definitionHash,
    members: added.members,
    index: added.index,
    ...(certificate === undefined ? {} : { certificatePem: certificate.certPem, caCertificatePem: certificate.caCertPem }),
  };
  context.onJoined?.(join.member.id);
  sendJson(response, 200, answer);
}

type SpendRefusal =
  | { kind: "not_leader"; leader: string | null }
  | { kind: "refused"; code: "join_token_refused" | "timeout" | "no_quorum" | "shutting_down" | "overloaded" | "bad_request"; message: string; reason?: string };

/** Null when the token was spent for this node (or had been, by this same node's earlier attempt). */
async function spendToken(context: ApiContext, join: JoinRequest): Promise<SpendRefusal | null> {
  const token = parseJoinToken(join.token);
  if (!token.ok) return { kind: "refused", code: "bad_request", message: `token: ${token.reason}` };
  // A quick refusal for a token this node already knows to be bad; the log decides the rest.
  const known = context.node.localStore.joinToken(token.tokenId);
  if (known === undefined || !sameSecretHash(known.secretSha256, token.secretSha256)) {
    return { kind: "refused", code: "join_token_refused", message: "the join token is not known to the cluster (wrong, revoked or never created)", reason: "unknown" };
  }
  const outcome = await context.node.proposeCommand({ kind: "join_token_use", tokenId: token.tokenId, secretSha256: token.secretSha256, nodeId: join.member.id, atMs: context.nowMs() });
  if (!outcome.ok) {
    if (outcome.code === "not_leader") return { kind: "not_leader", leader: outcome.leader };
    return { kind: "refused", code: outcome.code, message: `the join token could not be spent: ${outcome.code}; retry` };
  }
  const result = outcome.result;
  if (result.ok) return null;
  if (result.code !== "join_token_refused") return { kind: "refused", code: "no_quorum", message: "unexpected answer to the join token" };
  const why = { unknown: "is not known to the cluster", used: "was already used by another node", expired: "has expired", exists: "exists", table_full: "table is full" }[result.reason];
  return { kind: "refused", code: "join_token_refused", message: `the join token ${why}`, reason: result.reason };
}

/**
 * Adds the joining node as a learner. The same node asking again (its first answer was lost) is
 * answered with the configuration that already holds it; a node that lost its data under a known
 * id is removed first and added back as a learner.
 */
async function addAsLearner(context: ApiContext, join: JoinRequest): Promise<MembershipChangeOutcome> {
  const { member } = join;
  const existing = context.membership.members().find((candidate) => candidate.id === member.id);
  if (existing !== undefined) {
    const sameAddresses = existing.peerAddress === member.peerAddress && existing.clientUrl === member.clientUrl;
    if (!existing.voter && sameAddresses) return { ok: true, index: context.node.summary().commitIndex, members: context.membership.members() };
    if (!join.dataDirectoryEmpty) return { ok: false, reason: "already_member" };
    const removed = await context.membership.changeMembership({ kind: "remove", id: member.id });
    if (!removed.ok) return removed;
  }
  return context.membership.changeMembership({ kind: "add_learner", member });
}

/** The DNS names and addresses a joining node's certificate names: the hosts of its advertised addresses. */
function hostsOf(join: JoinRequest): string[] {
  const peerHost = join.member.peerAddress.slice(0, join.member.peerAddress.lastIndexOf(":")).replace(/^\[(.*)\]$/, "$1");
  const clientHost = new URL(join.member.clientUrl).hostname.replace(/^\[(.*)\]$/, "$1");
  return [...new Set([peerHost, clientHost])];
}
