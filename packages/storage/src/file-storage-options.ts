import { randomInt } from "node:crypto";
import type { Logger, MetricsSink, RandomSource } from "@lockstep/consensus";
import type { FileSystem } from "./file-system.js";
import { nodeFileSystem } from "./node-file-system.js";
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
  /** Where the files live: node:fs by default; the simulator passes a `SimulatedDisk`'s file system. */
  fileSystem?: FileSystem;
  /** Draws the nonce of each new segment; crypto randomness by default, seeded in the simulator. */
  random?: RandomSource;
  /**
   * A check for tests and the simulator: freeze every entry the in-memory cache keeps
   * (`freezeEntry`), those it is given and those it rebuilt from the log at a start, so that
   * code changing an entry after handing it over throws where it does.
   * Off by default: entries are immutable by contract (the core, the transports and the storages
   * share them and none changes one), and frozen objects cost an in-process cluster about 10 % of
   * its rate.
   */
  freezeEntries?: boolean;
  /**
   * Test-only broken rule (`pnpm sim --break-rule hard_state_before_entries`): write a batch's hard
   * state before its entries and trust its commit index at recovery. Never set it elsewhere.
   */
  unsafeHardStateBeforeEntries?: boolean;
}

export interface ResolvedFileStorageOptions {
  directory: string;
  fsyncPolicy: FsyncPolicy;
  segmentBytesMax: number;
  entriesInMemoryMax: number;
  recordBytesMax: number;
  batchBytesMax: number;
  pendingWritesMax: number;
  fileSystem: FileSystem;
  /** A fresh 32-bit segment nonce. */
  nonce: () => number;
  unsafeHardStateBeforeEntries: boolean;
  freezeEntries: boolean;
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
    fileSystem: options.fileSystem ?? nodeFileSystem,
    nonce: nonceSource(options.random),
    unsafeHardStateBeforeEntries: options.unsafeHardStateBeforeEntries === true,
    freezeEntries: options.freezeEntries === true,
  };
  assertStorage(resolved.directory.length > 0, "directory is empty");
  assertStorage(resolved.fsyncPolicy === "always" || resolved.fsyncPolicy === "none", `fsyncPolicy ${String(resolved.fsyncPolicy)}`);
  for (const name of ["segmentBytesMax", "entriesInMemoryMax", "recordBytesMax", "batchBytesMax", "pendingWritesMax"] as const) {
    assertStorage(Number.isSafeInteger(resolved[name]) && resolved[name] > 0, `${name} must be a positive integer, got ${resolved[name]}`);
  }
  return resolved;
}

function nonceSource(random: RandomSource | undefined): () => number {
  if (random === undefined) return () => randomInt(0, 2 ** 32 - 1);
  return () => Math.floor(random() * 2 ** 32) >>> 0;
}
