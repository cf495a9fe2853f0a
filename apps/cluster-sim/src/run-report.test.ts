import { describe, expect, it } from "vitest";
import { failuresKeptMax, formatDuration, RunReport } from "./run-report.js";
import { runSeeds } from "./seed-pool.js";
import type { SeedOutcome } from "./seed-pool.js";
import type { SeedSummary } from "./seed-run.js";
import { quietProfile } from "./swarm-profile.js";

function summary(seed: number, fields: Partial<SeedSummary> = {}): SeedSummary {
  return {
    seed,
    nodes: 3,
    profile: quietProfile(),
    violations: [],
    operations: 100,
    simulatedMs: 4_000,
    crashes: 2,
    timedCrashes: 1,
    wipes: 0,
    clockPauses: 1,
    staleLeaderRuns: 0,
    staleLeaderCompleted: 0,
    lostDiskAnswerRuns: 0,
    lostDiskAnswerCompleted: 0,
    churn: { added: 0, promoted: 0, removed: 0, leaderRemoved: 0, replaced: 0, refused: 0, retried: 0 },
    repair: { demoted: 0, promotedAgain: 0 },
    storage: { crashes: 5, crashesWithTornWrites: 3, bitFlips: 1, refusedCorrupt: 1, possibleLosses: 0 },
    disk: "no faults",
    replay: `pnpm sim --seed ${seed}`,
    ...fields,
  };
}

const broken = (seed: number): SeedSummary => summary(seed, { violations: [{ rule: "election_safety", detail: "two leaders", atMs: 10 }] });

describe("RunReport", () => {
  it("closes with one line of the figures issue 9 asks for, summed over every seed", () => {
    const report = new RunReport(2, 2, 0, (seed) => `replay ${seed}`);
    report.add({ ok: true, summary: summary(1) });
    report.add({ ok: true, summary: summary(2, { storage: { crashes: 1, crashesWithTornWrites: 0, bitFlips: 0, refusedCorrupt: 2, possibleLosses: 4 } }) });
    const line = report.closingLine(4_000);
    expect(line.split("\n")).toHaveLength(1);
    expect(line).toMatch(/^sim: 2 seeds, 0 violations in 0 seeds; 4\.0 s wall \(0\.50 seeds\/s, 2 workers\); 200 operations; 4 crashes \(2 timed against a message/);
    expect(line).toContain("6 disk power cuts, 3 with torn writes");
    expect(line).toContain("corruption: 1 bit flips of synced data, 3 starts refused as corrupt");
    expect(line).toContain("4 possible losses reported");
    expect(line).toContain("simulated 8.0 s (2.0x wall)");
    expect(report.clean).toBe(true);
  });

  it("keeps only the lowest failing seeds, in seed order whatever order they finish in, and counts the rest", () => {
    const report = new RunReport(1_000, 2, 0, (seed) => `replay ${seed}`);
    const extra = 50;
    // Highest first: every later seed displaces a kept one.
    const announced: string[] = [];
    for (let seed = failuresKeptMax + extra; seed >= 1; seed--) {
      const line = report.add({ ok: true, summary: broken(seed) });
      if (line !== null) announced.push(line);
    }
    // Told at once as they finished, the first `failuresKeptMax` only.
    expect(announced).toHaveLength(failuresKeptMax);
    expect(announced[0]).toBe(`sim: seed ${failuresKeptMax + extra} broke 1 rule(s); replay: pnpm sim --seed ${failuresKeptMax + extra}`);
    const lines = report.failureReport();
    expect(lines).toHaveLength(failuresKeptMax + 1);
    expect(lines[0]).toMatch(/^sim: seed 1 \(3 nodes\) broke 1 rule\(s\):/);
    expect(lines[0]).toContain("replay: pnpm sim --seed 1");
    expect(lines[failuresKeptMax - 1]).toMatch(new RegExp(`^sim: seed ${failuresKeptMax} `));
    expect(lines.at(-1)).toBe(`sim: ${extra} more failing seeds above seed ${failuresKeptMax} not listed (the ${failuresKeptMax} lowest are)`);
    expect(report.closingLine(1_000)).toContain(`${failuresKeptMax + extra} violations in ${failuresKeptMax + extra} seeds`);
    expect(report.clean).toBe(false);
  });

  it("lists a seed that threw with the command that replays it, and is not clean", () => {
    const report = new RunReport(2, 1, 0, (seed) => `pnpm sim --seed ${seed} --profile 'drawn'`);
    expect(report.add({ ok: false, seed: 7, error: "Error: boom" })).toBe("sim: seed 7 threw: Error: boom\n  replay: pnpm sim --seed 7 --profile 'drawn'");
    expect(report.add({ ok: true, summary: summary(8) })).toBeNull();
    expect(report.failureReport()).toEqual(["sim: seed 7 threw: Error: boom\n  replay: pnpm sim --seed 7 --profile 'drawn'"]);
    expect(report.closingLine(1_000)).toMatch(/^sim: 2 seeds, 0 violations in 0 seeds, 1 seeds threw;/);
    expect(report.clean).toBe(false);
  });

  it("says in each progress line how far the run is, what broke so far, how fast and how long is left", () => {
    const report = new RunReport(10, 2, 1_000, (seed) => `replay ${seed}`);
    report.add({ ok: true, summary: summary(1) });
    report.add({ ok: true, summary: broken(2) });
    report.add({ ok: true, summary: summary(3) });
    expect(report.progressLine(4_000)).toBe("sim: progress 3/10 seeds (30.0 %), 1 violations in 1 seeds, 1.0 seeds/s, 3.0 s elapsed, about 7.0 s left");
  });
});

describe("formatDuration", () => {
  it.each([
    [42_000, "42.0 s"],
    [187_000, "3 min 07 s"],
    [7_500_000, "2 h 05 min"],
  ])("%i ms is %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe("runSeeds over a range", () => {
  it("runs exactly the seeds of the range, in order, on this thread", async () => {
    const seeds: number[] = [];
    await runSeeds({ first: 41, count: 2 }, { faults: true }, 1, (outcome: SeedOutcome) => seeds.push(outcome.ok ? outcome.summary.seed : -outcome.seed));
    expect(seeds).toEqual([41, 42]);
  });
});
