// What `pnpm sim` tells its operator about a range of seeds: a progress line at a bounded rate,
// the failing seeds with their replay commands, and one closing line with the figures issue 9
// asks for. Its memory does not grow with the number of seeds: counters are sums, and at most
// `failuresKeptMax` failures are kept in full (the lowest seeds, so the list does not depend on
// which worker finished first).
import type { SeedOutcome } from "./seed-pool.js";
import type { ChurnStats } from "./membership-churn.js";
import type { RepairCount } from "./monitor/repair-count.js";
import { describeFailure } from "./seed-run.js";
import type { SeedSummary } from "./seed-run.js";

/** A progress line at most this often during a run (a 100,000-seed run prints a few hundred). */
export const progressIntervalMs = 30_000;
/** Failing seeds kept in full for the closing report; beyond it, the highest are only counted. */
export const failuresKeptMax = 200;
/** Seeds that threw kept for the closing report; beyond it, only counted. */
export const thrownKeptMax = 200;

/** A seed whose run threw (a harness bug, not a broken rule): its seed and the command that replays it. */
export interface ThrownSeed {
  seed: number;
  error: string;
  replay: string;
}

/** The figures of the closing line, summed over every seed. */
interface Sums {
  operations: number;
  violations: number;
  crashes: number;
  timedCrashes: number;
  wipes: number;
  clockPauses: number;
  staleLeaderCompleted: number;
  lostDiskAnswerCompleted: number;
  simulatedMs: number;
  churn: ChurnStats;
  repair: RepairCount;
}

export class RunReport {
  /** Seeds finished (failing, passing or thrown). */
  seedsDone = 0;
  /** Seeds that broke at least one rule. */
  failingSeeds = 0;
  thrownSeeds = 0;
  private readonly sums: Sums = { operations: 0, violations: 0, crashes: 0, timedCrashes: 0, wipes: 0, clockPauses: 0, staleLeaderCompleted: 0, lostDiskAnswerCompleted: 0, simulatedMs: 0, churn: { added: 0, promoted: 0, removed: 0, leaderRemoved: 0, replaced: 0, refused: 0, retried: 0 }, repair: { demoted: 0, promotedAgain: 0 } };
  /** The storage model's counters, by its own names (a fixed set, whatever the seed count). */
  private readonly storage: Record<string, number> = {};
  /** The lowest failing seeds, in seed order, at most `failuresKeptMax`. */
  private readonly failures: SeedSummary[] = [];
  private readonly thrown: ThrownSeed[] = [];
  /** Failures announced as they finished (at most `failuresKeptMax`: a broken rule fails every seed). */
  private announced = 0;

  constructor(
    private readonly seedsTotal: number,
    private readonly workers: number,
    private readonly startedMs: number,
    /** The replay command of a seed that threw (its profile is the seed's own unless one was given). */
    private readonly replayOfThrown: (seed: number) => string,
  ) {}

  /**
   * Counts one finished seed. Returns the line to tell the operator at once when it failed (so a
   * long run can be replayed before it ends), for the first `failuresKeptMax` failures; else null.
   */
  add(outcome: SeedOutcome): string | null {
    this.seedsDone++;
    if (!outcome.ok) {
      this.thrownSeeds++;
      const replay = this.replayOfThrown(outcome.seed);
      keepLowest(this.thrown, { seed: outcome.seed, error: outcome.error, replay }, thrownKeptMax);
      return this.announce(`sim: seed ${outcome.seed} threw: ${outcome.error}\n  replay: ${replay}`);
    }
    const summary = outcome.summary;
    this.sums.operations += summary.operations;
    this.sums.violations += summary.violations.length;
    this.sums.crashes += summary.crashes;
    this.sums.timedCrashes += summary.timedCrashes;
    this.sums.wipes += summary.wipes;
    this.sums.clockPauses += summary.clockPauses;
    this.sums.staleLeaderCompleted += summary.staleLeaderCompleted;
    this.sums.lostDiskAnswerCompleted += summary.lostDiskAnswerCompleted;
    this.sums.simulatedMs += summary.simulatedMs;
    for (const name of Object.keys(this.sums.churn) as Array<keyof ChurnStats>) this.sums.churn[name] += summary.churn[name];
    this.sums.repair.demoted += summary.repair.demoted;
    this.sums.repair.promotedAgain += summary.repair.promotedAgain;
    for (const [name, value] of Object.entries(summary.storage)) this.storage[name] = (this.storage[name] ?? 0) + value;
    if (summary.violations.length === 0) return null;
    this.failingSeeds++;
    keepLowest(this.failures, summary, failuresKeptMax);
    return this.announce(`sim: seed ${summary.seed} broke ${summary.violations.length} rule(s); replay: ${summary.replay}`);
  }

  private announce(line: string): string | null {
    if (this.announced >= failuresKeptMax) return null;
    this.announced++;
    return line;
  }

  /** True when no seed broke a rule and none threw. */
  get clean(): boolean {
    return this.failingSeeds === 0 && this.thrownSeeds === 0;
  }

