import { describe, expect, it } from "vitest";
import { countRepairs } from "./repair-count.js";

const members = (voters: string[], learners: string[] = []): { commandJson: string } => ({
  commandJson: JSON.stringify({
    kind: "members",
    members: [...voters.map((id) => ({ id, peerAddress: "", clientUrl: "", voter: true })), ...learners.map((id) => ({ id, peerAddress: "", clientUrl: "", voter: false }))],
  }),
});
const transition = { commandJson: JSON.stringify({ kind: "transition", to: "Running" }) };

describe("countRepairs", () => {
  it("counts a voter turned learner, and its later promotion, in index order", () => {
    const committed = new Map([
      [5, members(["n1", "n2", "n3"])],
      [1, members(["n1", "n2", "n3"])],
      [7, members(["n1", "n2"], ["n3"])],
      [6, transition],
      [9, members(["n1", "n2", "n3"])],
    ]);
    expect(countRepairs(committed)).toEqual({ demoted: 1, promotedAgain: 1 });
  });

  it("does not count an added learner's promotion or a removal", () => {
    const committed = new Map([
      [1, members(["n1", "n2", "n3"])],
      [2, members(["n1", "n2", "n3"], ["n4"])],
      [3, members(["n1", "n2", "n3", "n4"])],
      [4, members(["n1", "n2", "n4"])],
    ]);
    expect(countRepairs(committed)).toEqual({ demoted: 0, promotedAgain: 0 });
  });
});
