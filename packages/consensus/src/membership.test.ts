import type { ConsensusEnvelope, Member, NodeId } from "@lockstep/protocol";
import { describe, expect, it } from "vitest";
import { defaultCoreConfig } from "./core-config.js";
import type { Logger } from "./interfaces.js";
import { Network, transition } from "./testing/network.js";
import { RaftCore } from "./raft-core.js";
import { seededRandom } from "./testing/seeded-random.js";

const member = (id: NodeId, voter = true): Member => ({ id, peerAddress: "", clientUrl: "", voter });
const newcomer = (id: NodeId) => ({ id, peerAddress: `127.0.0.1:7${id.slice(1)}00`, clientUrl: `http://127.0.0.1:8${id.slice(1)}00` });

function voters(network: Network, id: NodeId): NodeId[] {
  return network.node(id).status().members.filter((entry) => entry.voter).map((entry) => entry.id);
}

function learners(network: Network, id: NodeId): NodeId[] {
  return network.node(id).status().members.filter((entry) => !entry.voter).map((entry) => entry.id);
}

/** A 3-node cluster led by n1 with its bootstrap configuration committed; auto-promotion off unless asked. */
function cluster(options: { autoPromote?: boolean; size?: number; seed?: number; deadMemberRemoveAfterTicks?: number } = {}): Network {
  const network = new Network(options.size ?? 3, {
    seed: options.seed ?? 111,
    config: {
      autoPromote: options.autoPromote ?? false,
      ...(options.deadMemberRemoveAfterTicks === undefined ? {} : { deadMemberRemoveAfterTicks: options.deadMemberRemoveAfterTicks }),
    },
  });
  network.campaign("n1");
  network.deliverAll();
  network.heartbeat();
  return network;
}

/** Adds n4 as a learner through n1 and lets it catch up. */
function withLearner(network: Network): void {
  network.join("n4");
  const proposed = network.node("n1").proposeMembershipChange({ kind: "add_learner", member: newcomer("n4") });
  expect(proposed).toMatchObject({ ok: true });
  network.processReady("n1");
  network.deliverAll();
  network.tick("n1");
  network.deliverAll();
}

/** Adds n4 as a learner, promotes it through n1, and checks every node counts it as a voter. */
function withPromotedLearner(network: Network): void {
  withLearner(network);
  expect(network.node("n1").proposeMembershipChange({ kind: "promote", id: "n4" })).toMatchObject({ ok: true });
  network.processReady("n1");
  network.deliverAll();
  network.tick("n1");
  network.deliverAll();
  for (const id of network.ids) expect(voters(network, id)).toEqual(["n1", "n2", "n3", "n4"]);
}

