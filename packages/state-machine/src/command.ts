// The commands the store applies. These mirror packages/protocol/src/commands.ts structurally
// (a protocol `Command` object is accepted as it is) without importing it: DESIGN.md §3 keeps
// state-machine free of dependencies on our other packages.

import type { TokenCreateCommand, TokenRevokeCommand } from "./token-table.js";

export type { TokenCreateCommand, TokenRevokeCommand } from "./token-table.js";

/** A client session (Raft thesis §6.3): `seq` is a positive safe integer, unique per `clientId`. */
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

/** A new leader's first entry; it changes nothing but the applied index. */
export interface NoopCommand {
  readonly kind: "noop";
}

/** Replaces the replicated member list. */
export interface MembersCommand {
  readonly kind: "members";
  readonly members: readonly string[];
}

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
  | NoopCommand
  | MembersCommand
  | JoinTokenCreateCommand
  | JoinTokenUseCommand
  | JoinTokenRevokeCommand
  | TokenCreateCommand
  | TokenRevokeCommand;
