import { z } from "zod";
import { CommandSchema, configurationMembersMax, EntrySchema, MemberSchema } from "./commands.js";
import { ClusterIdSchema, IndexSchema, NodeIdSchema, TermSchema } from "./ids.js";

/** The one wire protocol version this build speaks. */
export const protocolVersion = 1;

/** Entries and commands one message may carry; the byte limit is `frameBytesMax`. */
export const entriesPerMessageMax = 4096;
/** A snapshot chunk's payload, base64, at most this many characters. */
export const snapshotChunkCharactersMax = 1024 * 1024;

/** A read round's id, echoed by followers so the leader can match acknowledgments to a ReadIndex request. */
const ReadContextSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/**
 * Leader -> follower: entries after `(prevIndex, prevTerm)`, plus the leader's commit index.
 * With no entries it is a heartbeat. `context`, when present, asks the follower to echo it
 * so a ReadIndex round can count who still follows this leader.
 */
/** A leader's epoch of one follower's progress (see `Proposal.epoch`). */
const EpochSchema = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
/**
 * A number the sending process drew at its start (see `Acknowledgment.incarnation`): a restarted
 * process, on the same disk or a replaced one, sends another.
 */
const IncarnationSchema = z.number().int().positive().max(0xffff_ffff);

export const ProposalSchema = z.object({
  type: z.literal("Proposal"),
  term: TermSchema,
  prevIndex: IndexSchema,
  prevTerm: TermSchema,
  entries: z.array(EntrySchema).max(entriesPerMessageMax),
  commitIndex: IndexSchema,
  context: ReadContextSchema.optional(),
  /**
   * The leader's epoch of this follower's progress: 0 (absent) until the leader forgets a match
   * the follower acknowledged (its disk lost the entries), then one more each time. The follower
   * echoes the last epoch it received on its Acknowledgments and Rejects, and the leader counts
   * only answers of the current epoch: an Acknowledgment sent before the loss, delivered late,
   * cannot count again.
   */
  epoch: EpochSchema.optional(),
});
export type Proposal = z.infer<typeof ProposalSchema>;

/** Follower -> leader: entries up to `matchIndex` are durably stored here. */
export const AcknowledgmentSchema = z.object({
  type: z.literal("Acknowledgment"),
  term: TermSchema,
  matchIndex: IndexSchema,
  context: ReadContextSchema.optional(),
  /**
   * Set while the sender is recovering from a possible storage loss (a wiped disk, or damage
   * found in its log): the leader then demotes it to learner until it has caught up, and promotes
   * it again (protocol-aware repair, DESIGN.md §9).
   */
  recovering: z.boolean().optional(),
  /** The last `epoch` the sender received from this leader (absent: 0). */
  epoch: EpochSchema.optional(),
  /**
   * The sending process's incarnation, drawn at its start. A leader that sees a member's
   * incarnation change forgets the member's match and issues a new epoch: what the earlier
   * process acknowledged may have been on a disk the new one does not have, and its answers
   * still in flight no longer count. Absent from senders that predate it.
   */
  incarnation: IncarnationSchema.optional(),
});
export type Acknowledgment = z.infer<typeof AcknowledgmentSchema>;

/** Leader -> followers: everything up to `commitIndex` is final; apply it. */
export const CommitSchema = z.object({
  type: z.literal("Commit"),
  term: TermSchema,
  commitIndex: IndexSchema,
});
export type Commit = z.infer<typeof CommitSchema>;

export const RejectReasonSchema = z.enum(["stale_term", "log_mismatch", "definition_mismatch", "malformed"]);
export type RejectReason = z.infer<typeof RejectReasonSchema>;

/**
 * Follower -> leader: a Proposal was declined. For `log_mismatch`, `rejectedIndex` is the
 * Proposal's `prevIndex`, and `(hintIndex, hintTerm)` lets the leader back up a whole term at
 * once instead of one entry per round trip (Raft §5.3, "fast backup").
 */
export const RejectSchema = z.object({
  type: z.literal("Reject"),
  term: TermSchema,
  reason: RejectReasonSchema,
  rejectedIndex: IndexSchema,
  hintIndex: IndexSchema.optional(),
  hintTerm: TermSchema.optional(),
  /** As on `Acknowledgment`: the sender is recovering from a possible storage loss. */
  recovering: z.boolean().optional(),
  /** As on `Acknowledgment`: the last `epoch` the sender received from this leader. */
  epoch: EpochSchema.optional(),
  /** As on `Acknowledgment`: the sending process's incarnation. */
  incarnation: IncarnationSchema.optional(),
});
export type Reject = z.infer<typeof RejectSchema>;

