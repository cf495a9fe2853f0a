/**
 * Persists whose entries await their commit, remembered at most: past it the timings are dropped
 * (a leader that cannot commit has bigger problems than a missing histogram sample).
 */
export const persistRunsMax = 10_000;

interface PersistRun {
  firstIndex: number;
  lastIndex: number;
  persistedMs: number;
}

/**
 * When the leader's own write of each of its entries finished, for the replicate stage (from that
 * write to the commit). One record per persist, a run of indexes, not one map entry per entry: the
 * leader appends and applies its entries in index order, so the runs are consumed from the front.
 * A per-entry map cost 4 % of an in-process cluster's CPU for a metric.
 */
export class PersistTimes {
  private runs: PersistRun[] = [];
  /** Position of the oldest run still wanted. */
  private head = 0;

  get size(): number {
    return this.runs.length - this.head;
  }

  /** Entries `firstIndex..lastIndex` became durable here at `persistedMs` (after every run noted before). */
  note(firstIndex: number, lastIndex: number, persistedMs: number): void {
    const newest = this.runs[this.runs.length - 1];
    // Out of order would mean a truncated or restarted log: the older timings mean nothing now.
    if (this.size >= persistRunsMax || (newest !== undefined && this.size > 0 && firstIndex <= newest.lastIndex)) this.clear();
    this.runs.push({ firstIndex, lastIndex, persistedMs });
  }

  /**
   * When `index` became durable here, or undefined if it is not remembered. Forgets every run
   * before it: call with increasing indexes.
   */
  take(index: number): number | undefined {
    while (this.head < this.runs.length && this.runs[this.head]!.lastIndex < index) this.head += 1;
    if (this.head === this.runs.length) {
      this.clear();
      return undefined;
    }
    if (this.head >= 1024) {
      this.runs = this.runs.slice(this.head);
      this.head = 0;
    }
    const run = this.runs[this.head]!;
    return run.firstIndex <= index ? run.persistedMs : undefined;
  }

  clear(): void {
    this.runs = [];
    this.head = 0;
  }
}
