import { join } from "node:path";
import { segmentFileName } from "./data-directory.js";
import { decodeRecordAt, recordHeaderBytes, RecordType } from "./record-codec.js";
import type { DecodedRecord } from "./record-codec.js";
import { decodeWalRecord, segmentHeaderSalt } from "./wal-records.js";
import type { WalRecord } from "./wal-records.js";

/** Disks write whole sectors: a crash tears a write at these boundaries. */
export const sectorBytes = 512;

/**
 * The fewest zero bytes, from a record's start to the end of its sector, that prove the sector
 * never reached the disk: a record's first five bytes are never all zero (the fifth is its type),
 * while its first four, the payload length, may be one bit flip away from zero (a sync mark's
 * length is 8).
 */
export const zeroRunFromRecordStartBytesMin = 5;

/**
 * Whether a write that ends at `offset` would leave the next write too few bytes of its first
 * sector to show a tear: a power cut that loses that sector and keeps the next one leaves fewer
 * than `zeroRunFromRecordStartBytesMin` zero bytes where the next write begins, which reads the
 * same as rot in a synced record (a possible loss, and a node that will not vote). The writer
 * then ends the write with one more sync mark, which moves the end past the sector boundary.
 */
export function endsTooCloseToSectorEnd(offset: number): boolean {
  const left = sectorBytes - (offset % sectorBytes);
  return left < zeroRunFromRecordStartBytesMin;
}

export interface ScannedRecord {
  record: WalRecord;
  offset: number;
  bytes: number;
}

/**
 * Where a segment stops making sense, and what the bytes say about why.
 * - `provenSynced`: a sound sync mark after the damage says the damaged bytes had been synced
 *   before it was written: a crash cannot explain this, the disk damaged what it had promised.
 * - `torn`: the damage looks like a crash: the file ends inside the record (a synced record is
 *   always whole) or the record overlaps a sector of zeros (a sector that never reached the disk).
 * - `contentError`: both checksums hold but the record is not one we write (never torn).
 * Damage that is neither proven synced nor torn cannot be told apart from a tear that exposed
 * stale bytes: recovery cuts it and reports a possible loss.
 */
export interface SegmentDamage {
  offset: number;
  detail: string;
  provenSynced: boolean;
  torn: boolean;
  contentError: boolean;
}

export interface SegmentScan {
  /** The nonce that salts the segment's records (null when its header is damaged). */
  nonce: number | null;
  records: ScannedRecord[];
  /** Bytes up to the end of the last good record. */
  validBytes: number;
  damage: SegmentDamage | null;
}

/** Decodes every record of one segment's bytes. Never throws: damage is reported, not raised. */
export function scanSegment(bytes: Uint8Array, sequence: number, payloadBytesMax: number): SegmentScan {
  const records: ScannedRecord[] = [];
  let nonce: number | null = null;
  let offset = 0;
  // Each pass consumes at least one record header, so the loop is bounded by the file's length.
  for (;;) {
    const salt = nonce === null ? segmentHeaderSalt(sequence) : { nonce, offset };
    const decoded = decodeRecordAt(bytes, salt, payloadBytesMax);
    // Zeros to the end (a header's worth at least; fewer are a cut record) are the segment's
    // preallocated, never written part (`segment-preallocation.ts`).
    if (decoded.kind === "end" || (decoded.kind !== "record" && bytes.byteLength - offset >= recordHeaderBytes && zeroFrom(bytes, offset))) return { nonce, records, validBytes: offset, damage: null };
    if (decoded.kind !== "record") {
      return { nonce, records, validBytes: offset, damage: classifyDamage(bytes, offset, decoded, nonce, payloadBytesMax) };
    }
    const parsed = decodeWalRecord(decoded.type, decoded.payload);
    const misplaced = parsed.ok && (nonce === null) !== (parsed.record.type === "segment_header");
    if (!parsed.ok || misplaced) {
      const detail = parsed.ok ? (nonce === null ? "segment does not start with a header" : "a second segment header") : parsed.reason;
      return { nonce, records, validBytes: offset, damage: { offset, detail, provenSynced: false, torn: false, contentError: true } };
    }
    if (parsed.record.type === "segment_header") nonce = parsed.record.header.nonce;
    records.push({ record: parsed.record, offset, bytes: decoded.end - offset });
    offset = decoded.end;
  }
}

