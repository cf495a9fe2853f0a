import type { Envelope } from "@lockstep/protocol";
import type { StorageWrite } from "../interfaces.js";
import { describe, expect, it } from "vitest";
import { ArrayStorage, CapturingTransport, ManualClock, settle, startDriver } from "../testing/driver-harness.js";

/** One line per call the node makes, in order: `send <type> <to>`, `flush`, `persist <entries>`. */
type Trace = string[];

class TracingTransport extends CapturingTransport {
  constructor(private readonly trace: Trace) {
    super();
  }

  override send(envelope: Envelope): void {
    super.send(envelope);
    this.trace.push(`send ${envelope.body.type} ${envelope.to}`);
  }

  flush(): void {
    this.trace.push("flush");
  }
}

class TracingStorage extends ArrayStorage {
  constructor(private readonly trace: Trace) {
    super();
  }

  override persist(write: StorageWrite): Promise<void> {
    this.trace.push(`persist ${write.entries.length}`);
    return super.persist(write);
  }
}

/** n2 as a follower of n1 in term 1, its no-op committed, every call it makes traced (and every entry it applies, if asked). */
async function tracedFollower(seed: number, traceApplies = false): Promise<{ trace: Trace; transport: TracingTransport; node: Awaited<ReturnType<typeof startDriver>> }> {
  const trace: Trace = [];
  const storage = new TracingStorage(trace);
  storage.hardState = { term: 1, votedFor: "n1", commitIndex: 1 };
  storage.entries = [{ index: 1, term: 1, command: { kind: "noop" } }];
  const transport = new TracingTransport(trace);
  const onApplied = (event: { index: number }): void => void trace.push(`apply ${event.index}`);
  const node = await startDriver({ clock: new ManualClock(), transport, storage, seed, ...(traceApplies ? { onApplied } : {}) });
  return { trace, transport, node };
}

/** A transition of `key` at `index` in term 1. */
const write = (index: number, key: string) => ({ index, term: 1, command: { kind: "transition" as const, key, to: "Running" } });

/** Plays n1 and n3 granting every vote n2 asks for, until n2 leads. */
async function electN2(clock: ManualClock, transport: CapturingTransport, node: { summary(): { role: string } }): Promise<void> {
  let answered = 0;
  for (let step = 0; step < 200 && node.summary().role !== "leader"; step++) {
    await clock.advance(10);
    for (const request of transport.bodies("VoteRequest").slice(answered)) {
      answered++;
      for (const voter of ["n1", "n3"]) transport.deliver(voter, "n2", { type: "Vote", term: request.term, granted: true, preVote: request.preVote });
    }
    await settle();
  }
  expect(node.summary().role).toBe("leader");
}

describe("messages leave before the log write they do not wait for", () => {
  it("a leader flushes its Proposals to the transport before it persists the entries they carry", async () => {
    const trace: Trace = [];
    const clock = new ManualClock();
    const transport = new TracingTransport(trace);
    const node = await startDriver({ clock, transport, storage: new TracingStorage(trace), seed: 11 });
    await electN2(clock, transport, node);
    // The followers store the new leader's no-op, so both are replicating (not probing) when the write comes.
    for (const envelope of transport.sent.filter((sent) => sent.body.type === "Proposal")) {
      if (envelope.body.type !== "Proposal") continue;
      const matchIndex = envelope.body.prevIndex + envelope.body.entries.length;
      transport.deliver(envelope.to, "n2", { type: "Acknowledgment", term: envelope.body.term, matchIndex });
    }
    await settle();
    expect(node.summary().commitIndex).toBe(1);
    trace.length = 0;
    void node.transition({ key: "web-1", to: "Running" });
    await settle();
    const persisted = trace.indexOf("persist 1");
    expect(persisted).toBeGreaterThan(0);
    const before = trace.slice(0, persisted);
    // Both followers' Proposals were sent, then handed to the network, before the write began.
    expect(before.filter((line) => line.startsWith("send Proposal"))).toHaveLength(2);
    expect(before.at(-1)).toBe("flush");
    node.halt();
  });

  it("a follower flushes its Acknowledgment as soon as the entries are durable, not at the end of the turn", async () => {
    const { trace, transport, node } = await tracedFollower(12);
    trace.length = 0;
    transport.deliver("n1", "n2", { type: "Proposal", term: 1, prevIndex: 1, prevTerm: 1, entries: [write(2, "web-1")], commitIndex: 1 });
    await settle();
    const persisted = trace.indexOf("persist 1");
    const acknowledged = trace.indexOf("send Acknowledgment n1");
    expect(persisted).toBeGreaterThanOrEqual(0);
    // The Acknowledgment promises durability: it is sent only after the write, then flushed at once.
    expect(acknowledged).toBeGreaterThan(persisted);
    expect(trace[acknowledged + 1]).toBe("flush");
    node.halt();
  });

  it("a follower applies newly committed entries after its write and Acknowledgment, not before them", async () => {
    const { trace, transport, node } = await tracedFollower(13, true);
    transport.deliver("n1", "n2", { type: "Proposal", term: 1, prevIndex: 1, prevTerm: 1, entries: [write(2, "web-1")], commitIndex: 1 });
    await settle();
    trace.length = 0;
    // Entry 3 to store, and the news that entry 2 (durable here already) is committed.
    transport.deliver("n1", "n2", { type: "Proposal", term: 1, prevIndex: 2, prevTerm: 1, entries: [write(3, "web-2")], commitIndex: 2 });
    await settle();
    expect(trace).toEqual(["persist 1", "send Acknowledgment n1", "flush", "apply 2"]);
    node.halt();
  });
});
