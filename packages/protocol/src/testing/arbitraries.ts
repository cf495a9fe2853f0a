/**
 * fast-check arbitraries for every wire type, for property tests in this and other packages.
 * Deliberately not exported from `index.ts` (fast-check is a test-only dependency): import this
 * file by relative path. Every value generated here passes its zod schema unchanged, which
 * `envelope-codec.test.ts` checks by round-tripping each body type.
 */
import fc from "fast-check";
import type { ClientSession, Command, Entry, MembersCommand, NoopCommand, TransitionCommand } from "../commands.js";
import { configurationMembersMax } from "../commands.js";
import { identifierLengthMax, keyLengthMax, stateNameLengthMax } from "../ids.js";
import {
  entriesPerMessageMax,
  protocolVersion,
  type Acknowledgment,
  type Body,
  type BodyType,
  type Commit,
  type ConsensusMessage,
  type Envelope,
  type Forward,
  type Goodbye,
  type Hello,
  type Proposal,
  type ReadIndexRequest,
  type ReadIndexResponse,
  type HistoryProbe,
  type HistoryReport,
  type Reject,
  type SnapshotAck,
  type SnapshotChunk,
  type TimeoutNow,
  type Vote,
  type VoteRequest,
} from "../messages.js";

/** Lists in generated messages stay short so properties run fast; the schemas allow `entriesPerMessageMax`. */
export const generatedListLengthMax = Math.min(8, entriesPerMessageMax);

const letters = [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"];
const digits = [..."0123456789"];
const hexDigits = [..."0123456789abcdef"];
const base64Characters = [...letters, ...digits, "+", "/"];

/** A string whose first character comes from `first` and the rest from `rest`, at most `lengthMax` long. */
function patternString(first: readonly string[], rest: readonly string[], lengthMax: number): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...first), fc.string({ unit: fc.constantFrom(...rest), maxLength: lengthMax - 1 }))
    .map(([head, tail]) => head + tail);
}

function record<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }, requiredKeys: (keyof T)[]): fc.Arbitrary<T> {
  // Records omit absent optional fields (never `undefined`), as a decoded envelope does.
  return fc.record(model, { requiredKeys, noNullPrototype: true });
}

const alphanumeric = [...letters, ...digits];

export const nodeIdArbitrary: fc.Arbitrary<string> = patternString(alphanumeric, [...alphanumeric, "_", ".", "-"], identifierLengthMax);
export const clusterIdArbitrary: fc.Arbitrary<string> = nodeIdArbitrary;
export const keyArbitrary: fc.Arbitrary<string> = patternString(alphanumeric, [...alphanumeric, "_", ".", ":", "/", "-"], keyLengthMax);
export const stateNameArbitrary: fc.Arbitrary<string> = patternString(letters, [...alphanumeric, "_", "-"], stateNameLengthMax);
export const termArbitrary: fc.Arbitrary<number> = fc.maxSafeNat();
export const indexArbitrary: fc.Arbitrary<number> = fc.maxSafeNat();
const positiveIndexArbitrary = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const readContextArbitrary = fc.maxSafeNat();

export const clientSessionArbitrary: fc.Arbitrary<ClientSession> = record<ClientSession>(
  {
    clientId: fc.string({ unit: fc.constantFrom(...alphanumeric, "_", "-"), minLength: 1, maxLength: identifierLengthMax }),
    seq: positiveIndexArbitrary,
  },
  ["clientId", "seq"],
);

export const transitionCommandArbitrary: fc.Arbitrary<TransitionCommand> = record<TransitionCommand>(
  {
    kind: fc.constant("transition"),
    key: keyArbitrary,
    to: stateNameArbitrary,
    expect: stateNameArbitrary,
    session: clientSessionArbitrary,
  },
  ["kind", "key", "to"],
);
export const noopCommandArbitrary: fc.Arbitrary<NoopCommand> = fc.constant<NoopCommand>({ kind: "noop" });
export const membersCommandArbitrary: fc.Arbitrary<MembersCommand> = record<MembersCommand>(
  {
    kind: fc.constant("members"),
    members: fc.array(
      fc
        .record({ id: nodeIdArbitrary, peerAddress: fc.string({ maxLength: 40 }), clientUrl: fc.string({ maxLength: 40 }), voter: fc.boolean() })
        .map((member) => ({ ...member })),
      { minLength: 1, maxLength: 15 },
    ),
  },
  ["kind", "members"],
);
export const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  transitionCommandArbitrary,
  noopCommandArbitrary,
  membersCommandArbitrary,
);
export const entryArbitrary: fc.Arbitrary<Entry> = record<Entry>(
  { index: positiveIndexArbitrary, term: termArbitrary, command: commandArbitrary },
  ["index", "term", "command"],
);

