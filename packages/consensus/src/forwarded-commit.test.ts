import type { ConsensusEnvelope, Envelope } from "@lockstep/protocol";
import { describe, expect, it } from "vitest";
import { Network, transition } from "./testing/network.js";

const commitOf = (network: Network, id: string): number => network.node(id).status().commitIndex;

describe("a member that forwarded entries learns their commit at once", () => {
  it("the leader sends a Commit to the follower whose Forward it committed, without waiting for a heartbeat", () => {
    const network = new Network(3, { seed: 41 });
    network.campaign("n1");
    network.heartbeat();
    const before = network.node("n1").status().lastIndex;
    // n2 is a follower: its write goes to n1 as a Forward, and its client waits for n2 to apply it.
    expect(network.propose("n2", [transition("forwarded")])).toMatchObject({ ok: true });
    network.deliverAll();
    expect(commitOf(network, "n1")).toBe(before + 1);
    // No tick has passed: without the Commit, n2 would learn it only from the next heartbeat.
    expect(commitOf(network, "n2")).toBe(before + 1);
    // n3 forwarded nothing and still learns it the usual way, from the next Proposal or heartbeat.
    expect(commitOf(network, "n3")).toBe(before);
    network.heartbeat();
    expect(commitOf(network, "n3")).toBe(before + 1);
  });

  it("also when the other follower's acknowledgment committed it: the forwarder's own, arriving later, brings the Commit", () => {
    const network = new Network(3, { seed: 42 });
    network.campaign("n1");
    network.heartbeat();
    const before = network.node("n1").status().lastIndex;
    network.propose("n2", [transition("forwarded")]);
    // n2 stores the entry, but its acknowledgment is held back: n3's commits the entry.
    const held: Envelope[] = [];
    network.filter = (envelope) => {
      const isHeld = envelope.from === "n2" && envelope.body.type === "Acknowledgment" && envelope.body.matchIndex > before;
      if (isHeld) held.push(envelope);
      return !isHeld;
    };
    network.deliverAll();
    expect(commitOf(network, "n1")).toBe(before + 1);
    expect(commitOf(network, "n2")).toBe(before);
    network.filter = null;
    expect(held).toHaveLength(1);
    // The late acknowledgment moves no commit index, yet n2 is told at once.
    network.node("n1").step(held[0] as ConsensusEnvelope);
    network.processReady("n1");
    network.deliverAll();
    expect(commitOf(network, "n2")).toBe(before + 1);
  });
});
