import type { NodeId } from "@lockstep/protocol";
import { describe, expect, it } from "vitest";
import { Network, transition } from "./testing/network.js";

/**
 * Protocol-aware repair (issue 11, point 5; Alagappan et al., FAST 2018): a voter that starts on
 * an empty disk under an id the cluster knows, or whose log recovery found damage, never votes
 * or counts toward a commit until it has caught up. A repair that lasts longer than an election
 * timeout goes through the learner configuration: the leader demotes it through the log and
 * promotes it again once it says it is no longer recovering, with no operator.
 */

function voters(network: Network, id: NodeId): NodeId[] {
  return network.node(id).members().filter((member) => member.voter).map((member) => member.id);
}

/** A 3-node cluster led by n1 with two transitions committed everywhere. */
function cluster(options: { autoPromote?: boolean; seed?: number } = {}): Network {
  const network = new Network(3, { seed: options.seed ?? 31, config: { autoPromote: options.autoPromote ?? true, checkQuorum: true } });
  network.campaign("n1");
  network.propose("n1", [transition("a")]);
  network.deliverAll();
  network.propose("n1", [transition("b")]);
  network.deliverAll();
  network.heartbeat();
  for (const id of network.ids) expect(network.node(id).status().commitIndex).toBe(3);
  return network;
}

/**
 * Runs the cluster a tick at a time and records each voter list n1 puts into effect, checking on
 * every tick that n3 is never a voter again while it still says it is recovering.
 */
function runRecordingVoters(network: Network, ticks: number): string[] {
  const seen = [voters(network, "n1").join(",")];
  for (let tick = 0; tick < ticks; tick++) {
    network.passTime(1);
    const now = voters(network, "n1").join(",");
    if (now !== seen[seen.length - 1]) {
      seen.push(now);
      if (now.includes("n3")) expect(network.node("n3").status().recovering, "n3 promoted while still recovering").toBe(false);
    }
  }
  return seen;
}

