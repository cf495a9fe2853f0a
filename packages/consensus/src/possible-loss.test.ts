import { describe, expect, it } from "vitest";
import { electWithoutTheHolder } from "./testing/elect-without-holder.js";
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

  it("counts for no plain majority (its vote nor its own campaign), so a leader lacking a committed entry cannot be elected", () => {
    const network = lostCommittedEntry();
    expect(network.node("n2").status().recovering).toBe(true);
    electWithoutTheHolder(network, 200);
    // Without n1's answer no election is unanimous, and n2's recovering vote makes no majority with n3's.
    expect(network.node("n3").status().role).not.toBe("leader");
    expect(network.node("n2").status().role).not.toBe("leader");
  });

  it("stays recovering across a plain restart before it caught up (the flag is in the durable hard state), so its vote still counts for no plain majority", () => {
    const network = lostCommittedEntry();
    network.isolate("n2");
    network.deliverAll();
    // A second crash before any leader reached n2: its disk no longer says anything was lost.
    network.restart("n2");
    expect(network.node("n2").status().recovering).toBe(true);
    electWithoutTheHolder(network, 200);
    expect(network.node("n3").status().role).not.toBe("leader");
  });

  it("(the same history with the loss cut silently elects n3, which overwrites the committed index 3)", () => {
    const network = lostCommittedEntry(false);
    // The test network checks state machine safety on every apply (Raft §5.4.3).
    expect(() => electWithoutTheHolder(network, 200)).toThrow("n3 applied a different entry at index 3");
  });

  it("is brought up to date by the leader, which stops trusting the lost acknowledgment, and then votes again", () => {
    const network = lostCommittedEntry();
    network.heal();
    network.isolate("n3");
    // Heartbeats probe n2 at its old match index 3; n2 rejects; the leader must probe lower.
    network.passTime(5);
    // Caught up within an election timeout: not demoted (protocol-aware repair, repair.test.ts).
    expect(network.node("n2").status()).toMatchObject({ lastIndex: 3, commitIndex: 3, recovering: false });
    network.heal();
    network.propose("n1", [transition("c")]);
    network.deliverAll();
    network.heartbeat();
    for (const id of network.ids) expect(network.node(id).status().commitIndex).toBe(4);
    // A recovered node takes part in elections again: with n1 gone, n2 and n3 elect one of them.
    network.isolate("n1");
    network.passTime(200);
    const leader = network.leader();
    expect(leader === "n2" || leader === "n3").toBe(true);
  });

  it("is sent the leader's whole commit index in heartbeats, so it does not end its recovery without the committed entries it lost above its match", () => {
    const network = lostCommittedEntry();
    // Only heartbeats reach n2 (Proposals with entries are lost): each matches at its known point, 2.
    network.holdEntriesTo("n2");
    for (let round = 0; round < 5; round++) network.heartbeat();
    // Capped at the match point, the heartbeat said "commit 2": n2 took that for the leader's commit
    // index, ended its recovery, and with n1 gone n2 and n3 elected a log that overwrote index 3.
    expect(network.node("n2").status()).toMatchObject({ lastIndex: 2, recovering: true });
    network.filter = null;
    network.heal();
    network.isolate("n1");
    network.passTime(200);
    // n2 is still recovering: its vote makes no plain majority with n3's, and no election is unanimous.
    expect(["n2", "n3"].map((id) => network.node(id).status().role)).not.toContain("leader");
    // With n1 back, everyone holds index 3 (the network checks every apply against the others').
    network.heal();
    network.passTime(200);
    const leader = network.leader() as string;
    network.propose(leader, [transition("c")]);
    network.passTime(50);
    for (const id of network.ids) expect(network.node(id).status()).toMatchObject({ recovering: false, commitIndex: network.node(leader).status().commitIndex });
  });
});

/**
 * Seeds 101175 and 105771 of the simulator: a disk replaced on one node and, on another, damage at
 * the end of the log that storage could not tell from a torn write. Two recovering voters of three
 * leave no plain majority; every voter answering still elects a leader safely (`voteResult`).
 */
