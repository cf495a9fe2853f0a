import { EntrySchema, IndexSchema, NodeIdSchema, TermSchema } from "@lockstep/protocol";
import type { Entry } from "@lockstep/protocol";
import type { HardState } from "@lockstep/consensus";
import { z } from "zod";
import { encodeJsonRecord, encodeRecord, RecordType } from "./record-codec.js";
import type { RecordSalt } from "./record-codec.js";

/** The format this package writes; a log or marker naming any other is not ours to touch. */
export const walFormat = "lockstep-wal";
export const walFormatVersion = 2;

/** Payload bytes of a sync mark: the synced length as a u64, so a mark can be re-encoded in place. */
export const syncMarkPayloadBytes = 8;

const HardStateSchema = z.object({
  term: TermSchema,
  votedFor: NodeIdSchema.nullable(),
  commitIndex: IndexSchema,
  recovering: z.literal(true).optional(),
  recoveryCommitIndexMin: IndexSchema.optional(),
});

/**
 * The first record of every segment. It repeats the hard state and the log's last index as they
 * were when the segment began, so that deleting older segments never loses either. `nonce` salts
 * the checksum of every later record of the segment; the header's own salt is its sequence.
 */
const SegmentHeaderSchema = z.object({
  format: z.literal(walFormat),
  version: z.literal(walFormatVersion),
  sequence: z.number().int().nonnegative(),
  nonce: z.number().int().nonnegative().max(0xffffffff),
  lastIndexBefore: IndexSchema,
  hardState: HardStateSchema,
});
export type SegmentHeader = z.infer<typeof SegmentHeaderSchema>;

/** The log was discarded: the next entry is `afterIndex + 1` (a snapshot replaced the log). */
const LogResetSchema = z.object({ afterIndex: IndexSchema });

export type WalRecord =
  | { type: "segment_header"; header: SegmentHeader }
  | { type: "entry"; entry: Entry }
  | { type: "hard_state"; hardState: HardState }
  | { type: "log_reset"; afterIndex: number }
  /** Every byte of this segment before `syncedBytes` was synced when this record was written. */
  | { type: "sync_mark"; syncedBytes: number };

export type WalRecordDecoding = { ok: true; record: WalRecord } | { ok: false; reason: string };

/** Parses a checksummed payload. Never throws: a payload that is not what we wrote is a reason. */
export function decodeWalRecord(type: RecordType, payload: Uint8Array): WalRecordDecoding {
  if (type === RecordType.syncMark) {
    if (payload.byteLength !== syncMarkPayloadBytes) return { ok: false, reason: `a sync mark of ${payload.byteLength} bytes` };
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    return { ok: true, record: { type: "sync_mark", syncedBytes: view.getUint32(0, false) * 2 ** 32 + view.getUint32(4, false) } };
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("utf8"));
  } catch (error) {
    return { ok: false, reason: `payload is not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  switch (type) {
    case RecordType.segmentHeader:
      return parsed(SegmentHeaderSchema.safeParse(json), (header) => ({ type: "segment_header", header }));
    case RecordType.entry:
      return parsed(EntrySchema.safeParse(json), (entry) => ({ type: "entry", entry }));
    case RecordType.hardState:
      return parsed(HardStateSchema.safeParse(json), (hardState) => ({ type: "hard_state", hardState }));
    case RecordType.logReset:
      return parsed(LogResetSchema.safeParse(json), ({ afterIndex }) => ({ type: "log_reset", afterIndex }));
    case RecordType.snapshotMeta:
      return { ok: false, reason: "a snapshot record inside a log segment" };
  }
}

function parsed<T>(
  result: { success: true; data: T } | { success: false; error: z.ZodError },
  toRecord: (value: T) => WalRecord,
): WalRecordDecoding {
  return result.success ? { ok: true, record: toRecord(result.data) } : { ok: false, reason: result.error.message };
}

/** The salt of a segment's first record: its sequence (the nonce is inside the header itself). */
export function segmentHeaderSalt(sequence: number): RecordSalt {
  return { nonce: sequence % 2 ** 32, offset: 0 };
}

export function encodeSegmentHeader(header: SegmentHeader): Buffer {
  return encodeJsonRecord(RecordType.segmentHeader, header, segmentHeaderSalt(header.sequence));
}

export function encodeEntryRecord(entry: Entry, salt: RecordSalt): Buffer {
  return encodeJsonRecord(RecordType.entry, entry, salt);
}

export function encodeHardStateRecord(hardState: HardState, salt: RecordSalt): Buffer {
  return encodeJsonRecord(
    RecordType.hardState,
    {
      term: hardState.term,
      votedFor: hardState.votedFor,
      commitIndex: hardState.commitIndex,
      ...(hardState.recovering === true ? { recovering: true } : {}),
      ...(hardState.recovering === true && hardState.recoveryCommitIndexMin !== undefined ? { recoveryCommitIndexMin: hardState.recoveryCommitIndexMin } : {}),
    },
    salt,
  );
}

export function encodeLogResetRecord(afterIndex: number, salt: RecordSalt): Buffer {
  return encodeJsonRecord(RecordType.logReset, { afterIndex }, salt);
}

export function encodeSyncMark(syncedBytes: number, salt: RecordSalt): Buffer {
  const payload = Buffer.alloc(syncMarkPayloadBytes);
  payload.writeUInt32BE(Math.floor(syncedBytes / 2 ** 32), 0);
  payload.writeUInt32BE(syncedBytes >>> 0, 4);
  return encodeRecord(RecordType.syncMark, payload, salt);
}

/** Bytes of one encoded sync mark (every mark has the same size, so it can be rewritten in place). */
export const syncMarkRecordBytes = 16 + syncMarkPayloadBytes;