describe("configuration changes through the log (Raft thesis §4.1-4.4, single-server changes)", () => {
  it("writes the bootstrap configuration as the cluster's first entry, and the configuration comes from the log after that (§4.1)", () => {
    const network = cluster();
    for (const id of network.ids) {
      expect(network.applied.get(id)?.[0]?.command).toEqual({ kind: "members", members: [member("n1"), member("n2"), member("n3")] });
      expect(voters(network, id)).toEqual(["n1", "n2", "n3"]);
    }
  });

  it("adds a learner: it receives the log and its addresses are in the configuration, but it never counts toward a commit (§4.2.1)", () => {
    const network = cluster();
    withLearner(network);
    for (const id of network.ids) expect(learners(network, id)).toEqual(["n4"]);
    expect(network.node("n4").status().members.find((entry) => entry.id === "n4")).toEqual({ ...newcomer("n4"), voter: false });
    expect(network.applied.get("n4")?.length).toBe(network.applied.get("n1")?.length);
    // With both voting followers cut off, the learner's acknowledgments do not make a majority.
    network.isolate("n2");
    network.isolate("n3");
    const before = network.node("n1").status().commitIndex;
    network.propose("n1", [transition("learner-alone")]);
    network.deliverAll();
    expect(network.node("n4").status().lastIndex).toBe(network.node("n1").status().lastIndex);
    expect(network.node("n1").status().commitIndex).toBe(before);
  });

  it("a learner never campaigns (§4.2.1)", () => {
    const network = cluster();
    withLearner(network);
    network.isolate("n1");
    for (let tick = 0; tick < 10 * defaultCoreConfig.electionTimeoutTicks; tick++) network.tick("n4");
    expect(network.node("n4").status()).toMatchObject({ role: "follower" });
    expect(network.pending().some((envelope) => envelope.from === "n4" && envelope.body.type === "VoteRequest")).toBe(false);
  });

  it("a learner asked for its vote grants it: its promotion may have committed without it, and the new configuration needs it to elect a leader (etcd-io/raft does the same)", () => {
    const network = cluster();
    withLearner(network);
    // The promotion commits on n1, n2 and n3; n4 never hears of it.
    network.cut("n1", "n4");
    expect(network.node("n1").proposeMembershipChange({ kind: "promote", id: "n4" })).toMatchObject({ ok: true });
    network.deliverAll();
    network.passTime(2);
    for (const id of ["n1", "n2", "n3"]) expect(voters(network, id)).toEqual(["n1", "n2", "n3", "n4"]);
    expect(learners(network, "n4")).toEqual(["n4"]);
    // The leader goes away: n2 or n3 needs three of four votes, one of them n4's.
    network.heal();
    network.isolate("n1");
    network.passTime(300);
    const leader = network.leader();
    expect(leader === "n2" || leader === "n3").toBe(true);
    network.passTime(5);
    expect(voters(network, "n4")).toEqual(["n1", "n2", "n3", "n4"]);
  });

  it("promotes a learner to voter; from then on commits need a majority of four (§4.1)", () => {
    const network = cluster();
    withPromotedLearner(network);
    // Two of four (n1 and n2) no longer commit; three do.
    network.isolate("n3");
    network.isolate("n4");
    const before = network.node("n1").status().commitIndex;
    network.propose("n1", [transition("two-of-four")]);
    network.deliverAll();
    expect(network.node("n1").status().commitIndex).toBe(before);
    network.heal();
    network.isolate("n4");
    // The lost Proposal is resent once the leader notices the stall (an election timeout).
    for (let tick = 0; tick <= defaultCoreConfig.electionTimeoutTicks; tick++) {
      network.tick("n1");
      network.deliverAll();
    }
    expect(network.node("n1").status().commitIndex).toBeGreaterThan(before);
  });

  it("promotes a learner by itself once it stays within promoteLagEntriesMax for promoteStableTicks", () => {
    const network = cluster({ autoPromote: true });
    withLearner(network);
    expect(learners(network, "n1")).toEqual(["n4"]);
    network.passTime(defaultCoreConfig.promoteStableTicks + 2);
    for (const id of network.ids) expect(voters(network, id)).toEqual(["n1", "n2", "n3", "n4"]);
  });

  // Seed 3000113: within promoteLagEntriesMax of a short log, a learner that had acknowledged
  // nothing was promoted; a restart that kept none of what it had received (allowed: nothing was
  // acknowledged) left a voter that knew itself in no configuration and refused every vote.
  it("promotes only a learner that acknowledged the leader's log through the configuration naming it, by itself or when asked", () => {
    const network = cluster({ autoPromote: true });
    network.join("n4");
    network.cut("n1", "n4");
    expect(network.node("n1").proposeMembershipChange({ kind: "add_learner", member: newcomer("n4") })).toMatchObject({ ok: true });
    network.processReady("n1");
    network.deliverAll();
    network.passTime(defaultCoreConfig.promoteStableTicks + 2);
    expect(learners(network, "n1")).toEqual(["n4"]);
    expect(network.node("n1").status().lastIndex).toBeLessThan(defaultCoreConfig.promoteLagEntriesMax);
    expect(network.node("n1").proposeMembershipChange({ kind: "promote", id: "n4" })).toEqual({ ok: false, reason: "learner_not_caught_up" });
    network.heal();
    network.passTime(defaultCoreConfig.promoteStableTicks + 2);
    for (const id of network.ids) expect(voters(network, id)).toEqual(["n1", "n2", "n3", "n4"]);
  });

  it("removes a follower; the removed node, knowing it, never campaigns again (§4.2.3)", () => {
    const network = cluster();
    expect(network.node("n1").proposeMembershipChange({ kind: "remove", id: "n3" })).toMatchObject({ ok: true });
    network.processReady("n1");
    network.deliverAll();
    network.tick("n1");
    network.deliverAll();
    for (const id of ["n1", "n2", "n3"]) expect(voters(network, id)).toEqual(["n1", "n2"]);
    network.isolate("n1");
    network.isolate("n2");
    for (let tick = 0; tick < 10 * defaultCoreConfig.electionTimeoutTicks; tick++) network.tick("n3");
    expect(network.node("n3").status().role).toBe("follower");
    expect(network.pending().some((envelope) => envelope.from === "n3" && envelope.body.type === "VoteRequest")).toBe(false);
  });

  it("a removed node that did not learn of its removal cannot disturb the others: its vote requests are dropped (§4.2.3)", () => {
    const network = cluster();
    network.isolate("n3");
    expect(network.node("n1").proposeMembershipChange({ kind: "remove", id: "n3" })).toMatchObject({ ok: true });
    network.processReady("n1");
    network.deliverAll();
    network.tick("n1");
    network.deliverAll();
    const term = network.node("n1").status().term;
    network.heal();
    network.isolate("n1");
    network.dropRate = 0;
    // n3 still believes it is a voter and campaigns; n2 drops what a non-member asks.
    for (let tick = 0; tick < 4 * defaultCoreConfig.electionTimeoutTicks; tick++) {
      network.tick("n3");
      network.deliverAll();
    }
    expect(network.node("n2").status().term).toBe(term);
    expect((network.dropped.get("n2") ?? []).some((drop) => drop.from === "n3" && drop.reason === "not_a_member")).toBe(true);
  });

  it("removes the leader: it commits the removal, hands leadership over and steps down for good (§4.2.2)", () => {
    const network = cluster();
    expect(network.node("n1").proposeMembershipChange({ kind: "remove", id: "n1" })).toMatchObject({ ok: true });
    network.processReady("n1");
    network.deliverAll();
    network.tick("n1");
    network.deliverAll();
    expect(network.node("n1").status().role).toBe("follower");
    network.passTime(3 * defaultCoreConfig.electionTimeoutTicks);
    const leader = network.leader();
    expect(leader === "n2" || leader === "n3").toBe(true);
    expect(voters(network, leader ?? "n2")).toEqual(["n2", "n3"]);
    network.propose(leader ?? "n2", [transition("after-the-old-leader")]);
    network.deliverAll();
    network.heartbeat();
    expect(network.applied.get(leader === "n2" ? "n3" : "n2")?.at(-1)?.command).toEqual(transition("after-the-old-leader"));
    expect(network.node("n1").status().role).toBe("follower");
  });

  it("a removed leader leads until most of the remaining voters know its removal is committed, so they can elect without it once its machine is gone (membership churn, seed 2100064)", () => {
    // Four voters; n4 is down. A configuration takes effect once committed, so a voter that holds
    // n1's removal but not the news of its commit still needs 3 of {n1, n2, n3, n4}.
    const network = cluster({ size: 4 });
    network.isolate("n4");
    const removal = network.node("n1").proposeMembershipChange({ kind: "remove", id: "n1" });
    expect(removal).toMatchObject({ ok: true });
    const removalIndex = removal.ok ? removal.index : 0;
    // The Commit and the TimeoutNow sent the moment the removal commits are lost.
    network.filter = (envelope) => {
      if (envelope.from !== "n1" || network.node("n1").status().commitIndex < removalIndex) return true;
      const body = envelope.body;
      return body.type !== "TimeoutNow" && body.type !== "Commit" && !(body.type === "Proposal" && body.commitIndex >= removalIndex);
    };
    network.processReady("n1");
    network.deliverAll();
    network.filter = null;
    // The operator retires n1's machine once it no longer leads.
    for (let tick = 0; tick < 10 * defaultCoreConfig.electionTimeoutTicks && network.node("n1").status().role === "leader"; tick++) network.passTime(1);
    expect(network.node("n1").status().role).toBe("follower");
    network.isolate("n1");
    network.passTime(10 * defaultCoreConfig.electionTimeoutTicks);
    const leader = network.leader();
    expect(leader === "n2" || leader === "n3").toBe(true);
    expect(voters(network, leader ?? "n2")).toEqual(["n2", "n3", "n4"]);
    network.propose(leader ?? "n2", [transition("without-the-removed-leader")]);
    network.deliverAll();
    // The commit index reaches the follower with the next heartbeat.
    network.passTime(defaultCoreConfig.heartbeatTicks);
    expect(network.applied.get(leader === "n2" ? "n3" : "n2")?.at(-1)?.command).toEqual(transition("without-the-removed-leader"));
  });

  it("a member whose own view of the configuration lags (it restarted with an older commit index) grants its vote when asked: the others may need it (membership churn, seed 2101013)", () => {
    const network = cluster({ autoPromote: false });
    withPromotedLearner(network);
    // n4 restarts having lost its latest hard state: the commit index it knows is from before it
    // was added, so in its own view it is no member at all (it joined with no configuration).
    const stored = network.storage.get("n4");
    if (stored === undefined) throw new Error("no storage for n4");
    stored.hardState = { ...stored.hardState, commitIndex: 1 };
    network.restart("n4");
    expect(network.node("n4").status().members.map((entry) => entry.id)).not.toContain("n4");
    // The leader is gone: a new one needs 3 of the 4 voters, n4's vote among them.
    network.isolate("n1");
    network.passTime(10 * defaultCoreConfig.electionTimeoutTicks);
    const leader = network.leader();
    expect(leader === "n2" || leader === "n3").toBe(true);
    expect(network.node(leader ?? "n2").status().term).toBeGreaterThan(network.node("n1").status().term);
  });

  it("refuses a change whose majority needs a voter still recovering from a lost disk (it grants no vote until caught up), so the leader's removal cannot leave a cluster that elects no one", () => {
    const network = cluster({ seed: 7 });
    for (let entry = 0; entry < 5; entry++) network.propose("n1", [transition(`k${entry}`)]);
    network.deliverAll();
    // n3 is away while leadership moves to n2; then its disk is lost and it comes back empty.
    network.isolate("n3");
    expect(network.node("n1").transferLeadership("n2")).toBe(true);
    network.deliverAll();
    expect(network.leader()).toBe("n2");
    network.restartAfterLoss("n3", 0);
    network.heal();
    // The leader hears from n3 (its answer to the first probe, once its own HistoryProbes are
    // answered) before n3 has caught up.
    let heard = false;
    for (let step = 0; step < 200 && !heard; step++) {
      const next = network.pending()[0];
      if (next === undefined) {
        network.tick("n2");
        network.tick("n3");
        continue;
      }
      heard = next.from === "n3" && next.to === "n2" && next.body.type !== "HistoryProbe" && next.body.type !== "HistoryReport";
      network.deliver(1);
      network.processReady("n2");
      network.processReady("n3");
    }
    expect(heard).toBe(true);
    expect(network.node("n3").status().recovering).toBe(true);
    // Removing n2 would leave n1 and n3, and n3 votes for no one yet.
    expect(network.node("n2").proposeMembershipChange({ kind: "remove", id: "n2" })).toEqual({ ok: false, reason: "would_lose_quorum" });
    // Once n3 has caught up (and so recovered), the same removal goes through and n1 or n3 leads.
    network.deliverAll();
    network.passTime(3);
    expect(network.node("n3").status().recovering).toBe(false);
    expect(network.node("n2").proposeMembershipChange({ kind: "remove", id: "n2" })).toMatchObject({ ok: true });
    network.deliverAll();
    network.passTime(100);
    const leader = network.leader();
    expect(leader === "n1" || leader === "n3").toBe(true);
  });

  it("logs each configuration change only once its state is consistent: a logger that reads status() on every line (the node's term mixin) sees every change through", () => {
    // The node's logger reads the term from status() on every line it writes; status() of a
    // leader walks the progress of every member, so a line logged between installing a
    // configuration and creating its progress crashed the leader (found by pnpm test:hosts).
    let network: Network | null = null;
    const lines: string[] = [];
    const readingLogger: Logger = {
      debug: () => undefined,
      info: (_fields, message) => {
        for (const core of network?.nodes.values() ?? []) core.status();
        lines.push(message);
      },
      warn: () => undefined,
      error: () => undefined,
      child: () => readingLogger,
    };
    network = new Network(3, { seed: 111, config: { autoPromote: false, logger: readingLogger } });
    network.campaign("n1");
    network.deliverAll();
    withLearner(network);
    expect(network.node("n1").proposeMembershipChange({ kind: "promote", id: "n4" })).toMatchObject({ ok: true });
    network.processReady("n1");
    network.deliverAll();
    expect(network.node("n1").proposeMembershipChange({ kind: "remove", id: "n3" })).toMatchObject({ ok: true });
    network.processReady("n1");
    network.deliverAll();
    network.tick("n1");
    network.deliverAll();
    expect(network.node("n1").proposeMembershipChange({ kind: "remove", id: "n1" })).toMatchObject({ ok: true });
    network.processReady("n1");
    network.deliverAll();
    network.passTime(3 * defaultCoreConfig.electionTimeoutTicks);
    const leader = network.leader();
    expect(leader === "n2" || leader === "n4").toBe(true);
    expect(voters(network, leader ?? "n2")).toEqual(["n2", "n4"]);
    expect(lines.filter((line) => line === "configuration in effect").length).toBeGreaterThanOrEqual(4);
  });

  it("refuses what it cannot do, with a reason", () => {
    const network = cluster();
    const leader = network.node("n1");
    expect(network.node("n2").proposeMembershipChange({ kind: "remove", id: "n3" })).toEqual({ ok: false, reason: "not_leader", leader: "n1" });
    expect(leader.proposeMembershipChange({ kind: "promote", id: "n9" })).toEqual({ ok: false, reason: "unknown_member" });
    expect(leader.proposeMembershipChange({ kind: "remove", id: "n9" })).toEqual({ ok: false, reason: "unknown_member" });
    expect(leader.proposeMembershipChange({ kind: "promote", id: "n2" })).toEqual({ ok: false, reason: "not_a_learner" });
    expect(leader.proposeMembershipChange({ kind: "add_learner", member: newcomer("n2") })).toEqual({ ok: false, reason: "already_member" });
    expect(leader.proposeMembershipChange({ kind: "add_learner", member: newcomer("n4") })).toMatchObject({ ok: true });
    // One change at a time: the first is not committed yet.
    expect(leader.proposeMembershipChange({ kind: "add_learner", member: newcomer("n5") })).toEqual({ ok: false, reason: "change_in_progress" });
    network.processReady("n1");
    network.deliverAll();
    // Removing n2 while n3 is unreachable would leave n1 alone out of {n1, n3}.
    network.isolate("n3");
    network.passTime(defaultCoreConfig.electionTimeoutTicks);
    expect(network.node("n1").proposeMembershipChange({ kind: "remove", id: "n2" })).toEqual({ ok: false, reason: "would_lose_quorum" });
  });

  it("a new leader changes nothing until it has committed an entry of its own term (the 2015 fix to single-server changes)", () => {
    const network = cluster();
    network.isolate("n1");
    // Votes flow but acknowledgments are lost: the new leader's no-op cannot commit.
    network.filter = (envelope) => envelope.body.type !== "Acknowledgment";
    network.passTime(3 * defaultCoreConfig.electionTimeoutTicks);
    const leader = network.leader();
    expect(leader === "n2" || leader === "n3").toBe(true);
    const status = network.node(leader ?? "n2").status();
    expect(status.commitIndex).toBeLessThan(status.lastIndex);
    expect(network.node(leader ?? "n2").proposeMembershipChange({ kind: "remove", id: "n1" })).toEqual({ ok: false, reason: "change_in_progress" });
    network.filter = null;
    network.passTime(3 * defaultCoreConfig.electionTimeoutTicks);
    const settled = network.leader();
    expect(network.node(settled ?? "n2").proposeMembershipChange({ kind: "remove", id: "n1" })).toMatchObject({ ok: true });
  });

  it("carries the configuration in snapshots: a learner added after compaction learns it from the snapshot", () => {
    const network = cluster();
    for (let command = 0; command < 5; command++) network.propose("n1", [transition(`k${command}`)]);
    network.deliverAll();
    const applied = network.node("n1").status().appliedIndex;
    network.compact("n1", applied, new TextEncoder().encode("store"));
    withLearner(network);
    network.passTime(defaultCoreConfig.electionTimeoutTicks + 2);
    const installed = network.snapshotsInstalled.get("n4") ?? [];
    expect(installed[0]?.meta.members).toEqual([member("n1"), member("n2"), member("n3")]);
    expect(learners(network, "n4")).toEqual(["n4"]);
    expect(voters(network, "n4")).toEqual(["n1", "n2", "n3"]);
  });

  it("after a restart the configuration comes from the log and snapshot, never from the bootstrap flags", () => {
    const network = cluster();
    withLearner(network);
    // The flags of n2's next start name another cluster altogether: they are ignored.
    network.setBootstrap("n2", ["n2", "n7", "n8"]);
    network.restart("n2");
    expect(voters(network, "n2")).toEqual(["n1", "n2", "n3"]);
    network.tick("n1");
    network.deliverAll();
    expect(learners(network, "n2")).toEqual(["n4"]);
    expect(voters(network, "n2")).toEqual(["n1", "n2", "n3"]);
  });

  it("removes a voter unreachable for deadMemberRemoveAfterTicks, never below votersMin (dead-server cleanup, off by default)", () => {
    const network = cluster({ size: 5, deadMemberRemoveAfterTicks: 30 });
    network.isolate("n5");
    network.passTime(40);
    expect(voters(network, "n1")).toEqual(["n1", "n2", "n3", "n4"]);
    network.isolate("n4");
    network.passTime(40);
    expect(voters(network, "n1")).toEqual(["n1", "n2", "n3"]);
    network.isolate("n3");
    network.passTime(40);
    expect(voters(network, "n1")).toEqual(["n1", "n2", "n3"]);
  });
});

