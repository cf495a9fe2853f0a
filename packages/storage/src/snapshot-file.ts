import { join } from "node:path";
import type { Snapshot, SnapshotMeta } from "@lockstep/consensus";
import { IndexSchema, MemberSchema, TermSchema } from "@lockstep/protocol";
import { z } from "zod";
import { crc32 } from "./crc32.js";
import { snapshotFileName } from "./data-directory.js";
import type { FileSystem } from "./file-system.js";
import { decodeRecordAt, encodeJsonRecord, RecordType } from "./record-codec.js";
import type { RecordSalt } from "./record-codec.js";
import { StorageError, storageErrorFromSystem } from "./storage-error.js";

/**
 * A snapshot file is one framed `snapshot_meta` record followed by the raw data. The record
 * carries the data's length and CRC-32, so a damaged or truncated snapshot is always detected.
 */
const SnapshotHeaderSchema = z.object({
  format: z.literal("lockstep-snapshot"),
  version: z.literal(2),
  index: IndexSchema,
  term: TermSchema,
  members: z.array(MemberSchema),
  dataBytes: z.number().int().nonnegative(),
  dataCrc32: z.number().int().nonnegative(),
});

const snapshotHeaderBytesMax = 64 * 1024;
/** A snapshot file is written whole and renamed into place, so its one record needs no per-file nonce. */
const snapshotSalt: RecordSalt = { nonce: 0x534e4150, offset: 0 };

export function encodeSnapshotFile(snapshot: Snapshot): Buffer {
  const header = encodeJsonRecord(RecordType.snapshotMeta, {
    format: "lockstep-snapshot",
    version: 2,
    index: snapshot.meta.index,
    term: snapshot.meta.term,
    members: snapshot.meta.members,
    dataBytes: snapshot.data.byteLength,
    dataCrc32: crc32(snapshot.data),
  }, snapshotSalt);
  return Buffer.concat([header, snapshot.data]);
}

/** Reads and verifies the snapshot covering `index`; damage is a `corrupt` error naming the offset. */
export async function readSnapshotFile(fileSystem: FileSystem, directory: string, index: number): Promise<Snapshot> {
  const path = join(directory, snapshotFileName(index));
  const bytes = await fileSystem.readFile(path).catch((error: unknown) => {
    throw storageErrorFromSystem(error, path, "cannot read snapshot");
  });
  const decoded = decodeRecordAt(bytes, snapshotSalt, snapshotHeaderBytesMax);
  if (decoded.kind !== "record" || decoded.type !== RecordType.snapshotMeta) {
    const detail = decoded.kind === "record" ? `record type ${decoded.type}` : decoded.kind === "end" ? "empty file" : decoded.detail;
    throw corruptSnapshot(path, 0, detail);
  }
  const header = parseHeader(decoded.payload);
  if (!header.success) throw corruptSnapshot(path, 0, header.error.message);
  const meta: SnapshotMeta = { index: header.data.index, term: header.data.term, members: header.data.members };
  const data = bytes.subarray(decoded.end);
  if (meta.index !== index) throw corruptSnapshot(path, 0, `file name says index ${index}, header says ${meta.index}`);
  if (data.byteLength !== header.data.dataBytes) {
    throw corruptSnapshot(path, decoded.end, `data is ${data.byteLength} bytes, header says ${header.data.dataBytes}`);
  }
  if (crc32(data) !== header.data.dataCrc32) throw corruptSnapshot(path, decoded.end, "data checksum mismatch");
  return { meta, data: new Uint8Array(data) };
}

function parseHeader(payload: Uint8Array): ReturnType<typeof SnapshotHeaderSchema.safeParse> {
  try {
    return SnapshotHeaderSchema.safeParse(JSON.parse(Buffer.from(payload).toString("utf8")));
  } catch (error) {
    return SnapshotHeaderSchema.safeParse({ unparsable: String(error) });
  }
}

function corruptSnapshot(path: string, offset: number, detail: string): StorageError {
  return new StorageError("corrupt", path, `snapshot ${path} is corrupt at byte ${offset}: ${detail}`);
}

export function snapshotPath(directory: string, index: number): string {
  return join(directory, snapshotFileName(index));
}
