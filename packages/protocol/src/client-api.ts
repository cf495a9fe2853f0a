import { z } from "zod";
import type { ClientSessionSchema } from "./commands.js";
import { IndexSchema, KeySchema, NodeIdSchema, StateNameSchema, TermSchema } from "./ids.js";

/**
 * A request id names a registered session and a sequence number, `"<sessionId>:<seq>"`
 * (`POST /v1/sessions` gives the session id). Retrying with the same id and the same command
 * applies it at most once and returns the first answer; the same id with another command is
 * refused with `request_id_reused`.
 */
export const RequestIdSchema = z
  .string()
  .max(96)
  .regex(/^[A-Za-z0-9_-]{1,64}:[1-9][0-9]{0,15}$/, "requestId must look like <sessionId>:<seq>, seq >= 1");

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

/** `POST /v1/sessions`: a new session, registered through the log. */
export const SessionResponseSchema = z.object({
  /** The session's id (the log index that registered it), the first half of a `requestId`. */
  sessionId: z.string().regex(/^[1-9][0-9]{0,15}$/),
});
export type SessionResponse = z.infer<typeof SessionResponseSchema>;

/** `DELETE /v1/machines/:key?expect=STATE&requestId=ID` */
export const DeleteResponseSchema = z.object({
  key: KeySchema,
  /** The state the key was in (the initial state when it held nothing). */
  from: StateNameSchema,
  /** False when the key held nothing to forget. */
  deleted: z.boolean(),
  revision: IndexSchema,
});
export type DeleteResponse = z.infer<typeof DeleteResponseSchema>;

/** `GET /v1/machines/:key` */
export const MachineStateSchema = z.object({
  key: KeySchema,
  state: StateNameSchema,
  /** The store revision of this key's last change; 0 if it was never changed. */
  revision: IndexSchema,
});
export type MachineState = z.infer<typeof MachineStateSchema>;

/** `GET /v1/machines?limit=N&after=KEY` keys sorted by UTF-16 code units, one page at a time. */
export const MachineListSchema = z.object({
  revision: IndexSchema,
  machines: z.array(MachineStateSchema),
  /** The `after` cursor of the next page (the last key of this one); null on the last page. */
  next: KeySchema.nullable(),
});
/** Keys one page holds unless `limit` asks for fewer; also the largest `limit` accepted. */
export const machineListLimitDefault = 1000;
export const machineListLimitMax = 10_000;
export type MachineList = z.infer<typeof MachineListSchema>;

export const MemberRoleSchema = z.enum(["leader", "follower", "candidate", "unknown"]);

/** `GET /v1/cluster` */
export const ClusterStatusSchema = z.object({
  self: NodeIdSchema,
  leader: NodeIdSchema.nullable(),
  term: TermSchema,
  commitIndex: IndexSchema,
  appliedIndex: IndexSchema,
  /**
   * Until a leader has brought its log up to date, this node's vote (its own as a candidate too)
   * counts only in an election that every voter grants: its storage may have lost data, or it
   * started on an empty disk in a cluster that has a history.
   * Optional on the wire so that older nodes' answers still parse.
   */
  recovering: z.boolean().optional(),
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
      /**
       * Known only on the leader (null elsewhere): the member's last answer said it is recovering
       * from a possible storage loss, so the leader demotes it to learner until it has caught up
       * and then promotes it again (protocol-aware repair). Optional so older answers still parse.
       */
      recovering: z.boolean().nullable().optional(),
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
  /** A promotion of a learner that has not yet acknowledged the leader's log through the configuration that names it. */
  learner_not_caught_up: 409,
  no_leader: 503,
  invalid_transition: 409,
  expect_failed: 409,
  session_expired: 409,
  request_id_reused: 409,
  payload_too_large: 413,
  quota_exceeded: 507,
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
    /** For `quota_exceeded`: which limit (`keys` or `state_bytes`), its value and the use when refused. */
    quota: z.enum(["keys", "state_bytes"]).optional(),
    limit: z.number().int().nonnegative().optional(),
    used: z.number().int().nonnegative().optional(),
    /**
     * What was refused, in one word: for `session_expired`, `unknown_session` or
     * `seq_below_window`; for a refused membership change or join, its reason.
     */
    reason: z.string().max(64).optional(),
    /** The leader this node knows of, when it knows one. */
    leader: NodeIdSchema.optional(),
  }),
});
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>;

/** One event of the `/v1/watch` WebSocket stream: a committed, applied transition... */
export const WatchTransitionEventSchema = z.object({
  type: z.literal("transition"),
  revision: IndexSchema,
  key: KeySchema,
  from: StateNameSchema,
  to: StateNameSchema,
});
export type WatchTransitionEvent = z.infer<typeof WatchTransitionEventSchema>;

/** ...or a committed delete of a key that held a state (it is back in the initial state). */
export const WatchDeleteEventSchema = z.object({
  type: z.literal("delete"),
  revision: IndexSchema,
  key: KeySchema,
  from: StateNameSchema,
});
export type WatchDeleteEvent = z.infer<typeof WatchDeleteEventSchema>;

export const WatchEventSchema = z.discriminatedUnion("type", [WatchTransitionEventSchema, WatchDeleteEventSchema]);
export type WatchEvent = z.infer<typeof WatchEventSchema>;

/**
 * Sent by the server before it closes a watch: it cannot resume from the asked revision
 * (`compacted`), the URL is wrong, the node is overloaded, or the watch's token stopped holding
 * (`unauthenticated`: revoked; `forbidden`: its role or prefixes no longer cover the watch).
 */
export const WatchErrorSchema = z.object({
  type: z.literal("error"),
  code: z.enum(["compacted", "bad_request", "overloaded", "unauthenticated", "forbidden"]),
  message: z.string(),
  /** The oldest revision that can still be resumed from. */
  oldestRevision: IndexSchema.optional(),
});
export type WatchError = z.infer<typeof WatchErrorSchema>;