// Seed 3000113: n5 joined (its config file lists no members), was promoted, and restarted with
// the entries that added it and its peers but an older commit index: the configuration in
// effect on it is the empty one. It dropped every VoteRequest and HistoryProbe as "not a member",
// and the four voters n1, n2, n3 and n5, with n2 on an empty disk, could elect no one.
describe("a node outside its own configuration", () => {
  it("takes VoteRequests from senders its stale configuration does not know, and votes", () => {
    const members = [
      { id: "n1", peerAddress: "", clientUrl: "", voter: true },
      { id: "n2", peerAddress: "", clientUrl: "", voter: true },
      { id: "n3", peerAddress: "", clientUrl: "", voter: true },
    ];
    const entries = [
      { index: 1, term: 1, command: { kind: "members" as const, members } },
      { index: 2, term: 2, command: { kind: "members" as const, members: [...members, { id: "n5", peerAddress: "", clientUrl: "", voter: true }] } },
    ];
    const config = { ...defaultCoreConfig, id: "n5", cluster: "c", members: [], random: seededRandom(4) };
    const node = new RaftCore(config, { hardState: { term: 2, votedFor: null, commitIndex: 0 }, snapshot: null, entries });
    node.advance(node.ready());
    expect(node.status().members).toEqual([]);
    node.step({ v: 1, cluster: "c", from: "n1", to: "n5", body: { type: "VoteRequest", term: 3, lastIndex: 2, lastTerm: 2, preVote: false, transfer: false } });
    const ready = node.ready();
    expect(ready.droppedMessages).toEqual([]);
    expect(ready.messagesAfterPersist.map((envelope) => envelope.body)).toContainEqual(expect.objectContaining({ type: "Vote", term: 3, granted: true, preVote: false }));
    node.advance(ready);
    node.step({ v: 1, cluster: "c", from: "n2", to: "n5", body: { type: "HistoryProbe", term: 0 } });
    expect(node.ready().messages.map((envelope) => envelope.body.type)).toEqual(["HistoryReport"]);
  });
});

