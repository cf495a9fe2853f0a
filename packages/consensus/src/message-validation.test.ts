import type { ConsensusEnvelope, ConsensusMessage, Envelope, NodeId } from "@lockstep/protocol";
import { describe, expect, it } from "vitest";
import { checkMessage, DropCounter, droppedKindsMax, termMax } from "./message-validation.js";
import { Network, transition } from "./testing/network.js";

/** A three-node network where n1 leads term `term` and every node holds the no-op and one entry. */
function ledNetwork(): Network {
  const network = new Network(3, { seed: 91 });
  network.campaign("n1");
  network.propose("n1", [transition("web-1")]);
  network.deliverAll();
  return network;
}

function envelope(from: NodeId, to: NodeId, body: ConsensusMessage): ConsensusEnvelope {
  return { v: 1, cluster: "test-cluster", from, to, body };
}

/** Steps `to` with a message as if it came off the wire, then runs its Ready. */
function inject(network: Network, from: NodeId, to: NodeId, body: ConsensusMessage): void {
  network.node(to).step(envelope(from, to, body));
  network.node(to).assertInvariants();
  network.processReady(to);
}

function dropReasons(network: Network, id: NodeId): string[] {
  return (network.dropped.get(id) ?? []).map((drop) => `${drop.type}:${drop.reason}`);
}

