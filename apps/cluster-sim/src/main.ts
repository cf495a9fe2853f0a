#!/usr/bin/env node
// `pnpm sim`: run seeded simulations and report. A failing seed prints its swarm profile and the
// one command that replays it exactly.
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { breakRuleNames, isBreakRule } from "./break-rules.js";
import { writeHistory } from "./history/index.js";
import { runSeeds } from "./seed-pool.js";
import type { SeedOutcome } from "./seed-pool.js";
import { describeFailure, nodesForSeed, summarize } from "./seed-run.js";
import type { SeedRunOptions, SeedSummary } from "./seed-run.js";
import { runSimulation } from "./simulation.js";
import { parseSwarmProfile } from "./swarm-profile.js";
import type { SwarmProfile } from "./swarm-profile.js";

/** Worker threads at most: beyond the machine's cores they only add scheduling noise. */
const workersMax = 64;
/** Progress goes to stderr at most this often. */
const progressIntervalMs = 2_000;

const usage = `usage: pnpm sim [--seed N | --seeds N [--first-seed N]] [--nodes 3|5|7] [--faults on|off] [--workers N]
               [--profile P] [--history FILE] [--break-rule R]
  --seed N        run exactly this seed (replay)
  --seeds N       run N seeds, starting at --first-seed (default 1); nodes alternate 3 and 5 unless --nodes is given
  --nodes N       cluster size: 3, 5 or 7
  --faults on|off each seed's swarm profile of faults (default on); off: no faults at all
  --workers N     worker threads (default 1); results per seed are the same for every N
  --profile P     the fault profile (key=value,... as a failing seed prints it) instead of the seed's own
  --history FILE  write the client history (DESIGN.md §8 JSON lines) of the run (with --seed)
  --break-rule R  UNSAFE, for showing the checkers work: ${breakRuleNames.join(" | ")}`;

interface Parsed {
  seeds: number[];
  options: SeedRunOptions;
  workers: number;
  history: string | undefined;
}

function parse(argv: string[]): Parsed | string {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        seed: { type: "string" },
        seeds: { type: "string" },
        "first-seed": { type: "string" },
        nodes: { type: "string" },
        faults: { type: "string" },
        workers: { type: "string" },
        profile: { type: "string" },
        history: { type: "string" },
        "break-rule": { type: "string" },
        help: { type: "boolean" },
      },
    }).values;
  } catch (error) {
    return `${error instanceof Error ? error.message : String(error)}\n${usage}`;
  }
  if (values.help === true) return usage;
  const nodes = values.nodes === undefined ? undefined : Number(values.nodes);
  if (nodes !== undefined && nodes !== 3 && nodes !== 5 && nodes !== 7) return `--nodes: expected 3, 5 or 7, got ${values.nodes}`;
  if (values.faults !== undefined && values.faults !== "on" && values.faults !== "off") return `--faults: expected on or off, got ${values.faults}`;
  const faults = values.faults !== "off";
  const breakRule = values["break-rule"];
  if (breakRule !== undefined && !isBreakRule(breakRule)) return `--break-rule: expected one of ${breakRuleNames.join(", ")}, got ${breakRule}`;
  let profile: SwarmProfile | undefined;
  if (values.profile !== undefined) {
    const parsed = parseSwarmProfile(values.profile);
    if (!parsed.ok) return `--profile: ${parsed.reason}`;
    profile = parsed.profile;
  }
  const count = parseCount(values.seeds ?? "1");
  const firstSeed = parseCount(values.seed ?? values["first-seed"] ?? "1");
  const workers = parseCount(values.workers ?? "1");
  if (count === null || firstSeed === null || workers === null) return "--seed, --seeds, --first-seed and --workers take a positive integer";
  if (workers > workersMax) return `--workers: at most ${workersMax} (this machine has ${availableParallelism()} cores)`;
  const seeds = Array.from({ length: values.seed !== undefined ? 1 : count }, (_, i) => firstSeed + i);
  const options: SeedRunOptions = {
    faults,
    ...(nodes === undefined ? {} : { nodes }),
    ...(breakRule === undefined ? {} : { breakRule }),
    ...(profile === undefined ? {} : { profile }),
  };
  return { seeds, options, workers, history: values.history };
}

