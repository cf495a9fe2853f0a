// The simulator as CI's safety net: many seeds, each with its own swarm profile of faults, must
// break no rule; a seed (and a printed profile) must replay bit for bit.
import { describe, expect, it } from "vitest";
import { nodesForSeed } from "../src/seed-run.js";
import { runSimulation } from "../src/simulation.js";
import { drawSwarmProfile, formatSwarmProfile, parseSwarmProfile } from "../src/swarm-profile.js";

/** Seeds CI runs on every change; half on 3 nodes, half on 5. Override with SIM_SEEDS. */
const ciSeeds = Number(process.env.SIM_SEEDS ?? 300);

describe("cluster simulation", () => {
  it(`breaks no safety rule over ${ciSeeds} seeds (3 and 5 nodes, each seed its own fault profile), and recovers after each`, async () => {
    const failures: string[] = [];
    const totals = { operations: 0, partitions: 0, crashes: 0, timedCrashes: 0, timedIsolations: 0, clockPauses: 0, clockRateChanges: 0, staleLeaderCompleted: 0, lostWrites: 0 };
    for (let seed = 1; seed <= ciSeeds; seed++) {
      const nodes = nodesForSeed(seed, undefined);
      const result = await runSimulation({ seed, nodes, faults: true });
      totals.operations += result.workload.operations;
      totals.partitions += result.faults.partitions;
      totals.crashes += result.faults.crashes;
      totals.timedCrashes += result.faults.timedCrashes;
      totals.timedIsolations += result.faults.timedIsolations;
      totals.clockPauses += result.faults.clockPauses;
      totals.clockRateChanges += result.faults.clockRateChanges;
      totals.staleLeaderCompleted += result.faults.staleLeaderCompleted;
      totals.lostWrites += result.storage.lost ?? 0;
      if (result.violations.length > 0) {
        failures.push(
          `seed ${seed}: ${result.violations.map((v) => `[${v.rule}] ${v.detail}`).join("; ")}\n` +
            `  replay: pnpm sim --seed ${seed} --nodes ${nodes} --faults on --profile '${formatSwarmProfile(result.profile)}'`,
        );
      }
    }
    expect(failures).toEqual([]);
    // The runs must actually have exercised the cluster: clients did work and every kind of fault happened.
    expect(totals.operations).toBeGreaterThan(ciSeeds * 50);
    expect(totals.partitions).toBeGreaterThan(ciSeeds);
    expect(totals.crashes).toBeGreaterThan(ciSeeds / 2);
    expect(totals.timedCrashes).toBeGreaterThan(ciSeeds / 10);
    expect(totals.timedIsolations).toBeGreaterThan(ciSeeds / 20);
    expect(totals.clockPauses).toBeGreaterThan(ciSeeds / 10);
    expect(totals.clockRateChanges).toBeGreaterThan(ciSeeds / 10);
    expect(totals.staleLeaderCompleted).toBeGreaterThan(ciSeeds / 10);
    expect(totals.lostWrites).toBeGreaterThan(0);
  }, 400_000);

  it("replays a seed exactly: the same seed gives the same history", async () => {
    const first = await runSimulation({ seed: 42, nodes: 5, faults: true });
    const second = await runSimulation({ seed: 42, nodes: 5, faults: true });
    expect(second.history).toEqual(first.history);
    expect(second.events).toBe(first.events);
    const other = await runSimulation({ seed: 43, nodes: 5, faults: true });
    expect(other.history).not.toEqual(first.history);
  });

  it("replays a seed exactly from its printed profile, and a different profile gives a different run", async () => {
    const drawn = await runSimulation({ seed: 12, nodes: 3, faults: true });
    const printed = parseSwarmProfile(formatSwarmProfile(drawn.profile));
    if (!printed.ok) throw new Error(printed.reason);
    const replayed = await runSimulation({ seed: 12, nodes: 3, faults: true, profile: printed.profile });
    expect(replayed.history).toEqual(drawn.history);
    expect(replayed.events).toBe(drawn.events);
    const edited = await runSimulation({ seed: 12, nodes: 3, faults: true, profile: { ...printed.profile, entriesPerProposalMax: printed.profile.entriesPerProposalMax === 1 ? 2 : 1 } });
    expect(edited.events).not.toBe(drawn.events);
  });

  it("gives each seed its own profile: some fault kinds off, limits that differ", () => {
    const profiles = Array.from({ length: 50 }, (_, i) => drawSwarmProfile(i + 1));
    expect(new Set(profiles.map((profile) => formatSwarmProfile(profile))).size).toBe(50);
    expect(profiles.some((profile) => profile.crashWeight === 0)).toBe(true);
    expect(profiles.some((profile) => profile.crashWeight > 0)).toBe(true);
    expect(profiles.some((profile) => profile.lossProbabilityMax === 0)).toBe(true);
    expect(new Set(profiles.map((profile) => profile.entriesPerProposalMax)).size).toBeGreaterThan(3);
    expect(drawSwarmProfile(7)).toEqual(drawSwarmProfile(7));
  });

  it("without faults, commits steadily and every operation completes", async () => {
    const result = await runSimulation({ seed: 7, nodes: 3, faults: false });
    expect(result.violations).toEqual([]);
    expect(result.workload.indeterminate).toBe(0);
    expect(result.workload.ok).toBeGreaterThan(100);
    expect(result.recoveryMs).not.toBeNull();
    expect(result.faults.crashes).toBe(0);
  });
});
