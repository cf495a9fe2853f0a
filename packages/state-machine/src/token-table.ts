import { assert } from "./assert.js";
import { compareStrings } from "./compare-strings.js";

// Client tokens as replicated state (DESIGN.md §10). The table holds only what every replica must
// agree on to authorise a request: a name, the SHA-256 of the secret (computed by the node that
// created it; secrets are never replicated), a role, key prefixes and the creating revision.

export type TokenRole = "read" | "write" | "admin";

/** Adds a token; with `bootstrap`, only while the cluster has never had one. Mirrors protocol's schema. */
export interface TokenCreateCommand {
  readonly kind: "token_create";
  readonly proposalId: string;
  readonly name: string;
  readonly hash: string;
  readonly role: TokenRole;
  readonly prefixes: readonly string[];
  readonly bootstrap?: boolean | undefined;
  /**
   * Wall-clock milliseconds after which the token is refused (computed by the node that proposed
   * it). The table only carries it: nodes compare it with their own clock when they check a
   * request, as they do for join tokens, so apply stays deterministic.
   */
  readonly expiresAtMs?: number | undefined;
}

export interface TokenRevokeCommand {
  readonly kind: "token_revoke";
  readonly proposalId: string;
  readonly name: string;
}

export interface TokenRecord {
  readonly name: string;
  readonly hash: string;
  readonly role: TokenRole;
  readonly prefixes: readonly string[];
  readonly createdRevision: number;
  /** Absent: the token does not expire. */
  readonly expiresAtMs?: number;
}

export interface TokenCreatedResult {
  readonly ok: true;
  readonly kind: "token_create";
  readonly name: string;
  readonly revision: number;
}

export interface TokenRevokedResult {
  readonly ok: true;
  readonly kind: "token_revoke";
  readonly name: string;
  readonly revision: number;
}

/**
 * `token_exists`: the name is taken. `token_not_found`: nothing to revoke. `already_bootstrapped`:
 * a bootstrap create after the cluster has had a token. `tokens_full`: `tokensMax` reached.
 */
export interface TokenRejectedResult {
  readonly ok: false;
  readonly code: "token_exists" | "token_not_found" | "already_bootstrapped" | "tokens_full";
  readonly name: string;
}

export type TokenResult = TokenCreatedResult | TokenRevokedResult | TokenRejectedResult;

/** Tokens one cluster holds at most: each is checked on every request, and all travel in snapshots. */
export const tokensMax = 1024;

/** The table as a snapshot records it: tokens sorted by name. */
export interface TokenTableSnapshot {
  readonly bootstrapped: boolean;
  readonly tokens: readonly (readonly [name: string, hash: string, role: TokenRole, prefixes: readonly string[], createdRevision: number, expiresAtMs?: number | undefined])[];
}

/** The replicated token table. Deterministic: it reads no clock and draws no randomness. */
export class TokenTable {
  readonly #tokens = new Map<string, TokenRecord>();
  /** Set by the first token ever created; a bootstrap create is refused from then on. */
  #bootstrapped = false;

  get size(): number {
    return this.#tokens.size;
  }

  get bootstrapped(): boolean {
    return this.#bootstrapped;
  }

  get(name: string): TokenRecord | undefined {
    return this.#tokens.get(name);
  }

  /** Every token, sorted by name. */
  list(): TokenRecord[] {
    return [...this.#tokens.values()].sort((left, right) => compareStrings(left.name, right.name));
  }

  create(index: number, command: TokenCreateCommand): TokenResult {
    const { name } = command;
    if (command.bootstrap === true && this.#bootstrapped) return { ok: false, code: "already_bootstrapped", name };
    if (this.#tokens.has(name)) return { ok: false, code: "token_exists", name };
    if (this.#tokens.size >= tokensMax) return { ok: false, code: "tokens_full", name };
    const prefixes = Object.freeze([...new Set(command.prefixes)].sort(compareStrings));
    const expiry = command.expiresAtMs === undefined ? {} : { expiresAtMs: command.expiresAtMs };
    this.#tokens.set(name, Object.freeze({ name, hash: command.hash, role: command.role, prefixes, createdRevision: index, ...expiry }));
    this.#bootstrapped = true;
    return { ok: true, kind: "token_create", name, revision: index };
  }

  revoke(index: number, command: TokenRevokeCommand): TokenResult {
    if (!this.#tokens.delete(command.name)) return { ok: false, code: "token_not_found", name: command.name };
    return { ok: true, kind: "token_revoke", name: command.name, revision: index };
  }

  assertInvariants(appliedIndex: number): void {
    assert(this.#tokens.size <= tokensMax, `${this.#tokens.size} tokens exceed tokensMax`);
    assert(this.#tokens.size === 0 || this.#bootstrapped, "tokens exist but the table is not bootstrapped");
    for (const record of this.#tokens.values()) {
      assert(record.createdRevision >= 1 && record.createdRevision <= appliedIndex, `token ${record.name} created beyond ${appliedIndex}`);
    }
  }

  snapshot(): TokenTableSnapshot {
    // A token without expiry keeps the five-element form, so snapshots of such tables are unchanged.
    return {
      bootstrapped: this.#bootstrapped,
      tokens: this.list().map((record) =>
        record.expiresAtMs === undefined
          ? ([record.name, record.hash, record.role, record.prefixes, record.createdRevision] as const)
          : ([record.name, record.hash, record.role, record.prefixes, record.createdRevision, record.expiresAtMs] as const),
      ),
    };
  }

  /** Refills an empty table from a snapshot that `tokenTableProblem` accepted. */
  restore(snapshot: TokenTableSnapshot): void {
    assert(this.#tokens.size === 0, "restore into a non-empty token table");
    this.#bootstrapped = snapshot.bootstrapped;
    for (const [name, hash, role, prefixes, createdRevision, expiresAtMs] of snapshot.tokens) {
      const expiry = expiresAtMs === undefined ? {} : { expiresAtMs };
      this.#tokens.set(name, Object.freeze({ name, hash, role, prefixes: Object.freeze([...prefixes]), createdRevision, ...expiry }));
    }
  }
}

/** Why a decoded token table cannot be trusted, or undefined. */
export function tokenTableProblem(snapshot: TokenTableSnapshot, appliedIndex: number): string | undefined {
  if (snapshot.tokens.length > tokensMax) return `${snapshot.tokens.length} tokens exceed tokensMax ${tokensMax}`;
  if (snapshot.tokens.length > 0 && !snapshot.bootstrapped) return "tokens exist but the table is not bootstrapped";
  let previous: string | undefined;
  for (const [name, , , , createdRevision] of snapshot.tokens) {
    if (previous !== undefined && !(previous < name)) return `tokens are not sorted by name at "${name}"`;
    if (createdRevision > appliedIndex) return `token "${name}" created at ${createdRevision}, beyond appliedIndex ${appliedIndex}`;
    previous = name;
  }
  return undefined;
}