/** Candidate -> all. `preVote` asks "would you vote for me?" without disturbing anyone's term (Raft thesis §9.6). */
/**
 * The sender's commit index and the term of its entry there, on election messages. A node whose
 * log holds an entry of that term at that index holds the same log up to it (Raft's Log Matching),
 * so it knows that much committed too. A node learns the commit index only from the next Proposal
 * or heartbeat; when a leader goes first, this is how the others still learn what committed (a
 * configuration change above all: one that removed a voter whose machine is gone).
 */
export const CommitHintSchema = z.object({ index: IndexSchema, term: TermSchema });
export type CommitHint = z.infer<typeof CommitHintSchema>;

export const VoteRequestSchema = z.object({
  type: z.literal("VoteRequest"),
  term: TermSchema,
  lastIndex: IndexSchema,
  lastTerm: TermSchema,
  preVote: z.boolean(),
  /** Set when the election follows a `TimeoutNow`: voters then ignore their leader lease. */
  transfer: z.boolean(),
  committed: CommitHintSchema.optional(),
});
export type VoteRequest = z.infer<typeof VoteRequestSchema>;

export const VoteSchema = z.object({
  type: z.literal("Vote"),
  term: TermSchema,
  granted: z.boolean(),
  preVote: z.boolean(),
  /**
   * Set by a voter whose storage may have lost acknowledged entries or a vote (it is recovering):
   * it would grant this candidate (its log is not ahead and it has voted for nobody else in this
   * term), but such a vote counts only in an election that every voter grants. `granted` is then
   * false, so a node that does not know this field counts it as a refusal.
   */
  recovering: z.boolean().optional(),
  committed: CommitHintSchema.optional(),
});
export type Vote = z.infer<typeof VoteSchema>;

/** Leader -> lagging follower: one piece of a snapshot, base64. The last piece has `done`. */
export const SnapshotChunkSchema = z.object({
  type: z.literal("SnapshotChunk"),
  term: TermSchema,
  snapshotIndex: IndexSchema,
  snapshotTerm: TermSchema,
  offset: z.number().int().nonnegative(),
  data: z.string().max(snapshotChunkCharactersMax),
  done: z.boolean(),
  /** The configuration the snapshot covers (its members then); a follower installing it adopts it. */
  members: z.array(MemberSchema).max(configurationMembersMax).optional(),
  /** As on `Proposal`. */
  epoch: EpochSchema.optional(),
});
export type SnapshotChunk = z.infer<typeof SnapshotChunkSchema>;

/** Follower -> leader: chunks up to `offset` received; with `done`, the snapshot is installed. */
export const SnapshotAckSchema = z.object({
  type: z.literal("SnapshotAck"),
  term: TermSchema,
  snapshotIndex: IndexSchema,
  offset: z.number().int().nonnegative(),
  done: z.boolean(),
  /** False when the follower could not take the chunk (wrong offset, bad checksum): restart at `offset`. */
  accepted: z.boolean(),
});
export type SnapshotAck = z.infer<typeof SnapshotAckSchema>;

/** Leader -> chosen follower: start an election now (leadership transfer, Raft thesis §3.10). */
export const TimeoutNowSchema = z.object({
  type: z.literal("TimeoutNow"),
  term: TermSchema,
});
export type TimeoutNow = z.infer<typeof TimeoutNowSchema>;

/** Follower -> leader: client commands this follower received; the leader proposes them. */
export const ForwardSchema = z.object({
  type: z.literal("Forward"),
  term: TermSchema,
  commands: z.array(CommandSchema).min(1).max(entriesPerMessageMax),
});
export type Forward = z.infer<typeof ForwardSchema>;

/** Follower -> leader: what is the commit index a linearizable read must wait for? */
export const ReadIndexRequestSchema = z.object({
  type: z.literal("ReadIndexRequest"),
  term: TermSchema,
  context: ReadContextSchema,
});
export type ReadIndexRequest = z.infer<typeof ReadIndexRequestSchema>;

/** Leader -> follower: the read may be served once this node has applied `index`. */
export const ReadIndexResponseSchema = z.object({
  type: z.literal("ReadIndexResponse"),
  term: TermSchema,
  context: ReadContextSchema,
  index: IndexSchema,
});
export type ReadIndexResponse = z.infer<typeof ReadIndexResponseSchema>;

/**
 * A voter whose data directory holds no history (empty, or emptied by a lost disk) -> every other
 * voter: "what history do you hold?". It cannot tell a first bootstrap from a disk that was lost,
 * so it neither votes nor campaigns until the answers tell (DESIGN.md §9, protocol-aware repair).
 * `term` is the sender's; it never changes the receiver's term.
 */
