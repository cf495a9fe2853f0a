import { writeAll } from "./data-directory.js";
import type { FileHandle } from "./file-system.js";
import { sectorBytes } from "./wal-segment.js";

/**
 * The log is written over zeros that are already synced. A power cut loses some sectors of an
 * unsynced write; where the file grew with that write, a lost sector may read as a freed file's
 * stale bytes (or the size may reach the disk without the data), and a record damaged that way
 * cannot be told from rot in a synced one: a possible loss, and a node that will not vote. Over
 * synced zeros a lost sector reads as zeros, which recovery recognizes as a tear. So before a
 * write goes past the zeroed region, the writer extends it and syncs the zeros first (PostgreSQL
 * zero-fills its WAL segments, and etcd preallocates them, for the same reason).
 */

/** The zeroed region grows by at least this much at a time (less when segments are smaller). */
export const preallocationStepBytesMax = 1024 * 1024;
/** Zeros go down in writes of at most this many bytes. */
const zeroWriteBytesMax = 256 * 1024;

/** Where the zeroed region must end for a write that ends at `end`: a whole sector, a step ahead. */
export function preallocationTarget(end: number, preallocatedBytes: number, segmentBytesMax: number): number {
  const step = Math.min(segmentBytesMax, preallocationStepBytesMax);
  const wanted = Math.max(end, preallocatedBytes + step);
  return Math.ceil(wanted / sectorBytes) * sectorBytes;
}

/** Writes zeros over `[from, to)`; the caller syncs them before writing records there. */
export async function writeZeros(handle: FileHandle, from: number, to: number): Promise<void> {
  const zeros = new Uint8Array(Math.min(zeroWriteBytesMax, Math.max(0, to - from)));
  // Each pass writes at least one byte, so `to - from` bounds the loop.
  for (let position = from; position < to; position += zeros.byteLength) {
    await writeAll(handle, zeros.subarray(0, Math.min(zeros.byteLength, to - position)), position);
  }
}
