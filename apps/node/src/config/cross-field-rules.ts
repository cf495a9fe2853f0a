import { entriesPerMessageMax, snapshotChunkCharactersMax } from "@lockstep/protocol";
import type { ConfigFieldName } from "./node-config-schema.js";

/** The options each rule reads; a subset of the parsed config. */
export interface CrossFieldValues {
  electionTimeoutTicks: number;
  heartbeatTicks: number;
  entriesPerProposalMax: number;
  snapshotChunkBytesMax: number;
  frameBytesMax: number;
  sendQueueBytesMax: number;
  peerHeartbeatIntervalMs: number;
  peerIdleTimeoutMs: number;
  reconnectDelayMinMs: number;
  reconnectDelayMaxMs: number;
  httpHeadersTimeoutMs: number;
  httpRequestTimeoutMs: number;
  peerHandshakeBytesMax: number;
}

/** Raw snapshot bytes whose base64 fits in one SnapshotChunk's `data`. */
const snapshotChunkBytesLimit = Math.floor((snapshotChunkCharactersMax * 3) / 4);
/** A frame must at least hold a Hello and a small Proposal. */
const frameBytesMin = 1024;
/** A signed Hello is about 400 bytes; the budget before it must leave room. */
const handshakeBytesMin = 1024;

/**
 * Rules that relate two options, checked when the config loads so that a bad combination exits
 * with code 2 naming the field, instead of failing later inside the consensus core or transport.
 */
export const crossFieldRules: ReadonlyArray<{
  field: ConfigFieldName;
  /** The rule as a formula, for docs/configuration.md. */
  summary: string;
  why: string;
  broken: (values: CrossFieldValues) => string | null;
}> = [
  {
    field: "heartbeatTicks",
    summary: `heartbeatTicks < electionTimeoutTicks`,
    why: "followers must hear the leader before they time out",
    broken: (v) => (v.heartbeatTicks < v.electionTimeoutTicks ? null : `must be below electionTimeoutTicks (${v.electionTimeoutTicks}), got ${v.heartbeatTicks}`),
  },
  {
    field: "entriesPerProposalMax",
    summary: `entriesPerProposalMax ≤ ${entriesPerMessageMax}`,
    why: "the wire limit of entries in one message",
    broken: (v) => (v.entriesPerProposalMax <= entriesPerMessageMax ? null : `must be at most ${entriesPerMessageMax} (the wire limit), got ${v.entriesPerProposalMax}`),
  },
  {
    field: "snapshotChunkBytesMax",
    summary: `snapshotChunkBytesMax ≤ ${snapshotChunkBytesLimit}`,
    why: "a chunk's base64 must fit one chunk's characters",
    broken: (v) => (v.snapshotChunkBytesMax <= snapshotChunkBytesLimit ? null : `must be at most ${snapshotChunkBytesLimit} (its base64 must fit a chunk), got ${v.snapshotChunkBytesMax}`),
  },
  {
    field: "frameBytesMax",
    summary: `frameBytesMax ≥ ${frameBytesMin}`,
    why: "a frame must hold a `Hello` and a small `Proposal`",
    broken: (v) => (v.frameBytesMax >= frameBytesMin ? null : `must be at least ${frameBytesMin}, got ${v.frameBytesMax}`),
  },
  {
    field: "sendQueueBytesMax",
    summary: `sendQueueBytesMax ≥ frameBytesMax + 4`,
    why: "the queue must hold one largest frame",
    broken: (v) => (v.sendQueueBytesMax >= v.frameBytesMax + 4 ? null : `must hold at least one largest frame (frameBytesMax + 4 = ${v.frameBytesMax + 4}), got ${v.sendQueueBytesMax}`),
  },
  {
    field: "peerIdleTimeoutMs",
    summary: `peerIdleTimeoutMs ≥ 2 × peerHeartbeatIntervalMs`,
    why: "a live but quiet connection must not be cut as dead",
    broken: (v) => (v.peerIdleTimeoutMs >= 2 * v.peerHeartbeatIntervalMs ? null : `must be at least twice peerHeartbeatIntervalMs (${2 * v.peerHeartbeatIntervalMs}), got ${v.peerIdleTimeoutMs}`),
  },
  {
    field: "reconnectDelayMaxMs",
    summary: `reconnectDelayMaxMs ≥ reconnectDelayMinMs`,
    why: "the backoff's cap is above its floor",
    broken: (v) => (v.reconnectDelayMaxMs >= v.reconnectDelayMinMs ? null : `must be >= reconnectDelayMinMs (${v.reconnectDelayMinMs}), got ${v.reconnectDelayMaxMs}`),
  },
  {
    field: "peerHandshakeBytesMax",
    summary: `peerHandshakeBytesMax ≥ ${handshakeBytesMin}`,
    why: "a signed `Hello` must fit",
    broken: (v) => (v.peerHandshakeBytesMax >= handshakeBytesMin ? null : `must be at least ${handshakeBytesMin}, got ${v.peerHandshakeBytesMax}`),
  },
  {
    field: "httpHeadersTimeoutMs",
    summary: "httpHeadersTimeoutMs ≤ httpRequestTimeoutMs",
    why: "the headers are part of the request",
    broken: (v) => (v.httpHeadersTimeoutMs <= v.httpRequestTimeoutMs ? null : `must be at most httpRequestTimeoutMs (${v.httpRequestTimeoutMs}), got ${v.httpHeadersTimeoutMs}`),
  },
];

/** The first broken rule, as the field it names and why; null when every rule holds. */
export function firstBrokenRule(values: CrossFieldValues): { field: ConfigFieldName; reason: string } | null {
  for (const rule of crossFieldRules) {
    const reason = rule.broken(values);
    if (reason !== null) return { field: rule.field, reason };
  }
  return null;
}