async function main(): Promise<number> {
  const parsed = parse(process.argv.slice(2));
  if (typeof parsed === "string") {
    const help = parsed === usage;
    (help ? console.log : console.error)(parsed);
    return help ? 0 : 2;
  }
  const { seeds, options, workers, history } = parsed;
  if (history !== undefined) {
    if (seeds.length !== 1) {
      console.error("--history goes with --seed (one run)");
      return 2;
    }
    return await replayWithHistory(seeds[0] as number, options, history);
  }
  const startedMs = performance.now();
  const totals = new Totals();
  const failures: SeedSummary[] = [];
  let lastProgressMs = startedMs;
  await runSeeds(seeds, options, workers, (outcome: SeedOutcome) => {
    if (!outcome.ok) {
      console.error(`sim: seed ${outcome.seed} threw: ${outcome.error}`);
      totals.errors++;
    } else {
      totals.add(outcome.summary);
      if (outcome.summary.violations.length > 0) failures.push(outcome.summary);
    }
    const nowMs = performance.now();
    if (nowMs - lastProgressMs > progressIntervalMs) {
      lastProgressMs = nowMs;
      process.stderr.write(`sim: ${totals.seeds}/${seeds.length} seeds, ${failures.length} with violations, ${(totals.seeds / ((nowMs - startedMs) / 1000)).toFixed(1)} seeds/s\n`);
    }
  });
  failures.sort((a, b) => a.seed - b.seed);
  for (const failure of failures) console.log(describeFailure(failure));
  console.log(totals.describe(failures.length, performance.now() - startedMs, workers));
  return failures.length === 0 && totals.errors === 0 ? 0 : 1;
}

/** One seed, its client history written to `file`. */
async function replayWithHistory(seed: number, options: SeedRunOptions, file: string): Promise<number> {
  const nodes = nodesForSeed(seed, options.nodes);
  const startedMs = performance.now();
  const result = await runSimulation({
    seed,
    nodes,
    faults: options.faults,
    ...(options.breakRule === undefined ? {} : { breakRule: options.breakRule }),
    ...(options.profile === undefined ? {} : { profile: options.profile }),
  });
  writeHistory(file, result.history);
  const summary = summarize(result, nodes, options);
  const totals = new Totals();
  totals.add(summary);
  if (summary.violations.length > 0) console.log(describeFailure(summary));
  console.log(totals.describe(summary.violations.length > 0 ? 1 : 0, performance.now() - startedMs, 1));
  console.log(`sim: history of seed ${seed} written to ${file}`);
  return summary.violations.length === 0 ? 0 : 1;
}

/** Sums over every seed run, for the closing summary line. */
class Totals {
  seeds = 0;
  errors = 0;
  operations = 0;
  violations = 0;
  crashes = 0;
  timedCrashes = 0;
  wipes = 0;
  clockPauses = 0;
  staleLeaderCompleted = 0;
  simulatedMs = 0;
  readonly churn = { added: 0, promoted: 0, removed: 0, leaderRemoved: 0, replaced: 0, refused: 0 };
  readonly storage: Record<string, number> = {};

  add(summary: SeedSummary): void {
    this.seeds++;
    this.operations += summary.operations;
    this.violations += summary.violations.length;
    this.crashes += summary.crashes;
    this.timedCrashes += summary.timedCrashes;
    this.wipes += summary.wipes;
    this.clockPauses += summary.clockPauses;
    this.staleLeaderCompleted += summary.staleLeaderCompleted;
    this.simulatedMs += summary.simulatedMs;
    for (const name of Object.keys(this.churn) as Array<keyof Totals["churn"]>) this.churn[name] += summary.churn[name];
    for (const [name, value] of Object.entries(summary.storage)) this.storage[name] = (this.storage[name] ?? 0) + value;
  }

  describe(failingSeeds: number, wallMs: number, workers: number): string {
    const storage = Object.entries(this.storage)
      .map(([name, value]) => `${name} ${value}`)
      .join(", ");
    return (
      `sim: ${this.seeds} seeds, ${this.operations} operations, ${this.violations} violations in ${failingSeeds} seeds; ` +
      `${this.crashes} crashes (${this.timedCrashes} timed against a message, ${this.wipes} with the disk replaced by an empty one), ${this.clockPauses} clock pauses, ` +
      `${this.staleLeaderCompleted} stale-leader schedules completed; ` +
      `membership: ${this.churn.added} added, ${this.churn.promoted} promoted explicitly, ${this.churn.removed} removed, ${this.churn.leaderRemoved} leaders removed, ${this.churn.replaced} replaced, ${this.churn.refused} refused or timed out; ` +
      `storage: ${storage}; ` +
      `simulated ${(this.simulatedMs / 1000).toFixed(1)} s in ${(wallMs / 1000).toFixed(1)} s wall ` +
      `(${(this.simulatedMs / Math.max(1, wallMs)).toFixed(1)}x, ${workers} worker${workers === 1 ? "" : "s"})` +
      (this.errors > 0 ? `; ${this.errors} seeds threw` : "")
    );
  }
}

function parseCount(text: string): number | null {
  const value = Number(text);
  return Number.isSafeInteger(value) && value >= 1 ? value : null;
}

process.exitCode = await main();
