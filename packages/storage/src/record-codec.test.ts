import { describe, expect, it } from "vitest";
import { decodeRecordAt, encodeJsonRecord, findRecordAfter, recordHeaderBytes, RecordType } from "./record-codec.js";
import { scanSegment } from "./wal-segment.js";
import { encodeEntryRecord, encodeSegmentHeader } from "./wal-records.js";
import { entryAt } from "./testing/storage-conformance.js";

const payloadBytesMax = 1 << 20;

describe("record codec", () => {
  it("round-trips a record", () => {
    const record = encodeJsonRecord(RecordType.hardState, { term: 3, votedFor: "n1", commitIndex: 2 });
    const decoded = decodeRecordAt(record, 0, payloadBytesMax);
    expect(decoded).toMatchObject({ kind: "record", type: RecordType.hardState, end: record.byteLength });
    expect(decodeRecordAt(record, record.byteLength, payloadBytesMax)).toEqual({ kind: "end" });
  });

  it("reports a record cut at every offset as short, never as a record", () => {
    const record = encodeEntryRecord(entryAt(7, 2));
    for (let length = 1; length < record.byteLength; length += 1) {
      expect(decodeRecordAt(record.subarray(0, length), 0, payloadBytesMax).kind).toBe("short");
    }
  });

  it("detects every single flipped byte", () => {
    const record = encodeEntryRecord(entryAt(7, 2));
    for (let offset = 0; offset < record.byteLength; offset += 1) {
      const damaged = Buffer.from(record);
      damaged[offset] = (damaged[offset] ?? 0) ^ 0x20;
      expect(["short", "invalid"]).toContain(decodeRecordAt(damaged, 0, payloadBytesMax).kind);
    }
  });

  it("refuses a length above the limit before reading further", () => {
    const record = encodeJsonRecord(RecordType.entry, { padding: "x".repeat(100) });
    expect(decodeRecordAt(record, 0, 50)).toEqual({ kind: "invalid", detail: "record length 114 exceeds 50" });
  });

  it("finds a good record after damage, and none in garbage", () => {
    const good = encodeEntryRecord(entryAt(1, 1));
    const bytes = Buffer.concat([Buffer.from("garbage!"), good]);
    expect(findRecordAfter(bytes, 0, payloadBytesMax)).toBe(8);
    expect(findRecordAfter(Buffer.alloc(64), 0, payloadBytesMax)).toBeNull();
  });
});

describe("scanSegment", () => {
  const header = encodeSegmentHeader({
    format: "lockstep-wal",
    version: 1,
    sequence: 1,
    lastIndexBefore: 0,
    hardState: { term: 0, votedFor: null, commitIndex: 0 },
  });
  const records = [header, encodeEntryRecord(entryAt(1, 1)), encodeEntryRecord(entryAt(2, 1))];
  const segment = Buffer.concat(records);
  const secondEnd = (records[0]?.byteLength ?? 0) + (records[1]?.byteLength ?? 0);

  it("calls a tail cut anywhere inside the last record torn", () => {
    for (let length = secondEnd + 1; length < segment.byteLength; length += 1) {
      const scan = scanSegment(segment.subarray(0, length), payloadBytesMax);
      expect(scan.records).toHaveLength(2);
      expect(scan.damage).toMatchObject({ offset: secondEnd, tornTail: true });
    }
  });

  it("calls zeros after the last record a torn tail", () => {
    const scan = scanSegment(Buffer.concat([segment, Buffer.alloc(300)]), payloadBytesMax);
    expect(scan.records).toHaveLength(3);
    expect(scan.damage).toMatchObject({ offset: segment.byteLength, tornTail: true });
  });

  it("calls damage followed by a good record not torn", () => {
    const damaged = Buffer.from(segment);
    const at = (records[0]?.byteLength ?? 0) + recordHeaderBytes + 3;
    damaged[at] = (damaged[at] ?? 0) ^ 0x01;
    const scan = scanSegment(damaged, payloadBytesMax);
    expect(scan.records).toHaveLength(1);
    expect(scan.damage).toMatchObject({ offset: records[0]?.byteLength, tornTail: false, detail: "checksum mismatch" });
  });
});
