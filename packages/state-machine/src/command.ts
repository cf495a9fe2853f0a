// The commands the store applies. These mirror packages/protocol/src/commands.ts structurally
// (a protocol `Command` object is accepted as it is) without importing it: DESIGN.md §3 keeps
// state-machine free of dependencies on our other packages.

import type { TokenCreateCommand, TokenRevokeCommand } from "./token-table.js";

export type { TokenCreateCommand, TokenRevokeCommand } from "./token-table.js";

/**
 * A client session (Raft thesis §6.3): `clientId` is the id a `register_session` entry gave the
 * client (the decimal log index of that entry); `seq` is a positive safe integer, unique per
 * request of that session.
 */
export interface ClientSession {
  readonly clientId: string;
  readonly seq: number;
}

/** Move machine `key` to state `to`; with `expect`, only if its current state equals `expect`. */
export interface TransitionCommand {
  readonly kind: "transition";
  readonly key: string;
  readonly to: string;
  readonly expect?: string | undefined;
  readonly session?: ClientSession | undefined;
}

/** Forget machine `key` (it is back in the initial state at revision 0); with `expect`, only from that state. */
export interface DeleteCommand {
  readonly kind: "delete";
  readonly key: string;
  readonly expect?: string | undefined;
  readonly session?: ClientSession | undefined;
}

/**
 * Opens a client session whose id is this entry's log index. `nonce` only lets the proposer
 * recognise its own entry among the applied ones; the store does not interpret it.
 */
export interface RegisterSessionCommand {
  readonly kind: "register_session";
  readonly nonce: string;
}

/** A new leader's first entry; it changes nothing but the applied index. */
export interface NoopCommand {
  readonly kind: "noop";
}

/** Replaces the replicated member list. */
export interface MembersCommand {
  readonly kind: "members";
  readonly members: readonly string[];
}

/** Replaces the store's limits (quota and sessions), proposed by a leader whose configuration differs. */
export interface LimitsCommand {
  readonly kind: "limits";
  readonly limits: StoreLimitsValue;
}

/** The store's limits as plain data; see store-limits.ts for their meaning. */
export interface StoreLimitsValue {
  readonly keysMax: number;
  readonly stateBytesMax: number;
  readonly sessionsMax: number;
  readonly sessionWindowSeqs: number;
  readonly sessionIdleEntriesMax: number;
}

/** The commands that carry a client session and are answered once per request id. */
export type WriteCommand = TransitionCommand | DeleteCommand;


/** Creates a one-time join token; only the secret's SHA-256 is replicated. Times are the proposer's clock. */
export interface JoinTokenCreateCommand {
  readonly kind: "join_token_create";
  readonly tokenId: string;
  readonly secretSha256: string;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
}

/** Spends a join token for `nodeId` at the proposer's time `atMs`. */
export interface JoinTokenUseCommand {
  readonly kind: "join_token_use";
  readonly tokenId: string;
  readonly secretSha256: string;
  readonly nodeId: string;
  readonly atMs: number;
}

export interface JoinTokenRevokeCommand {
  readonly kind: "join_token_revoke";
  readonly tokenId: string;
}

export type Command =
  | TransitionCommand
  | DeleteCommand
  | RegisterSessionCommand
  | NoopCommand
  | MembersCommand
  | LimitsCommand
  | JoinTokenCreateCommand
  | JoinTokenUseCommand
  | JoinTokenRevokeCommand
  | TokenCreateCommand
  | TokenRevokeCommand;
