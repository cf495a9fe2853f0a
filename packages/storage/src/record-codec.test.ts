import { describe, expect, it } from "vitest";
import { decodeRecordAt, encodeJsonRecord, encodeTextRecords, findRecordAfter, recordHeaderBytes, RecordType } from "./record-codec.js";
import { scanSegment } from "./wal-segment.js";
import { encodeEntryRecord, encodeSegmentHeader, encodeSyncMark, syncMarkRecordBytes } from "./wal-records.js";
import { entryAt } from "./testing/storage-conformance.js";

const payloadBytesMax = 1 << 20;
const at0 = { nonce: 9, offset: 0 };

describe("record codec", () => {
  // The write-ahead log's bytes must never change: these were written by the codec before it
  // reused one scratch buffer for the salt and encoded a batch of entries into one buffer.
  it("encodes exactly the bytes it always did (a salt past 2^32, non-ASCII payload)", () => {
    const entry = { index: 7, term: 3, command: { kind: "transition", key: "wéb-1 ✓", to: "Running", session: { clientId: "12", seq: 4 } } };
    const salt = { nonce: 0xdeadbeef, offset: 2 ** 33 + 5 };
    const expected =
      "0000007a020000005de010314d9156287b22696e646578223a372c227465726d223a332c22636f6d6d616e64223a7b226b696e64223a227472616e736974696f6e222c226b6579223a2277c3a9622d3120e29c93222c22746f223a2252756e6e696e67222c2273657373696f6e223a7b22636c69656e744964223a223132222c22736571223a347d7d7d";
    expect(encodeJsonRecord(RecordType.entry, entry, salt).toString("hex")).toBe(expected);
    const payload = JSON.stringify(entry);
    expect(encodeTextRecords(RecordType.entry, [payload], [Buffer.byteLength(payload)], salt).toString("hex")).toBe(expected);
  });

  it("encodes a batch of text records as the records of each value back to back", () => {
    const values = [{ a: 1 }, { key: "ключ-✓-🙂" }, {}, { long: "x".repeat(5000) }];
    const payloads = values.map((value) => JSON.stringify(value));
    const salt = { nonce: 41, offset: 1234 };
    const batch = encodeTextRecords(RecordType.entry, payloads, payloads.map((payload) => Buffer.byteLength(payload, "utf8")), salt);
    const oneByOne: Buffer[] = [];
    let offset = salt.offset;
    for (const value of values) {
      const record = encodeJsonRecord(RecordType.entry, value, { nonce: salt.nonce, offset });
      oneByOne.push(record);
      offset += record.byteLength;
    }
    expect(batch.equals(Buffer.concat(oneByOne))).toBe(true);
    expect(encodeTextRecords(RecordType.entry, [], [], salt).byteLength).toBe(0);
    // A wrong byte count is the caller's bug, and never a record with a lying length.
    expect(() => encodeTextRecords(RecordType.entry, ["é"], [1], salt)).toThrow(/not 1/);
  });

  it("round-trips a record", () => {
    const record = encodeJsonRecord(RecordType.hardState, { term: 3, votedFor: "n1", commitIndex: 2 }, at0);
    const decoded = decodeRecordAt(record, at0, payloadBytesMax);
    expect(decoded).toMatchObject({ kind: "record", type: RecordType.hardState, end: record.byteLength });
    expect(decodeRecordAt(record, { nonce: 9, offset: record.byteLength }, payloadBytesMax)).toEqual({ kind: "end" });
  });

  it("reports a record cut at every offset as short, never as a record", () => {
    const record = encodeEntryRecord(entryAt(7, 2), at0);
    for (let length = 1; length < record.byteLength; length += 1) {
      expect(decodeRecordAt(record.subarray(0, length), at0, payloadBytesMax).kind).toBe("short");
    }
  });

  it("detects every single flipped byte, and tells a damaged header from a damaged payload", () => {
    const record = encodeEntryRecord(entryAt(7, 2), at0);
    for (let offset = 0; offset < record.byteLength; offset += 1) {
      const damaged = Buffer.from(record);
      damaged[offset] = (damaged[offset] ?? 0) ^ 0x20;
      const decoded = decodeRecordAt(damaged, at0, payloadBytesMax);
      expect(decoded.kind).toBe("invalid");
      if (decoded.kind === "invalid") expect(decoded.part).toBe(offset < recordHeaderBytes ? "header" : "payload");
    }
  });

  it("never verifies a record in another file or at another offset (stale bytes cannot splice in)", () => {
    const record = encodeEntryRecord(entryAt(7, 2), { nonce: 9, offset: 512 });
    const placed = Buffer.concat([Buffer.alloc(512, 1), record]);
    expect(decodeRecordAt(placed, { nonce: 9, offset: 512 }, payloadBytesMax).kind).toBe("record");
    expect(decodeRecordAt(placed, { nonce: 10, offset: 512 }, payloadBytesMax).kind).toBe("invalid");
    const moved = Buffer.concat([Buffer.alloc(1024, 1), record]);
    expect(decodeRecordAt(moved, { nonce: 9, offset: 1024 }, payloadBytesMax).kind).toBe("invalid");
  });

  it("refuses a length above the limit before reading further", () => {
    const record = encodeJsonRecord(RecordType.entry, { padding: "x".repeat(100) }, at0);
    expect(decodeRecordAt(record, at0, 50)).toMatchObject({ kind: "invalid", detail: "record length 114 exceeds 50", part: "header" });
  });

  it("finds a good record after damage, and none in garbage", () => {
    const good = encodeEntryRecord(entryAt(1, 1), { nonce: 9, offset: 8 });
    const bytes = Buffer.concat([Buffer.from("garbage!"), good]);
    expect(findRecordAfter(bytes, 0, 9, payloadBytesMax)).toBe(8);
    expect(findRecordAfter(Buffer.alloc(64), 0, 9, payloadBytesMax)).toBeNull();
  });
});

