import type { ConsensusEnvelope, Envelope } from "@lockstep/protocol";
import { describe, expect, it } from "vitest";
import { defaultCoreConfig } from "./core-config.js";
import { emptyHardState, type HardState } from "./interfaces.js";
import { RaftCore } from "./raft-core.js";
import { Network, transition } from "./testing/network.js";
import { seededRandom } from "./testing/seeded-random.js";

function voter(hardState: HardState): RaftCore {
  const config = { ...defaultCoreConfig, id: "n2", cluster: "c", members: ["n1", "n2", "n3"], random: seededRandom(7) };
  return new RaftCore(config, { hardState, snapshot: null, entries: [] });
}

function voteRequest(from: string, term: number): ConsensusEnvelope {
  return {
    v: 1,
    cluster: "c",
    from,
    to: "n2",
    body: { type: "VoteRequest", term, lastIndex: 0, lastTerm: 0, preVote: false, transfer: false },
  };
}

describe("leader election (Raft §5.2)", () => {
  it.each([3, 5])("elects one leader in a %i-node cluster and replicates through it (its first entry: the bootstrap configuration)", (size) => {
    const network = new Network(size, { seed: size });
    network.campaign("n1");
    expect(network.leader()).toBe("n1");
    const term = network.node("n1").status().term;
    for (const id of network.ids) expect(network.node(id).status()).toMatchObject({ term, leader: "n1" });
    expect(network.propose("n1", [transition("web-1")])).toMatchObject({ ok: true, forwarded: false, index: 2, term });
    network.deliverAll();
    network.heartbeat();
    for (const id of network.ids) {
      expect(network.applied.get(id)?.map((entry) => entry.command.kind)).toEqual(["members", "transition"]);
    }
  });

  it("elects a leader with only ticks (randomized timeouts, §5.2)", () => {
    const network = new Network(5, { seed: 11 });
    network.passTime(60);
    expect(network.leader()).not.toBeNull();
  });

  it("never has two leaders in one term, over many seeds with message loss and reordering (§5.2 Election Safety)", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const network = new Network(5, { seed, dropRate: 0.2, reorder: true });
      const leaderOfTerm = new Map<number, string>();
      for (let round = 0; round < 200; round++) {
        network.tickAll();
        network.deliverAll();
        if (round % 50 === 25) network.isolate(network.ids[round % 5] ?? "n1");
        if (round % 50 === 45) network.heal();
        for (const id of network.ids) {
          const status = network.node(id).status();
          if (status.role !== "leader") continue;
          const known = leaderOfTerm.get(status.term);
          if (known !== undefined && known !== id) throw new Error(`seed ${seed}: ${known} and ${id} both lead term ${status.term}`);
          leaderOfTerm.set(status.term, id);
          if (round % 7 === 0) network.propose(id, [transition(`k${round}`)]);
        }
      }
      // Liveness once the network is healthy again.
      network.heal();
      network.dropRate = 0;
      network.passTime(40);
      const leader = network.leader();
      expect(leader, `seed ${seed}`).not.toBeNull();
      expect(network.propose(leader ?? "n1", [transition("final")])).toMatchObject({ ok: true });
      network.passTime(3);
      for (const id of network.ids) expect(network.applied.get(id)?.at(-1)?.command, `seed ${seed}`).toEqual(transition("final"));
    }
  });

  it("a node with a stale log cannot win (election restriction, §5.4.1)", () => {
    const network = new Network(3, { seed: 3, config: { preVote: false, checkQuorum: false } });
    network.campaign("n1");
    network.isolate("n3");
    for (let command = 0; command < 3; command++) network.propose("n1", [transition(`k${command}`)]);
    network.deliverAll();
    network.heal();
    network.isolate("n1");
    const refusals: Envelope[] = [];
    network.filter = (envelope) => {
      if (envelope.body.type === "Vote" && !envelope.body.granted) refusals.push(envelope);
      return true;
    };
    for (let tick = 0; tick < 100; tick++) {
      network.tick("n3");
      network.deliverAll();
      expect(network.node("n3").status().role).not.toBe("leader");
    }
    expect(refusals.some((envelope) => envelope.from === "n2" && envelope.to === "n3")).toBe(true);
    network.campaign("n2");
    // The three committed transitions survive in the new leader's log, followed by its no-op.
    expect(network.node("n2").status()).toMatchObject({ lastIndex: 5, commitIndex: 5 });
  });

  it("persists term and vote in the same Ready whose messagesAfterPersist carries the Vote (§5.2, Figure 2)", () => {
    const node = voter(emptyHardState);
    // A first start: both other voters report that they hold no log either.
    for (const from of ["n1", "n3"]) node.step({ v: 1, cluster: "c", from, to: "n2", body: { type: "HistoryReport", term: 0, lastIndex: 0, snapshotIndex: 0 } });
    node.step(voteRequest("n1", 1));
    const ready = node.ready();
    expect(ready.hardState).toMatchObject({ term: 1, votedFor: "n1" });
    expect(ready.messages).toEqual([]);
    expect(ready.messagesAfterPersist.map((envelope) => envelope.body)).toEqual([{ type: "Vote", term: 1, granted: true, preVote: false }]);
    node.advance(ready);
    // After a crash the persisted vote still binds: one vote per term.
    const restarted = voter(ready.hardState ?? emptyHardState);
    restarted.step(voteRequest("n3", 1));
    expect(restarted.ready().messagesAfterPersist.map((envelope) => envelope.body)).toEqual([
      { type: "Vote", term: 1, granted: false, preVote: false },
    ]);
  });

  it.each([
    { preVote: true, disrupts: false },
    { preVote: false, disrupts: true },
  ])("an isolated node rejoining disturbs the term only without pre-vote (preVote=$preVote, thesis §9.6)", ({ preVote, disrupts }) => {
    const network = new Network(3, { seed: 5, config: { preVote, checkQuorum: false } });
    network.campaign("n1");
    const term = network.node("n1").status().term;
    network.isolate("n3");
    network.passTime(50);
    expect(network.leader()).toBe("n1");
    network.heal();
    network.passTime(5);
    const termAfter = network.node("n1").status().term;
    if (disrupts) expect(termAfter).toBeGreaterThan(term);
    else {
      expect(termAfter).toBe(term);
      expect(network.node("n3").status()).toMatchObject({ term, leader: "n1" });
    }
  });

  it("a leader cut off from the majority steps down after an election timeout (check-quorum, thesis §6.2)", () => {
    const network = new Network(3, { seed: 9 });
    network.campaign("n1");
    network.isolate("n1");
    for (let tick = 0; tick < defaultCoreConfig.electionTimeoutTicks - 1; tick++) network.tick("n1");
    expect(network.node("n1").status().role).toBe("leader");
    // Within the next window at the latest: the acknowledgments before the cut counted for the first.
    for (let tick = 0; tick <= defaultCoreConfig.electionTimeoutTicks; tick++) network.tick("n1");
    expect(network.node("n1").status().role).toBe("follower");
    // The majority elects a new leader; the old one rejoins as a follower.
    network.passTime(40);
    network.heal();
    network.passTime(5);
    const leader = network.leader();
    expect(leader === "n2" || leader === "n3").toBe(true);
    expect(network.node("n1").status().leader).toBe(leader);
  });

  it("followers that hear from a leader ignore a disruptive vote request (leader lease, thesis §6.2)", () => {
    const network = new Network(3, { seed: 13, config: { preVote: false } });
    network.campaign("n1");
    const term = network.node("n1").status().term;
    network.node("n2").step({
      v: 1,
      cluster: network.cluster,
      from: "n3",
      to: "n2",
      body: { type: "VoteRequest", term: term + 5, lastIndex: 99, lastTerm: 99, preVote: false, transfer: false },
    });
    expect(network.node("n2").status()).toMatchObject({ term, leader: "n1" });
  });
});
