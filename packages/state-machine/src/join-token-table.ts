import type { JoinTokenResult } from "./apply-result.js";
import type { JoinTokenCreateCommand, JoinTokenRevokeCommand, JoinTokenUseCommand } from "./command.js";
import { compareStrings } from "./compare-strings.js";

/** Join tokens the store holds at once; a create beyond it (after spent and expired ones are dropped) is refused. */
export const joinTokensMax = 1024;

/** One join token as the replicated state keeps it: never the secret, only its SHA-256. */
export interface JoinTokenRecord {
  readonly tokenId: string;
  readonly secretSha256: string;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
  /** The node that spent it, or null while it is unused. */
  readonly usedBy: string | null;
}

/**
 * The cluster's one-time join tokens (DESIGN.md §9), applied through the log so that a token is
 * spent once for the whole cluster. Every decision reads only the command and the table, never a
 * clock: times are the proposing leader's, carried in the command, so replicas agree.
 */
export class JoinTokenTable {
  readonly #tokens = new Map<string, JoinTokenRecord>();

  get size(): number {
    return this.#tokens.size;
  }

  get(tokenId: string): JoinTokenRecord | undefined {
    return this.#tokens.get(tokenId);
  }

  /** Every token, sorted by id: the order snapshots record. */
  records(): JoinTokenRecord[] {
    return [...this.#tokens.values()].sort((left, right) => compareStrings(left.tokenId, right.tokenId));
  }

  create(command: JoinTokenCreateCommand): JoinTokenResult {
    const { tokenId } = command;
    if (this.#tokens.has(tokenId)) return refused("create", tokenId, "exists");
    if (command.expiresAtMs <= command.createdAtMs) return refused("create", tokenId, "expired");
    if (this.#tokens.size >= joinTokensMax) this.#dropSpent(command.createdAtMs);
    if (this.#tokens.size >= joinTokensMax) return refused("create", tokenId, "table_full");
    this.#tokens.set(tokenId, {
      tokenId,
      secretSha256: command.secretSha256,
      createdAtMs: command.createdAtMs,
      expiresAtMs: command.expiresAtMs,
      usedBy: null,
    });
    return { ok: true, kind: "join_token", action: "create", tokenId };
  }

  /**
   * Spends a token for `nodeId`. The same node presenting the same token again (a join whose
   * answer was lost) is answered ok again until the token expires; any other node is refused
   * with `used`.
   */
  use(command: JoinTokenUseCommand): JoinTokenResult {
    const { tokenId } = command;
    const record = this.#tokens.get(tokenId);
    if (record === undefined) return refused("use", tokenId, "unknown");
    if (record.secretSha256 !== command.secretSha256) return refused("use", tokenId, "unknown");
    if (command.atMs >= record.expiresAtMs) return refused("use", tokenId, "expired");
    if (record.usedBy !== null) return record.usedBy === command.nodeId ? { ok: true, kind: "join_token", action: "use", tokenId } : refused("use", tokenId, "used");
    this.#tokens.set(tokenId, { ...record, usedBy: command.nodeId });
    return { ok: true, kind: "join_token", action: "use", tokenId };
  }

  revoke(command: JoinTokenRevokeCommand): JoinTokenResult {
    if (!this.#tokens.delete(command.tokenId)) return refused("revoke", command.tokenId, "unknown");
    return { ok: true, kind: "join_token", action: "revoke", tokenId: command.tokenId };
  }

  restore(records: readonly JoinTokenRecord[]): void {
    this.#tokens.clear();
    for (const record of records) this.#tokens.set(record.tokenId, { ...record });
  }

  /** Spent tokens and tokens expired at `nowMs` make room; live unused ones are kept. */
  #dropSpent(nowMs: number): void {
    for (const [tokenId, record] of this.#tokens) {
      if (record.usedBy !== null || record.expiresAtMs <= nowMs) this.#tokens.delete(tokenId);
    }
  }
}

function refused(action: "create" | "use" | "revoke", tokenId: string, reason: "exists" | "unknown" | "used" | "expired" | "table_full"): JoinTokenResult {
  return { ok: false, code: "join_token_refused", action, tokenId, reason };
}
