import { randomBytes } from "node:crypto";
import type { ConsensusNode } from "@lockstep/consensus";
import type { TokenCreateCommand, TokenRevokeCommand } from "@lockstep/protocol";
import type { TokenResult } from "@lockstep/state-machine";

export type ProposalOutcome = { ok: true; result: TokenResult } | { ok: false; code: "timeout" | "no_quorum" | "overloaded" | "shutting_down" };

export interface ProposeAndWaitOptions {
  /** The whole wait; then the outcome is unknown (`timeout` if a leader took it, else `no_quorum`). */
  timeoutMs: number;
  /** Between proposals while no leader is known, and between copies sent in case a forward was lost. */
  retryIntervalMs: number;
}

/** A fresh id that tells this proposal's applied entry apart from any other. */
export function newProposalId(): string {
  return randomBytes(12).toString("base64url");
}

/**
 * Proposes a token command and resolves with the state machine's answer once this node has
 * applied it. A copy is proposed again every `retryIntervalMs` until then (a forward to the
 * leader can be lost); a second copy that applies answers `token_exists` or `token_not_found`,
 * but only the first applied copy of this `proposalId` is reported.
 */
export function proposeAndWait(node: ConsensusNode, command: TokenCreateCommand | TokenRevokeCommand, options: ProposeAndWaitOptions): Promise<ProposalOutcome> {
  return new Promise((resolve) => {
    let accepted = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (outcome: ProposalOutcome): void => {
      unsubscribe();
      clearTimeout(timer);
      clearTimeout(deadline);
      resolve(outcome);
    };
    const unsubscribe = node.onApplied((event) => {
      const applied = event.command;
      if ((applied.kind === "token_create" || applied.kind === "token_revoke") && applied.proposalId === command.proposalId) {
        finish({ ok: true, result: event.result as TokenResult });
      }
    });
    const deadline = setTimeout(() => finish({ ok: false, code: accepted ? "timeout" : "no_quorum" }), options.timeoutMs);
    const propose = (): void => {
      const proposed = node.proposeDetached(command);
      if (proposed.ok) accepted = true;
      else if (proposed.reason === "overloaded" || proposed.reason === "shutting_down") return finish({ ok: false, code: proposed.reason });
      timer = setTimeout(propose, options.retryIntervalMs);
    };
    propose();
  });
}
