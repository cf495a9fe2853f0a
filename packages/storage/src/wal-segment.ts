import { join } from "node:path";
import { segmentFileName } from "./data-directory.js";
import { decodeRecordAt, findRecordAfter } from "./record-codec.js";
import { decodeWalRecord } from "./wal-records.js";
import type { WalRecord } from "./wal-records.js";

export interface ScannedRecord {
  record: WalRecord;
  offset: number;
  bytes: number;
}

/**
 * Where a segment stops making sense. `tornTail` is true when the bytes from `offset` to the end
 * could be a write cut short by a crash: a short or mis-checksummed record with no well-formed
 * record anywhere after it. A record whose checksum holds but whose content is wrong is never torn.
 */
export interface SegmentDamage {
  offset: number;
  detail: string;
  tornTail: boolean;
}

export interface SegmentScan {
  records: ScannedRecord[];
  /** Bytes up to the end of the last good record. */
  validBytes: number;
  damage: SegmentDamage | null;
}

/** Decodes every record of one segment's bytes. Never throws: damage is reported, not raised. */
export function scanSegment(bytes: Uint8Array, payloadBytesMax: number): SegmentScan {
  const records: ScannedRecord[] = [];
  let offset = 0;
  // Each pass consumes at least one record header, so the loop is bounded by the file's length.
  for (;;) {
    const decoded = decodeRecordAt(bytes, offset, payloadBytesMax);
    switch (decoded.kind) {
      case "end":
        return { records, validBytes: offset, damage: null };
      case "short":
      case "invalid": {
        const tornTail = findRecordAfter(bytes, offset, payloadBytesMax) === null;
        return { records, validBytes: offset, damage: { offset, detail: decoded.detail, tornTail } };
      }
      case "record": {
        const parsed = decodeWalRecord(decoded.type, decoded.payload);
        if (!parsed.ok) return { records, validBytes: offset, damage: { offset, detail: parsed.reason, tornTail: false } };
        records.push({ record: parsed.record, offset, bytes: decoded.end - offset });
        offset = decoded.end;
        break;
      }
    }
  }
}

export function segmentPath(directory: string, sequence: number): string {
  return join(directory, segmentFileName(sequence));
}