export const proposalArbitrary: fc.Arbitrary<Proposal> = record<Proposal>(
  {
    type: fc.constant("Proposal"),
    term: termArbitrary,
    prevIndex: indexArbitrary,
    prevTerm: termArbitrary,
    entries: fc.array(entryArbitrary, { maxLength: generatedListLengthMax }),
    commitIndex: indexArbitrary,
    context: readContextArbitrary,
  },
  ["type", "term", "prevIndex", "prevTerm", "entries", "commitIndex"],
);
export const acknowledgmentArbitrary: fc.Arbitrary<Acknowledgment> = record<Acknowledgment>(
  { type: fc.constant("Acknowledgment"), term: termArbitrary, matchIndex: indexArbitrary, context: readContextArbitrary },
  ["type", "term", "matchIndex"],
);
export const commitArbitrary: fc.Arbitrary<Commit> = record<Commit>(
  { type: fc.constant("Commit"), term: termArbitrary, commitIndex: indexArbitrary },
  ["type", "term", "commitIndex"],
);
export const rejectArbitrary: fc.Arbitrary<Reject> = record<Reject>(
  {
    type: fc.constant("Reject"),
    term: termArbitrary,
    reason: fc.constantFrom("stale_term", "log_mismatch", "definition_mismatch", "malformed"),
    rejectedIndex: indexArbitrary,
    hintIndex: indexArbitrary,
    hintTerm: termArbitrary,
  },
  ["type", "term", "reason", "rejectedIndex"],
);
const commitHintArbitrary = fc.record({ index: indexArbitrary, term: termArbitrary }, { noNullPrototype: true });
export const voteRequestArbitrary: fc.Arbitrary<VoteRequest> = record<VoteRequest>(
  {
    type: fc.constant("VoteRequest"),
    term: termArbitrary,
    lastIndex: indexArbitrary,
    lastTerm: termArbitrary,
    preVote: fc.boolean(),
    transfer: fc.boolean(),
    committed: commitHintArbitrary,
  },
  ["type", "term", "lastIndex", "lastTerm", "preVote", "transfer"],
);
export const voteArbitrary: fc.Arbitrary<Vote> = record<Vote>(
  { type: fc.constant("Vote"), term: termArbitrary, granted: fc.boolean(), preVote: fc.boolean(), committed: commitHintArbitrary },
  ["type", "term", "granted", "preVote"],
);
export const snapshotChunkArbitrary: fc.Arbitrary<SnapshotChunk> = record<SnapshotChunk>(
  {
    type: fc.constant("SnapshotChunk"),
    term: termArbitrary,
    snapshotIndex: indexArbitrary,
    snapshotTerm: termArbitrary,
    offset: fc.maxSafeNat(),
    data: fc.string({ unit: fc.constantFrom(...base64Characters), maxLength: 256 }),
    done: fc.boolean(),
  },
  ["type", "term", "snapshotIndex", "snapshotTerm", "offset", "data", "done"],
);
export const snapshotAckArbitrary: fc.Arbitrary<SnapshotAck> = record<SnapshotAck>(
  {
    type: fc.constant("SnapshotAck"),
    term: termArbitrary,
    snapshotIndex: indexArbitrary,
    offset: fc.maxSafeNat(),
    done: fc.boolean(),
    accepted: fc.boolean(),
  },
  ["type", "term", "snapshotIndex", "offset", "done", "accepted"],
);
export const timeoutNowArbitrary: fc.Arbitrary<TimeoutNow> = record<TimeoutNow>(
  { type: fc.constant("TimeoutNow"), term: termArbitrary },
  ["type", "term"],
);
export const forwardArbitrary: fc.Arbitrary<Forward> = record<Forward>(
  {
    type: fc.constant("Forward"),
    term: termArbitrary,
    commands: fc.array(commandArbitrary, { minLength: 1, maxLength: generatedListLengthMax }),
  },
  ["type", "term", "commands"],
);
export const readIndexRequestArbitrary: fc.Arbitrary<ReadIndexRequest> = record<ReadIndexRequest>(
  { type: fc.constant("ReadIndexRequest"), term: termArbitrary, context: readContextArbitrary },
  ["type", "term", "context"],
);
export const readIndexResponseArbitrary: fc.Arbitrary<ReadIndexResponse> = record<ReadIndexResponse>(
  { type: fc.constant("ReadIndexResponse"), term: termArbitrary, context: readContextArbitrary, index: indexArbitrary },
  ["type", "term", "context", "index"],
);
export const historyProbeArbitrary: fc.Arbitrary<HistoryProbe> = record<HistoryProbe>(
  { type: fc.constant("HistoryProbe"), term: termArbitrary },
  ["type", "term"],
);
export const historyReportArbitrary: fc.Arbitrary<HistoryReport> = record<HistoryReport>(
  {
    type: fc.constant("HistoryReport"),
    term: termArbitrary,
    lastIndex: indexArbitrary,
    snapshotIndex: indexArbitrary,
    commitIndex: indexArbitrary,
    configuration: fc.record({ index: indexArbitrary, voters: fc.uniqueArray(nodeIdArbitrary, { maxLength: configurationMembersMax }) }, { noNullPrototype: true }),
  },
  ["type", "term", "lastIndex", "snapshotIndex"],
);
export const helloArbitrary: fc.Arbitrary<Hello> = record<Hello>(
  {
    type: fc.constant("Hello"),
    nodeId: nodeIdArbitrary,
    cluster: clusterIdArbitrary,
    protocolVersion: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    definitionHash: fc.string({ unit: fc.constantFrom(...hexDigits), minLength: 64, maxLength: 64 }),
  },
  ["type", "nodeId", "cluster", "protocolVersion", "definitionHash"],
);
export const goodbyeArbitrary: fc.Arbitrary<Goodbye> = record<Goodbye>(
  {
    type: fc.constant("Goodbye"),
    reason: fc.constantFrom("cluster_mismatch", "definition_mismatch", "version_mismatch", "unknown_node", "malformed", "auth_failed"),
    // Any Unicode, so that multi-byte UTF-8 crosses the wire; 256 code points are at most 512 UTF-16 units.
    detail: fc.string({ unit: "binary", maxLength: 256 }),
  },
  ["type", "reason", "detail"],
);