// Seed 3004801: a follower learns the commit index only from the next Proposal or heartbeat, so it
// may hold a committed change and the change after it without knowing either committed, and then
// be elected. Its configuration in effect is then two changes behind the log's last one.
describe("a leader elected with two configuration entries above its commit index", () => {
  it("commits past them only with a majority of each entry's voters too", () => {
    const c0 = [member("n1"), member("n2"), member("n3"), member("n4", false)];
    const promoted = c0.map((entry) => (entry.id === "n4" ? { ...entry, voter: true } : entry));
    const removed = promoted.filter((entry) => entry.id !== "n3");
    const entries = [
      { index: 1, term: 1, command: { kind: "members" as const, members: c0 } },
      { index: 2, term: 1, command: { kind: "members" as const, members: promoted } },
      { index: 3, term: 1, command: { kind: "members" as const, members: removed } },
    ];
    const config = { ...defaultCoreConfig, id: "n1", cluster: "c", members: [], random: seededRandom(8), checkQuorum: false };
    const node = new RaftCore(config, { hardState: { term: 1, votedFor: null, commitIndex: 1 }, snapshot: null, entries });
    const envelope = (from: NodeId, body: ConsensusEnvelope["body"]): ConsensusEnvelope => ({ v: 1, cluster: "c", from, to: "n1", body });
    for (let tick = 0; tick < 100 && node.status().role !== "leader"; tick++) {
      node.tick();
      const ready = node.ready();
      node.advance(ready);
      for (const sent of [...ready.messages, ...ready.messagesAfterPersist]) {
        if (sent.to === "n2" && sent.body.type === "VoteRequest") node.step(envelope("n2", { type: "Vote", term: sent.body.term, granted: true, preVote: sent.body.preVote }));
      }
    }
    expect(node.status()).toMatchObject({ role: "leader", term: 2, commitIndex: 1 });
    node.advance(node.ready());
    expect(node.status().lastIndex).toBe(4);
    // n1 and n3 are a majority of the configuration in effect (index 1) but not of the one at 3.
    node.step(envelope("n3", { type: "Acknowledgment", term: 2, matchIndex: 4 }));
    node.advance(node.ready());
    expect(node.status().commitIndex).toBe(1);
    node.step(envelope("n2", { type: "Acknowledgment", term: 2, matchIndex: 4 }));
    node.advance(node.ready());
    expect(node.status().commitIndex).toBe(4);
  });
});

