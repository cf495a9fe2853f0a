import { z } from "zod";
import { crc32 } from "./crc32.js";

/**
 * The undo journal of `PowerCutFileSystem` (test only): what a power cut may still take back.
 * Before each change that is not yet durable the file system appends one record, with a
 * synchronous write, so that a SIGKILL of the process (which keeps the kernel's page cache)
 * never loses it; `cutPower` reads the journal after the kill and decides, record by record,
 * what the "disk" kept.
 *
 * A record is framed `[payload bytes: u32 BE][payload CRC-32: u32 BE][payload]`, the payload
 * `[header bytes: u32 BE][header JSON][old bytes]`. A process killed in the middle of an append
 * leaves a short or unverifiable last record; the change it announced was never started (the
 * change is issued only once its record is down), so decoding stops there and loses nothing.
 */

/** `${dev}:${ino}`: names a file across renames. */
export type FileIdentity = string;

/** A write to a file, with the bytes it overwrote and the file's length before it. */
export interface WriteRecord {
  type: "write";
  seq: number;
  file: FileIdentity;
  path: string;
  position: number;
  length: number;
  oldLength: number;
  /** The bytes at `[position, min(position + length, oldLength))` before the write. */
  oldBytes: Uint8Array;
}

/** A change of a file's length (a truncation, or an `open` that empties an existing file). */
export interface TruncateRecord {
  type: "truncate";
  seq: number;
  file: FileIdentity;
  path: string;
  length: number;
  oldLength: number;
  /** The bytes at `[length, oldLength)` before the change, when it shortened the file. */
  oldBytes: Uint8Array;
}

/**
 * `directory/name` now names `file`. `created`: the file (or directory) is new. `backup`: a hard
 * link to what the name named before (a rename over an existing file), or null.
 */
export interface LinkRecord {
  type: "link";
  seq: number;
  directory: string;
  name: string;
  file: FileIdentity;
  kind: "file" | "directory";
  created: boolean;
  backup: string | null;
  replaced: FileIdentity | null;
}

/**
 * `directory/name` no longer names `file`; `backup` is a hard link to it, made first.
 * `stillLinked`: the file lives on under another name (the first half of a rename).
 */
export interface UnlinkRecord {
  type: "unlink";
  seq: number;
  directory: string;
  name: string;
  file: FileIdentity;
  backup: string;
  stillLinked: boolean;
}

/** An fsync of `file` completed: its changes up to `seqMax` are durable. */
export interface FileSyncedRecord {
  type: "synced";
  file: FileIdentity;
  seqMax: number;
}

/** An fsync of `directory` completed: its entry changes up to `seqMax` are durable. */
export interface DirectorySyncedRecord {
  type: "directorySynced";
  directory: string;
  seqMax: number;
}

export type DataRecord = WriteRecord | TruncateRecord;
export type DirectoryRecord = LinkRecord | UnlinkRecord;
export type JournalRecord = DataRecord | DirectoryRecord | FileSyncedRecord | DirectorySyncedRecord;

const count = z.number().int().nonnegative();
const text = z.string().min(1);
const headerSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("write"), seq: count, file: text, path: text, position: count, length: count, oldLength: count }),
  z.object({ type: z.literal("truncate"), seq: count, file: text, path: text, length: count, oldLength: count }),
  z.object({
    type: z.literal("link"),
    seq: count,
    directory: text,
    name: text,
    file: text,
    kind: z.enum(["file", "directory"]),
    created: z.boolean(),
    backup: text.nullable(),
    replaced: text.nullable(),
  }),
  z.object({ type: z.literal("unlink"), seq: count, directory: text, name: text, file: text, backup: text, stillLinked: z.boolean() }),
  z.object({ type: z.literal("synced"), file: text, seqMax: count }),
  z.object({ type: z.literal("directorySynced"), directory: text, seqMax: count }),
]);

const frameHeaderBytes = 8;

export function encodeJournalRecord(record: JournalRecord): Buffer {
  const { oldBytes, ...header } = "oldBytes" in record ? record : { ...record, oldBytes: new Uint8Array(0) };
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const payload = Buffer.alloc(4 + json.byteLength + oldBytes.byteLength);
  payload.writeUInt32BE(json.byteLength, 0);
  json.copy(payload, 4);
  payload.set(oldBytes, 4 + json.byteLength);
  const frame = Buffer.alloc(frameHeaderBytes);
  frame.writeUInt32BE(payload.byteLength, 0);
  frame.writeUInt32BE(crc32(payload), 4);
  return Buffer.concat([frame, payload]);
}

