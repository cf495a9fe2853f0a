import { crc32 } from "./crc32.js";

/**
 * One framed record: `[payload bytes: u32 BE][crc32: u32 BE][type: u8][payload]`. The checksum
 * covers the type byte and the payload, so a flipped type is caught like a flipped payload byte.
 * Every record the log, and a snapshot file, hold uses this frame.
 */
export const recordHeaderBytes = 9;

export const RecordType = {
  segmentHeader: 1,
  entry: 2,
  hardState: 3,
  logReset: 4,
  snapshotMeta: 5,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

const recordTypes: ReadonlySet<number> = new Set(Object.values(RecordType));

export function encodeRecord(type: RecordType, payload: Uint8Array): Buffer {
  const record = Buffer.allocUnsafe(recordHeaderBytes + payload.byteLength);
  record.writeUInt32BE(payload.byteLength, 0);
  record.writeUInt8(type, 8);
  record.set(payload, recordHeaderBytes);
  record.writeUInt32BE(recordChecksum(type, payload), 4);
  return record;
}

export function encodeJsonRecord(type: RecordType, value: unknown): Buffer {
  return encodeRecord(type, Buffer.from(JSON.stringify(value), "utf8"));
}

/**
 * What `decodeRecordAt` found. `short` means the bytes end inside the record (a torn write looks
 * like this); `invalid` means the bytes are there but wrong (bad length, type or checksum).
 */
export type DecodedRecord =
  | { kind: "record"; type: RecordType; payload: Uint8Array; end: number }
  | { kind: "end" }
  | { kind: "short"; detail: string }
  | { kind: "invalid"; detail: string };

/** Decodes the record starting at `offset`. Never throws: bad bytes come back as a result. */
export function decodeRecordAt(bytes: Uint8Array, offset: number, payloadBytesMax: number): DecodedRecord {
  const available = bytes.byteLength - offset;
  if (available === 0) return { kind: "end" };
  if (available < recordHeaderBytes) {
    return { kind: "short", detail: `${available} bytes left, a record header needs ${recordHeaderBytes}` };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, recordHeaderBytes);
  const payloadBytes = view.getUint32(0, false);
  const checksum = view.getUint32(4, false);
  const type = view.getUint8(8);
  if (payloadBytes > payloadBytesMax) {
    return { kind: "invalid", detail: `record length ${payloadBytes} exceeds ${payloadBytesMax}` };
  }
  if (!recordTypes.has(type)) return { kind: "invalid", detail: `unknown record type ${type}` };
  const end = offset + recordHeaderBytes + payloadBytes;
  if (end > bytes.byteLength) {
    return { kind: "short", detail: `record needs ${end - offset} bytes, ${available} left` };
  }
  const payload = bytes.subarray(offset + recordHeaderBytes, end);
  if (recordChecksum(type, payload) !== checksum) return { kind: "invalid", detail: "checksum mismatch" };
  return { kind: "record", type: type as RecordType, payload, end };
}

/**
 * Whether any well-formed record starts after `offset`. Recovery uses it to tell a torn tail
 * (garbage up to the end of the file) from damage followed by records that were acknowledged.
 * Most offsets fail on the length or type check before a checksum is computed.
 */
export function findRecordAfter(bytes: Uint8Array, offset: number, payloadBytesMax: number): number | null {
  for (let candidate = offset + 1; candidate + recordHeaderBytes <= bytes.byteLength; candidate += 1) {
    const decoded = decodeRecordAt(bytes, candidate, payloadBytesMax);
    if (decoded.kind === "record") return candidate;
  }
  return null;
}

function recordChecksum(type: number, payload: Uint8Array): number {
  return crc32(payload, crc32(Uint8Array.of(type)));
}
