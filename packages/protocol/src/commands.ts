import { z } from "zod";
import { identifierLengthMax, IndexSchema, KeySchema, NodeIdSchema, StateNameSchema, TermSchema } from "./ids.js";
import { TokenCreateCommandSchema, TokenRevokeCommandSchema } from "./token-commands.js";

/**
 * A client session (Raft thesis §6.3): `clientId` is the session id a `register_session` entry
 * gave the client (that entry's log index, in decimal); a retried request carries the same
 * `clientId` and `seq`, so the state machine applies it at most once and answers every retry of
 * the same command with the first answer. An id the store does not hold is refused with
 * `session_expired`.
 */
export const ClientSessionSchema = z.object({
  clientId: z.string().min(1).max(identifierLengthMax).regex(/^[A-Za-z0-9_-]+$/),
  seq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
});
export type ClientSession = z.infer<typeof ClientSessionSchema>;

/** Move machine `key` to state `to`; with `expect`, only if its current state equals `expect`. */
export const TransitionCommandSchema = z.object({
  kind: z.literal("transition"),
  key: KeySchema,
  to: StateNameSchema,
  expect: StateNameSchema.optional(),
  session: ClientSessionSchema.optional(),
});
export type TransitionCommand = z.infer<typeof TransitionCommandSchema>;

/** Forget machine `key` (back to the initial state at revision 0); with `expect`, only from that state. */
export const DeleteCommandSchema = z.object({
  kind: z.literal("delete"),
  key: KeySchema,
  expect: StateNameSchema.optional(),
  session: ClientSessionSchema.optional(),
});
export type DeleteCommand = z.infer<typeof DeleteCommandSchema>;

/**
 * Opens a client session whose id is this entry's log index. `nonce` lets the node that proposed
 * it recognise the entry when it is applied; nothing else reads it.
 */
export const RegisterSessionCommandSchema = z.object({
  kind: z.literal("register_session"),
  nonce: z.string().min(1).max(identifierLengthMax).regex(/^[A-Za-z0-9_.-]+$/),
});
export type RegisterSessionCommand = z.infer<typeof RegisterSessionCommandSchema>;

const LimitSchema = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/**
 * The store's limits (quota and sessions), replicated so that every replica refuses the same
 * writes: a leader whose configured limits differ from the store's proposes one.
 */
export const LimitsCommandSchema = z.object({
  kind: z.literal("limits"),
  limits: z.object({
    keysMax: LimitSchema,
    stateBytesMax: LimitSchema,
    sessionsMax: LimitSchema,
    sessionWindowSeqs: LimitSchema,
    sessionIdleEntriesMax: LimitSchema,
  }),
});
export type LimitsCommand = z.infer<typeof LimitsCommandSchema>;

/** Appended by every new leader (Raft §5.4.2): committing it commits everything before it. */
export const NoopCommandSchema = z.object({ kind: z.literal("noop") });
export type NoopCommand = z.infer<typeof NoopCommandSchema>;

/** Bound on the members (voters and learners) of one configuration. */
export const configurationMembersMax = 15;

/**
 * One member of a cluster's configuration: its id, the addresses other nodes and clients reach it
 * at (nodes that join are in no config file, so the configuration carries them), and whether it
 * votes. A learner (`voter: false`) receives the log but never counts toward an election or a commit.
 * An address is empty when nobody told the cluster (a simulator, a test).
 */
export const MemberSchema = z.object({
  id: NodeIdSchema,
  peerAddress: z.string().max(255),
  clientUrl: z.string().max(2048),
  voter: z.boolean(),
});
export type Member = z.infer<typeof MemberSchema>;

/**
 * The cluster's configuration, replicated through the log (DESIGN.md §9): the whole member list
 * after one change. A node's configuration is the one in the last such entry it knows committed
 * (or in its snapshot); it is never read from flags once the log or a snapshot holds one.
 */
export const MembersCommandSchema = z.object({
  kind: z.literal("members"),
  members: z.array(MemberSchema).min(1).max(configurationMembersMax),
});
export type MembersCommand = z.infer<typeof MembersCommandSchema>;

/** A join token's public half: 6 lowercase letters or digits (the Kubernetes bootstrap-token model). */
export const JoinTokenIdSchema = z.string().regex(/^[a-z0-9]{6}$/);
/** The hex SHA-256 of a join token's secret half: the cluster stores only this. */
export const Sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/);
/** Wall-clock milliseconds since the epoch, as the leader read them when it proposed the entry. */
const EpochMsSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/**
 * Creates a one-time join token (DESIGN.md §9): the secret never enters the log, only its hash.
 * `createdAtMs` and `expiresAtMs` come from the proposing leader's clock so that every replica
 * decides expiry from the same numbers.
 */
export const JoinTokenCreateCommandSchema = z.object({
  kind: z.literal("join_token_create"),
  tokenId: JoinTokenIdSchema,
  secretSha256: Sha256HexSchema,
  createdAtMs: EpochMsSchema,
  expiresAtMs: EpochMsSchema,
});
export type JoinTokenCreateCommand = z.infer<typeof JoinTokenCreateCommandSchema>;

/**
 * Consumes a join token for node `nodeId`. Applied through the log, so a token is spent once for
 * the whole cluster: a second use, on any node, is refused by every replica alike.
 */
export const JoinTokenUseCommandSchema = z.object({
  kind: z.literal("join_token_use"),
  tokenId: JoinTokenIdSchema,
  secretSha256: Sha256HexSchema,
  nodeId: NodeIdSchema,
  atMs: EpochMsSchema,
});
export type JoinTokenUseCommand = z.infer<typeof JoinTokenUseCommandSchema>;

/** Deletes a join token, used or not. */
export const JoinTokenRevokeCommandSchema = z.object({
  kind: z.literal("join_token_revoke"),
  tokenId: JoinTokenIdSchema,
});
export type JoinTokenRevokeCommand = z.infer<typeof JoinTokenRevokeCommandSchema>;

export const CommandSchema = z.discriminatedUnion("kind", [
  TransitionCommandSchema,
  DeleteCommandSchema,
  RegisterSessionCommandSchema,
  NoopCommandSchema,
  MembersCommandSchema,
  LimitsCommandSchema,
  TokenCreateCommandSchema,
  TokenRevokeCommandSchema,
  JoinTokenCreateCommandSchema,
  JoinTokenUseCommandSchema,
  JoinTokenRevokeCommandSchema,
]);
export type Command = z.infer<typeof CommandSchema>;

/** One log entry. `index` starts at 1; `term` is the leader's term when it was appended. */
export const EntrySchema = z.object({
  index: IndexSchema.min(1),
  term: TermSchema,
  command: CommandSchema,
});
export type Entry = z.infer<typeof EntrySchema>;