/** One arbitrary per body type. The mapped type makes a new message type a compile error here until it has one. */
export const bodyArbitraries: { [Type in BodyType]: fc.Arbitrary<Extract<Body, { type: Type }>> } = {
  Proposal: proposalArbitrary,
  Acknowledgment: acknowledgmentArbitrary,
  Commit: commitArbitrary,
  Reject: rejectArbitrary,
  VoteRequest: voteRequestArbitrary,
  Vote: voteArbitrary,
  SnapshotChunk: snapshotChunkArbitrary,
  SnapshotAck: snapshotAckArbitrary,
  TimeoutNow: timeoutNowArbitrary,
  Forward: forwardArbitrary,
  ReadIndexRequest: readIndexRequestArbitrary,
  ReadIndexResponse: readIndexResponseArbitrary,
  HistoryProbe: historyProbeArbitrary,
  HistoryReport: historyReportArbitrary,
  Hello: helloArbitrary,
  Goodbye: goodbyeArbitrary,
};

export const consensusMessageArbitrary: fc.Arbitrary<ConsensusMessage> = fc.oneof(
  proposalArbitrary,
  acknowledgmentArbitrary,
  commitArbitrary,
  rejectArbitrary,
  voteRequestArbitrary,
  voteArbitrary,
  snapshotChunkArbitrary,
  snapshotAckArbitrary,
  timeoutNowArbitrary,
  forwardArbitrary,
  readIndexRequestArbitrary,
  readIndexResponseArbitrary,
  historyProbeArbitrary,
  historyReportArbitrary,
);
export const bodyArbitrary: fc.Arbitrary<Body> = fc.oneof(consensusMessageArbitrary, helloArbitrary, goodbyeArbitrary);

export const authArbitrary: fc.Arbitrary<NonNullable<Envelope["auth"]>> = record<NonNullable<Envelope["auth"]>>(
  { alg: fc.constant("ed25519"), sig: fc.string({ unit: fc.constantFrom(...base64Characters, "="), maxLength: 128 }) },
  ["alg", "sig"],
);

/** An envelope around `body` (any body by default), with or without `auth`. */
export function envelopeArbitrary<B extends Body = Body>(body: fc.Arbitrary<B> = bodyArbitrary as fc.Arbitrary<B>): fc.Arbitrary<Envelope & { body: B }> {
  return record<Envelope & { body: B }>(
    {
      v: fc.constant(protocolVersion),
      cluster: clusterIdArbitrary,
      from: nodeIdArbitrary,
      to: nodeIdArbitrary,
      body,
      auth: authArbitrary,
    },
    ["v", "cluster", "from", "to", "body"],
  );
}