function classifyDamage(bytes: Uint8Array, offset: number, decoded: Exclude<DecodedRecord, { kind: "record" | "end" }>, nonce: number | null, payloadBytesMax: number): SegmentDamage {
  const provenSynced = nonce !== null && syncedBytesProvenAfter(bytes, offset, nonce, payloadBytesMax) > offset;
  const rangeEnd = decoded.kind === "invalid" && decoded.end !== null ? decoded.end : Math.min(bytes.byteLength, offset + recordHeaderBytes);
  const torn = decoded.kind === "short" || overlapsZeroSector(bytes, offset, rangeEnd);
  return { offset, detail: decoded.detail, provenSynced, torn, contentError: false };
}

/**
 * The largest `syncedBytes` of any sound sync mark after `offset`: resynchronizes on the next
 * record that verifies (salted with this segment's nonce and its own offset, so nothing stale
 * or misplaced verifies) and reads on from there.
 */
function syncedBytesProvenAfter(bytes: Uint8Array, offset: number, nonce: number, payloadBytesMax: number): number {
  let proven = 0;
  let position = nextSoundRecord(bytes, offset + 1, nonce, payloadBytesMax);
  // Each pass moves `position` forward by at least one byte; the file's length bounds the loop.
  while (position !== null) {
    const decoded = decodeRecordAt(bytes, { nonce, offset: position }, payloadBytesMax);
    if (decoded.kind !== "record") {
      position = nextSoundRecord(bytes, position + 1, nonce, payloadBytesMax);
      continue;
    }
    if (decoded.type === RecordType.syncMark) {
      const parsed = decodeWalRecord(decoded.type, decoded.payload);
      if (parsed.ok && parsed.record.type === "sync_mark") proven = Math.max(proven, parsed.record.syncedBytes);
    }
    position = decoded.end;
  }
  return proven;
}

/** The first offset at or after `from` where a record of this segment verifies. */
function nextSoundRecord(bytes: Uint8Array, from: number, nonce: number, payloadBytesMax: number): number | null {
  for (let candidate = from; candidate + recordHeaderBytes <= bytes.byteLength; candidate += 1) {
    // Cheap filters first: a known type byte followed by three zero bytes.
    const type = bytes[candidate + 4] ?? 0;
    if (type < RecordType.segmentHeader || type > RecordType.syncMark) continue;
    if (bytes[candidate + 5] !== 0 || bytes[candidate + 6] !== 0 || bytes[candidate + 7] !== 0) continue;
    if (decodeRecordAt(bytes, { nonce, offset: candidate }, payloadBytesMax).kind === "record") return candidate;
  }
  return null;
}

/**
 * Whether a sector overlapping `[from, to)` reads as zeros from where the record starts (or the
 * sector starts) to the sector's end: what a sector that never reached the disk looks like, even
 * one that also holds the synced end of an earlier write. Records never hold 16 zero bytes in a
 * row (JSON has no zero bytes; headers carry checksums), and a record's first five bytes are
 * never all zero (the fifth is its type), so a shorter run from the record's start counts too.
 */
export function overlapsZeroSector(bytes: Uint8Array, from: number, to: number): boolean {
  const zeroRunBytesMin = 16;
  for (let sector = Math.floor(from / sectorBytes) * sectorBytes; sector < to; sector += sectorBytes) {
    const start = Math.max(from, sector);
    const end = Math.min(bytes.byteLength, sector + sectorBytes);
    if (end <= start) return false;
    let zero = end - start >= zeroRunBytesMin || end === bytes.byteLength || (start === from && end - start >= zeroRunFromRecordStartBytesMin);
    for (let position = start; position < end && zero; position += 1) zero = bytes[position] === 0;
    if (zero) return true;
  }
  return false;
}

/** Whether every byte from `offset` to the end is zero: the unused, zeroed end of a segment. */
function zeroFrom(bytes: Uint8Array, offset: number): boolean {
  for (let position = offset; position < bytes.byteLength; position++) if (bytes[position] !== 0) return false;
  return true;
}

export function segmentPath(directory: string, sequence: number): string {
  return join(directory, segmentFileName(sequence));
}