export interface DecodedJournal {
  records: JournalRecord[];
  /** Bytes after the last sound record (a record cut short by the kill); 0 for a clean journal. */
  tailBytesIgnored: number;
}

/** Every sound record, in order, up to the first that is not. Never throws. */
export function decodeJournal(bytes: Uint8Array): DecodedJournal {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: JournalRecord[] = [];
  let offset = 0;
  while (offset + frameHeaderBytes <= view.byteLength) {
    const payloadBytes = view.readUInt32BE(offset);
    const end = offset + frameHeaderBytes + payloadBytes;
    if (payloadBytes < 4 || end > view.byteLength) break;
    const payload = view.subarray(offset + frameHeaderBytes, end);
    if (crc32(payload) !== view.readUInt32BE(offset + 4)) break;
    const record = decodePayload(payload);
    if (record === null) break;
    records.push(record);
    offset = end;
  }
  return { records, tailBytesIgnored: view.byteLength - offset };
}

function decodePayload(payload: Buffer): JournalRecord | null {
  const jsonBytes = payload.readUInt32BE(0);
  if (4 + jsonBytes > payload.byteLength) return null;
  let json: unknown;
  try {
    json = JSON.parse(payload.subarray(4, 4 + jsonBytes).toString("utf8"));
  } catch {
    return null;
  }
  const parsed = headerSchema.safeParse(json);
  if (!parsed.success) return null;
  const oldBytes = Uint8Array.from(payload.subarray(4 + jsonBytes));
  const header = parsed.data;
  switch (header.type) {
    case "write":
    case "truncate":
      return { ...header, oldBytes };
    case "link":
    case "unlink":
    case "synced":
    case "directorySynced":
      return oldBytes.byteLength === 0 ? header : null;
  }
}

/**
 * The changes a power cut may still take back, as the journal's records leave them: each file's
 * data changes since its last completed fsync, each directory's entry changes since its last
 * completed directory fsync. The file system keeps one (to rewrite the journal short), and
 * `cutPower` rebuilds one by replaying the journal; both get the same answer.
 */
export class PendingChanges {
  readonly data = new Map<FileIdentity, DataRecord[]>();
  readonly directories = new Map<string, DirectoryRecord[]>();

  /** Applies one record; returns the backups that a directory sync made unnecessary. */
  apply(record: JournalRecord): string[] {
    switch (record.type) {
      case "write":
      case "truncate":
        this.data.set(record.file, [...(this.data.get(record.file) ?? []), record]);
        return [];
      case "link":
      case "unlink":
        this.directories.set(record.directory, [...(this.directories.get(record.directory) ?? []), record]);
        return [];
      case "synced": {
        const left = (this.data.get(record.file) ?? []).filter((change) => change.seq > record.seqMax);
        if (left.length === 0) this.data.delete(record.file);
        else this.data.set(record.file, left);
        return [];
      }
      case "directorySynced":
        return this.directorySynced(record);
    }
  }

  /** Every record still pending, in journal (sequence) order. */
  records(): JournalRecord[] {
    const all: Array<DataRecord | DirectoryRecord> = [...[...this.data.values()].flat(), ...[...this.directories.values()].flat()];
    return all.sort((a, b) => a.seq - b.seq);
  }

  get empty(): boolean {
    return this.data.size === 0 && this.directories.size === 0;
  }

  private directorySynced(record: DirectorySyncedRecord): string[] {
    const changes = this.directories.get(record.directory) ?? [];
    const covered = changes.filter((change) => change.seq <= record.seqMax);
    const left = changes.filter((change) => change.seq > record.seqMax);
    if (left.length === 0) this.directories.delete(record.directory);
    else this.directories.set(record.directory, left);
    const backups: string[] = [];
    for (const change of covered) {
      if (change.backup !== null) backups.push(change.backup);
      // A file durably removed from its last name is gone: what it had unsynced no longer matters.
      const gone = change.type === "unlink" ? (change.stillLinked ? null : change.file) : change.replaced;
      if (gone !== null) this.data.delete(gone);
    }
    return backups;
  }
}
