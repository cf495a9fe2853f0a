import { readFileSync, unlinkSync, writeFileSync } from "node:fs";
import type { ConsensusNode, Logger } from "@lockstep/consensus";
import type { TokenCreateCommand } from "@lockstep/protocol";
import { newProposalId, proposeAndWait, type ProposeAndWaitOptions } from "./replicated-proposal.js";
import { createTokenSecret, hashTokenSecret, tokenName } from "./token-secret.js";

export const initialAdminTokenName = "initial-admin";

export interface InitialAdminTokenOptions {
  node: ConsensusNode;
  file: string;
  logger: Logger;
  proposal: ProposeAndWaitOptions;
}

type TokenFile = { ok: true; token: string; created: boolean } | { ok: false; message: string };

/**
 * Bootstraps a new cluster's first admin token (Consul's `initial_management`): whenever this
 * node leads and the cluster has never had a token, it proposes the token in `file` (writing a
 * fresh one there first when the file does not exist) as a bootstrap create, which applies only
 * while no token was ever created. Returns the function that stops watching.
 */
export function watchInitialAdminToken(options: InitialAdminTokenOptions): () => void {
  let proposing = false;
  const attempt = (): void => {
    const { node } = options;
    if (proposing || node.localStore.tokens.bootstrapped || node.summary().role !== "leader") return;
    const file = readOrCreate(options.file);
    if (!file.ok) {
      options.logger.error({ file: options.file }, file.message);
      return;
    }
    const name = tokenName(file.token)!;
    proposing = true;
    const command: TokenCreateCommand = { kind: "token_create", proposalId: newProposalId(), name, hash: hashTokenSecret(file.token), role: "admin", prefixes: [], bootstrap: true };
    void proposeAndWait(node, command, options.proposal).then((outcome) => {
      proposing = false;
      if (outcome.ok && outcome.result.ok) {
        options.logger.warn({ file: options.file, token: name }, "created the cluster's initial admin token from this file; keep it secret, and revoke it once you have made your own admin tokens");
      } else if (outcome.ok && file.created) {
        // Another leader bootstrapped first: the token just written here would never work.
        unlinkSync(options.file);
      }
    });
  };
  const unsubscribe = options.node.onApplied(() => attempt());
  attempt();
  return unsubscribe;
}

function readOrCreate(path: string): TokenFile {
  try {
    const token = readFileSync(path, "utf8").trim();
    if (tokenName(token) === null) return { ok: false, message: `the initial admin token file does not hold a token (<name>.<secret>, 16+ base64url characters of secret)` };
    return { ok: true, token, created: false };
  } catch (error) {
    if (!(error instanceof Error && "code" in error && error.code === "ENOENT")) return { ok: false, message: `cannot read the initial admin token file: ${String(error)}` };
  }
  const token = createTokenSecret(initialAdminTokenName);
  try {
    writeFileSync(path, `${token}\n`, { mode: 0o600, flag: "wx" });
  } catch (error) {
    return { ok: false, message: `cannot write the initial admin token file: ${String(error)}` };
  }
  return { ok: true, token, created: true };
}
