import { describe, expect, it } from "vitest";
import { exponentialBackoff } from "./reconnect-delay.js";

describe("exponentialBackoff", () => {
  const bounds = { delayMinMs: 50, delayMaxMs: 2000 };

  it("with random() at its top, follows the doubling ceiling up to the cap", () => {
    const delay = exponentialBackoff({ ...bounds, random: () => 0.999999 });
    const ceilings = [0, 1, 2, 3, 4, 5, 6, 7, 20, 5000].map((attempt) => Math.round(delay(attempt)));
    expect(ceilings).toEqual([50, 100, 200, 400, 800, 1600, 2000, 2000, 2000, 2000]);
  });

  it("with random() at zero, never goes below the floor", () => {
    const delay = exponentialBackoff({ ...bounds, random: () => 0 });
    expect([0, 1, 5, 30].map(delay)).toEqual([50, 50, 50, 50]);
  });

  it("spreads uniformly over the whole window (full jitter)", () => {
    const draws = [0, 0.25, 0.5, 0.75];
    let next = 0;
    const delay = exponentialBackoff({ ...bounds, random: () => draws[next++ % draws.length]! });
    // Attempt 3: window [50, 400].
    expect([delay(3), delay(3), delay(3), delay(3)]).toEqual([50, 137.5, 225, 312.5]);
  });

  it("stays within [floor, cap] for any draw and attempt", () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      for (const draw of [0, 0.1, 0.5, 0.9, 0.999]) {
        const value = exponentialBackoff({ ...bounds, random: () => draw })(attempt);
        expect(value).toBeGreaterThanOrEqual(50);
        expect(value).toBeLessThanOrEqual(2000);
      }
    }
  });
});
