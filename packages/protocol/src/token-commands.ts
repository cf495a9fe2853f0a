import { z } from "zod";
import { identifierLengthMax, keyLengthMax } from "./ids.js";

/** Client-port access levels; each includes the ones before it: `read` < `write` < `admin`. */
export const TokenRoleSchema = z.enum(["read", "write", "admin"]);
export type TokenRole = z.infer<typeof TokenRoleSchema>;

/** A token's public name: what `lockstep token list` shows and `revoke` names. */
export const TokenNameSchema = z.string().min(1).max(identifierLengthMax).regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/);

/** SHA-256 of the token's secret, 64 lowercase hex digits: the only form in which a secret is replicated. */
export const TokenHashSchema = z.string().regex(/^[0-9a-f]{64}$/);

/** A key prefix a token is limited to (any leading part of a key). */
export const KeyPrefixSchema = z.string().min(1).max(keyLengthMax).regex(/^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/);

/** Most prefixes one token may be limited to. */
export const tokenPrefixesMax = 16;

/** Longest lifetime a token may be given: ten years. */
export const tokenTtlSecondsMax = 10 * 365 * 86_400;

/** Matches the applied entry to the request that proposed it (a proposal may be sent twice). */
export const ProposalIdSchema = z.string().min(1).max(identifierLengthMax).regex(/^[A-Za-z0-9_-]+$/);

/**
 * Adds a client token. With `bootstrap`, it applies only while the cluster has never had a token
 * (the initial admin token), so a revoked bootstrap token never comes back.
 */
export const TokenCreateCommandSchema = z.object({
  kind: z.literal("token_create"),
  proposalId: ProposalIdSchema,
  name: TokenNameSchema,
  hash: TokenHashSchema,
  role: TokenRoleSchema,
  /** Empty: every key. */
  prefixes: z.array(KeyPrefixSchema).max(tokenPrefixesMax),
  bootstrap: z.boolean().optional(),
  /** Wall-clock ms after which every node refuses the token (set by the proposing node from `ttlSeconds`). */
  expiresAtMs: z.number().int().positive().optional(),
});
export type TokenCreateCommand = z.infer<typeof TokenCreateCommandSchema>;

/** Removes a client token: every node refuses it from the entry's application on. */
export const TokenRevokeCommandSchema = z.object({
  kind: z.literal("token_revoke"),
  proposalId: ProposalIdSchema,
  name: TokenNameSchema,
});
export type TokenRevokeCommand = z.infer<typeof TokenRevokeCommandSchema>;

/** `POST /v1/tokens` */
export const TokenCreateRequestSchema = z.strictObject({
  name: TokenNameSchema,
  role: TokenRoleSchema,
  prefixes: z.array(KeyPrefixSchema).max(tokenPrefixesMax).optional(),
  /** The token expires this many seconds after its creation (at most `tokenTtlSecondsMax`); absent: never. */
  ttlSeconds: z.number().int().min(1).max(tokenTtlSecondsMax).optional(),
});
export type TokenCreateRequest = z.infer<typeof TokenCreateRequestSchema>;

/** One token as `GET /v1/tokens` lists it: never its secret or hash. */
export const TokenInfoSchema = z.object({
  name: TokenNameSchema,
  role: TokenRoleSchema,
  prefixes: z.array(KeyPrefixSchema),
  createdRevision: z.number().int().positive(),
  /** When the token expires (ISO 8601), if it does. */
  expiresAt: z.string().optional(),
});
export type TokenInfo = z.infer<typeof TokenInfoSchema>;

/** Answer of `POST /v1/tokens`: the secret is shown this once and stored nowhere. */
export const TokenCreatedSchema = TokenInfoSchema.extend({ token: z.string() });
export type TokenCreated = z.infer<typeof TokenCreatedSchema>;

export const TokenListSchema = z.object({ revision: z.number().int().nonnegative(), tokens: z.array(TokenInfoSchema) });
export type TokenList = z.infer<typeof TokenListSchema>;

/** `200` answer of `DELETE /v1/tokens/:name`. */
export const TokenRevokedSchema = z.object({ name: TokenNameSchema, revision: z.number().int().positive() });
export type TokenRevoked = z.infer<typeof TokenRevokedSchema>;