describe("a voter that may have lost data rejoins as a learner and is promoted again (protocol-aware repair)", () => {
  it("after its data directory was wiped: demoted to learner, caught up, promoted to voter again", () => {
    const network = cluster();
    network.wipe("n3");
    // A repair longer than an election timeout (10 ticks): its log's entries are held back for 30.
    network.holdEntriesTo("n3");
    const held = runRecordingVoters(network, 30);
    network.filter = null;
    const seen = [...held, ...runRecordingVoters(network, 300).slice(1)];
    expect(seen).toEqual(["n1,n2,n3", "n1,n2", "n1,n2,n3"]);
    expect(network.node("n3").status()).toMatchObject({ recovering: false, commitIndex: network.node("n1").status().commitIndex });
    // Nothing committed was lost (the network checks every apply against every other node's).
    expect(network.node("n3").status().appliedIndex).toBeGreaterThanOrEqual(3);
  });

  it("after its log recovery found damage at the end (a possible loss): the same", () => {
    const network = cluster();
    network.restartAfterLoss("n3", 2);
    expect(network.node("n3").status().recovering).toBe(true);
    network.holdEntriesTo("n3");
    const held = runRecordingVoters(network, 30);
    network.filter = null;
    const seen = [...held, ...runRecordingVoters(network, 300).slice(1)];
    expect(seen).toEqual(["n1,n2,n3", "n1,n2", "n1,n2,n3"]);
    expect(network.node("n3").status().recovering).toBe(false);
  });

  it("the leader shows the member as recovering in its progress until it says it is not", () => {
    const network = cluster();
    network.restartAfterLoss("n3", 2);
    // A heartbeat's worth: n3 answers, still recovering (its log lacks the commit index).
    network.holdEntriesTo("n3");
    network.passTime(3);
    const progress = network.node("n1").status().progress.find((entry) => entry.id === "n3");
    expect(progress).toMatchObject({ recovering: true, voter: true });
    network.passTime(30);
    expect(network.node("n1").status().progress.find((entry) => entry.id === "n3")).toMatchObject({ recovering: true, voter: false });
    network.filter = null;
    network.passTime(300);
    expect(network.node("n1").status().progress.find((entry) => entry.id === "n3")).toMatchObject({ recovering: false, voter: true });
  });

  it("as a learner its acknowledgments count toward no commit: with the other voter cut off, nothing commits", () => {
    const network = cluster();
    network.restartAfterLoss("n3", 2);
    // Keep n3 recovering (no Proposal with entries reaches it) until the demotion is in effect.
    network.holdEntriesTo("n3");
    for (let tick = 0; tick < 100 && voters(network, "n1").includes("n3"); tick++) network.passTime(1);
    expect(voters(network, "n1")).toEqual(["n1", "n2"]);
    network.filter = null;
    network.isolate("n2");
    const before = network.node("n1").status().commitIndex;
    network.propose("n1", [transition("c")]);
    network.deliverAll();
    network.tick("n1");
    network.deliverAll();
    // n3 holds c (it acknowledged it), but only n1 and n2 vote and count.
    expect(network.node("n3").status().lastIndex).toBe(network.node("n1").status().lastIndex);
    expect(network.node("n1").status().commitIndex).toBe(before);
    network.heal();
    network.passTime(300);
    expect(voters(network, "n1")).toEqual(["n1", "n2", "n3"]);
    expect(network.node("n3").status().commitIndex).toBe(network.node("n1").status().commitIndex);
  });

  it("is not demoted when the demotion would lose quorum: with n2 down, n3 stays a recovering voter and the cluster goes on", () => {
    const network = cluster();
    network.isolate("n2");
    // n1 no longer counts n2 as reachable once an election timeout passed without a word from it.
    network.passTime(30);
    network.restartAfterLoss("n3", 2);
    const seen = runRecordingVoters(network, 100);
    expect(seen).toEqual(["n1,n2,n3"]);
    network.propose("n1", [transition("c")]);
    network.passTime(5);
    // n1 and n3 commit c; n3, caught up through an entry of n1's term, recovered on the way.
    expect(network.node("n3").status()).toMatchObject({ recovering: false, commitIndex: network.node("n1").status().commitIndex });
    expect(network.node("n1").status().commitIndex).toBeGreaterThan(3);
  });

  it("with autoPromote off it is not demoted (only an operator would promote it again): it stays a recovering voter until caught up", () => {
    const network = cluster({ autoPromote: false });
    network.restartAfterLoss("n3", 2);
    const seen = runRecordingVoters(network, 200);
    expect(seen).toEqual(["n1,n2,n3"]);
    expect(network.node("n3").status().recovering).toBe(false);
  });

  it("is not demoted when its repair ends within an election timeout (a founder a moment late at a first start, a short log)", () => {
    const network = cluster();
    network.wipe("n3");
    expect(runRecordingVoters(network, 300)).toEqual(["n1,n2,n3"]);
    expect(network.node("n3").status()).toMatchObject({ recovering: false, commitIndex: network.node("n1").status().commitIndex });
  });

  it("while recovering as a voter, its match counts toward no commit as long as the others make a majority", () => {
    const network = cluster({ autoPromote: false });
    network.restartAfterLoss("n3", 2);
    // n2 takes over from n1 (n3's recovering vote counts for nothing; n1's grant elects it) and
    // is cut off from n1 as soon as it leads: its first entry reaches only the recovering n3.
    expect(network.node("n1").transferLeadership("n2")).toBe(true);
    for (let step = 0; step < 200 && network.node("n2").status().role !== "leader"; step++) {
      if (network.pending().length === 0) network.tick("n1");
      network.deliver(1);
    }
    expect(network.node("n2").status().role).toBe("leader");
    network.cut("n1", "n2");
    network.deliverAll();
    const n2 = network.node("n2").status();
    // n3 holds n2's first entry and acknowledged it, still recovering (no commit index of n2's term has reached it).
    expect(network.node("n3").status()).toMatchObject({ lastIndex: n2.lastIndex, recovering: true });
    // Counted, n3's acknowledgment would have committed it with n2's own.
    expect(n2.commitIndex).toBeLessThan(n2.lastIndex);
    network.heal();
    network.passTime(30);
    const leader = network.leader() as string;
    for (const id of network.ids) expect(network.node(id).status()).toMatchObject({ recovering: false, commitIndex: network.node(leader).status().commitIndex });
  });
});
