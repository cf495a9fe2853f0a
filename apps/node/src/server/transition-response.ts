import type { ServerResponse } from "node:http";
import type { TransitionOutcome } from "@lockstep/consensus";
import type { TransitionResponse } from "@lockstep/protocol";
import { sendError, sendJson } from "./send-json.js";

/**
 * Answers a transition with what the cluster decided: 200 when it moved, 409 when the state
 * machine refused it, 503 when the outcome is unknown or the node cannot take it now.
 */
export function sendTransitionOutcome(response: ServerResponse, outcome: TransitionOutcome, leader: string | null): void {
  const leaderDetail = leader === null ? {} : { leader };
  if (outcome.ok) {
    if (outcome.kind !== "transition") {
      sendError(response, "internal", `the state machine answered a transition with a ${outcome.kind} result`);
      return;
    }
    const body: TransitionResponse = { key: outcome.key, from: outcome.from, to: outcome.to, revision: outcome.revision };
    sendJson(response, 200, body);
    return;
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
    case "join_token_refused":
      sendError(response, "internal", "the state machine answered a transition with a join-token result");
      return;
    case "session_expired":
      sendError(response, "session_expired", `request ${outcome.clientId}:${outcome.seq} is older than the session keeps (oldest known seq ${outcome.oldestSeq}); its outcome is unknown`);
      return;
    case "timeout":
      sendError(response, "timeout", "the transition was not committed in time; its outcome is unknown: retry with the same requestId", leaderDetail);
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
