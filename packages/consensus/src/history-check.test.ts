import { describe, expect, it } from "vitest";
import type { ConsensusEnvelope, HistoryReport } from "@lockstep/protocol";
import { defaultCoreConfig } from "./core-config.js";
import type { HardState } from "./interfaces.js";
import { RaftCore } from "./raft-core.js";
import { electWithoutTheHolder } from "./testing/elect-without-holder.js";
import { Network, transition } from "./testing/network.js";
import { seededRandom } from "./testing/seeded-random.js";

/**
 * A voter started on an empty disk cannot tell a first start from a disk that was wiped, so it
 * asks the other voters (HistoryProbe/HistoryReport) before it votes (DESIGN.md §9).
 */
describe("a voter that starts with an empty log", () => {
  /** n1 leads; index 3 commits on n1 + n2 while n3 is cut off; then n2's disk is replaced by an empty one. */
  function wipedHolder(): Network {
    const network = new Network(3, { seed: 5, config: { checkQuorum: false } });
    network.campaign("n1");
    network.propose("n1", [transition("a")]);
    network.deliverAll();
    network.isolate("n3");
    network.propose("n1", [transition("b")]);
    network.deliverAll();
    expect(network.node("n1").status().commitIndex).toBe(3);
    expect(network.node("n3").status().lastIndex).toBe(2);
    network.wipe("n2");
    return network;
  }

  it("learns from a voter with a log that the cluster has run, and grants no vote until a leader caught it up", () => {
    const network = wipedHolder();
    expect(network.node("n2").status().recovering).toBe(true);
    // Without the check n2 votes for n3 (its empty log is behind n3's), and n3 overwrites index 3:
    // the network's state machine safety check throws on that apply.
    electWithoutTheHolder(network);
    expect(network.node("n3").status().role).not.toBe("leader");
    expect(network.node("n2").status().recovering).toBe(true);
    // The holder comes back, leads, and brings n2 up to date: n2 votes again.
    network.heal();
    for (let round = 0; round < 300 && network.node("n2").status().recovering; round++) {
      network.tickAll();
      network.deliverAll();
    }
    expect(network.node("n2").status().recovering).toBe(false);
    expect(network.node("n2").status().commitIndex).toBeGreaterThanOrEqual(3);
  });

  it("stays out of elections across restarts while it has not heard back", () => {
    const network = wipedHolder();
    network.isolate("n2");
    network.passTime(30);
    network.restart("n2");
    expect(network.node("n2").status().recovering).toBe(true);
    electWithoutTheHolder(network);
    expect(network.node("n3").status().role).not.toBe("leader");
  });

  function emptyVoter(hardState: HardState = { term: 0, votedFor: null, commitIndex: 0 }): RaftCore {
    const config = { ...defaultCoreConfig, id: "n2", cluster: "c", members: ["n1", "n2", "n3"], random: seededRandom(3) };
    return new RaftCore(config, { hardState, snapshot: null, entries: [] });
  }
  function report(from: string, body: Omit<HistoryReport, "type">): ConsensusEnvelope {
    return { v: 1, cluster: "c", from, to: "n2", body: { type: "HistoryReport", ...body } };
  }
  function voteRequest(from: string, term: number): ConsensusEnvelope {
    return { v: 1, cluster: "c", from, to: "n2", body: { type: "VoteRequest", term, lastIndex: 0, lastTerm: 0, preVote: false, transfer: false } };
  }
  function votesGranted(node: RaftCore): boolean[] {
    const ready = node.ready();
    node.advance(ready);
    return ready.messagesAfterPersist.flatMap((envelope) => (envelope.body.type === "Vote" ? [envelope.body.granted] : []));
  }

  it("ends its recovery only at a leader's commit index at least the largest one the voters reported (seed 2604236)", () => {
    const node = emptyVoter();
    node.step(report("n1", { term: 1, lastIndex: 5, snapshotIndex: 0, commitIndex: 5 }));
    node.step(report("n3", { term: 1, lastIndex: 5, snapshotIndex: 0, commitIndex: 4 }));
    expect(node.status().recovering).toBe(true);
    const entries = [1, 2, 3, 4, 5].map((index) => ({ index, term: 1, command: { kind: "noop" as const } }));
    // A late copy of an old Proposal of n1's, from when its commit index was 2: it matches, and
    // its commit index names an entry of the current term, but what was committed later is unknown.
    node.step({ v: 1, cluster: "c", from: "n1", to: "n2", body: { type: "Proposal", term: 1, prevIndex: 0, prevTerm: 0, entries: entries.slice(0, 2), commitIndex: 2 } });
    expect(node.status().recovering).toBe(true);
    node.step({ v: 1, cluster: "c", from: "n1", to: "n2", body: { type: "Proposal", term: 1, prevIndex: 2, prevTerm: 1, entries: entries.slice(2), commitIndex: 5 } });
    expect(node.status().recovering).toBe(false);
  });

  it("does not count a report that answers an earlier process's probe (its echoed incarnation is another)", () => {
    const config = { ...defaultCoreConfig, id: "n2", cluster: "c", members: ["n1", "n2", "n3"], random: seededRandom(3), incarnation: 7 };
    const node = new RaftCore(config, { hardState: { term: 0, votedFor: null, commitIndex: 0 }, snapshot: null, entries: [] });
    // n1's answer to the probe of the process before this one, from when its commit index was 2.
    node.step(report("n1", { term: 1, lastIndex: 5, snapshotIndex: 0, commitIndex: 2, probeIncarnation: 6 }));
    node.step(report("n3", { term: 1, lastIndex: 5, snapshotIndex: 0, commitIndex: 4, probeIncarnation: 7 }));
    const entries = [1, 2, 3, 4, 5].map((index) => ({ index, term: 1, command: { kind: "noop" as const } }));
    // Counted, the old report would have let a commit index of 4 end the recovery; n1 has since
    // committed 5, which this disk may have held.
    node.step({ v: 1, cluster: "c", from: "n1", to: "n2", body: { type: "Proposal", term: 1, prevIndex: 0, prevTerm: 0, entries, commitIndex: 4 } });
    expect(node.status().recovering).toBe(true);
    expect(node.ready().droppedMessages.map((drop) => `${drop.type}:${drop.reason}`)).toContain("HistoryReport:stale_probe");
    node.step(report("n1", { term: 1, lastIndex: 5, snapshotIndex: 0, commitIndex: 5, probeIncarnation: 7 }));
    node.step({ v: 1, cluster: "c", from: "n1", to: "n2", body: { type: "Proposal", term: 1, prevIndex: 0, prevTerm: 0, entries, commitIndex: 5 } });
    expect(node.status().recovering).toBe(false);
  });

  it("echoes the probe's incarnation on its report", () => {
    const node = emptyVoter();
    node.step({ v: 1, cluster: "c", from: "n1", to: "n2", body: { type: "HistoryProbe", term: 0, incarnation: 9 } });
    expect(node.ready().messages.map((envelope) => envelope.body)).toContainEqual(expect.objectContaining({ type: "HistoryReport", probeIncarnation: 9 }));
  });

  it("reports its commit index with its log when probed", () => {
    const config = { ...defaultCoreConfig, id: "n2", cluster: "c", members: ["n1", "n2", "n3"], random: seededRandom(3) };
    const entries = [1, 2].map((index) => ({ index, term: 1, command: { kind: "noop" as const } }));
    const node = new RaftCore(config, { hardState: { term: 1, votedFor: "n1", commitIndex: 1 }, snapshot: null, entries });
    node.advance(node.ready());
    node.step({ v: 1, cluster: "c", from: "n3", to: "n2", body: { type: "HistoryProbe", term: 1 } });
    const ready = node.ready();
    expect(ready.messages.map((envelope) => envelope.body)).toContainEqual({ type: "HistoryReport", term: 1, lastIndex: 2, snapshotIndex: 0, commitIndex: 1, configuration: { index: 0, voters: ["n1", "n2", "n3"] } });
  });

  it("asks every other voter once per election timeout, and answers probes with what it holds", () => {
    const node = emptyVoter();
    node.tick();
    const sent = node.ready();
    node.advance(sent);
    expect(sent.messages.map((envelope) => [envelope.to, envelope.body.type])).toEqual([
      ["n1", "HistoryProbe"],
      ["n3", "HistoryProbe"],
    ]);
    node.step({ v: 1, cluster: "c", from: "n1", to: "n2", body: { type: "HistoryProbe", term: 4 } });
    const answered = node.ready();
    expect(answered.messages.map((envelope) => envelope.body)).toEqual([{ type: "HistoryReport", term: 0, lastIndex: 0, snapshotIndex: 0, commitIndex: 0, configuration: { index: 0, voters: ["n1", "n2", "n3"] } }]);
    expect(node.status().term).toBe(0);
  });

  it("refuses every vote while a voter has not answered, and after a report of a log", () => {
    const node = emptyVoter();
    node.step(report("n1", { term: 0, lastIndex: 0, snapshotIndex: 0 }));
    node.step(voteRequest("n1", 1));
    expect(votesGranted(node)).toEqual([false]);
    node.step(report("n3", { term: 2, lastIndex: 5, snapshotIndex: 0 }));
    node.step(voteRequest("n1", 3));
    expect(votesGranted(node)).toEqual([false]);
    expect(node.status().recovering).toBe(true);
  });

  it("on a first start takes part, but never votes in a term another voter already reached", () => {
    const node = emptyVoter();
    node.step(report("n1", { term: 3, lastIndex: 0, snapshotIndex: 0 }));
    node.step(report("n3", { term: 0, lastIndex: 0, snapshotIndex: 0 }));
    expect(node.status().recovering).toBe(false);
    expect(node.status().term).toBe(3);
    // This node may have voted in term 3 before its disk was emptied: not again.
    node.step(voteRequest("n3", 3));
    expect(votesGranted(node)).toEqual([false]);
    node.step(voteRequest("n3", 4));
    expect(votesGranted(node)).toEqual([true]);
  });

  // A disk lost with the term it knew: n3 had voted n2 in (term 3) and acknowledged n2's first
  // entry, which committed on n2 + n3 at index 3. On its new disk n3 knows no term at all, and n1,
  // cut off since term 2 and still leading it (no check-quorum), reaches it first. Before this, n3
  // took n1 for its leader, acknowledged n1's index 3, and n1 committed it on n1 + n3: index 3
  // decided twice with one lost disk of three (the network's state machine safety check throws).
  it("takes no leader until every other voter has answered its probe, so a leader of a term it lost cannot commit with it", () => {
    const network = new Network(3, { seed: 5, config: { checkQuorum: false } });
    network.campaign("n1");
    network.propose("n1", [transition("a")]);
    network.deliverAll();
    network.isolate("n1");
    network.campaign("n2");
    network.deliverAll();
    expect(network.node("n2").status()).toMatchObject({ term: 3, commitIndex: 3 });
    network.heal();
    network.isolate("n2");
    network.wipe("n3");
    network.propose("n1", [transition("overwrites-3")]);
    for (let round = 0; round < 100; round++) {
      network.tick("n1");
      network.tick("n3");
      network.deliverAll();
    }
    expect(network.node("n1").status().commitIndex).toBe(2);
    expect(network.node("n3").status()).toMatchObject({ lastIndex: 0, recovering: true });
    // n2 answers: n3 learns term 3, refuses the stale leader, and n2 catches it up.
    network.heal();
    network.passTime(100);
    expect(network.leader()).toBe("n2");
    network.propose("n2", [transition("c")]);
    network.deliverAll();
    network.heartbeat();
    for (const id of network.ids) expect(network.node(id).status()).toMatchObject({ commitIndex: 4, recovering: false });
  });

  // A plain majority of the others proves the bound on the lost term for those voters only; the
  // voter that did not answer may be the candidate the lost disk voted for, in a later term.
  it("elected by a plain majority of the others before every voter answered, keeps asking as leader and stays recovering until they all have", () => {
    const network = new Network(5, { seed: 9, config: { checkQuorum: false } });
    // n5's disk is replaced before the cluster's first entry; the reports it asks for are lost,
    // and n4 is cut off: n1, n2 and n3 (plain votes) elect it.
    network.filter = (envelope) => envelope.body.type !== "HistoryReport";
    network.isolate("n4");
    network.wipe("n5");
    network.campaign("n5");
    network.heartbeat();
    expect(network.node("n5").status()).toMatchObject({ role: "leader", commitIndex: 1, recovering: true });
    // Its first entry committed (which alone ended a recovery before): it is still recovering.
    network.filter = null;
    network.heal();
    network.passTime(30);
    expect(network.node("n5").status()).toMatchObject({ role: "leader", recovering: false });
  });

  function probesSent(node: RaftCore): string[] {
    for (let tick = 0; tick < defaultCoreConfig.electionTimeoutTicks; tick++) node.tick();
    const ready = node.ready();
    node.advance(ready);
    return ready.messages.flatMap((envelope) => (envelope.body.type === "HistoryProbe" ? [envelope.to] : []));
  }

  // Churn seeds 1000848, 2600290: a disk replaced under its old id lists the voters of its config
  // file; one of them was removed and its machine retired while the check waited, so it never
  // answers. Before this, the node stayed a precandidate with commit index 0 for good.
  it("waits for the voters of the newest configuration an answer reports, not for a voter removed since", () => {
    const node = emptyVoter();
    node.step(report("n1", { term: 4, lastIndex: 9, snapshotIndex: 0, commitIndex: 8, configuration: { index: 2, voters: ["n1", "n2", "n3"] } }));
    expect(node.status().recovering).toBe(true);
    // n1 is asked again with n3: its next answer may tell of a configuration changed meanwhile.
    expect(probesSent(node)).toEqual(["n1", "n3"]);
    node.step(report("n1", { term: 5, lastIndex: 12, snapshotIndex: 0, commitIndex: 11, configuration: { index: 10, voters: ["n1", "n2"] } }));
    // Every voter of the configuration at 10 answered: the cluster has a history this log lacks.
    expect(node.status()).toMatchObject({ term: 5, recovering: true });
    node.step(voteRequest("n1", 6));
    expect(votesGranted(node)).toEqual([false]);
    // Over: the leader of term 6 brings this log up to date (its Proposals are no longer ignored).
    const entries = Array.from({ length: 12 }, (_, position) => ({ index: position + 1, term: 6, command: { kind: "noop" as const } }));
    node.step({ v: 1, cluster: "c", from: "n1", to: "n2", body: { type: "Proposal", term: 6, prevIndex: 0, prevTerm: 0, entries, commitIndex: 12 } });
    expect(node.status()).toMatchObject({ lastIndex: 12, recovering: false });
  });

  it("asks a voter added since, whom its own member list lacks, and counts its answer", () => {
    const node = emptyVoter();
    node.step(report("n1", { term: 4, lastIndex: 9, snapshotIndex: 0, commitIndex: 8, configuration: { index: 7, voters: ["n1", "n2", "n3", "n4"] } }));
    node.step(report("n3", { term: 4, lastIndex: 9, snapshotIndex: 0, commitIndex: 8 }));
    expect(node.status()).toMatchObject({ term: 0, recovering: true });
    expect(probesSent(node)).toEqual(["n1", "n3", "n4"]);
    // n4 is no member of the configuration this node knows; its report is taken all the same, and
    // it holds the largest term.
    node.step({ v: 1, cluster: "c", from: "n4", to: "n2", body: { type: "HistoryReport", term: 6, lastIndex: 9, snapshotIndex: 0, commitIndex: 8 } });
    expect(node.status()).toMatchObject({ term: 6, recovering: true });
  });

  it("never goes back to an older configuration a late answer reports", () => {
    const node = emptyVoter();
    node.step(report("n1", { term: 4, lastIndex: 9, snapshotIndex: 0, commitIndex: 8, configuration: { index: 7, voters: ["n1", "n2", "n3", "n4"] } }));
    node.step(report("n3", { term: 4, lastIndex: 9, snapshotIndex: 0, commitIndex: 8, configuration: { index: 2, voters: ["n1", "n2", "n3"] } }));
    expect(node.status().recovering).toBe(true);
    expect(probesSent(node)).toEqual(["n1", "n3", "n4"]);
  });
});