// Seeds 3101962, 3102276: a leader removed a voter and went (stepped down, or its machine was
// retired) before the others learned from a Proposal or heartbeat that the removal committed;
// one follower knew it, the others counted the removed voter still and could elect no one.
describe("a follower that does not know what committed", () => {
  const entries = [1, 2, 3].map((index) => ({ index, term: 1, command: { kind: "noop" as const } }));
  function follower(): RaftCore {
    const config = { ...defaultCoreConfig, id: "n3", cluster: "c", members: ["n1", "n2", "n3", "n4"], random: seededRandom(5) };
    const node = new RaftCore(config, { hardState: { term: 1, votedFor: null, commitIndex: 1 }, snapshot: null, entries });
    node.advance(node.ready());
    return node;
  }
  const voteRequest = (committed: { index: number; term: number }): ConsensusEnvelope => ({
    v: 1,
    cluster: "c",
    from: "n4",
    to: "n3",
    body: { type: "VoteRequest", term: 2, lastIndex: 2, lastTerm: 1, preVote: true, transfer: false, committed },
  });

  it("learns it from an election message whose committed entry its log holds with the same term", () => {
    const node = follower();
    node.step(voteRequest({ index: 3, term: 1 }));
    expect(node.status().commitIndex).toBe(3);
  });

  it("learns nothing from a committed entry of another term, or beyond its log", () => {
    const node = follower();
    node.step(voteRequest({ index: 3, term: 2 }));
    node.step(voteRequest({ index: 7, term: 1 }));
    expect(node.status().commitIndex).toBe(1);
  });

  it("tells its own in its election messages", () => {
    const node = follower();
    node.step(voteRequest({ index: 2, term: 1 }));
    const sent = node.ready().messagesAfterPersist.map((envelope) => envelope.body);
    expect(sent).toContainEqual(expect.objectContaining({ type: "Vote", committed: { index: 2, term: 1 } }));
  });
});