  /** One line for the operator of a long run: how far, how fast, what broke so far, how long to go. */
  progressLine(nowMs: number): string {
    const elapsedMs = Math.max(1, nowMs - this.startedMs);
    const rate = (this.seedsDone * 1000) / elapsedMs;
    const left = this.seedsTotal - this.seedsDone;
    const eta = rate > 0 && left > 0 ? `, about ${formatDuration((left / rate) * 1000)} left` : "";
    const percent = ((100 * this.seedsDone) / Math.max(1, this.seedsTotal)).toFixed(1);
    return (
      `sim: progress ${this.seedsDone}/${this.seedsTotal} seeds (${percent} %), ${this.sums.violations} violations in ${this.failingSeeds} seeds` +
      `${this.thrownSeeds > 0 ? `, ${this.thrownSeeds} seeds threw` : ""}, ${rate.toFixed(1)} seeds/s, ${formatDuration(elapsedMs)} elapsed${eta}`
    );
  }

  /** The kept failures in seed order (each with its violations, profile and replay command), then what was left out. */
  failureReport(): string[] {
    const lines = this.failures.map(describeFailure);
    for (const thrown of this.thrown) lines.push(`sim: seed ${thrown.seed} threw: ${thrown.error}\n  replay: ${thrown.replay}`);
    const failuresLeftOut = this.failingSeeds - this.failures.length;
    if (failuresLeftOut > 0) lines.push(`sim: ${failuresLeftOut} more failing seeds above seed ${this.failures.at(-1)?.seed ?? 0} not listed (the ${failuresKeptMax} lowest are)`);
    const thrownLeftOut = this.thrownSeeds - this.thrown.length;
    if (thrownLeftOut > 0) lines.push(`sim: ${thrownLeftOut} more seeds that threw above seed ${this.thrown.at(-1)?.seed ?? 0} not listed`);
    return lines;
  }

  /**
   * The closing line: seeds, violations, wall time and rate, operations, crashes (the nemesis's,
   * and the disks' power cuts with how many tore a write), corruption injected and refused,
   * possible losses, then every other counter.
   */
  closingLine(nowMs: number): string {
    const wallMs = Math.max(1, nowMs - this.startedMs);
    const storage = (name: string): number => this.storage[name] ?? 0;
    const churn = this.sums.churn;
    const repair = this.sums.repair;
    const others = Object.entries(this.storage)
      .map(([name, value]) => `${name} ${value}`)
      .join(", ");
    return (
      `sim: ${this.seedsDone} seeds, ${this.sums.violations} violations in ${this.failingSeeds} seeds` +
      `${this.thrownSeeds > 0 ? `, ${this.thrownSeeds} seeds threw` : ""}; ` +
      `${formatDuration(wallMs)} wall (${((this.seedsDone * 1000) / wallMs).toFixed(2)} seeds/s, ${this.workers} worker${this.workers === 1 ? "" : "s"}); ` +
      `${this.sums.operations} operations; ` +
      `${this.sums.crashes} crashes (${this.sums.timedCrashes} timed against a message, ${this.sums.wipes} with the disk replaced by an empty one); ` +
      `${storage("crashes")} disk power cuts, ${storage("crashesWithTornWrites")} with torn writes; ` +
      `corruption: ${storage("bitFlips")} bit flips of synced data, ${storage("refusedCorrupt")} starts refused as corrupt; ` +
      `${storage("possibleLosses")} possible losses reported; ` +
      `${this.sums.clockPauses} clock pauses, ${this.sums.staleLeaderCompleted} stale-leader schedules completed, ${this.sums.lostDiskAnswerCompleted} late answers of lost disks delivered; ` +
      `membership: ${churn.added} added, ${churn.promoted} promoted explicitly, ${churn.removed} removed, ${churn.leaderRemoved} leaders removed, ${churn.replaced} replaced, ${churn.refused} refused or timed out (${churn.retried} more refusals of a new leader retried), ${repair.demoted} recovering voters demoted to learner and ${repair.promotedAgain} promoted again; ` +
      `storage: ${others}; ` +
      `simulated ${(this.sums.simulatedMs / 1000).toFixed(1)} s (${(this.sums.simulatedMs / wallMs).toFixed(1)}x wall)`
    );
  }
}

/** Inserts `item` in seed order and drops the highest seed beyond `max`. */
function keepLowest<T extends { seed: number }>(items: T[], item: T, max: number): void {
  let position = items.length;
  while (position > 0 && (items[position - 1] as T).seed > item.seed) position--;
  if (position >= max) return;
  items.splice(position, 0, item);
  if (items.length > max) items.pop();
}

/** "42.0 s", "3 min 07 s", "2 h 05 min". */
export function formatDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const wholeSeconds = Math.round(seconds);
  if (wholeSeconds < 3600) return `${Math.floor(wholeSeconds / 60)} min ${String(wholeSeconds % 60).padStart(2, "0")} s`;
  const minutes = Math.round(wholeSeconds / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}