// Seed 7016221: a wiped n2 learned from the reports that the cluster had committed index 151,
// crashed during its recovery and restarted with part of its log (a possible loss): the bound was
// gone, and an old Proposal's commit index 52 ended its recovery 99 entries short of it.
describe("a recovery's commit bound", () => {
  it("is written with the hard state, and a restarted node still ends its recovery only at a leader commit index that reaches it", () => {
    const node = new RaftCore(
      { ...defaultCoreConfig, id: "n2", cluster: "c", members: ["n1", "n2", "n3"], random: seededRandom(3) },
      { hardState: { term: 0, votedFor: null, commitIndex: 0 }, snapshot: null, entries: [] },
    );
    const report = (from: string): ConsensusEnvelope => ({ v: 1, cluster: "c", from, to: "n2", body: { type: "HistoryReport", term: 3, lastIndex: 9, snapshotIndex: 0, commitIndex: 8 } });
    node.step(report("n1"));
    node.step(report("n3"));
    const written = node.ready();
    expect(written.hardState).toMatchObject({ recovering: true, recoveryCommitIndexMin: 8 });
    node.advance(written);
    // The process dies; the disk kept entries 1..5 of term 3 and that hard state.
    const entries = [1, 2, 3, 4, 5].map((index) => ({ index, term: 3, command: { kind: "noop" as const } }));
    const restarted = new RaftCore(
      { ...defaultCoreConfig, id: "n2", cluster: "c", members: ["n1", "n2", "n3"], random: seededRandom(4) },
      { hardState: written.hardState!, snapshot: null, entries, possibleLoss: true },
    );
    restarted.advance(restarted.ready());
    const proposal = (commitIndex: number, more: number): ConsensusEnvelope => ({
      v: 1,
      cluster: "c",
      from: "n1",
      to: "n2",
      body: { type: "Proposal", term: 3, prevIndex: 5, prevTerm: 3, entries: Array.from({ length: more }, (_, position) => ({ index: 6 + position, term: 3, command: { kind: "noop" as const } })), commitIndex },
    });
    restarted.step(proposal(5, 0));
    expect(restarted.status().recovering).toBe(true);
    restarted.step(proposal(8, 4));
    expect(restarted.status().recovering).toBe(false);
  });
});

describe("a recovery's commit bound learned in a term already written", () => {
  it("makes a Ready of its own, so that it is durable before a crash can lose it", () => {
    const node = new RaftCore(
      { ...defaultCoreConfig, id: "n2", cluster: "c", members: ["n1", "n2", "n3"], random: seededRandom(5) },
      { hardState: { term: 3, votedFor: "n1", commitIndex: 0 }, snapshot: null, entries: [], possibleLoss: true },
    );
    node.advance(node.ready());
    const report = (from: string): ConsensusEnvelope => ({ v: 1, cluster: "c", from, to: "n2", body: { type: "HistoryReport", term: 3, lastIndex: 9, snapshotIndex: 0, commitIndex: 8 } });
    node.step(report("n1"));
    node.step(report("n3"));
    // Same term, a vote already cast: only the bound changed.
    expect(node.hasReady()).toBe(true);
    expect(node.ready().hardState).toMatchObject({ term: 3, votedFor: "n1", recovering: true, recoveryCommitIndexMin: 8 });
  });
});