describe("a leader that removed a voter", () => {
  it("reports the change known only once a majority of the remaining voters has shown it knows the commit (seed 3104638)", () => {
    const network = cluster();
    // n2 hears nothing from n1 from here on: the removal commits on n1 + n3, under the old configuration.
    network.cut("n1", "n2");
    const proposed = network.node("n1").proposeMembershipChange({ kind: "remove", id: "n3" });
    expect(proposed).toMatchObject({ ok: true });
    const index = proposed.ok ? proposed.index : 0;
    for (let round = 0; round < 5; round++) {
      network.tick("n1");
      network.deliverAll();
    }
    expect(voters(network, "n1")).toEqual(["n1", "n2"]);
    expect(network.node("n2").status().commitIndex).toBeLessThan(index);
    expect(network.node("n1").configurationKnownIndex()).toBeLessThan(index);
    network.heal();
    for (let round = 0; round < 4 * defaultCoreConfig.heartbeatTicks + 4; round++) {
      network.tick("n1");
      network.deliverAll();
    }
    expect(network.node("n2").status().commitIndex).toBeGreaterThanOrEqual(index);
    expect(network.node("n1").configurationKnownIndex()).toBe(index);
  });
});

// Seed 6004471: the leader removed itself and stepped down by check-quorum before a majority of
// the others showed they knew; it was answered all the same and its machine retired. The one
// follower that had learned the commit restarted with an older commit index (only written with
// its next entries, never synced on its own), and the two left counted the retired voter.
describe("knowing a configuration change committed, durably", () => {
  it("writes and syncs the hard state at once when the commit index passes a configuration entry", () => {
    const entries = [
      { index: 1, term: 1, command: { kind: "members" as const, members: [member("n1"), member("n2"), member("n3")] } },
      { index: 2, term: 1, command: { kind: "members" as const, members: [member("n1"), member("n3")] } },
      { index: 3, term: 1, command: { kind: "noop" as const } },
    ];
    const config = { ...defaultCoreConfig, id: "n3", cluster: "c", members: [], random: seededRandom(6) };
    const node = new RaftCore(config, { hardState: { term: 1, votedFor: null, commitIndex: 1 }, snapshot: null, entries });
    node.advance(node.ready());
    const heartbeat = (commitIndex: number): ConsensusEnvelope => ({ v: 1, cluster: "c", from: "n1", to: "n3", body: { type: "Proposal", term: 1, prevIndex: 3, prevTerm: 1, entries: [], commitIndex } });
    node.step(heartbeat(2));
    const passed = node.ready();
    expect(passed).toMatchObject({ mustSync: true, hardState: { term: 1, commitIndex: 2 } });
    node.advance(passed);
    // Past an ordinary entry, the commit index still rides the next write of entries.
    node.step(heartbeat(3));
    const ordinary = node.ready();
    expect(ordinary.hardState).toBeNull();
    expect(ordinary.mustSync).toBe(false);
  });

  it("tells the driver its own removal is known only when a majority of the remaining voters showed it before it stepped down", () => {
    const handedOver = cluster({ size: 4 });
    const removal = handedOver.node("n1").proposeMembershipChange({ kind: "remove", id: "n1" });
    expect(removal).toMatchObject({ ok: true });
    for (let round = 0; round < 60 && handedOver.node("n1").status().role === "leader"; round++) {
      handedOver.tickAll();
      handedOver.deliverAll();
    }
    expect(handedOver.node("n1").status().role).not.toBe("leader");
    expect(handedOver.node("n1").leftKnownIndex()).toBe(removal.ok ? removal.index : -1);

    const cutOff = cluster({ size: 4, seed: 112 });
    const second = cutOff.node("n1").proposeMembershipChange({ kind: "remove", id: "n1" });
    expect(second).toMatchObject({ ok: true });
    // The removal commits, but no answer to a round opened after it arrives: n1 steps down at the wait's bound.
    cutOff.filter = (envelope) => !(envelope.body.type === "Acknowledgment" && envelope.body.context !== undefined);
    for (let round = 0; round < 10 * defaultCoreConfig.electionTimeoutTicks && cutOff.node("n1").status().role === "leader"; round++) {
      cutOff.tickAll();
      cutOff.deliverAll();
    }
    expect(cutOff.node("n1").status().role).not.toBe("leader");
    expect(cutOff.node("n1").leftKnownIndex()).toBe(0);
  });
});

