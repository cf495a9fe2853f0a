import { EntrySchema, IndexSchema, NodeIdSchema, TermSchema } from "@lockstep/protocol";
import type { Entry } from "@lockstep/protocol";
import type { HardState } from "@lockstep/consensus";
import { z } from "zod";
import { encodeJsonRecord, RecordType } from "./record-codec.js";

/** The format this package writes; a log or marker naming any other is not ours to touch. */
export const walFormat = "lockstep-wal";
export const walFormatVersion = 1;

const HardStateSchema = z.object({
  term: TermSchema,
  votedFor: NodeIdSchema.nullable(),
  commitIndex: IndexSchema,
});

/**
 * The first record of every segment. It repeats the hard state and the log's last index as they
 * were when the segment began, so that deleting older segments never loses either.
 */
const SegmentHeaderSchema = z.object({
  format: z.literal(walFormat),
  version: z.literal(walFormatVersion),
  sequence: z.number().int().nonnegative(),
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
  | { type: "log_reset"; afterIndex: number };

export type WalRecordDecoding = { ok: true; record: WalRecord } | { ok: false; reason: string };

/** Parses a checksummed payload. Never throws: a payload that is not what we wrote is a reason. */
export function decodeWalRecord(type: RecordType, payload: Uint8Array): WalRecordDecoding {
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

export function encodeSegmentHeader(header: SegmentHeader): Buffer {
  return encodeJsonRecord(RecordType.segmentHeader, header);
}

export function encodeEntryRecord(entry: Entry): Buffer {
  return encodeJsonRecord(RecordType.entry, entry);
}

export function encodeHardStateRecord(hardState: HardState): Buffer {
  return encodeJsonRecord(RecordType.hardState, {
    term: hardState.term,
    votedFor: hardState.votedFor,
    commitIndex: hardState.commitIndex,
  });
}

export function encodeLogResetRecord(afterIndex: number): Buffer {
  return encodeJsonRecord(RecordType.logReset, { afterIndex });
}
