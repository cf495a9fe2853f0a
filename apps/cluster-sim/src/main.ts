#!/usr/bin/env node
// `pnpm sim`: run seeded simulations and report. A failing seed prints its swarm profile and the
// one command that replays it exactly.
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { breakRuleNames, isBreakRule } from "./break-rules.js";
import { writeHistory } from "./history/index.js";
import { progressIntervalMs, RunReport } from "./run-report.js";
import { runSeeds } from "./seed-pool.js";
import type { SeedOutcome, SeedRange } from "./seed-pool.js";
import { nodesForSeed, replayCommand, summarize } from "./seed-run.js";
import type { SeedRunOptions } from "./seed-run.js";
import { runSimulation } from "./simulation.js";
import { drawSwarmProfile, parseSwarmProfile, quietProfile } from "./swarm-profile.js";
import type { SwarmProfile } from "./swarm-profile.js";

/** Worker threads at most: beyond the machine's cores they only add scheduling noise. */
const workersMax = 64;

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
  seeds: SeedRange;
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
  if (!Number.isSafeInteger(firstSeed + count)) return "--first-seed plus --seeds is beyond the largest safe integer";
  const seeds: SeedRange = { first: firstSeed, count: values.seed !== undefined ? 1 : count };
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
    if (seeds.count !== 1) {
      console.error("--history goes with --seed (one run)");
      return 2;
    }
    return await replayWithHistory(seeds.first, options, history);
  }
  const report = new RunReport(seeds.count, workers, performance.now(), (seed) => replayOfSeed(seed, options));
  // A line every `progressIntervalMs` whatever the seed count; the timer fires between events,
  // since a run yields to the event loop after each one.
  const progress = setInterval(() => process.stderr.write(`${report.progressLine(performance.now())}\n`), progressIntervalMs);
  progress.unref();
  try {
    await runSeeds(seeds, options, workers, (outcome: SeedOutcome) => {
      const announcement = report.add(outcome);
      if (announcement !== null) console.error(announcement);
    });
  } finally {
    clearInterval(progress);
  }
  for (const line of report.failureReport()) console.log(line);
  console.log(report.closingLine(performance.now()));
  return report.clean ? 0 : 1;
}

/** One seed, its client history written to `file`. */
async function replayWithHistory(seed: number, options: SeedRunOptions, file: string): Promise<number> {
  const nodes = nodesForSeed(seed, options.nodes);
  const report = new RunReport(1, 1, performance.now(), (thrown) => replayOfSeed(thrown, options));
  const result = await runSimulation({
    seed,
    nodes,
    faults: options.faults,
    ...(options.breakRule === undefined ? {} : { breakRule: options.breakRule }),
    ...(options.profile === undefined ? {} : { profile: options.profile }),
  });
  writeHistory(file, result.history);
  report.add({ ok: true, summary: summarize(result, nodes, options) });
  for (const line of report.failureReport()) console.log(line);
  console.log(report.closingLine(performance.now()));
  console.log(`sim: history of seed ${seed} written to ${file}`);
  return report.clean ? 0 : 1;
}

/** The command that replays `seed` with these options: its profile is the one the run draws (or was given). */
function replayOfSeed(seed: number, options: SeedRunOptions): string {
  const profile = options.profile ?? (options.faults ? drawSwarmProfile(seed) : quietProfile());
  return replayCommand(seed, nodesForSeed(seed, options.nodes), options.faults, options.breakRule, profile);
}

function parseCount(text: string): number | null {
  const value = Number(text);
  return Number.isSafeInteger(value) && value >= 1 ? value : null;
}

process.exitCode = await main();
