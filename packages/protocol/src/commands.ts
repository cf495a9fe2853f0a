import { z } from "zod";
import { identifierLengthMax, IndexSchema, KeySchema, NodeIdSchema, StateNameSchema, TermSchema } from "./ids.js";
import { TokenCreateCommandSchema, TokenRevokeCommandSchema } from "./token-commands.js";

/**
 * A client session (Raft thesis §6.3): a retried request carries the same `clientId` and `seq`,
 * so the state machine applies it at most once and answers every retry with the first answer.
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

/** Appended by every new leader (Raft §5.4.2): committing it commits everything before it. */
export const NoopCommandSchema = z.object({ kind: z.literal("noop") });
export type NoopCommand = z.infer<typeof NoopCommandSchema>;

/**
 * The cluster's member list, replicated through the log. Membership is fixed today; the
 * entry exists so that the member list is replicated state that a later change can move.
 */
export const MembersCommandSchema = z.object({
  kind: z.literal("members"),
  members: z.array(NodeIdSchema).min(1).max(15),
});
export type MembersCommand = z.infer<typeof MembersCommandSchema>;

export const CommandSchema = z.discriminatedUnion("kind", [
  TransitionCommandSchema,
  NoopCommandSchema,
  MembersCommandSchema,
  TokenCreateCommandSchema,
  TokenRevokeCommandSchema,
]);
export type Command = z.infer<typeof CommandSchema>;

/** One log entry. `index` starts at 1; `term` is the leader's term when it was appended. */
export const EntrySchema = z.object({
  index: IndexSchema.min(1),
  term: TermSchema,
  command: CommandSchema,
});
export type Entry = z.infer<typeof EntrySchema>;
