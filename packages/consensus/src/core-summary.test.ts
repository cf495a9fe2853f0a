import { describe, expect, it } from "vitest";
import { Network } from "./testing/network.js";

describe("RaftCore.summary()", () => {
  it("reports the same role, term, leader and commit index as status() at every step, through elections under loss", () => {
    const network = new Network(5, { seed: 3, dropRate: 0.2, reorder: true });
    const roles = new Set<string>();
    for (let round = 0; round < 300; round++) {
      network.tickAll();
      network.deliverAll();
      if (round % 60 === 30) network.isolate(network.ids[(round / 30) % 5] ?? "n1");
      if (round % 60 === 50) network.heal();
      for (const id of network.ids) {
        const core = network.node(id);
        const status = core.status();
        expect(core.summary()).toEqual({ role: status.role, term: status.term, leader: status.leader, commitIndex: status.commitIndex });
        roles.add(status.role);
      }
    }
    // The comparison covered leaders and campaigning nodes, not only followers.
    expect(roles.has("leader") && roles.has("follower") && (roles.has("precandidate") || roles.has("candidate"))).toBe(true);
  });
});
