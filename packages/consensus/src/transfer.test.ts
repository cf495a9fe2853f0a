import { describe, expect, it } from "vitest";
import { defaultCoreConfig } from "./core-config.js";
import { Network, transition } from "./testing/network.js";

describe("leadership transfer (Raft thesis §3.10)", () => {
  it("hands leadership to a caught-up follower through TimeoutNow, skipping pre-vote", () => {
    const network = new Network(3, { seed: 41 });
    network.campaign("n1");
    const term = network.node("n1").status().term;
    expect(network.node("n1").transferLeadership("n2")).toBe(true);
    network.processReady("n1");
    expect(network.pending().map((envelope) => envelope.body.type)).toContain("TimeoutNow");
    const voteRequests: unknown[] = [];
    network.filter = (envelope) => {
      if (envelope.body.type === "VoteRequest") voteRequests.push(envelope.body);
      return true;
    };
    network.deliverAll();
    expect(voteRequests).toContainEqual(expect.objectContaining({ preVote: false, transfer: true, term: term + 1 }));
    expect(voteRequests).not.toContainEqual(expect.objectContaining({ preVote: true }));
    expect(network.leader()).toBe("n2");
    expect(network.node("n2").status().term).toBe(term + 1);
    expect(network.node("n1").status()).toMatchObject({ role: "follower", leader: "n2" });
  });

  it("first catches a lagging target up, and refuses proposals while transferring", () => {
    const network = new Network(3, { seed: 42 });
    network.campaign("n1");
    network.isolate("n3");
    network.propose("n1", [transition("a")]);
    network.deliverAll();
    network.heal();
    expect(network.node("n1").transferLeadership("n3")).toBe(true);
    network.processReady("n1");
    expect(network.propose("n1", [transition("b")])).toEqual({ ok: false, reason: "transfer_in_progress" });
    expect(network.pending().map((envelope) => envelope.body.type)).not.toContain("TimeoutNow");
    network.deliverAll();
    expect(network.leader()).toBe("n3");
    expect(network.applied.get("n3")?.some((entry) => entry.command.kind === "transition")).toBe(true);
  });

  it("gives up after an election timeout when the target does not answer", () => {
    const network = new Network(3, { seed: 43 });
    network.campaign("n1");
    network.isolate("n3");
    network.node("n1").transferLeadership("n3");
    for (let tick = 0; tick < defaultCoreConfig.electionTimeoutTicks; tick++) {
      network.tick("n1");
      network.tick("n2");
      network.deliverAll();
    }
    expect(network.node("n1").status().role).toBe("leader");
    expect(network.propose("n1", [transition("after")])).toMatchObject({ ok: true });
  });

  it("refuses nonsense targets", () => {
    const network = new Network(3, { seed: 44 });
    expect(network.node("n1").transferLeadership("n2")).toBe(false);
    network.campaign("n1");
    expect(network.node("n1").transferLeadership("n1")).toBe(false);
    expect(network.node("n1").transferLeadership("n9")).toBe(false);
  });
});
