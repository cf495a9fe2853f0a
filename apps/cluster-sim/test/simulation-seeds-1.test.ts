// CI's safety net, the first half of its seeds (see ci-seeds.ts): every seed with its own fault
// profile must break no rule and recover.
import { describe, it } from "vitest";
import { ciSeeds, expectCleanSeeds } from "./ci-seeds.js";

describe("cluster simulation", () => {
  it(`breaks no safety rule over the first half of ${ciSeeds} seeds (3 and 5 nodes, each seed its own fault profile), and recovers after each`, async () => {
    await expectCleanSeeds(1, Math.floor(ciSeeds / 2));
  }, 400_000);
});
