// A seed (and a printed profile) must replay bit for bit; each seed draws its own profile. CI's
// many seeds run in simulation-seeds-*.test.ts.
import { describe, expect, it } from "vitest";
import { runSimulation } from "../src/simulation.js";
import { drawSwarmProfile, formatSwarmProfile, parseSwarmProfile } from "../src/swarm-profile.js";

describe("cluster simulation", () => {
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