describe("nothing from the wire can crash or wedge a node", () => {
  it("drops a heartbeat whose term is past termMax: the term is not adopted and the cluster still elects", () => {
    const network = ledNetwork();
    const before = network.node("n2").status();
    inject(network, "n1", "n2", { type: "Proposal", term: Number.MAX_SAFE_INTEGER, prevIndex: 0, prevTerm: 0, entries: [], commitIndex: 0 });
    expect(network.node("n2").status()).toMatchObject({ term: before.term, leader: "n1" });
    expect(network.storage.get("n2")?.hardState.term).toBe(before.term);
    expect(dropReasons(network, "n2")).toEqual(["Proposal:term_too_large"]);
    // The cluster keeps working: a new election after the leader is cut off still succeeds.
    network.isolate("n1");
    network.passTime(60);
    const leader = network.leader();
    expect(leader === "n2" || leader === "n3").toBe(true);
    expect(network.node(leader ?? "n2").status().term).toBeGreaterThan(before.term);
  });

  it("drops a Proposal whose entry is of a later term than the message (it would break the log)", () => {
    const network = ledNetwork();
    const { term, lastIndex } = network.node("n2").status();
    inject(network, "n1", "n2", {
      type: "Proposal",
      term,
      prevIndex: lastIndex,
      prevTerm: term,
      entries: [{ index: lastIndex + 1, term: term + 5, command: { kind: "noop" } }],
      commitIndex: 0,
    });
    expect(network.node("n2").status()).toMatchObject({ term, lastIndex });
    expect(dropReasons(network, "n2")).toEqual(["Proposal:entry_term_above_message"]);
  });

  it("drops Proposals whose entries skip an index or go back in term", () => {
    const network = ledNetwork();
    const { term, lastIndex } = network.node("n2").status();
    const entry = (index: number, entryTerm: number) => ({ index, term: entryTerm, command: { kind: "noop" as const } });
    inject(network, "n1", "n2", { type: "Proposal", term, prevIndex: lastIndex, prevTerm: term, entries: [entry(lastIndex + 2, term)], commitIndex: 0 });
    inject(network, "n1", "n2", { type: "Proposal", term, prevIndex: lastIndex, prevTerm: term, entries: [entry(lastIndex + 1, term), entry(lastIndex + 2, term - 1)], commitIndex: 0 });
    expect(network.node("n2").status().lastIndex).toBe(lastIndex);
    expect(dropReasons(network, "n2")).toEqual(["Proposal:entries_not_contiguous", "Proposal:entry_terms_decrease"]);
  });

  it("drops, and counts, a message from a node that is not a member", () => {
    const network = ledNetwork();
    const { term, lastIndex } = network.node("n1").status();
    inject(network, "n9", "n1", { type: "Forward", term, commands: [transition("forged")] });
    expect(network.node("n1").status().lastIndex).toBe(lastIndex);
    expect(dropReasons(network, "n1")).toEqual(["Forward:not_a_member"]);
    expect(network.dropped.get("n1")?.[0]?.from).toBe("n9");
  });

  it("drops a Forward that carries anything but client commands (a member list, a no-op, limits)", () => {
    const network = ledNetwork();
    const { term, lastIndex } = network.node("n1").status();
    const limits = { keysMax: 1, stateBytesMax: 1, sessionsMax: 1, sessionWindowSeqs: 1, sessionIdleEntriesMax: 1 };
    inject(network, "n2", "n1", { type: "Forward", term, commands: [transition("fine"), { kind: "members", members: [{ id: "n2", peerAddress: "", clientUrl: "", voter: true }] }] });
    inject(network, "n2", "n1", { type: "Forward", term, commands: [{ kind: "noop" }] });
    inject(network, "n2", "n1", { type: "Forward", term, commands: [{ kind: "limits", limits }] });
    expect(network.node("n1").status().lastIndex).toBe(lastIndex);
    expect(dropReasons(network, "n1")).toEqual(Array(3).fill("Forward:forward_not_a_client_command"));
    // Deletes and session registrations are client commands: they are appended.
    inject(network, "n2", "n1", { type: "Forward", term, commands: [{ kind: "delete", key: "k" }, { kind: "register_session", nonce: "n2-x.1" }] });
    expect(network.node("n1").status().lastIndex).toBe(lastIndex + 2);
    // So are client-token changes: an admin may create or revoke a token through any node.
    const hash = "0".repeat(64);
    inject(network, "n2", "n1", { type: "Forward", term, commands: [{ kind: "token_create", proposalId: "p-1", name: "app", hash, role: "write", prefixes: [] }, { kind: "token_revoke", proposalId: "p-2", name: "app" }] });
    expect(network.node("n1").status().lastIndex).toBe(lastIndex + 4);
    expect(dropReasons(network, "n1")).toHaveLength(3);
  });

  it("drops an Acknowledgment beyond the leader's log (it would commit an index nobody holds)", () => {
    const network = ledNetwork();
    const { term, lastIndex, commitIndex } = network.node("n1").status();
    inject(network, "n2", "n1", { type: "Acknowledgment", term, matchIndex: lastIndex + 100 });
    inject(network, "n3", "n1", { type: "Acknowledgment", term, matchIndex: lastIndex + 100 });
    expect(network.node("n1").status()).toMatchObject({ role: "leader", commitIndex, lastIndex });
    expect(dropReasons(network, "n1")).toEqual(["Acknowledgment:index_beyond_log", "Acknowledgment:index_beyond_log"]);
  });

  it("drops a Reject of an index the leader never sent (it would move the follower past the log)", () => {
    const network = ledNetwork();
    const { term, lastIndex } = network.node("n1").status();
    inject(network, "n2", "n1", { type: "Reject", term, reason: "log_mismatch", rejectedIndex: lastIndex + 50 });
    network.propose("n1", [transition("after")]);
    network.deliverAll();
    expect(network.node("n2").status().lastIndex).toBe(lastIndex + 1);
    expect(dropReasons(network, "n1")).toEqual(["Reject:index_beyond_log"]);
  });

  it("drops a TimeoutNow that does not come from the leader of the term", () => {
    const network = ledNetwork();
    const { term } = network.node("n2").status();
    inject(network, "n3", "n2", { type: "TimeoutNow", term });
    expect(network.node("n2").status()).toMatchObject({ role: "follower", term, leader: "n1" });
    expect(dropReasons(network, "n2")).toEqual(["TimeoutNow:timeout_now_not_from_leader"]);
  });

  it("drops envelopes of another cluster, addressed elsewhere or claiming to come from this node", () => {
    const network = ledNetwork();
    const { term } = network.node("n2").status();
    const heartbeat: ConsensusMessage = { type: "Proposal", term, prevIndex: 0, prevTerm: 0, entries: [], commitIndex: 0 };
    const node = network.node("n2");
    node.step({ ...envelope("n1", "n2", heartbeat), cluster: "other" });
    node.step(envelope("n1", "n3", heartbeat));
    node.step(envelope("n2", "n2", heartbeat));
    network.processReady("n2");
    expect(dropReasons(network, "n2")).toEqual(["Proposal:wrong_cluster", "Proposal:misaddressed", "Proposal:from_self"]);
  });

  it("checks every message kind without throwing on values at the edge of the schema", () => {
    const big = Number.MAX_SAFE_INTEGER;
    const messages: ConsensusMessage[] = [
      { type: "VoteRequest", term: 5, lastIndex: big, lastTerm: 6, preVote: false, transfer: false },
      { type: "SnapshotChunk", term: 5, snapshotIndex: big, snapshotTerm: 9, offset: 0, data: "", done: true },
      { type: "Reject", term: 5, reason: "log_mismatch", rejectedIndex: big, hintIndex: big, hintTerm: 7 },
      { type: "Proposal", term: 5, prevIndex: big, prevTerm: 6, entries: [], commitIndex: big },
    ];
    expect(messages.map((message) => checkMessage(message))).toEqual(["log_term_above_message", "log_term_above_message", "log_term_above_message", "log_term_above_message"]);
    expect(checkMessage({ type: "Vote", term: termMax + 1, granted: true, preVote: false })).toBe("term_too_large");
    expect(checkMessage({ type: "Vote", term: termMax, granted: true, preVote: false })).toBeNull();
  });

  it("keeps the aggregated drops bounded however many senders a flood makes up", () => {
    const counter = new DropCounter();
    for (let sender = 0; sender < 10_000; sender++) counter.add(`forged-${sender}`, "Forward", "not_a_member");
    const taken = counter.take();
    expect(taken.length).toBeLessThanOrEqual(droppedKindsMax);
    expect(taken.reduce((total, drop) => total + drop.count, 0)).toBe(10_000);
    expect(taken.find((drop) => drop.from === "(other)")?.count).toBe(10_000 - (droppedKindsMax - 1));
  });

  it("a storm of hostile messages from a member leaves the cluster committing", () => {
    const network = ledNetwork();
    const { term } = network.node("n1").status();
    const hostile: Envelope[] = [];
    for (let round = 0; round < 50; round++) {
      hostile.push(envelope("n3", "n1", { type: "Acknowledgment", term, matchIndex: 10_000 + round }));
      hostile.push(envelope("n3", "n2", { type: "Proposal", term: termMax + 1 + round, prevIndex: 0, prevTerm: 0, entries: [], commitIndex: 0 }));
      hostile.push(envelope("n3", "n1", { type: "Forward", term, commands: [{ kind: "members", members: [{ id: "n3", peerAddress: "", clientUrl: "", voter: true }] }] }));
    }
    for (const message of hostile) inject(network, message.from, message.to, message.body as ConsensusMessage);
    network.propose("n1", [transition("still-works")]);
    network.deliverAll();
    network.heartbeat();
    for (const id of network.ids) expect(network.applied.get(id)?.at(-1)?.command, id).toEqual(transition("still-works"));
    expect(network.node("n2").status().term).toBe(term);
  });
});
