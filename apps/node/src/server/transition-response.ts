import type { ServerResponse } from "node:http";
import type { TransitionOutcome } from "@lockstep/consensus";
import type { DeleteResponse, TransitionResponse } from "@lockstep/protocol";
import { sendError, sendJson } from "./send-json.js";

/**
 * Answers a write (transition or delete) with what the cluster decided: 200 when it applied,
 * 409 when the state machine or the session refused it, 507 when the quota did, 503 when the
 * outcome is unknown or the node cannot take it now.
 */
export function sendTransitionOutcome(response: ServerResponse, outcome: TransitionOutcome, leader: string | null): void {
  const leaderDetail = leader === null ? {} : { leader };
  if (outcome.ok) {
    switch (outcome.kind) {
      case "transition": {
        const body: TransitionResponse = { key: outcome.key, from: outcome.from, to: outcome.to, revision: outcome.revision };
        return sendJson(response, 200, body);
      }
      case "delete": {
        const body: DeleteResponse = { key: outcome.key, from: outcome.from, deleted: outcome.deleted, revision: outcome.revision };
        return sendJson(response, 200, body);
      }
      default:
        return sendError(response, "internal", `the state machine answered a write with a ${outcome.kind} result`);
    }
  }
  switch (outcome.code) {
    case "invalid_transition":
      sendError(response, "invalid_transition", `${outcome.key}: cannot go from ${outcome.from} to ${outcome.to}; allowed from ${outcome.from}: ${outcome.allowed.join(", ") || "none"}`, {
        from: outcome.from,
        to: outcome.to,
        allowed: [...outcome.allowed],
      });
      return;
    case "expect_failed":
      sendError(response, "expect_failed", `${outcome.key}: expected state ${outcome.expected}, but it is ${outcome.actual}`, { actual: outcome.actual });
      return;
    case "quota_exceeded": {
      const limitName = outcome.quota === "keys" ? "keysMax" : "stateBytesMax";
      const used = outcome.quota === "keys" ? `${outcome.used} keys` : `${outcome.used} bytes`;
      sendError(response, "quota_exceeded", `${outcome.key}: the replicated state is full (${used} held, ${limitName} ${outcome.limit}); delete keys to make room`, {
        quota: outcome.quota,
        limit: outcome.limit,
        used: outcome.used,
      });
      return;
    }
    case "session_expired": {
      const why =
        outcome.reason === "unknown_session"
          ? `session ${outcome.clientId} is not known to the cluster (never registered, or expired)`
          : `seq ${outcome.seq} is older than session ${outcome.clientId} keeps (oldest known seq ${outcome.oldestSeq ?? 1})`;
      sendError(response, "session_expired", `request ${outcome.clientId}:${outcome.seq} was not applied now: ${why}; an earlier attempt's outcome is unknown`, {
        reason: outcome.reason,
      });
      return;
    }
    case "request_id_reused":
      sendError(response, "request_id_reused", `request ${outcome.clientId}:${outcome.seq} already answered a different command; use a new seq for a new command`);
      return;
    case "join_token_refused":
      sendError(response, "internal", "the state machine answered a write with a join-token result");
      return;
    case "timeout":
      sendError(response, "timeout", "the write was not committed in time; its outcome is unknown: retry with the same requestId", leaderDetail);
      return;
    case "no_quorum":
      sendError(response, "no_quorum", "no majority of the cluster is reachable; the outcome is unknown: retry with the same requestId", leaderDetail);
      return;
    case "shutting_down":
      sendError(response, "shutting_down", "this node is shutting down; retry on another node with the same requestId", leaderDetail);
      return;
    case "overloaded":
      sendError(response, "overloaded", "this node has too many requests in flight; retry later with the same requestId", leaderDetail);
      return;
    case "token_exists":
    case "token_not_found":
    case "already_bootstrapped":
    case "tokens_full":
      sendError(response, "internal", `the state machine answered a transition with a token result (${outcome.code})`);
      return;
  }
}
