import { z } from "zod";
import { JoinTokenIdSchema } from "./commands.js";
import { ClusterIdSchema, IndexSchema, NodeIdSchema } from "./ids.js";

/** `host:port`, e.g. `10.0.0.7:7401`; IPv6 hosts in brackets (`[fd00::7]:7401`). */
export const PeerAddressSchema = z
  .string()
  .max(300)
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/, "expected host:port");

/** `http://host:port` or `https://host:port`, with no path. */
export const MemberClientUrlSchema = z
  .string()
  .max(300)
  .regex(/^https?:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})\/?$/, "expected http://host:port or https://host:port");

/** A member as the cluster's configuration records it (DESIGN.md §9). */
export const MemberInfoSchema = z.object({
  id: NodeIdSchema,
  peerAddress: PeerAddressSchema,
  clientUrl: MemberClientUrlSchema,
  /** Learners receive the log but never count toward an election or a commit. */
  voter: z.boolean(),
});
export type MemberInfo = z.infer<typeof MemberInfoSchema>;

/** Members one configuration may hold, voters and learners together. */
export const membersMax = 15;

/** `GET /v1/members` */
export const MembersResponseSchema = z.object({
  leader: NodeIdSchema.nullable(),
  members: z.array(MemberInfoSchema).max(membersMax),
});
export type MembersResponse = z.infer<typeof MembersResponseSchema>;

/** `POST /v1/members`: add a learner. */
export const AddMemberRequestSchema = z.strictObject({
  id: NodeIdSchema,
  peerAddress: PeerAddressSchema,
  clientUrl: MemberClientUrlSchema,
});
export type AddMemberRequest = z.infer<typeof AddMemberRequestSchema>;

/** The answer to an accepted change: the log index of the configuration entry and the configuration it made. */
export const MembershipChangeResponseSchema = z.object({
  index: IndexSchema,
  members: z.array(MemberInfoSchema).max(membersMax),
});
export type MembershipChangeResponse = z.infer<typeof MembershipChangeResponseSchema>;

/** A join token as a person copies it: `<tokenId>.<secret>`, e.g. `k3x9qa.0f...` (32 characters of secret). */
export const JoinTokenSchema = z.string().regex(/^[a-z0-9]{6}\.[a-z0-9]{32}$/, "expected a join token <6 characters>.<32 characters>");

/** `POST /v1/join-tokens` (admin): a new one-time join token. */
export const CreateJoinTokenRequestSchema = z.strictObject({
  /** How long the token can be used; default one hour, at most 7 days. */
  ttlSeconds: z.number().int().positive().max(7 * 24 * 3600).optional(),
});
export type CreateJoinTokenRequest = z.infer<typeof CreateJoinTokenRequestSchema>;

export const CreateJoinTokenResponseSchema = z.object({
  token: JoinTokenSchema,
  tokenId: JoinTokenIdSchema,
  expiresAtMs: z.number().int().nonnegative(),
});
export type CreateJoinTokenResponse = z.infer<typeof CreateJoinTokenResponseSchema>;

/** PEM text of one key or certificate; bounded so that a stranger cannot make a node hold much. */
export const PemSchema = z.string().min(1).max(16 * 1024).regex(/^-----BEGIN [A-Z ]+-----[\s\S]+-----END [A-Z ]+-----\s*$/, "expected PEM text");

/**
 * `POST /v1/join`: a new node asks to join. Authenticated by the one-time join token alone: the
 * node has no certificate yet. The node's private key never leaves it; the cluster signs
 * `publicKeyPem` (Kubernetes TLS bootstrapping, Consul auto-encrypt).
 */
export const JoinRequestSchema = z.strictObject({
  token: JoinTokenSchema,
  member: AddMemberRequestSchema,
  /** The joining node's public key (SPKI PEM), to be certified for `member.id`. */
  publicKeyPem: PemSchema.optional(),
  /**
   * The node starts with an empty data directory. When `member.id` is already a member, the
   * cluster takes that as a replaced disk: it removes the old member and adds the node back
   * as a learner, so it cannot vote with data it lost.
   */
  dataDirectoryEmpty: z.boolean(),
});
export type JoinRequest = z.infer<typeof JoinRequestSchema>;

/** What a joining node needs to start: who the cluster is, what it runs, who is in it, and its certificate. */
export const JoinResponseSchema = z.object({
  cluster: ClusterIdSchema,
  clusterUuid: z.uuid(),
  /** The cluster's state-machine definition, as JSON (the joiner validates it and compares its hash). */
  definition: z.unknown(),
  definitionHash: z.string().regex(/^[0-9a-f]{64}$/),
  members: z.array(MemberInfoSchema).max(membersMax),
  /** The index of the configuration entry that added this node. */
  index: IndexSchema,
  /** This node's certificate, signed by the cluster CA, when the cluster runs one. */
  certificatePem: PemSchema.optional(),
  caCertificatePem: PemSchema.optional(),
});
export type JoinResponse = z.infer<typeof JoinResponseSchema>;
