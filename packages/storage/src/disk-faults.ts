import type { RandomSource } from "@lockstep/consensus";

/**
 * What a `SimulatedDisk` does wrong, and how often. The simulator draws one set per seed
 * (`drawDiskFaults`) and prints it with a failing seed (`describeDiskFaults`).
 */
export interface DiskFaults {
  /** An fsync (file or directory) completes after a whole number of virtual ms in [min, max]. */
  fsyncDelayMsMin: number;
  fsyncDelayMsMax: number;
  /** At a crash, each write not covered by an fsync reached the disk whole with this probability... */
  crashWriteKeptProbability: number;
  /** ...or torn (a random subset of its 512-byte sectors) with this one; otherwise it is lost. */
  crashWriteTornProbability: number;
  /** At a crash, a file's size reached the disk but not its last data (the tail reads as zeros). */
  crashSizeWithoutDataProbability: number;
  /** A sector that never reached the disk reads as stale bytes of a freed file, not as zeros. */
  crashStaleSectorProbability: number;
  /** At a crash, each create/rename/removal not covered by a directory fsync survives (in order, until one does not). */
  crashDirectoryChangeKeptProbability: number;
  /** At a crash, one bit of synced data somewhere on the disk flips (bit rot found at the next start). */
  crashBitFlipProbability: number;
  /** A read fails with EIO (a latent sector error). */
  readErrorProbability: number;
  /** A write fails with EIO. */
  writeErrorProbability: number;
  /** A write fails with ENOSPC. */
  noSpaceProbability: number;
  /** An fsync fails with EIO (what it covered is then not durable). */
  fsyncErrorProbability: number;
  /**
   * The power fails while a write is in flight (before its fsync): per write, twenty times as
   * likely (at most 1/2) for a write that carries a hard state, and always (when not zero) for a
   * write that replaces entries, where a wrong order of records would show. The simulator acts on
   * it; the disk only carries the number.
   */
  powerCutDuringWriteProbability: number;
}

/** A disk that is slow to sync but never wrong, except what a power cut does to unsynced data. */
export const crashOnlyDiskFaults: DiskFaults = Object.freeze({
  fsyncDelayMsMin: 1,
  fsyncDelayMsMax: 10,
  crashWriteKeptProbability: 0.4,
  crashWriteTornProbability: 0.3,
  crashSizeWithoutDataProbability: 0.1,
  crashStaleSectorProbability: 0,
  crashDirectoryChangeKeptProbability: 0.5,
  crashBitFlipProbability: 0,
  readErrorProbability: 0,
  writeErrorProbability: 0,
  noSpaceProbability: 0,
  fsyncErrorProbability: 0,
  powerCutDuringWriteProbability: 0,
});

/** No faults at all and instant syncs: unit tests that only want a file system in memory. */
export const perfectDiskFaults: DiskFaults = Object.freeze({
  ...crashOnlyDiskFaults,
  fsyncDelayMsMin: 0,
  fsyncDelayMsMax: 0,
  crashWriteKeptProbability: 1,
  crashWriteTornProbability: 0,
  crashSizeWithoutDataProbability: 0,
  crashDirectoryChangeKeptProbability: 1,
});

/**
 * Swarm testing: every seed gets its own mix, so that some seeds tear nearly everything, some
 * rot synced data, some fail I/O, and most do a little of each. Error rates stay low enough that
 * a node restarted by its supervisor makes progress between failures.
 */
export function drawDiskFaults(random: RandomSource): DiskFaults {
  const pick = (maximum: number, chanceOfZero = 0.3): number => (random() < chanceOfZero ? 0 : round(random() * maximum));
  // Tears are the interesting case: most seeds tear a good share of what a crash catches in flight.
  const kept = round(random() * 0.6);
  return {
    fsyncDelayMsMin: 1,
    fsyncDelayMsMax: 1 + Math.floor(random() * 15),
    crashWriteKeptProbability: kept,
    crashWriteTornProbability: round((1 - kept) * (0.4 + 0.6 * random())),
    crashSizeWithoutDataProbability: pick(0.3),
    crashStaleSectorProbability: pick(0.3, 0.5),
    crashDirectoryChangeKeptProbability: round(random()),
    crashBitFlipProbability: pick(0.2, 0.6),
    readErrorProbability: pick(0.0005, 0.7),
    writeErrorProbability: pick(0.0005, 0.7),
    noSpaceProbability: pick(0.0005, 0.8),
    fsyncErrorProbability: pick(0.001, 0.7),
    powerCutDuringWriteProbability: pick(0.01, 0.2),
  };
}

/** One line a failing seed prints, so that a reader sees what the disk was doing. */
export function describeDiskFaults(faults: DiskFaults): string {
  const percent = (value: number): string => `${(value * 100).toFixed(value < 0.01 && value > 0 ? 3 : 1)}%`;
  return [
    `fsync ${faults.fsyncDelayMsMin}-${faults.fsyncDelayMsMax} ms`,
    `at a crash unsynced writes kept ${percent(faults.crashWriteKeptProbability)} torn ${percent(faults.crashWriteTornProbability)}`,
    `size without data ${percent(faults.crashSizeWithoutDataProbability)}`,
    `stale sectors ${percent(faults.crashStaleSectorProbability)}`,
    `directory changes kept ${percent(faults.crashDirectoryChangeKeptProbability)}`,
    `bit flips ${percent(faults.crashBitFlipProbability)}`,
    `read errors ${percent(faults.readErrorProbability)}`,
    `write EIO ${percent(faults.writeErrorProbability)} ENOSPC ${percent(faults.noSpaceProbability)}`,
    `fsync EIO ${percent(faults.fsyncErrorProbability)}`,
    `power cut during a write ${percent(faults.powerCutDuringWriteProbability)}`,
  ].join(", ");
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
