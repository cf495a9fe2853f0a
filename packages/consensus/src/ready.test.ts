import type { ConsensusEnvelope, Envelope, SnapshotChunk } from "@lockstep/protocol";
import { describe, expect, it } from "vitest";
import { encodeBase64 } from "./base64.js";
import { defaultCoreConfig, type CoreConfig } from "./core-config.js";
import { emptyHardState } from "./interfaces.js";
import { RaftCore } from "./raft-core.js";
import type { Ready } from "./ready.js";
import { Network, transition } from "./testing/network.js";
import { seededRandom } from "./testing/seeded-random.js";

describe("the Ready contract (ready.ts): the core decides what must be durable before what", () => {
  it("hands out a committed entry to apply only once it is durable here, even when followers acknowledged it first", () => {
    // Five nodes: three followers are a majority without the leader, so the leader can learn that
    // an entry is committed while its own write of that entry has not even been handed out.
    const network = new Network(5, { seed: 71 });
    network.campaign("n1");
    const leader = network.node("n1");
    leader.propose([transition("first")]);
    const writing = leader.ready();
    // While `writing` is outstanding the leader takes another proposal and replicates it at once.
    leader.propose([transition("second")]);
    const second = leader.status().lastIndex;
    for (const envelope of [...writing.messages, ...leader.takeMessages()]) {
      network.node(envelope.to).step(envelope as ConsensusEnvelope);
      network.processReady(envelope.to);
    }
    for (const envelope of network.pending().filter((pending) => pending.to === "n1")) leader.step(envelope as ConsensusEnvelope);
    network.drop();
    expect(leader.status().commitIndex).toBe(second);
    leader.advance(writing);
    const handed: Ready[] = [];
    while (leader.hasReady()) {
      const ready = leader.ready();
      handed.push(ready);
      const written = new Set(ready.entries.map((entry) => entry.index));
      for (const entry of ready.committedEntries) expect(written.has(entry.index), `entry ${entry.index} applied in the Ready that writes it`).toBe(false);
      leader.advance(ready);
      leader.assertInvariants();
    }
    expect(handed.flatMap((ready) => ready.committedEntries.map((entry) => entry.index))).toContain(second);
  });

  it("hands out a commit-index-only change with no hard state and nothing to sync", () => {
    const network = new Network(3, { seed: 72 });
    network.campaign("n1");
    network.keepReadyLog = true;
    network.propose("n1", [transition("web-1")]);
    network.deliverAll();
    network.heartbeat();
    const follower = network.readyLog.get("n2") ?? [];
    const applying = follower.find((ready) => ready.committedEntries.some((entry) => entry.command.kind === "transition"));
    expect(applying).toBeDefined();
    expect(applying).toMatchObject({ mustSync: false, hardState: null, entries: [], snapshot: null });
    // The commit index reached the follower all the same, for observation.
    expect(applying?.commitIndex).toBe(network.node("n2").status().commitIndex);
  });

  it("syncs a vote before answering it (Raft Figure 2)", () => {
    const network = new Network(3, { seed: 73 });
    network.keepReadyLog = true;
    network.campaign("n1");
    const voting = (network.readyLog.get("n2") ?? []).find((ready) => ready.messagesAfterPersist.some((envelope) => envelope.body.type === "Vote" && !envelope.body.preVote));
    expect(voting).toMatchObject({ mustSync: true, hardState: { votedFor: "n1" } });
    expect(voting?.messages.some((envelope) => envelope.body.type === "Vote")).toBe(false);
  });
});

