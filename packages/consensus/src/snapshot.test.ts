import type { ConsensusEnvelope, SnapshotChunk } from "@lockstep/protocol";
import { describe, expect, it } from "vitest";
import { encodeBase64 } from "./base64.js";
import { defaultCoreConfig } from "./core-config.js";
import { emptyHardState } from "./interfaces.js";
import { RaftCore } from "./raft-core.js";
import { Network, transition } from "./testing/network.js";
import { seededRandom } from "./testing/seeded-random.js";

const snapshotData = Uint8Array.from({ length: 250 }, (_, position) => (position * 7) % 256);

describe("snapshot catch-up (Raft §7)", () => {
  it("sends a follower that fell behind a compaction the snapshot in chunks, then the rest of the log", () => {
    const network = new Network(3, { seed: 51, config: { snapshotChunkBytesMax: 64 } });
    network.campaign("n1");
    network.isolate("n3");
    for (let command = 0; command < 20; command++) network.propose("n1", [transition(`k${command}`)]);
    network.deliverAll();
    network.compact("n1", 15, snapshotData);
    expect(network.node("n1").status().firstIndex).toBe(16);
    let chunks = 0;
    network.filter = (envelope) => {
      if (envelope.body.type === "SnapshotChunk") {
        chunks++;
        expect(envelope.body.data.length).toBeLessThanOrEqual(Math.ceil(64 / 3) * 4);
      }
      return true;
    };
    network.heal();
    network.passTime(defaultCoreConfig.electionTimeoutTicks + 2);
    expect(chunks).toBeGreaterThanOrEqual(4);
    const installed = network.snapshotsInstalled.get("n3") ?? [];
    expect(installed.map((snapshot) => snapshot.meta.index)).toEqual([15]);
    expect(Array.from(installed[0]?.data ?? [])).toEqual(Array.from(snapshotData));
    expect(network.node("n3").status()).toMatchObject({ firstIndex: 16, lastIndex: 21, commitIndex: 21, appliedIndex: 21 });
    const progress = network.node("n1").status().progress.find((entry) => entry.id === "n3");
    expect(progress).toMatchObject({ state: "replicate", matchIndex: 21 });
    network.propose("n1", [transition("after-snapshot")]);
    network.deliverAll();
    network.heartbeat();
    expect(network.applied.get("n3")?.at(-1)?.command).toEqual(transition("after-snapshot"));
  });

  it("restarts from the persisted snapshot and the entries after it", () => {
    const network = new Network(3, { seed: 52 });
    network.campaign("n1");
    for (let command = 0; command < 5; command++) network.propose("n1", [transition(`k${command}`)]);
    network.deliverAll();
    network.heartbeat();
    network.compact("n2", 4, snapshotData);
    network.restart("n2");
    expect(network.node("n2").status()).toMatchObject({ firstIndex: 5, lastIndex: 6, appliedIndex: 4 });
    network.processReady("n2");
    // The commit index is durable only as far as the last write of entries carried it (a change of
    // the commit index alone is not synced): the rest is relearned from the leader's next heartbeat.
    const durableCommit = network.storage.get("n2")?.hardState.commitIndex ?? 0;
    expect(network.applied.get("n2")?.map((entry) => entry.index)).toEqual([1, 2, 3, 4, 5, 6].filter((index) => index <= Math.max(4, durableCommit)));
    network.tick("n1");
    network.deliverAll();
    expect(network.applied.get("n2")?.map((entry) => entry.index)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("accepts a compaction taken while a Ready is being handled, before advance (the driver's order)", () => {
    const network = new Network(1, { seed: 53 });
    network.campaign("n1");
    const node = network.node("n1");
    node.propose([transition("a"), transition("b")]);
    const persisting = node.ready();
    node.advance(persisting);
    const applying = node.ready();
    expect(applying.committedEntries.map((entry) => entry.index)).toEqual([2, 3]);
    node.compact({ meta: { index: 3, term: 1, members: [{ id: "n1", peerAddress: "", clientUrl: "", voter: true }] }, data: snapshotData });
    expect(() => node.compact({ meta: { index: 4, term: 1, members: [{ id: "n1", peerAddress: "", clientUrl: "", voter: true }] }, data: snapshotData })).toThrow(/beyond applied/);
    node.advance(applying);
    node.assertInvariants();
    expect(node.status()).toMatchObject({ firstIndex: 4, appliedIndex: 3, commitIndex: 3 });
    expect(node.hasReady()).toBe(false);
  });

  describe("follower side: stale and out-of-order chunks are refused with the expected offset", () => {
    function follower(): RaftCore {
      const config = { ...defaultCoreConfig, id: "n2", cluster: "c", members: ["n1", "n2", "n3"], random: seededRandom(1), snapshotBytesMax: 100 };
      return new RaftCore(config, { hardState: { ...emptyHardState, term: 1 }, snapshot: null, entries: [] });
    }
    function chunk(fields: Partial<SnapshotChunk>): ConsensusEnvelope {
      const body: SnapshotChunk = { type: "SnapshotChunk", term: 1, snapshotIndex: 10, snapshotTerm: 1, offset: 0, data: encodeBase64(new Uint8Array(30)), done: false, ...fields };
      return { v: 1, cluster: "c", from: "n1", to: "n2", body };
    }
    function answers(node: RaftCore): unknown[] {
      const ready = node.ready();
      node.advance(ready);
      return [...ready.messages, ...ready.messagesAfterPersist].map((envelope) => envelope.body);
    }

    it("accepts in order, refuses a wrong offset and a chunk of another snapshot", () => {
      const node = follower();
      node.step(chunk({}));
      expect(answers(node)).toEqual([{ type: "SnapshotAck", term: 1, snapshotIndex: 10, offset: 30, done: false, accepted: true }]);
      node.step(chunk({ offset: 60 }));
      expect(answers(node)).toEqual([{ type: "SnapshotAck", term: 1, snapshotIndex: 10, offset: 30, done: false, accepted: false }]);
      node.step(chunk({ snapshotIndex: 8, offset: 30 }));
      expect(answers(node)).toEqual([{ type: "SnapshotAck", term: 1, snapshotIndex: 8, offset: 0, done: false, accepted: false }]);
      node.step(chunk({ offset: 30, done: true }));
      const ready = node.ready();
      // A chunk without a member list: the follower keeps its own configuration for the snapshot.
      expect(ready.snapshot?.meta).toEqual({ index: 10, term: 1, members: ["n1", "n2", "n3"].map((id) => ({ id, peerAddress: "", clientUrl: "", voter: true })) });
      expect(ready.snapshot?.data.length).toBe(60);
      expect(ready.messagesAfterPersist.map((envelope) => envelope.body)).toEqual([{ type: "Acknowledgment", term: 1, matchIndex: 10 }]);
      node.advance(ready);
      expect(node.status()).toMatchObject({ firstIndex: 11, commitIndex: 10, appliedIndex: 10 });
      node.assertInvariants();
    });

    it("refuses a snapshot larger than snapshotBytesMax", () => {
      const node = follower();
      node.step(chunk({ data: encodeBase64(new Uint8Array(80)) }));
      answers(node);
      node.step(chunk({ offset: 80, data: encodeBase64(new Uint8Array(80)) }));
      expect(answers(node)).toEqual([{ type: "SnapshotAck", term: 1, snapshotIndex: 10, offset: 0, done: false, accepted: false }]);
    });
  });
});
