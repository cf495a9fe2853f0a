import { describe, expect, it } from "vitest";
import { computeRetryDelayMs } from "./retry-delay.js";

const base = { retryDelayMs: 100, retryDelayMaxMs: 2_000 };

describe("computeRetryDelayMs", () => {
  it("doubles per retry between half and all of the ceiling", () => {
    expect([1, 2, 3, 4].map((retryNumber) => computeRetryDelayMs({ ...base, retryNumber, random: () => 0 }))).toEqual([50, 100, 200, 400]);
    expect([1, 2, 3, 4].map((retryNumber) => computeRetryDelayMs({ ...base, retryNumber, random: () => 0.999999 }))).toEqual([100, 200, 400, 800]);
  });

  it("never exceeds the cap, even for huge retry numbers", () => {
    for (const retryNumber of [6, 10, 100, 10_000]) {
      const delayMs = computeRetryDelayMs({ ...base, retryNumber, random: () => 0.999999 });
      expect(delayMs).toBe(2_000);
    }
  });
});