describe("scanSegment", () => {
  const nonce = 77;
  /** A segment built like the writer builds one: each append starts with a sync mark. */
  function segment(appends: number, entriesPerAppend: number): { bytes: Buffer; appendStarts: number[] } {
    const parts: Buffer[] = [
      encodeSegmentHeader({ format: "lockstep-wal", version: 2, sequence: 1, nonce, lastIndexBefore: 0, hardState: { term: 0, votedFor: null, commitIndex: 0 } }),
    ];
    let offset = parts[0]?.byteLength ?? 0;
    const appendStarts: number[] = [];
    let index = 1;
    for (let append = 0; append < appends; append++) {
      appendStarts.push(offset);
      // Everything before this append was synced when it was written.
      parts.push(encodeSyncMark(offset, { nonce, offset }));
      offset += syncMarkRecordBytes;
      for (let entry = 0; entry < entriesPerAppend; entry++) {
        const record = encodeEntryRecord(entryAt(index++, 1), { nonce, offset });
        parts.push(record);
        offset += record.byteLength;
      }
    }
    return { bytes: Buffer.concat(parts), appendStarts };
  }

  it("calls a tail cut anywhere inside the last record torn", () => {
    const { bytes } = segment(1, 2);
    const full = scanSegment(bytes, 1, payloadBytesMax);
    const lastStart = full.records.at(-1)?.offset ?? 0;
    for (let length = lastStart + 1; length < bytes.byteLength; length += 1) {
      const scan = scanSegment(bytes.subarray(0, length), 1, payloadBytesMax);
      expect(scan.records).toHaveLength(3);
      expect(scan.damage).toMatchObject({ offset: lastStart, torn: true, provenSynced: false });
    }
  });

  it("calls a missing (zeroed) sector torn even when sound records follow it", () => {
    const { bytes, appendStarts } = segment(2, 12);
    const secondAppend = appendStarts[1] ?? 0;
    const damaged = Buffer.from(bytes);
    const sector = Math.ceil((secondAppend + 40) / 512) * 512;
    damaged.fill(0, sector, sector + 512);
    const scan = scanSegment(damaged, 1, payloadBytesMax);
    expect(scan.damage).toMatchObject({ torn: true, provenSynced: false });
  });

  it("calls a record torn when the few bytes it has before a sector boundary never reached the disk", () => {
    // A record that starts 5 to 15 bytes before a sector boundary (segment sizes are tried until one has it).
    const straddles = (offset: number): boolean => offset % 512 >= 512 - 15 && offset % 512 <= 512 - 5;
    const shapes = Array.from({ length: 4 * 30 }, (_, shape) => ({ appends: 1 + (shape % 4), entries: 1 + Math.floor(shape / 4) }));
    const found = shapes
      .map(({ appends, entries }) => ({ bytes: segment(appends, entries).bytes }))
      .map(({ bytes }) => ({ bytes, record: scanSegment(bytes, 1, payloadBytesMax).records.find((scanned) => straddles(scanned.offset)) }))
      .find((candidate) => candidate.record !== undefined);
    const record = found?.record;
    const bytes = found?.bytes;
    if (record === undefined || bytes === undefined) throw new Error("no record straddles a sector boundary here");
    const damaged = Buffer.from(bytes);
    damaged.fill(0, record.offset, Math.ceil(record.offset / 512) * 512);
    const scan = scanSegment(damaged, 1, payloadBytesMax);
    expect(scan.damage).toMatchObject({ offset: record.offset, torn: true });
  });

  it("calls a flipped bit proven synced when a later sync mark covers it", () => {
    const { bytes, appendStarts } = segment(3, 4);
    const damaged = Buffer.from(bytes);
    const at = (appendStarts[0] ?? 0) + syncMarkRecordBytes + recordHeaderBytes + 3;
    damaged[at] = (damaged[at] ?? 0) ^ 0x01;
    const scan = scanSegment(damaged, 1, payloadBytesMax);
    expect(scan.damage).toMatchObject({ provenSynced: true, torn: false, detail: "payload checksum mismatch" });
  });

  it("cannot tell a flipped bit in the last append from stale bytes: neither proven nor torn", () => {
    const { bytes, appendStarts } = segment(3, 4);
    const damaged = Buffer.from(bytes);
    const at = (appendStarts[2] ?? 0) + syncMarkRecordBytes + recordHeaderBytes + 3;
    damaged[at] = (damaged[at] ?? 0) ^ 0x01;
    const scan = scanSegment(damaged, 1, payloadBytesMax);
    expect(scan.damage).toMatchObject({ provenSynced: false, torn: false });
  });
});
