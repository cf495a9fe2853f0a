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
});
