import { describe, expect, it } from "vitest";
import { Network, transition } from "./testing/network.js";

/**
 * A disk can damage the last record of a log in a way that storage cannot tell from a torn,
 * never-synced write (PersistedState.possibleLoss). The node may have acknowledged what it lost,
 * so it must neither vote nor lead until a leader has brought it up to date, and the leader must
 * stop trusting the match index it acknowledged.
 */
describe("a node restarted after a possible storage loss", () => {
  /** n1 leads; index 3 reaches n2 only (n3 is cut off) and commits on n1 + n2; then n2 loses it. */
  function lostCommittedEntry(possibleLoss = true): Network {
    const network = new Network(3, { seed: 5, config: { checkQuorum: false } });
    network.campaign("n1");
    network.propose("n1", [transition("a")]);
    network.deliverAll();
    network.isolate("n3");
    network.propose("n1", [transition("b")]);
    network.deliverAll();
    expect(network.node("n1").status().commitIndex).toBe(3);
    expect(network.node("n3").status().lastIndex).toBe(2);
    network.restartAfterLoss("n2", 2, possibleLoss);
    return network;
  }

  /** n1 (the only node holding index 3) goes away; n2 and n3 hold index 2 at most and try to elect. */
  function electWithoutTheHolder(network: Network): void {
    network.heal();
    network.isolate("n1");
    for (let round = 0; round < 200; round++) {
      network.tick("n2");
      network.tick("n3");
      network.deliverAll();
      if (network.node("n3").status().role === "leader") network.propose("n3", [transition("overwrites-3")]);
    }
  }

  it("grants no vote (pre-vote or real) and never campaigns, so a leader lacking a committed entry cannot be elected", () => {
    const network = lostCommittedEntry();
    expect(network.node("n2").status().recovering).toBe(true);
    electWithoutTheHolder(network);
    expect(network.node("n3").status().role).not.toBe("leader");
    expect(network.node("n2").status().role).toBe("follower");
  });

  it("stays recovering across a plain restart before it caught up (the flag is in the durable hard state), so it still grants no vote", () => {
    const network = lostCommittedEntry();
    network.isolate("n2");
    network.deliverAll();
    // A second crash before any leader reached n2: its disk no longer says anything was lost.
    network.restart("n2");
    expect(network.node("n2").status().recovering).toBe(true);
    electWithoutTheHolder(network);
    expect(network.node("n3").status().role).not.toBe("leader");
  });

  it("(the same history with the loss cut silently elects n3, which overwrites the committed index 3)", () => {
    const network = lostCommittedEntry(false);
    // The test network checks state machine safety on every apply (Raft §5.4.3).
    expect(() => electWithoutTheHolder(network)).toThrow("n3 applied a different entry at index 3");
  });

  it("is brought up to date by the leader, which stops trusting the lost acknowledgment, and then votes again", () => {
    const network = lostCommittedEntry();
    network.heal();
    network.isolate("n3");
    // Heartbeats probe n2 at its old match index 3; n2 rejects; the leader must probe lower.
    network.passTime(5);
    expect(network.node("n2").status()).toMatchObject({ lastIndex: 3, commitIndex: 3, recovering: false });
    network.heal();
    network.propose("n1", [transition("c")]);
    network.deliverAll();
    for (const id of network.ids) expect(network.node(id).status().commitIndex).toBe(4);
    // A recovered node takes part in elections again: with n1 gone, n2 and n3 elect one of them.
    network.isolate("n1");
    network.passTime(200);
    const leader = network.leader();
    expect(leader === "n2" || leader === "n3").toBe(true);
  });
});
