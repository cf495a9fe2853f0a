#!/usr/bin/env node
// `pnpm sim`: run seeded simulations and report. A failing seed prints the command that replays it.
import { parseArgs } from "node:util";
import { writeHistory } from "./history/index.js";
import { runSimulation } from "./simulation.js";
import type { SimulationResult } from "./simulation.js";

const usage = `usage: pnpm sim [--seed N | --seeds N] [--nodes 3|5|7] [--faults on|off] [--history FILE] [--first-seed N]
  --seed N        run exactly this seed (replay)
  --seeds N       run N seeds, starting at --first-seed (default 1); nodes alternate 3 and 5 unless --nodes is given
  --nodes N       cluster size: 3, 5 or 7
  --faults on|off partitions, crashes, loss, duplication, reordering, tick skew (default on)
  --history FILE  write the client history (DESIGN.md §8 JSON lines) of the run (with --seed)
  --break-rule R  UNSAFE, for showing the checkers work: vote_without_log_check | commit_old_term_by_count | ack_before_persist`;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        seed: { type: "string" },
        seeds: { type: "string" },
        "first-seed": { type: "string" },
        nodes: { type: "string" },
        faults: { type: "string" },
        history: { type: "string" },
        "break-rule": { type: "string" },
        help: { type: "boolean" },
      },
    });
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    console.error(usage);
    return 2;
  }
  const values = parsed.values;
  if (values.help === true) {
    console.log(usage);
    return 0;
  }
  const nodes = values.nodes === undefined ? undefined : Number(values.nodes);
  if (nodes !== undefined && nodes !== 3 && nodes !== 5 && nodes !== 7) {
    console.error(`--nodes: expected 3, 5 or 7, got ${values.nodes}`);
    return 2;
  }
  const faults = values.faults === undefined || values.faults === "on";
  if (values.faults !== undefined && values.faults !== "on" && values.faults !== "off") {
    console.error(`--faults: expected on or off, got ${values.faults}`);
    return 2;
  }
  const breakRule = values["break-rule"];
  if (breakRule !== undefined && breakRule !== "vote_without_log_check" && breakRule !== "commit_old_term_by_count" && breakRule !== "ack_before_persist") {
    console.error(`--break-rule: expected vote_without_log_check, commit_old_term_by_count or ack_before_persist, got ${breakRule}`);
    return 2;
  }
  const seeds = parseCount(values.seed ?? values.seeds ?? "1");
  const firstSeed = values.seed !== undefined ? parseCount(values.seed) : parseCount(values["first-seed"] ?? "1");
  if (seeds === null || firstSeed === null) {
    console.error("--seed, --seeds and --first-seed take a positive integer");
    return 2;
  }
  const count = values.seed !== undefined ? 1 : seeds;
  const startedMs = performance.now();
  let operations = 0;
  let simulatedMs = 0;
  let failures = 0;
  let lastProgressMs = startedMs;
  for (let i = 0; i < count; i++) {
    const seed = firstSeed + i;
    const size = (nodes ?? (seed % 2 === 0 ? 5 : 3));
    const result = await runSimulation({ seed, nodes: size, faults, ...(breakRule === undefined ? {} : { breakRule }) });
    operations += result.workload.operations;
    simulatedMs += result.simulatedMs;
    if (result.violations.length > 0) {
      failures++;
      report(result, size, faults, breakRule);
    }
    if (values.history !== undefined && count === 1) writeHistory(values.history, result.history);
    const nowMs = performance.now();
    if (nowMs - lastProgressMs > 2_000 || i === count - 1) {
      lastProgressMs = nowMs;
      const rate = ((i + 1) / ((nowMs - startedMs) / 1000)).toFixed(1);
      process.stderr.write(`sim: ${i + 1}/${count} seeds, ${failures} with violations, ${rate} seeds/s\n`);
    }
  }
  const wallMs = performance.now() - startedMs;
  console.log(
    `sim: ${count} seeds, ${operations} operations, ${failures} seeds with violations; ` +
      `simulated ${(simulatedMs / 1000).toFixed(1)} s in ${(wallMs / 1000).toFixed(1)} s wall ` +
      `(${(simulatedMs / wallMs).toFixed(1)}x)`,
  );
  return failures === 0 ? 0 : 1;
}

function report(result: SimulationResult, nodes: number, faults: boolean, breakRule: string | undefined): void {
  console.log(`sim: seed ${result.seed} (${nodes} nodes) broke ${result.violations.length} rule(s):`);
  for (const violation of result.violations) console.log(`  [${violation.rule}] at ${violation.atMs.toFixed(0)} ms: ${violation.detail}`);
  const broken = breakRule === undefined ? "" : ` --break-rule ${breakRule}`;
  console.log(`  replay: pnpm sim --seed ${result.seed} --nodes ${nodes} --faults ${faults ? "on" : "off"}${broken} --history seed-${result.seed}.jsonl`);
}

function parseCount(text: string): number | null {
  const value = Number(text);
  return Number.isSafeInteger(value) && value >= 1 ? value : null;
}

process.exitCode = await main();
