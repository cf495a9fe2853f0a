import { describe, expect, it } from "vitest";
import { defaultCoreConfig } from "./core-config.js";
import { Network, transition } from "./testing/network.js";

describe("ReadIndex (Raft thesis §6.4)", () => {
  it("answers with the commit index only after a heartbeat round reaches a majority", () => {
    const network = new Network(3, { seed: 31 });
    network.campaign("n1");
    network.propose("n1", [transition("a")]);
    network.deliverAll();
    expect(network.read("n1", 7)).toEqual({ ok: true });
    expect(network.readStates.get("n1")).toEqual([]);
    const heartbeats = network.pending().filter((envelope) => envelope.body.type === "Proposal" && envelope.body.context !== undefined);
    expect(heartbeats).toHaveLength(2);
    network.deliver(2); // the heartbeats arrive; the acknowledgments are still on their way
    expect(network.readStates.get("n1")).toEqual([]);
    network.deliverAll();
    expect(network.readStates.get("n1")).toEqual([{ context: 7, index: 2 }]);
  });

  it("answers at once in a single-node cluster", () => {
    const network = new Network(1, { seed: 32 });
    network.campaign("n1");
    network.read("n1", 1);
    expect(network.readStates.get("n1")).toEqual([{ context: 1, index: 1 }]);
  });

  it("waits until the new leader has committed an entry of its term", () => {
    const network = new Network(3, { seed: 33 });
    network.filter = (envelope) => envelope.body.type !== "Acknowledgment";
    network.campaign("n1");
    network.read("n1", 4);
    network.deliverAll();
    expect(network.readStates.get("n1")).toEqual([]);
    network.filter = null;
    network.passTime(1);
    expect(network.readStates.get("n1")).toEqual([{ context: 4, index: 1 }]);
  });

  it("serves a follower's read through the leader", () => {
    const network = new Network(3, { seed: 34 });
    network.campaign("n1");
    network.propose("n1", [transition("a")]);
    network.deliverAll();
    expect(network.read("n2", 9)).toEqual({ ok: true });
    network.deliverAll();
    expect(network.readStates.get("n2")).toEqual([{ context: 9, index: 2 }]);
  });

  it("fails pending reads when the leader loses leadership, and never answers them", () => {
    const network = new Network(3, { seed: 35 });
    network.campaign("n1");
    network.deliverAll();
    network.isolate("n1");
    network.read("n1", 5);
    for (let tick = 0; tick <= 2 * defaultCoreConfig.electionTimeoutTicks; tick++) network.tick("n1");
    expect(network.node("n1").status().role).toBe("follower");
    expect(network.readFailures.get("n1")).toEqual([{ context: 5, reason: "leadership_lost" }]);
    network.heal();
    network.passTime(30);
    expect(network.readStates.get("n1")).toEqual([]);
  });

  it("fails a follower's forwarded read when its leader changes", () => {
    const network = new Network(3, { seed: 36 });
    network.campaign("n1");
    network.isolate("n1");
    network.read("n2", 6);
    network.passTime(40);
    expect(network.readFailures.get("n2")).toEqual([{ context: 6, reason: "no_leader" }]);
  });

  it("refuses reads beyond pendingReadsMax and without a leader", () => {
    const network = new Network(3, { seed: 37, config: { pendingReadsMax: 2 } });
    expect(network.read("n2", 1)).toEqual({ ok: false, reason: "no_leader" });
    network.campaign("n1");
    network.isolate("n1");
    expect([network.read("n1", 1), network.read("n1", 2), network.read("n1", 3)]).toEqual([
      { ok: true },
      { ok: true },
      { ok: false, reason: "overloaded" },
    ]);
  });
});