describe("forwarded reads expire (Raft thesis §6.4)", () => {
  it("fails and forgets forwarded reads whose answers were lost, so new reads are not refused as overloaded", () => {
    const forwardedReadTimeoutTicks = 20;
    const network = new Network(3, { seed: 74, config: { pendingReadsMax: 2, forwardedReadTimeoutTicks } });
    network.campaign("n1");
    // Heartbeats flow, so n2 keeps following n1; only the read traffic is lost.
    network.filter = (envelope: Envelope) => envelope.body.type !== "ReadIndexRequest" && envelope.body.type !== "ReadIndexResponse";
    expect(network.read("n2", 101)).toEqual({ ok: true });
    expect(network.read("n2", 102)).toEqual({ ok: true });
    expect(network.read("n2", 103)).toEqual({ ok: false, reason: "overloaded" });
    network.passTime(forwardedReadTimeoutTicks);
    expect(network.node("n2").status()).toMatchObject({ role: "follower", leader: "n1" });
    expect(network.readFailures.get("n2")).toEqual([
      { context: 101, reason: "timeout" },
      { context: 102, reason: "timeout" },
    ]);
    network.filter = null;
    expect(network.read("n2", 104)).toEqual({ ok: true });
    network.deliverAll();
    expect(network.readStates.get("n2")?.map((state) => state.context)).toEqual([104]);
  });

  it("restarts the clock of a read that is asked again", () => {
    const network = new Network(3, { seed: 75, config: { forwardedReadTimeoutTicks: 10 } });
    network.campaign("n1");
    network.filter = (envelope: Envelope) => envelope.body.type !== "ReadIndexRequest";
    network.read("n2", 7);
    network.passTime(6);
    network.read("n2", 7);
    network.passTime(6);
    expect(network.readFailures.get("n2")).toEqual([]);
    network.passTime(4);
    expect(network.readFailures.get("n2")).toEqual([{ context: 7, reason: "timeout" }]);
  });
});

describe("snapshots are checked before they are kept (Raft §7)", () => {
  function follower(verify: CoreConfig["verifySnapshot"]): RaftCore {
    const config: CoreConfig = {
      ...defaultCoreConfig,
      id: "n2",
      cluster: "c",
      members: ["n1", "n2", "n3"],
      random: seededRandom(3),
      ...(verify === undefined ? {} : { verifySnapshot: verify }),
    };
    return new RaftCore(config, { hardState: { ...emptyHardState, term: 1 }, snapshot: null, entries: [] });
  }
  const chunk = (data: Uint8Array): ConsensusEnvelope => {
    const body: SnapshotChunk = { type: "SnapshotChunk", term: 1, snapshotIndex: 10, snapshotTerm: 1, offset: 0, data: encodeBase64(data), done: true };
    return { v: 1, cluster: "c", from: "n1", to: "n2", body };
  };

  it("refuses a snapshot that does not verify: nothing to keep, nothing acknowledged, the drop counted", () => {
    const node = follower((snapshot) => (snapshot.data[0] === 1 ? { ok: true } : { ok: false, reason: "checksum_mismatch" }));
    node.step(chunk(Uint8Array.of(0, 2, 3)));
    const ready = node.ready();
    expect(ready.snapshot).toBeNull();
    expect(ready.mustSync).toBe(false);
    expect([...ready.messages, ...ready.messagesAfterPersist].map((envelope) => envelope.body.type)).toEqual([]);
    expect(ready.droppedMessages).toEqual([{ from: "n1", type: "SnapshotChunk", reason: "snapshot_invalid", count: 1 }]);
    node.advance(ready);
    expect(node.status()).toMatchObject({ commitIndex: 0, firstIndex: 1 });
    // The leader's resend of a good snapshot is then taken.
    node.step(chunk(Uint8Array.of(1, 2, 3)));
    const accepted = node.ready();
    expect(accepted.snapshot?.meta.index).toBe(10);
    expect(accepted.messagesAfterPersist.map((envelope) => envelope.body)).toEqual([{ type: "Acknowledgment", term: 1, matchIndex: 10 }]);
  });
});

