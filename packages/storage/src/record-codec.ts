import { crc32 } from "./crc32.js";
import { assertStorage as assert } from "./log-rules.js";

/**
 * One framed record:
 * `[payload bytes: u32 BE][type: u8][0: u8 x3][header crc: u32 BE][payload crc: u32 BE][payload]`.
 *
 * Both checksums are salted with where the record belongs: the nonce of its file and its byte
 * offset in that file. A record left over from another file, or from another place in this one
 * (stale bytes that a crash exposes in a region never written again), never verifies. The header
 * has its own checksum so that a damaged length is told apart from a record the file ends inside
 * of: a record with a sound header that runs past the end of the file was cut short by a crash,
 * since a synced record is always whole.
 */
export const recordHeaderBytes = 16;

export const RecordType = {
  segmentHeader: 1,
  entry: 2,
  hardState: 3,
  logReset: 4,
  snapshotMeta: 5,
  syncMark: 6,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

const recordTypes: ReadonlySet<number> = new Set(Object.values(RecordType));

/** Where a record belongs: the nonce of its file and its offset in it (both in every checksum). */
export interface RecordSalt {
  nonce: number;
  offset: number;
}

export function encodeRecord(type: RecordType, payload: Uint8Array, salt: RecordSalt): Buffer {
  const record = Buffer.alloc(recordHeaderBytes + payload.byteLength);
  record.set(payload, recordHeaderBytes);
  sealRecord(record, 0, type, payload.byteLength, salt);
  return record;
}

export function encodeJsonRecord(type: RecordType, value: unknown, salt: RecordSalt): Buffer {
  return encodeRecord(type, Buffer.from(JSON.stringify(value), "utf8"), salt);
}

/**
 * Records of one type back to back in one buffer, from payloads already serialised (`payloads[i]`
 * is `payloadBytes[i]` bytes of UTF-8): the same bytes as `encodeJsonRecord` of each value, the
 * first at `salt.offset` and each next one right after, with no buffer per record and no copy of
 * a payload. A follower writes every entry it receives this way.
 */
export function encodeTextRecords(type: RecordType, payloads: readonly string[], payloadBytes: readonly number[], salt: RecordSalt): Buffer {
  let total = 0;
  for (const bytes of payloadBytes) total += recordHeaderBytes + bytes;
  const records = Buffer.alloc(total);
  let at = 0;
  for (let position = 0; position < payloads.length; position++) {
    const bytes = payloadBytes[position]!;
    const written = records.write(payloads[position]!, at + recordHeaderBytes, bytes, "utf8");
    if (written !== bytes) assert(false, `payload ${position} is ${written} bytes of UTF-8, not ${bytes}`);
    sealRecord(records, at, type, bytes, { nonce: salt.nonce, offset: salt.offset + at });
    at += recordHeaderBytes + bytes;
  }
  return records;
}

/** Writes the header of the record at `at` of `target`, whose payload is already in place after it. */
function sealRecord(target: Buffer, at: number, type: RecordType, payloadBytes: number, salt: RecordSalt): void {
  target.writeUInt32BE(payloadBytes, at);
  target.writeUInt8(type, at + 4);
  const payloadStart = at + recordHeaderBytes;
  target.writeUInt32BE(payloadChecksum(type, target.subarray(payloadStart, payloadStart + payloadBytes), salt), at + 12);
  target.writeUInt32BE(headerChecksum(target.subarray(at, payloadStart), salt), at + 8);
}

/**
 * What `decodeRecordAt` found.
 * - `short`: the bytes end inside the record: inside its header, or after a sound header inside
 *   its payload. Only a crash leaves this (a synced record is whole).
 * - `invalid`: the bytes are there but wrong; `part` says whether the header or the payload.
 */
export type DecodedRecord =
  | { kind: "record"; type: RecordType; payload: Uint8Array; end: number }
  | { kind: "end" }
  | { kind: "short"; detail: string; headerSound: boolean }
  | { kind: "invalid"; detail: string; part: "header" | "payload"; end: number | null };

/**
 * Decodes the record that belongs at `salt.offset` of its file, found at `position` of `bytes`
 * (the same unless `bytes` is a slice of the file); `end` is a position in `bytes`.
 * Never throws: bad bytes come back as a result.
 */
export function decodeRecordAt(bytes: Uint8Array, salt: RecordSalt, payloadBytesMax: number, position = salt.offset): DecodedRecord {
  const offset = position;
  const available = bytes.byteLength - offset;
  if (available === 0) return { kind: "end" };
  if (available < recordHeaderBytes) {
    return { kind: "short", detail: `${available} bytes left, a record header needs ${recordHeaderBytes}`, headerSound: false };
  }
  const header = bytes.subarray(offset, offset + recordHeaderBytes);
  const view = new DataView(header.buffer, header.byteOffset, recordHeaderBytes);
  const payloadBytes = view.getUint32(0, false);
  const type = view.getUint8(4);
  if (view.getUint32(8, false) !== headerChecksum(header, salt)) {
    return { kind: "invalid", detail: "header checksum mismatch", part: "header", end: null };
  }
  if (!recordTypes.has(type)) return { kind: "invalid", detail: `unknown record type ${type}`, part: "header", end: null };
  if (payloadBytes > payloadBytesMax) {
    return { kind: "invalid", detail: `record length ${payloadBytes} exceeds ${payloadBytesMax}`, part: "header", end: null };
  }
  const end = offset + recordHeaderBytes + payloadBytes;
  if (end > bytes.byteLength) {
    return { kind: "short", detail: `record needs ${end - offset} bytes, ${available} left`, headerSound: true };
  }
  const payload = bytes.subarray(offset + recordHeaderBytes, end);
  if (payloadChecksum(type, payload, salt) !== view.getUint32(12, false)) {
    return { kind: "invalid", detail: "payload checksum mismatch", part: "payload", end };
  }
  return { kind: "record", type: type as RecordType, payload, end };
}

/**
 * The first offset after `offset` where a record of this file verifies, or null. Recovery uses
 * it to look past damage for records that prove the damage was in synced bytes. The header
 * checksum fails fast on almost every offset.
 */
export function findRecordAfter(bytes: Uint8Array, offset: number, nonce: number, payloadBytesMax: number): number | null {
  for (let candidate = offset + 1; candidate + recordHeaderBytes <= bytes.byteLength; candidate += 1) {
    const decoded = decodeRecordAt(bytes, { nonce, offset: candidate }, payloadBytesMax);
    if (decoded.kind === "record") return candidate;
  }
  return null;
}

// The salt as bytes, then the record type: one scratch buffer reused by every checksum (all of this
// is synchronous), so that no checksum allocates. CRC-32 runs on, so the CRC of the salt followed
// by the type is the CRC of the salt continued with the type, as it was computed before.
const saltScratch = Buffer.alloc(13);
const saltOnly = saltScratch.subarray(0, 12);

function fillSalt(salt: RecordSalt): void {
  saltScratch.writeUInt32BE(salt.nonce >>> 0, 0);
  saltScratch.writeUInt32BE(Math.floor(salt.offset / 2 ** 32), 4);
  saltScratch.writeUInt32BE(salt.offset >>> 0, 8);
}

function payloadChecksum(type: number, payload: Uint8Array, salt: RecordSalt): number {
  fillSalt(salt);
  saltScratch.writeUInt8(type, 12);
  return crc32(payload, crc32(saltScratch));
}

/** Covers the length, the type, the payload checksum and the salt. */
function headerChecksum(header: Uint8Array, salt: RecordSalt): number {
  fillSalt(salt);
  return crc32(header.subarray(12, 16), crc32(header.subarray(0, 8), crc32(saltOnly)));
}
