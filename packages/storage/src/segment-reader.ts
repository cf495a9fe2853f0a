import type { Entry } from "@lockstep/protocol";
import type { EntryLocation } from "./entry-index.js";
import type { FileHandle, FileSystem } from "./file-system.js";
import { decodeRecordAt } from "./record-codec.js";
import { StorageError, storageErrorFromSystem } from "./storage-error.js";
import { decodeWalRecord } from "./wal-records.js";
import { segmentPath } from "./wal-segment.js";

/** One read covers neighbouring records up to this many bytes, so old entries cost few syscalls. */
const readSpanBytesMax = 1024 * 1024;

export interface LocatedEntry {
  index: number;
  location: EntryLocation;
}

/**
 * Reads entries back from their segments, in the order given (ascending index, hence ascending
 * position). Every record is checked again: a checksum or index mismatch is `corrupt`, naming the
 * file and offset, because these entries were acknowledged.
 */
export interface SegmentReadOptions {
  fileSystem: FileSystem;
  directory: string;
  recordBytesMax: number;
  /** The nonce that salts the records of each segment. */
  nonceOf: (sequence: number) => number;
}

export async function readEntriesFromSegments(options: SegmentReadOptions, located: readonly LocatedEntry[]): Promise<Entry[]> {
  const handles = new Map<number, FileHandle>();
  const entries: Entry[] = [];
  try {
    let start = 0;
    // Each pass reads one span of at least one record; `located.length` bounds the loop.
    while (start < located.length) {
      const end = spanEnd(located, start);
      entries.push(...(await readSpan(options, handles, located.slice(start, end))));
      start = end;
    }
  } finally {
    for (const handle of handles.values()) await handle.close().catch(() => undefined);
  }
  return entries;
}

function spanEnd(located: readonly LocatedEntry[], start: number): number {
  const first = located[start];
  if (first === undefined) return start;
  let end = start + 1;
  for (; end < located.length; end += 1) {
    const next = located[end];
    if (next === undefined || next.location.sequence !== first.location.sequence) break;
    if (next.location.offset + next.location.bytes - first.location.offset > readSpanBytesMax) break;
  }
  return end;
}

async function readSpan(options: SegmentReadOptions, handles: Map<number, FileHandle>, span: readonly LocatedEntry[]): Promise<Entry[]> {
  const first = span[0];
  const last = span.at(-1);
  if (first === undefined || last === undefined) return [];
  const { sequence } = first.location;
  const path = segmentPath(options.directory, sequence);
  const spanStart = first.location.offset;
  const bytes = Buffer.alloc(last.location.offset + last.location.bytes - spanStart);
  try {
    let handle = handles.get(sequence);
    if (handle === undefined) {
      handle = await options.fileSystem.open(path, "read");
      handles.set(sequence, handle);
    }
    const { bytesRead } = await handle.read(bytes, 0, bytes.byteLength, spanStart);
    if (bytesRead !== bytes.byteLength) {
      throw new StorageError("corrupt", path, `${path} is corrupt at byte ${spanStart + bytesRead}: the segment ends early`);
    }
  } catch (error) {
    throw storageErrorFromSystem(error, path, "cannot read");
  }
  const nonce = options.nonceOf(sequence);
  return span.map(({ index, location }) => {
    const record = bytes.subarray(location.offset - spanStart, location.offset - spanStart + location.bytes);
    return decodeEntryAt(path, record, nonce, location.offset, index, options.recordBytesMax);
  });
}

function decodeEntryAt(path: string, record: Uint8Array, nonce: number, offset: number, index: number, recordBytesMax: number): Entry {
  const decoded = decodeRecordAt(record, { nonce, offset }, recordBytesMax, 0);
  const parsed = decoded.kind === "record" ? decodeWalRecord(decoded.type, decoded.payload) : null;
  if (parsed?.ok === true && parsed.record.type === "entry" && parsed.record.entry.index === index) return parsed.record.entry;
  const detail =
    decoded.kind === "record" || decoded.kind === "end"
      ? parsed?.ok === false
        ? parsed.reason
        : `expected entry ${index}`
      : decoded.detail;
  throw new StorageError("corrupt", path, `${path} is corrupt at byte ${offset}: ${detail}`);
}

