import { createRandom } from "@lockstep/transport-memory";
import { describe, expect, it } from "vitest";
import { drawSwarmProfile, formatSwarmProfile, parseSwarmProfile, pickWeighted, quietProfile } from "./swarm-profile.js";

describe("swarm profiles", () => {
  it("print on one line and parse back to the same profile", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const profile = drawSwarmProfile(seed);
      expect(parseSwarmProfile(formatSwarmProfile(profile))).toEqual({ ok: true, profile });
    }
    expect(parseSwarmProfile(formatSwarmProfile(quietProfile()))).toEqual({ ok: true, profile: quietProfile() });
  });

  it("refuse a profile with a missing, unknown, malformed or inconsistent field, naming it", () => {
    const text = formatSwarmProfile(quietProfile());
    expect(parseSwarmProfile(text.replace(/,?crashWeight=0/, ""))).toMatchObject({ ok: false, reason: expect.stringContaining("crashWeight") });
    expect(parseSwarmProfile(`${text},bogus=1`)).toMatchObject({ ok: false, reason: expect.stringContaining("bogus") });
    expect(parseSwarmProfile(text.replace("latencyMsMax=5", "latencyMsMax=x"))).toMatchObject({ ok: false, reason: expect.stringContaining("latencyMsMax") });
    expect(parseSwarmProfile(text.replace("latencyMsMax=5", "latencyMsMax=0"))).toMatchObject({ ok: false, reason: expect.stringContaining("latencyMsMin must be <= latencyMsMax") });
    expect(parseSwarmProfile(text.replace("lossProbabilityMax=0", "lossProbabilityMax=1.5"))).toMatchObject({ ok: false });
  });

  it("draws weighted choices in proportion, never one of weight 0", () => {
    const random = createRandom(3);
    const counts = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 10_000; i++) {
      const choice = pickWeighted(random, [["a", 1], ["b", 0], ["c", 3]] as const);
      if (choice !== null) counts[choice]++;
    }
    expect(counts.b).toBe(0);
    expect(counts.c / counts.a).toBeGreaterThan(2.5);
    expect(counts.c / counts.a).toBeLessThan(3.5);
    expect(pickWeighted(random, [["a", 0]] as const)).toBeNull();
  });
});

describe("membership churn in the profile", () => {
  it("is drawn per seed from a stream of its own: some seeds churn, some never do, each kind is switched off somewhere", () => {
    const profiles = Array.from({ length: 200 }, (_, index) => drawSwarmProfile(index + 1));
    const churning = profiles.filter((profile) => profile.memberAddWeight + profile.memberRemoveWeight + profile.leaderRemoveWeight + profile.memberReplaceWeight > 0);
    expect(churning.length).toBeGreaterThan(150);
    for (const field of ["memberAddWeight", "memberPromoteWeight", "memberRemoveWeight", "leaderRemoveWeight", "memberReplaceWeight"] as const) {
      expect(profiles.some((profile) => profile[field] === 0)).toBe(true);
      expect(profiles.some((profile) => profile[field] > 0)).toBe(true);
    }
    expect(new Set(profiles.map((profile) => profile.autoPromote))).toEqual(new Set([0, 1]));
  });

  it("replays a profile printed before churn existed with no churn at all", () => {
    const text = formatSwarmProfile(quietProfile()).replace(/,memberAddWeight=.*$/, "");
    expect(text).not.toContain("member");
    expect(parseSwarmProfile(text)).toEqual({ ok: true, profile: quietProfile() });
  });
});
