import type { Entry } from "@lockstep/protocol";
import { describe, expect, it } from "vitest";
import { ArrayStorage, CapturingTransport, ManualClock, RecordingLogger, RecordingMetrics, settle, startDriver } from "../testing/driver-harness.js";
import { droppedMessageLogIntervalMs } from "./dropped-message-log.js";

const noop = (index: number, term: number): Entry => ({ index, term, command: { kind: "noop" } });

/** n2 follows leader n1 in term 1 with the no-op at index 1 committed. */
function followerStorage(): ArrayStorage {
  const storage = new ArrayStorage();
  storage.hardState = { term: 1, votedFor: "n1", commitIndex: 1 };
  storage.entries = [noop(1, 1)];
  return storage;
}

describe("the driver survives what real peers send", () => {
  it("a late answer to a read of an earlier incarnation does not serve a new read at its old index (stale read)", async () => {
    const clock = new ManualClock();
    const storage = followerStorage();
    const first = new CapturingTransport();
    const before = await startDriver({ clock, transport: first, storage, seed: 1 });
    first.deliver("n1", "n2", { type: "Proposal", term: 1, prevIndex: 1, prevTerm: 1, entries: [], commitIndex: 1 });
    await settle();
    void before.read("web-1");
    await settle();
    const oldRequest = first.bodies("ReadIndexRequest")[0];
    expect(oldRequest).toBeDefined();
    // The process restarts within the term; meanwhile the leader commits web-1 -> Running at index 2,
    // which this node has not received yet.
    before.halt();
    const second = new CapturingTransport();
    const after = await startDriver({ clock, transport: second, storage, seed: 2 });
    second.deliver("n1", "n2", { type: "Proposal", term: 1, prevIndex: 1, prevTerm: 1, entries: [], commitIndex: 1 });
    await settle();
    let answer: unknown = null;
    void after.read("web-1").then((outcome) => (answer = outcome));
    await settle();
    const newRequest = second.bodies("ReadIndexRequest")[0];
    expect(newRequest?.context).not.toBe(oldRequest?.context);
    // The leader's answer to the old read arrives late: it names the index before the write.
    second.deliver("n1", "n2", { type: "ReadIndexResponse", term: 1, context: oldRequest?.context ?? 0, index: 1 });
    await settle();
    expect(answer).toBeNull();
    // The answer to the new read carries the write's index; the read waits for it and sees it.
    second.deliver("n1", "n2", {
      type: "Proposal",
      term: 1,
      prevIndex: 1,
      prevTerm: 1,
      entries: [{ index: 2, term: 1, command: { kind: "transition", key: "web-1", to: "Running" } }],
      commitIndex: 2,
    });
    second.deliver("n1", "n2", { type: "ReadIndexResponse", term: 1, context: newRequest?.context ?? 0, index: 2 });
    await settle();
    second.deliver("n1", "n2", { type: "Commit", term: 1, commitIndex: 2 });
    await settle();
    expect(answer).toMatchObject({ ok: true, key: "web-1", state: "Running" });
    after.halt();
  });

  it("refuses a snapshot from the leader that does not decode: nothing saved, nothing acknowledged, the node keeps running", async () => {
    const clock = new ManualClock();
    const storage = followerStorage();
    const transport = new CapturingTransport();
    const metrics = new RecordingMetrics();
    let fatal: unknown = null;
    const node = await startDriver({ clock, transport, storage, seed: 3, metrics, onFatal: (error) => (fatal = error) });
    const garbage = Buffer.from("not a snapshot at all").toString("base64");
    transport.deliver("n1", "n2", { type: "SnapshotChunk", term: 1, snapshotIndex: 50, snapshotTerm: 1, offset: 0, data: garbage, done: true });
    await settle();
    expect(storage.snapshotsSaved).toEqual([]);
    expect(fatal).toBeNull();
    expect(node.status()).toMatchObject({ stopped: false, commitIndex: 1 });
    expect(transport.sent.filter((envelope) => envelope.body.type === "Acknowledgment" || envelope.body.type === "SnapshotAck")).toEqual([]);
    expect(metrics.counter("messages_dropped_total", { type: "SnapshotChunk", reason: "snapshot_invalid" })).toBe(1);
    // A restart finds nothing undecodable on disk.
    node.halt();
    const restarted = await startDriver({ clock, transport: new CapturingTransport(), storage, seed: 4 });
    expect(restarted.status().stopped).toBe(false);
    restarted.halt();
  });

  it("counts every dropped message by type and reason and logs each peer at most once a minute", async () => {
    const clock = new ManualClock();
    const storage = followerStorage();
    const transport = new CapturingTransport();
    const metrics = new RecordingMetrics();
    const logger = new RecordingLogger();
    const node = await startDriver({ clock, transport, storage, seed: 5, metrics, logger });
    const forged = () => transport.deliver("n9", "n2", { type: "Forward", term: 1, commands: [{ kind: "transition", key: "k", to: "Running" }] });
    const huge = () => transport.deliver("n3", "n2", { type: "Proposal", term: Number.MAX_SAFE_INTEGER, prevIndex: 0, prevTerm: 0, entries: [], commitIndex: 0 });
    for (let round = 0; round < 5; round++) {
      forged();
      huge();
      await settle();
    }
    const warnings = () => logger.lines.filter((line) => line.level === "warn" && line.message.startsWith("peer message dropped"));
    expect(metrics.counter("messages_dropped_total", { type: "Forward", reason: "not_a_member" })).toBe(5);
    expect(metrics.counter("messages_dropped_total", { type: "Proposal", reason: "term_too_large" })).toBe(5);
    expect(warnings().map((line) => (line.fields as { peer: string }).peer).sort()).toEqual(["n3", "n9"]);
    expect(storage.hardState.term).toBe(1);
    await clock.advance(droppedMessageLogIntervalMs);
    forged();
    await settle();
    expect(warnings().length).toBe(3);
    // Every drop is accounted for in the log too: the lines' counts plus what each says it skipped.
    const n9 = warnings().filter((line) => (line.fields as { peer: string }).peer === "n9").map((line) => line.fields as { count: number; droppedSinceLastLog: number });
    expect(n9.length).toBe(2);
    expect(n9.reduce((total, line) => total + line.count + line.droppedSinceLastLog, 0)).toBe(6);
    node.halt();
  });
});
