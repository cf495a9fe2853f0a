import { describe, expect, it } from "vitest";
import { medianRound } from "./median-round.js";

const round = (name: string, committedPerSecond: number) => ({ name, result: { committedPerSecond } });

describe("medianRound", () => {
  it("picks the round with the median writes/s, whatever the order the rounds ran in", () => {
    expect(medianRound([round("a", 900), round("b", 300), round("c", 500)]).name).toBe("c");
    expect(medianRound([round("a", 100), round("b", 700), round("c", 400), round("d", 200), round("e", 900)]).name).toBe("c");
  });

  it("takes the lower middle round of an even count, and the only round of one", () => {
    expect(medianRound([round("a", 400), round("b", 100), round("c", 300), round("d", 200)]).name).toBe("d");
    expect(medianRound([round("only", 42)]).name).toBe("only");
  });

  it("refuses an empty list instead of inventing a row", () => {
    expect(() => medianRound([])).toThrow(/no rounds/);
  });
});
