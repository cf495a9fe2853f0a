import { z } from "zod";
import type { ClientSessionSchema } from "./commands.js";
import { IndexSchema, KeySchema, NodeIdSchema, StateNameSchema, TermSchema } from "./ids.js";

/**
 * A request id names a client session and a sequence number, `"<clientId>:<seq>"`. Retrying
 * with the same id applies the transition at most once and returns the first answer.
 */
export const RequestIdSchema = z
  .string()
  .max(96)
  .regex(/^[A-Za-z0-9_-]{1,64}:[1-9][0-9]{0,15}$/, "requestId must look like <clientId>:<seq>, seq >= 1");

export function parseRequestId(requestId: string): z.infer<typeof ClientSessionSchema> | undefined {
  const parsed = RequestIdSchema.safeParse(requestId);
  if (!parsed.success) return undefined;
  const separator = requestId.lastIndexOf(":");
  const seq = Number(requestId.slice(separator + 1));
  if (!Number.isSafeInteger(seq)) return undefined;
  return { clientId: requestId.slice(0, separator), seq };
}

export function formatRequestId(session: z.infer<typeof ClientSessionSchema>): string {
  return `${session.clientId}:${session.seq}`;
}

/** `POST /v1/machines/:key/transition` */
export const TransitionRequestSchema = z.object({
  to: StateNameSchema,
  expect: StateNameSchema.optional(),
  requestId: RequestIdSchema.optional(),
});
export type TransitionRequest = z.infer<typeof TransitionRequestSchema>;

export const TransitionResponseSchema = z.object({
  key: KeySchema,
  from: StateNameSchema,
  to: StateNameSchema,
  revision: IndexSchema,
});
export type TransitionResponse = z.infer<typeof TransitionResponseSchema>;

/** `GET /v1/machines/:key` */
export const MachineStateSchema = z.object({
  key: KeySchema,
  state: StateNameSchema,
  /** The store revision of this key's last change; 0 if it was never changed. */
  revision: IndexSchema,
});
export type MachineState = z.infer<typeof MachineStateSchema>;

/** `GET /v1/machines` */
export const MachineListSchema = z.object({
  revision: IndexSchema,
  machines: z.array(MachineStateSchema),
});
export type MachineList = z.infer<typeof MachineListSchema>;

export const MemberRoleSchema = z.enum(["leader", "follower", "candidate", "unknown"]);

/** `GET /v1/cluster` */
export const ClusterStatusSchema = z.object({
  self: NodeIdSchema,
  leader: NodeIdSchema.nullable(),
  term: TermSchema,
  commitIndex: IndexSchema,
  appliedIndex: IndexSchema,
  members: z.array(
    z.object({
      id: NodeIdSchema,
      peerAddress: z.string(),
      clientUrl: z.string(),
      role: MemberRoleSchema,
      /** False for a learner: it receives the log but does not vote or count toward a commit. */
      voter: z.boolean(),
      /** Known only on the leader; null elsewhere. */
      matchIndex: IndexSchema.nullable(),
      lag: IndexSchema.nullable(),
    }),
  ),
});
export type ClusterStatus = z.infer<typeof ClusterStatusSchema>;

/**
 * Every error code the client API returns, with its HTTP status. `no_quorum` and `timeout`
 * mean the outcome is unknown: retry with the same `requestId`.
 */
export const errorHttpStatus = {
  bad_request: 400,
  /** No token, or one that is unknown or revoked. */
  unauthenticated: 401,
  /** The token's role or key prefixes do not cover the request, or the Host or Origin is not allowed. */
  forbidden: 403,
  not_found: 404,
  token_exists: 409,
  /** A POST or DELETE whose Content-Type is not application/json (a browser's cross-site "simple" request). */
  unsupported_media_type: 415,
  unknown_member: 404,
  join_token_refused: 403,
  change_in_progress: 409,
  would_lose_quorum: 409,
  already_member: 409,
  not_a_learner: 409,
  no_leader: 503,
  invalid_transition: 409,
  expect_failed: 409,
  session_expired: 409,
  payload_too_large: 413,
  no_quorum: 503,
  timeout: 503,
  shutting_down: 503,
  overloaded: 503,
  internal: 500,
} as const;
export const ErrorCodeSchema = z.enum(Object.keys(errorHttpStatus) as [keyof typeof errorHttpStatus, ...(keyof typeof errorHttpStatus)[]]);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

export const ErrorResponseSchema = z.object({
  error: z.object({
    code: ErrorCodeSchema,
    message: z.string(),
    /** For `invalid_transition`: the current state and the states it may move to. */
    from: StateNameSchema.optional(),
    to: StateNameSchema.optional(),
    allowed: z.array(StateNameSchema).optional(),
    /** For `expect_failed`: the state the key was actually in. */
    actual: StateNameSchema.optional(),
    /** For a refused membership change or join: what was refused, in one word. */
    reason: z.string().max(64).optional(),
    /** The leader this node knows of, when it knows one. */
    leader: NodeIdSchema.optional(),
  }),
});
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>;

/** One event of the `/v1/watch` WebSocket stream: a committed, applied transition. */
export const WatchEventSchema = z.object({
  type: z.literal("transition"),
  revision: IndexSchema,
  key: KeySchema,
  from: StateNameSchema,
  to: StateNameSchema,
});
export type WatchEvent = z.infer<typeof WatchEventSchema>;

/** Sent by the server when a watch cannot resume from the asked revision (compacted away). */
export const WatchErrorSchema = z.object({
  type: z.literal("error"),
  code: z.enum(["compacted", "bad_request", "overloaded"]),
  message: z.string(),
  /** The oldest revision that can still be resumed from. */
  oldestRevision: IndexSchema.optional(),
});
export type WatchError = z.infer<typeof WatchErrorSchema>;
