import type { Envelope } from "@lockstep/protocol";
import { describe, expect, it } from "vitest";
import { defaultCoreConfig } from "./core-config.js";
import { Network, transition } from "./testing/network.js";

function carriesIndex(envelope: Envelope, index: number): boolean {
  return envelope.body.type === "Proposal" && envelope.body.entries.some((entry) => entry.index >= index);
}

function logOf(network: Network, id: string): string[] {
  return (network.storage.get(id)?.entries ?? []).map((entry) => `${entry.index}/${entry.term}/${JSON.stringify(entry.command)}`);
}

describe("log replication (Raft §5.3, §5.4)", () => {
  /**
   * Raft Figure 8, step by step, on five nodes, with the figure's terms 1, 2, 3 as T, T+1, T+2
   * (the settled first start has already moved every founder to term 1). (a) n1 leads term T and
   * appends index 2 alone. (b) n5 leads term T+1 with an entry at index 2 that nobody receives.
   * (c) n1 leads term T+2 and copies its index 2 (term T) to a majority, but the no-op of term
   * T+2 is held back: index 2 must NOT be committed, because (d) n5 could still win and overwrite
   * it. (e) once the term-(T+2) entry reaches a majority, both commit and n5 can no longer win.
   */
  function figure8UpToStepC(): { network: Network; firstTerm: number } {
    const network = new Network(5, { seed: 8, config: { checkQuorum: false, entriesPerProposalMax: 1 } });
    network.campaign("n1");
    const firstTerm = network.node("n1").status().term;
    network.isolate("n1");
    network.propose("n1", [transition("from-term-1")]);
    network.heal();
    network.isolate("n1");
    network.filter = (envelope) => !(envelope.from === "n5" && envelope.body.type === "Proposal");
    network.campaign("n5");
    expect(network.node("n5").status()).toMatchObject({ term: firstTerm + 1, lastIndex: 2 });
    network.heal();
    network.isolate("n5");
    network.restart("n1");
    // Index 3 may reach a follower only while it cannot accept it (it lacks index 2 and rejects).
    const holdsIndex2 = (id: string) => network.storage.get(id)?.entries[1]?.term === firstTerm;
    network.filter = (envelope) => !(carriesIndex(envelope, 3) && holdsIndex2(envelope.to));
    network.campaign("n1");
    network.deliverAll();
    expect(network.node("n1").status().term).toBe(firstTerm + 2);
    return { network, firstTerm };
  }

  it("does not commit an old-term entry held by a majority until a current-term entry is (Figure 8)", () => {
    const { network } = figure8UpToStepC();
    const status = network.node("n1").status();
    const matchOf = (id: string) => status.progress.find((progress) => progress.id === id)?.matchIndex;
    expect([matchOf("n2"), matchOf("n3"), matchOf("n4")]).toEqual([2, 2, 2]);
    expect(status.commitIndex).toBe(1);
    // (e): the term-3 entry reaches the majority, which commits it and index 2 with it.
    // The held-back Proposals were lost: the leader notices the stall within an election timeout.
    network.filter = null;
    for (let tick = 0; tick <= defaultCoreConfig.electionTimeoutTicks; tick++) {
      network.tick("n1");
      network.deliverAll();
    }
    expect(network.node("n1").status().commitIndex).toBe(3);
    network.isolate("n1");
    network.heal();
    network.isolate("n1");
    network.restart("n5");
    for (let tick = 0; tick < 100; tick++) {
      network.tick("n5");
      network.deliverAll();
    }
    expect(network.node("n5").status().role).not.toBe("leader");
  });

  it("shows why: in step (d) the uncommitted old-term entry is overwritten (Figure 8 d)", () => {
    const { network, firstTerm } = figure8UpToStepC();
    network.filter = null;
    network.isolate("n1");
    network.heal();
    network.isolate("n1");
    network.restart("n5");
    network.campaign("n5");
    network.deliverAll();
    for (const id of ["n2", "n3", "n4", "n5"]) expect(network.storage.get(id)?.entries[1]?.term).toBe(firstTerm + 1);
  });

  it("makes logs match after a leader change with conflicting uncommitted suffixes (§5.3 Log Matching)", () => {
    const network = new Network(3, { seed: 21, config: { checkQuorum: false } });
    network.campaign("n1");
    network.isolate("n1");
    for (let command = 0; command < 5; command++) network.propose("n1", [transition(`lost-${command}`)]);
    network.heal();
    network.isolate("n1");
    network.campaign("n2");
    for (let command = 0; command < 3; command++) network.propose("n2", [transition(`kept-${command}`)]);
    network.deliverAll();
    expect(logOf(network, "n1")).not.toEqual(logOf(network, "n2"));
    network.heal();
    network.passTime(3);
    expect(logOf(network, "n1")).toEqual(logOf(network, "n2"));
    expect(logOf(network, "n3")).toEqual(logOf(network, "n2"));
    expect(network.applied.get("n1")?.some((entry) => JSON.stringify(entry.command).includes("lost"))).toBe(false);
  });

  it("backs up a term at a time: fewer Rejects than conflicting entries (§5.3 fast backup)", () => {
    const network = new Network(3, { seed: 22, config: { checkQuorum: false } });
    network.campaign("n1");
    network.isolate("n1");
    for (let command = 0; command < 50; command++) network.propose("n1", [transition(`stale-${command}`)]);
    network.heal();
    network.isolate("n1");
    network.campaign("n2");
    for (let command = 0; command < 50; command++) network.propose("n2", [transition(`new-${command}`)]);
    network.deliverAll();
    let rejects = 0;
    network.filter = (envelope) => {
      if (envelope.body.type === "Reject") rejects++;
      return true;
    };
    network.heal();
    network.passTime(2);
    expect(logOf(network, "n1")).toEqual(logOf(network, "n2"));
    expect(rejects).toBeGreaterThan(0);
    expect(rejects).toBeLessThanOrEqual(3);
  });

  it("keeps several Proposals in flight and recovers from a lost one through Reject and probe (pipelining)", () => {
    const network = new Network(3, { seed: 23, config: { entriesPerProposalMax: 1, inflightProposalsMax: 4 } });
    network.campaign("n1");
    network.deliverAll();
    for (let command = 0; command < 10; command++) network.propose("n1", [transition(`k${command}`)]);
    const toN2 = network.pending().filter((envelope) => envelope.to === "n2" && envelope.body.type === "Proposal");
    expect(toN2).toHaveLength(4);
    let dropped = false;
    network.filter = (envelope) => {
      if (!dropped && envelope.to === "n2" && envelope.body.type === "Proposal") {
        dropped = true;
        return false;
      }
      return true;
    };
    let sawProbe = false;
    const statusOfN2 = () => network.node("n1").status().progress.find((progress) => progress.id === "n2");
    for (let step = 0; step < 200 && network.pending().length > 0; step++) {
      network.deliver(1);
      if (statusOfN2()?.state === "probe") sawProbe = true;
    }
    expect(sawProbe).toBe(true);
    network.passTime(2);
    expect(statusOfN2()).toMatchObject({ state: "replicate", matchIndex: 11 });
    expect(network.applied.get("n2")).toHaveLength(11);
  });

  it("sends no Commit as replication goes on: the commit index rides the next Proposal, or the next heartbeat (issue 13)", () => {
    const network = new Network(3, { seed: 26 });
    network.campaign("n1");
    network.heartbeat();
    const sentByLeader: string[] = [];
    network.filter = (envelope) => {
      if (envelope.from === "n1") sentByLeader.push(envelope.body.type);
      return true;
    };
    const first = network.propose("n1", [transition("first")]);
    network.deliverAll();
    expect(first).toMatchObject({ ok: true });
    const firstIndex = first.ok && !first.forwarded ? first.index : -1;
    expect(network.node("n1").status().commitIndex).toBe(firstIndex);
    // One Proposal per follower and nothing else: no Commit message per commit.
    expect(sentByLeader).toEqual(["Proposal", "Proposal"]);
    for (const id of ["n2", "n3"]) expect(network.node(id).status().commitIndex).toBe(firstIndex - 1);
    network.propose("n1", [transition("second")]);
    network.deliverAll();
    // The second entry's Proposal carried the first one's commit.
    for (const id of ["n2", "n3"]) expect(network.applied.get(id)?.at(-1)?.command).toEqual(transition("first"));
    network.heartbeat();
    for (const id of ["n2", "n3"]) expect(network.applied.get(id)?.at(-1)?.command).toEqual(transition("second"));
    expect(sentByLeader.filter((type) => type === "Commit")).toEqual([]);
  });

  it("recovers when the last Proposal of a burst is lost and nothing follows it (stall detection)", () => {
    const network = new Network(3, { seed: 24 });
    network.campaign("n1");
    network.holdEntriesTo("n2");
    network.propose("n1", [transition("lost-once")]);
    network.deliverAll();
    network.filter = null;
    network.passTime(15);
    expect(network.applied.get("n2")?.at(-1)?.command).toEqual(transition("lost-once"));
  });

  it("a follower forwards proposals to the leader, which commits them (DESIGN §2)", () => {
    const network = new Network(3, { seed: 25 });
    network.campaign("n1");
    expect(network.propose("n2", [transition("via-n2")])).toEqual({ ok: true, forwarded: true, leader: "n1" });
    network.deliverAll();
    network.heartbeat();
    for (const id of network.ids) expect(network.applied.get(id)?.at(-1)?.command).toEqual(transition("via-n2"));
  });

  it("answers no_leader and overloaded instead of queueing without bound", () => {
    const network = new Network(3, { seed: 26, config: { uncommittedEntriesMax: 3 } });
    expect(network.propose("n1", [transition("early")])).toEqual({ ok: false, reason: "no_leader" });
    network.campaign("n1");
    network.isolate("n1");
    expect(network.propose("n1", [transition("a"), transition("b")])).toMatchObject({ ok: true });
    expect(network.propose("n1", [transition("c"), transition("d")])).toEqual({ ok: false, reason: "overloaded" });
  });
});

describe("replication overlapping the leader's write (Raft §10.2.1)", () => {
  it("takeMessages hands out new Proposals while a Ready awaits advance, and nothing that promises durability", () => {
    const network = new Network(3, { seed: 5 });
    network.campaign("n1");
    const leader = network.node("n1");
    leader.propose([transition("a")]);
    const outstanding = leader.ready();
    // The write of `outstanding` is in flight; a new proposal arrives meanwhile.
    const proposed = leader.propose([transition("b")]);
    expect(proposed.ok).toBe(true);
    const early = leader.takeMessages();
    expect(early.length).toBeGreaterThan(0);
    expect(early.every((envelope) => envelope.body.type === "Proposal" || envelope.body.type === "Commit")).toBe(true);
    expect(early.some((envelope) => envelope.body.type === "Proposal" && envelope.body.entries.some((entry) => entry.command.kind === "transition" && entry.command.key === "b"))).toBe(true);
    // The leader still counts itself only after advance: nothing is committed by the early send.
    expect(leader.status().commitIndex).toBeLessThan(leader.status().lastIndex);
    leader.advance(outstanding);
    leader.assertInvariants();
  });
});
