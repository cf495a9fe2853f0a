import type { Logger, MetricsSink } from "@lockstep/consensus";
import { assertStorage } from "./log-rules.js";
import type { FsyncPolicy } from "./wal-writer.js";

export interface FileStorageOptions {
  /** The data directory. Created if missing, provided its parent exists. */
  directory: string;
  /** `always` (default): every resolved write survives a power loss. `none`: tests and benchmarks only. */
  fsyncPolicy?: FsyncPolicy;
  /** A segment is closed and a new one started once it reaches this size. Default 64 MiB. */
  segmentBytesMax?: number;
  /** How many of the newest entries stay in memory; older ones are read back from disk. Default 8192. */
  entriesInMemoryMax?: number;
  /** The largest record payload (one entry as JSON) accepted and read back. Default 8 MiB. */
  recordBytesMax?: number;
  /** The most bytes one group commit writes before its fdatasync. Default 16 MiB. */
  batchBytesMax?: number;
  /** The most writes waiting for the disk; beyond it `persist` rejects with `overloaded`. Default 65536. */
  pendingWritesMax?: number;
  metrics?: MetricsSink;
  logger?: Logger;
}

export interface ResolvedFileStorageOptions {
  directory: string;
  fsyncPolicy: FsyncPolicy;
  segmentBytesMax: number;
  entriesInMemoryMax: number;
  recordBytesMax: number;
  batchBytesMax: number;
  pendingWritesMax: number;
}

export function resolveFileStorageOptions(options: FileStorageOptions): ResolvedFileStorageOptions {
  const resolved: ResolvedFileStorageOptions = {
    directory: options.directory,
    fsyncPolicy: options.fsyncPolicy ?? "always",
    segmentBytesMax: options.segmentBytesMax ?? 64 * 1024 * 1024,
    entriesInMemoryMax: options.entriesInMemoryMax ?? 8192,
    recordBytesMax: options.recordBytesMax ?? 8 * 1024 * 1024,
    batchBytesMax: options.batchBytesMax ?? 16 * 1024 * 1024,
    pendingWritesMax: options.pendingWritesMax ?? 65536,
  };
  assertStorage(resolved.directory.length > 0, "directory is empty");
  assertStorage(resolved.fsyncPolicy === "always" || resolved.fsyncPolicy === "none", `fsyncPolicy ${String(resolved.fsyncPolicy)}`);
  for (const name of ["segmentBytesMax", "entriesInMemoryMax", "recordBytesMax", "batchBytesMax", "pendingWritesMax"] as const) {
    assertStorage(Number.isSafeInteger(resolved[name]) && resolved[name] > 0, `${name} must be a positive integer, got ${resolved[name]}`);
  }
  return resolved;
}