describe("a restart after a power cut that kept entries but not their hard state", () => {
  it("resumes in the entries' term with no vote, instead of breaking the log's term invariant", () => {
    const config: CoreConfig = { ...defaultCoreConfig, id: "n2", cluster: "c", members: ["n1", "n2", "n3"], random: seededRandom(9) };
    // The write of term 6's first entries held the hard state too; only the entries survived.
    const node = new RaftCore(config, { hardState: { ...emptyHardState }, snapshot: null, entries: [{ index: 1, term: 6, command: { kind: "noop" } }] });
    node.assertInvariants();
    expect(node.status()).toMatchObject({ term: 6, lastIndex: 1 });
    const ready = node.ready();
    expect(ready.hardState).toEqual({ term: 6, votedFor: null, commitIndex: 0 });
    expect(ready.mustSync).toBe(true);
  });
});

describe("an acknowledgment whose entries are replaced before its Ready is written (seed 729636)", () => {
  const config: CoreConfig = { ...defaultCoreConfig, id: "n5", cluster: "c", members: ["n1", "n2", "n3", "n4", "n5"], random: seededRandom(36) };
  const entry = (index: number, term: number) => ({ index, term, command: { kind: "noop" as const } });
  const proposal = (from: string, term: number, entries: ReturnType<typeof entry>[]): ConsensusEnvelope => ({
    v: 1,
    cluster: "c",
    from,
    to: "n5",
    body: { type: "Proposal", term, prevIndex: 0, prevTerm: 0, entries, commitIndex: 0 },
  });
  const acknowledgments = (ready: Ready) =>
    ready.messagesAfterPersist.flatMap((envelope) => (envelope.body.type === "Acknowledgment" ? [{ to: envelope.to, ...envelope.body }] : []));

  it("is withdrawn when a new leader's entries replace them in the same Ready: the old leader must not count entries never made durable", () => {
    const node = new RaftCore(config, { hardState: { ...emptyHardState, term: 3 }, snapshot: null, entries: [] });
    // n4 leads term 4 and sends indexes 1-3; before this node's next Ready, n2 (term 5) replaces them.
    node.step(proposal("n4", 4, [entry(1, 4), entry(2, 4), entry(3, 4)]));
    node.step(proposal("n2", 5, [entry(1, 5)]));
    const ready = node.ready();
    expect(ready.entries.map((written) => `${written.index}/${written.term}`)).toEqual(["1/5"]);
    expect(acknowledgments(ready)).toEqual([{ to: "n2", type: "Acknowledgment", term: 5, matchIndex: 1 }]);
  });

  it("keeps an acknowledgment for entries the new leader's append left in place", () => {
    const node = new RaftCore(config, { hardState: { ...emptyHardState, term: 3 }, snapshot: null, entries: [] });
    node.step(proposal("n4", 4, [entry(1, 4), entry(2, 4), entry(3, 4)]));
    // n2's log agrees up to index 2 and differs at 3: only an acknowledgment of index 3 or later is false.
    node.step({ ...proposal("n2", 5, []), body: { type: "Proposal", term: 5, prevIndex: 2, prevTerm: 4, entries: [entry(3, 5)], commitIndex: 0 } });
    node.step({ ...proposal("n2", 5, []), body: { type: "Proposal", term: 5, prevIndex: 1, prevTerm: 4, entries: [], commitIndex: 0 } });
    const ready = node.ready();
    expect(acknowledgments(ready).map((ack) => `${ack.to}:${ack.term}:${ack.matchIndex}`)).toEqual(["n2:5:3", "n2:5:1"]);
  });

  it("is withdrawn when a snapshot replaces the log in the same Ready", () => {
    const node = new RaftCore(config, { hardState: { ...emptyHardState, term: 3 }, snapshot: null, entries: [] });
    node.step(proposal("n4", 4, [entry(1, 4), entry(2, 4), entry(3, 4)]));
    const body: SnapshotChunk = { type: "SnapshotChunk", term: 5, snapshotIndex: 10, snapshotTerm: 5, offset: 0, data: encodeBase64(Uint8Array.of(1)), done: true };
    node.step({ v: 1, cluster: "c", from: "n2", to: "n5", body });
    const ready = node.ready();
    expect(ready.snapshot?.meta.index).toBe(10);
    expect(acknowledgments(ready)).toEqual([{ to: "n2", type: "Acknowledgment", term: 5, matchIndex: 10 }]);
  });
});
