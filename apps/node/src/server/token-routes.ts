import type { IncomingMessage, ServerResponse } from "node:http";
import { TokenCreateRequestSchema, TokenNameSchema, type TokenCreated, type TokenInfo, type TokenList, type TokenRevoked } from "@lockstep/protocol";
import type { TokenRecord } from "@lockstep/state-machine";
import type { ApiContext } from "./api-context.js";
import { readJsonBody } from "./read-json-body.js";
import { newProposalId, proposeAndWait, type ProposalOutcome } from "./replicated-proposal.js";
import { sendError, sendJson } from "./send-json.js";
import { createTokenSecret, hashTokenSecret } from "./token-secret.js";

/** `POST /v1/tokens` `{ name, role, prefixes? }` -> 200 with the token, shown this once. */
export async function postToken(context: ApiContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const body = await readJsonBody(request, context.requestBodyBytesMax);
  if (!body.ok) return sendError(response, body.code, body.message);
  const parsed = TokenCreateRequestSchema.safeParse(body.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return sendError(response, "bad_request", `${issue.path.length === 0 ? "body" : issue.path.map(String).join(".")}: ${issue.message}`);
  }
  const { name, role, prefixes = [], ttlSeconds } = parsed.data;
  const token = createTokenSecret(name);
  // The expiry is fixed here, by this node's clock, and replicated as a time: every node then
  // refuses the token from that moment by its own clock (as join tokens expire).
  const expiry = ttlSeconds === undefined ? {} : { expiresAtMs: context.nowMs() + ttlSeconds * 1000 };
  const command = { kind: "token_create" as const, proposalId: newProposalId(), name, hash: hashTokenSecret(token), role, prefixes, ...expiry };
  const outcome = await proposeAndWait(context.node, command, context.proposal);
  if (!outcome.ok) return sendProposalFailure(context, response, outcome);
  const result = outcome.result;
  if (result.ok) {
    const record = context.node.localStore.tokens.get(name);
    if (record === undefined) return sendError(response, "internal", `token ${name} was created but is not in the table`);
    const created: TokenCreated = { ...tokenInfo(record), token };
    return sendJson(response, 200, created);
  }
  if (result.code === "token_exists") return sendError(response, "token_exists", `a token named "${name}" exists; revoke it first or pick another name`);
  if (result.code === "tokens_full") return sendError(response, "bad_request", "the cluster holds as many tokens as it can; revoke unused ones first");
  return sendError(response, "internal", `unexpected answer ${result.code} to a token creation`);
}

/** `GET /v1/tokens`: names, roles, prefixes, creation revisions; never secrets or hashes. */
export async function listTokens(context: ApiContext, response: ServerResponse): Promise<void> {
  const barrier = await context.node.readBarrier();
  if (!barrier.ok) return sendError(response, barrier.code, `read failed: ${barrier.code}`);
  const store = context.node.localStore;
  const body: TokenList = { revision: store.appliedIndex, tokens: store.tokens.list().map(tokenInfo) };
  sendJson(response, 200, body);
}

/** `DELETE /v1/tokens/:name`: every node refuses the token once it applies the revoke. */
export async function deleteToken(context: ApiContext, name: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  request.resume();
  if (!TokenNameSchema.safeParse(name).success) return sendError(response, "bad_request", `name: "${name}" is not a token name`);
  const outcome = await proposeAndWait(context.node, { kind: "token_revoke", proposalId: newProposalId(), name }, context.proposal);
  if (!outcome.ok) return sendProposalFailure(context, response, outcome);
  const result = outcome.result;
  if (result.ok && result.kind === "token_revoke") {
    const body: TokenRevoked = { name, revision: result.revision };
    return sendJson(response, 200, body);
  }
  if (!result.ok && result.code === "token_not_found") return sendError(response, "not_found", `no token named "${name}"`);
  return sendError(response, "internal", `unexpected answer to a token revocation: ${JSON.stringify(result)}`);
}

function tokenInfo(record: TokenRecord): TokenInfo {
  return {
    name: record.name,
    role: record.role,
    prefixes: [...record.prefixes],
    createdRevision: record.createdRevision,
    ...(record.expiresAtMs === undefined ? {} : { expiresAt: new Date(record.expiresAtMs).toISOString() }),
  };
}

function sendProposalFailure(context: ApiContext, response: ServerResponse, outcome: Extract<ProposalOutcome, { ok: false }>): void {
  const leader = context.node.summary().leader;
  const details = leader === null ? {} : { leader };
  const messages = {
    timeout: "the change was not committed in time; its outcome is unknown: list the tokens to see",
    no_quorum: "no leader is reachable; nothing was changed",
    overloaded: "the leader is overloaded; retry later",
    shutting_down: "this node is shutting down; retry on another node",
  } as const;
  sendError(response, outcome.code, messages[outcome.code], details);
}