describe("a cluster where too many voters are recovering for a plain majority", () => {
  /** n2 leads and commits through index 3 on every node; then n3's disk is replaced and n2 reports a possible loss after index `n2Keeps`. */
  function twoRecovering(n2Keeps: number): Network {
    const network = new Network(3, { seed: 11, config: { checkQuorum: true } });
    network.campaign("n2");
    network.propose("n2", [transition("a")]);
    network.propose("n2", [transition("b")]);
    network.deliverAll();
    network.heartbeat();
    for (const id of network.ids) expect(network.node(id).status().commitIndex).toBe(3);
    network.restart("n1");
    network.restartAfterLoss("n2", n2Keeps);
    network.restartAfterLoss("n3", 0);
    expect(network.ids.map((id) => network.node(id).status().recovering)).toEqual([false, true, true]);
    return network;
  }

  function expectRecoveredWithCommit(network: Network, commitIndex: number): void {
    for (const id of network.ids) {
      expect(network.node(id).status()).toMatchObject({ commitIndex, recovering: false });
    }
  }

  it("elects the one healthy node once every voter grants, then catches both recovering nodes up", () => {
    const network = twoRecovering(2);
    network.passTime(200);
    expect(network.leader()).toBe("n1");
    network.propose("n1", [transition("c")]);
    network.deliverAll();
    network.heartbeat();
    // a, b, the new leader's no-op and c: nothing committed was lost (the network checks every apply).
    expectRecoveredWithCommit(network, 5);
  });

  it("elects a recovering node that holds the longest log when every voter grants, and it stops recovering once it commits", () => {
    // n2's damage turned out to be a never-synced write: it still holds index 3; n1 never got it.
    const network = new Network(3, { seed: 12, config: { checkQuorum: true } });
    network.campaign("n2");
    network.propose("n2", [transition("a")]);
    network.deliverAll();
    network.isolate("n1");
    network.propose("n2", [transition("b")]);
    network.deliverAll();
    expect(network.node("n1").status().lastIndex).toBe(2);
    network.heal();
    network.restart("n1");
    network.restartAfterLoss("n2", 3);
    network.restartAfterLoss("n3", 0);
    network.passTime(200);
    // n1 cannot win: n2's log is ahead of its own. Only n2 can, and only with every vote.
    expect(network.leader()).toBe("n2");
    network.propose("n2", [transition("c")]);
    network.deliverAll();
    network.heartbeat();
    expectRecoveredWithCommit(network, 5);
  });

  it("lets a recovering follower's leader lease run out when its leader goes, so it answers the next election", () => {
    const network = twoRecovering(2);
    // No commit index of n1's own term reaches n2 and n3: they follow n1 but are still recovering.
    network.filter = (envelope) =>
      envelope.from !== "n1" || !(envelope.body.type === "Commit" || (envelope.body.type === "Proposal" && envelope.body.commitIndex > 3));
    const followed = (): boolean => network.ids.every((id) => network.node(id).status().leader === "n1");
    for (let tick = 0; tick < 200 && !followed(); tick++) network.passTime(1);
    expect(network.leader()).toBe("n1");
    expect(network.node("n2").status()).toMatchObject({ leader: "n1", recovering: true });
    expect(network.node("n3").status()).toMatchObject({ leader: "n1", recovering: true });
    network.filter = null;
    network.restart("n1");
    network.passTime(300);
    expect(network.leader()).not.toBeNull();
    const leader = network.leader() as string;
    network.propose(leader, [transition("d")]);
    network.deliverAll();
    network.heartbeat();
    const commitIndex = network.node(leader).status().commitIndex;
    expect(commitIndex).toBeGreaterThanOrEqual(5);
    expectRecoveredWithCommit(network, commitIndex);
  });

  it("still elects nobody while a voter is unreachable: its answer could be the one that holds a committed entry", () => {
    const network = twoRecovering(2);
    network.isolate("n3");
    network.passTime(300);
    expect(network.leader()).toBeNull();
  });
});
