import { describe, expect, it } from "vitest";
import { createRandom, fork, randomInt } from "./seeded-random.js";

function take(random: () => number, count: number): number[] {
  return Array.from({ length: count }, () => random());
}

describe("createRandom", () => {
  it("gives the same sequence for the same seed, and a different one for a neighbouring seed", () => {
    expect(take(createRandom(42), 100)).toEqual(take(createRandom(42), 100));
    const a = take(createRandom(1), 100);
    const b = take(createRandom(2), 100);
    expect(a.filter((value, i) => value === b[i])).toEqual([]);
  });

  it("stays in [0, 1) and fills the interval evenly", () => {
    const random = createRandom(7);
    const bucketsCount = 10;
    const buckets = new Array<number>(bucketsCount).fill(0);
    const samples = 100_000;
    let outside = 0;
    for (let i = 0; i < samples; i++) {
      const value = random();
      if (!(value >= 0 && value < 1)) outside++;
      buckets[Math.floor(value * bucketsCount)]!++;
    }
    expect(outside).toBe(0);
    // Chi-square with 9 degrees of freedom: 27.9 is the 0.999 quantile.
    const expected = samples / bucketsCount;
    const chiSquare = buckets.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
    expect(chiSquare).toBeLessThan(27.9);
  });

  it("is pinned: a change of algorithm would silently change every recorded seed", () => {
    expect(take(createRandom(0), 3).map((value) => value * 2 ** 32)).toEqual([4205396811, 3543653536, 1222415357]);
    expect(createRandom(2 ** 32 + 5)()).toBe(createRandom(5)());
  });

  it("rejects a seed that is not a number", () => {
    expect(() => createRandom(Number.NaN)).toThrow(/finite/);
  });
});

describe("randomInt", () => {
  it("covers [lo, hiExclusive) and nothing else", () => {
    const random = createRandom(3);
    const seen = new Set<number>();
    for (let i = 0; i < 1_000; i++) seen.add(randomInt(random, -2, 3));
    expect([...seen].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2]);
  });

  it("throws on an empty or non-integer range", () => {
    const random = createRandom(3);
    expect(() => randomInt(random, 3, 3)).toThrow(/lo < hiExclusive/);
    expect(() => randomInt(random, 0, 1.5)).toThrow(/integers/);
  });
});

describe("fork", () => {
  it("derives a stream that is reproducible and differs from its parent's", () => {
    const parentA = createRandom(9);
    const parentB = createRandom(9);
    const childA = take(fork(parentA), 50);
    const childB = take(fork(parentB), 50);
    expect(childA).toEqual(childB);
    const parentRest = take(parentA, 50);
    expect(parentRest.filter((value, i) => value === childA[i])).toEqual([]);
  });

  it("gives different children on successive forks", () => {
    const parent = createRandom(11);
    expect(take(fork(parent), 20)).not.toEqual(take(fork(parent), 20));
  });
});
