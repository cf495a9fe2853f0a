import type { ConsensusEnvelope, ConsensusMessage, NodeId } from "@lockstep/protocol";
import { describe, expect, it } from "vitest";
import { Network, transition } from "./testing/network.js";

/** Steps `to` with a message as if it came off the wire, then runs its Ready. */
function inject(network: Network, from: NodeId, to: NodeId, body: ConsensusMessage): void {
  const envelope: ConsensusEnvelope = { v: 1, cluster: "test-cluster", from, to, body };
  network.node(to).step(envelope);
  network.node(to).assertInvariants();
  network.processReady(to);
}

function matchOf(network: Network, leader: NodeId, member: NodeId): number | undefined {
  return network.node(leader).status().progress.find((progress) => progress.id === member)?.matchIndex;
}

/** Three nodes, n1 leading, every node holding the no-op and one entry. */
function ledNetwork(seed: number): { network: Network; term: number; lastIndex: number } {
  const network = new Network(3, { seed });
  network.campaign("n1");
  network.propose("n1", [transition("web-1")]);
  network.deliverAll();
  const { term, lastIndex } = network.node("n1").status();
  return { network, term, lastIndex };
}

describe("an Acknowledgment sent before a disk loss and delivered after it", () => {
  it("does not raise the match the leader forgot: only answers of the current epoch count", () => {
    const { network, term, lastIndex } = ledNetwork(17);
    expect(matchOf(network, "n1", "n2")).toBe(lastIndex);
    // The Acknowledgment n2 sent for its last entry, still on the way when its disk is lost.
    const late: ConsensusMessage = { type: "Acknowledgment", term, matchIndex: lastIndex };
    // n2 restarts on an empty disk; its first answer says it lacks what it acknowledged.
    inject(network, "n2", "n1", { type: "Reject", term, reason: "log_mismatch", rejectedIndex: lastIndex, hintIndex: 0, hintTerm: 0, recovering: true });
    expect(matchOf(network, "n1", "n2")).toBe(0);
    inject(network, "n2", "n1", late);
    expect(matchOf(network, "n1", "n2")).toBe(0);
    expect((network.dropped.get("n1") ?? []).map((drop) => `${drop.type}:${drop.reason}`)).toContain("Acknowledgment:stale_epoch");
    // The probes after the forget carry the new epoch, and the answers to them count.
    network.deliverAll();
    expect(matchOf(network, "n1", "n2")).toBe(lastIndex);
  });

  it("drops a Reject of an older epoch, so one forgotten match is not forgotten twice", () => {
    const { network, term, lastIndex } = ledNetwork(18);
    const reject: ConsensusMessage = { type: "Reject", term, reason: "log_mismatch", rejectedIndex: lastIndex, hintIndex: 0, hintTerm: 0 };
    inject(network, "n2", "n1", reject);
    inject(network, "n2", "n1", reject);
    expect((network.dropped.get("n1") ?? []).map((drop) => `${drop.type}:${drop.reason}`)).toEqual(["Reject:stale_epoch"]);
    network.deliverAll();
    expect(matchOf(network, "n1", "n2")).toBe(lastIndex);
  });

  // With `recovering` the news of the loss is enough; without it (a disk that lost synced writes
  // and does not know it) the hint below the match says the same.
  it.each([true, false])("forgets the match when a follower (recovering: %s) rejects a pipelined Proposal above it, so an Acknowledgment from before its disk loss cannot commit", (recovering) => {
    const { network, term, lastIndex } = ledNetwork(19);
    expect(matchOf(network, "n1", "n2")).toBe(lastIndex);
    // Two more entries, sent while n3 is cut off and n2's answers are still on the way: the
    // leader has pipelined them (the second Proposal's prevIndex is above n2's match).
    network.cut("n1", "n3");
    network.propose("n1", [transition("web-2")]);
    network.propose("n1", [transition("web-3")]);
    network.drop();
    const commitBefore = network.node("n1").status().commitIndex;
    // n2 had acknowledged the first of them before its disk was lost.
    const late: ConsensusMessage = { type: "Acknowledgment", term, matchIndex: lastIndex + 1 };
    // On its empty disk n2 rejects the second Proposal (prevIndex lastIndex + 1, above its match).
    inject(network, "n2", "n1", { type: "Reject", term, reason: "log_mismatch", rejectedIndex: lastIndex + 1, hintIndex: 0, hintTerm: 0, ...(recovering ? { recovering } : {}) });
    expect(matchOf(network, "n1", "n2")).toBe(0);
    inject(network, "n2", "n1", late);
    expect(matchOf(network, "n1", "n2")).toBe(0);
    // Only n1 holds the new entries: counting the late answer would have committed one of them.
    expect(network.node("n1").status().commitIndex).toBe(commitBefore);
    expect((network.dropped.get("n1") ?? []).map((drop) => `${drop.type}:${drop.reason}`)).toContain("Acknowledgment:stale_epoch");
  });

  it("forgets the match on the first Acknowledgment that says the member is recovering, for the same reason", () => {
    const { network, term, lastIndex } = ledNetwork(20);
    network.cut("n1", "n3");
    network.propose("n1", [transition("web-2")]);
    network.drop();
    const commitBefore = network.node("n1").status().commitIndex;
    const late: ConsensusMessage = { type: "Acknowledgment", term, matchIndex: lastIndex + 1 };
    // On its empty disk n2 accepts a probe from the start of the log and says it is recovering.
    inject(network, "n2", "n1", { type: "Acknowledgment", term, matchIndex: 0, recovering: true });
    expect(matchOf(network, "n1", "n2")).toBe(0);
    inject(network, "n2", "n1", late);
    expect(matchOf(network, "n1", "n2")).toBe(0);
    expect(network.node("n1").status().commitIndex).toBe(commitBefore);
  });

  it("forgets the match when an answer comes from another incarnation, though the leader already counts the member as recovering (simulator seed 187)", () => {
    const { network, term, lastIndex } = ledNetwork(21);
    // n2 (the process of incarnation 100) says it is recovering: the leader issues epoch 1.
    inject(network, "n2", "n1", { type: "Acknowledgment", term, matchIndex: lastIndex, recovering: true, incarnation: 100 });
    network.cut("n1", "n3");
    network.propose("n1", [transition("web-2")]);
    network.drop();
    const commitBefore = network.node("n1").status().commitIndex;
    // It acknowledged the new entry in epoch 1; then its disk was lost again.
    const late: ConsensusMessage = { type: "Acknowledgment", term, matchIndex: lastIndex + 1, recovering: true, epoch: 1, incarnation: 100 };
    // The next process (incarnation 200), on an empty disk, answers a heartbeat of epoch 1. Its
    // answer says nothing the leader does not know but that it comes from another process.
    inject(network, "n2", "n1", { type: "Acknowledgment", term, matchIndex: 0, recovering: true, epoch: 1, incarnation: 200 });
    expect(matchOf(network, "n1", "n2")).toBe(0);
    inject(network, "n2", "n1", late);
    expect(matchOf(network, "n1", "n2")).toBe(0);
    expect(network.node("n1").status().commitIndex).toBe(commitBefore);
    expect((network.dropped.get("n1") ?? []).map((drop) => `${drop.type}:${drop.reason}`)).toContain("Acknowledgment:stale_epoch");
  });
});
