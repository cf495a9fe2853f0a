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
}

/** Raw snapshot bytes whose base64 fits in one SnapshotChunk's `data`. */
const snapshotChunkBytesLimit = Math.floor((snapshotChunkCharactersMax * 3) / 4);
/** A frame must at least hold a Hello and a small Proposal. */
const frameBytesMin = 1024;

/**
 * Rules that relate two options, checked when the config loads so that a bad combination exits
 * with code 2 naming the field, instead of failing later inside the consensus core or transport.
 */
const rules: Array<{ field: ConfigFieldName; broken: (values: CrossFieldValues) => string | null }> = [
  {
    field: "heartbeatTicks",
    broken: (v) => (v.heartbeatTicks < v.electionTimeoutTicks ? null : `must be below electionTimeoutTicks (${v.electionTimeoutTicks}), got ${v.heartbeatTicks}`),
  },
  {
    field: "entriesPerProposalMax",
    broken: (v) => (v.entriesPerProposalMax <= entriesPerMessageMax ? null : `must be at most ${entriesPerMessageMax} (the wire limit), got ${v.entriesPerProposalMax}`),
  },
  {
    field: "snapshotChunkBytesMax",
    broken: (v) => (v.snapshotChunkBytesMax <= snapshotChunkBytesLimit ? null : `must be at most ${snapshotChunkBytesLimit} (its base64 must fit a chunk), got ${v.snapshotChunkBytesMax}`),
  },
  {
    field: "frameBytesMax",
    broken: (v) => (v.frameBytesMax >= frameBytesMin ? null : `must be at least ${frameBytesMin}, got ${v.frameBytesMax}`),
  },
  {
    field: "sendQueueBytesMax",
    broken: (v) => (v.sendQueueBytesMax >= v.frameBytesMax + 4 ? null : `must hold at least one largest frame (frameBytesMax + 4 = ${v.frameBytesMax + 4}), got ${v.sendQueueBytesMax}`),
  },
  {
    field: "peerIdleTimeoutMs",
    broken: (v) => (v.peerIdleTimeoutMs >= 2 * v.peerHeartbeatIntervalMs ? null : `must be at least twice peerHeartbeatIntervalMs (${2 * v.peerHeartbeatIntervalMs}), got ${v.peerIdleTimeoutMs}`),
  },
  {
    field: "reconnectDelayMaxMs",
    broken: (v) => (v.reconnectDelayMaxMs >= v.reconnectDelayMinMs ? null : `must be >= reconnectDelayMinMs (${v.reconnectDelayMinMs}), got ${v.reconnectDelayMaxMs}`),
  },
];

/** The first broken rule, as the field it names and why; null when every rule holds. */
export function firstBrokenRule(values: CrossFieldValues): { field: ConfigFieldName; reason: string } | null {
  for (const rule of rules) {
    const reason = rule.broken(values);
    if (reason !== null) return { field: rule.field, reason };
  }
  return null;
}