describe("a node whose configuration is behind", () => {
  it("answers a VoteRequest from a voter it does not know when the sender knows more committed, and still drops one that knows no more (seed 7004599)", () => {
    const entries = [1, 2, 3].map((index) => ({ index, term: 1, command: index === 1 ? { kind: "members" as const, members: [member("n1"), member("n2"), member("n3")] } : { kind: "noop" as const } }));
    const config = { ...defaultCoreConfig, id: "n3", cluster: "c", members: [], random: seededRandom(9) };
    const node = new RaftCore(config, { hardState: { term: 1, votedFor: null, commitIndex: 1 }, snapshot: null, entries });
    node.advance(node.ready());
    const request = (from: string, committed: number): ConsensusEnvelope => ({
      v: 1,
      cluster: "c",
      from,
      to: "n3",
      body: { type: "VoteRequest", term: 2, lastIndex: 9, lastTerm: 1, preVote: false, transfer: false, committed: { index: committed, term: 1 } },
    });
    node.step(request("n9", 1));
    const dropped = node.ready();
    node.advance(dropped);
    expect(dropped.droppedMessages).toContainEqual(expect.objectContaining({ from: "n9", reason: "not_a_member" }));
    node.step(request("n4", 7));
    const answered = node.ready();
    expect(answered.messagesAfterPersist).toContainEqual(expect.objectContaining({ to: "n4", body: expect.objectContaining({ type: "Vote", term: 2, granted: true }) }));
  });
});