export const HistoryProbeSchema = z.object({
  type: z.literal("HistoryProbe"),
  term: TermSchema,
  /** The probing process's incarnation (as on `Acknowledgment`), echoed on the report. */
  incarnation: IncarnationSchema.optional(),
});
export type HistoryProbe = z.infer<typeof HistoryProbeSchema>;

/**
 * The sender's configuration in effect (the last it knows committed): the index of the entry or
 * snapshot that holds it (0: the bootstrap list), and its voters. Committed configurations form
 * one history, so the one with the largest index is the newest any answer knows.
 */
export const ReportedConfigurationSchema = z.object({
  index: IndexSchema,
  voters: z.array(NodeIdSchema).max(configurationMembersMax),
});
export type ReportedConfiguration = z.infer<typeof ReportedConfigurationSchema>;

/**
 * The answer to a HistoryProbe: the sender's term, how far its log reaches, what it knows is
 * committed and its configuration in effect (both absent from senders older than the fields).
 * Never changes the receiver's term.
 */
export const HistoryReportSchema = z.object({
  type: z.literal("HistoryReport"),
  term: TermSchema,
  lastIndex: IndexSchema,
  snapshotIndex: IndexSchema,
  commitIndex: IndexSchema.optional(),
  configuration: ReportedConfigurationSchema.optional(),
  /**
   * The probe's `incarnation`: a report that answers an earlier process's probe (queued for the
   * old connection, delivered on the new one) is not counted by the process that probes now.
   */
  probeIncarnation: IncarnationSchema.optional(),
});
export type HistoryReport = z.infer<typeof HistoryReportSchema>;

/** The consensus messages of DESIGN.md §2, one union. */
export const ConsensusMessageSchema = z.discriminatedUnion("type", [
  ProposalSchema,
  AcknowledgmentSchema,
  CommitSchema,
  RejectSchema,
  VoteRequestSchema,
  VoteSchema,
  SnapshotChunkSchema,
  SnapshotAckSchema,
  TimeoutNowSchema,
  ForwardSchema,
  ReadIndexRequestSchema,
  ReadIndexResponseSchema,
  HistoryProbeSchema,
  HistoryReportSchema,
]);
export type ConsensusMessage = z.infer<typeof ConsensusMessageSchema>;
export type ConsensusMessageType = ConsensusMessage["type"];

/** The first frame on every peer connection, in both directions. */
export const HelloSchema = z.object({
  type: z.literal("Hello"),
  nodeId: NodeIdSchema,
  cluster: ClusterIdSchema,
  protocolVersion: z.number().int().positive(),
  definitionHash: z.string().regex(/^[0-9a-f]{64}$/),
  /**
   * The uuid stored when the cluster was bootstrapped (DESIGN.md §9): two clusters that share a
   * name never merge. Optional on the wire so that a node that does not know it yet can speak.
   */
  clusterUuid: z.uuid().optional(),
});
export type Hello = z.infer<typeof HelloSchema>;

/** Sent before closing a peer connection that was refused, so the other side can log why. */
export const GoodbyeSchema = z.object({
  type: z.literal("Goodbye"),
  reason: z.enum(["cluster_mismatch", "definition_mismatch", "version_mismatch", "unknown_node", "malformed", "auth_failed"]),
  detail: z.string().max(512),
});
export type Goodbye = z.infer<typeof GoodbyeSchema>;

export const BodySchema = z.discriminatedUnion("type", [
  ...ConsensusMessageSchema.options,
  HelloSchema,
  GoodbyeSchema,
]);
export type Body = z.infer<typeof BodySchema>;
export type BodyType = Body["type"];

/**
 * A signature over the canonical envelope without `auth` (and, for a Hello, the TLS session's
 * exporter value): `ed25519`, or `ecdsa-p256-sha256` (ECDSA P-256 over SHA-256, the 64-byte
 * IEEE P1363 form r || s). The algorithm must be the one of the signer's certificate key.
 */
export const AuthSchema = z.object({
  alg: z.enum(["ed25519", "ecdsa-p256-sha256"]),
  sig: z.string().max(128),
});
export type SignatureAlgorithm = z.infer<typeof AuthSchema>["alg"];

/** What every frame carries: `{ v, cluster, from, to, body, auth? }` (DESIGN.md §4). */
export const EnvelopeSchema = z.object({
  v: z.literal(protocolVersion),
  cluster: ClusterIdSchema,
  from: NodeIdSchema,
  to: NodeIdSchema,
  body: BodySchema,
  auth: AuthSchema.optional(),
});
export type Envelope = z.infer<typeof EnvelopeSchema>;

/** An envelope whose body is a consensus message: what transports hand to the core. */
export type ConsensusEnvelope = Omit<Envelope, "body"> & { body: ConsensusMessage };

