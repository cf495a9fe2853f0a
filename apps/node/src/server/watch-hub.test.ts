import type { AppliedEvent } from "@lockstep/consensus";
import { describe, expect, it } from "vitest";
import { WatchHistory } from "./watch-history.js";
import { WatchHub, type WatchSocket } from "./watch-hub.js";

/** A socket whose buffer the test controls: sends complete only when `drain()` is called. */
class FakeSocket implements WatchSocket {
  bufferedAmount = 0;
  readonly sent: unknown[] = [];
  closedWith: { code: number; reason: string } | null = null;
  private pending: Array<() => void> = [];

  send(data: string, callback: (error?: Error) => void): void {
    this.sent.push(JSON.parse(data));
    this.bufferedAmount += data.length;
    this.pending.push(() => callback());
  }

  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
  }

  drain(): void {
    this.bufferedAmount = 0;
    const callbacks = this.pending;
    this.pending = [];
    for (const callback of callbacks) callback();
  }
}

function applied(index: number, key = "k", from = "Init", to = "Running"): AppliedEvent {
  return {
    index,
    term: 1,
    command: { kind: "transition", key, to },
    result: { ok: true, kind: "transition", key, from, to, revision: index },
  };
}

function noop(index: number): AppliedEvent {
  return { index, term: 1, command: { kind: "noop" }, result: { ok: true, kind: "noop" } };
}

function revisions(socket: FakeSocket): number[] {
  return socket.sent.filter((message) => (message as { type: string }).type === "transition").map((message) => (message as { revision: number }).revision);
}

describe("WatchHistory", () => {
  it("evicts the oldest event and advances the oldest resumable revision", () => {
    const history = new WatchHistory(2, 1);
    history.append({ type: "transition", revision: 3, key: "a", from: "Init", to: "Running" });
    history.append({ type: "transition", revision: 5, key: "a", from: "Running", to: "Stopped" });
    expect(history.oldestRevision).toBe(1);
    history.append({ type: "transition", revision: 9, key: "a", from: "Stopped", to: "Init" });
    expect(history.oldestRevision).toBe(4);
    expect(history.sequenceFor(4)).toBe(1);
    expect(history.sequenceFor(6)).toBe(2);
    expect(history.sequenceFor(10)).toBe(3);
    expect(history.at(0)).toBeUndefined();
  });
});

describe("WatchHub", () => {
  it("sends only transitions that were applied, not noops, rejections or session retries", () => {
    const hub = new WatchHub({ historyEventsMax: 10, bufferedBytesMax: 1 << 20, clientsMax: 4, appliedIndex: 0 });
    const socket = new FakeSocket();
    hub.subscribe(socket, 1);
    hub.onApplied(noop(1));
    hub.onApplied(applied(2));
    hub.onApplied({ index: 3, term: 1, command: { kind: "transition", key: "k", to: "Init" }, result: { ok: false, code: "invalid_transition", key: "k", from: "Running", to: "Init", allowed: ["Stopped"] } });
    // A retry answered from the session table: its result names the first revision.
    hub.onApplied({ ...applied(4), result: { ok: true, kind: "transition", key: "k", from: "Init", to: "Running", revision: 2 } });
    expect(revisions(socket)).toEqual([2]);
  });

  it("stops sending while the socket's buffer is over the bound and resumes when it drains", () => {
    const hub = new WatchHub({ historyEventsMax: 100, bufferedBytesMax: 150, clientsMax: 4, appliedIndex: 0 });
    const socket = new FakeSocket();
    hub.subscribe(socket, undefined);
    for (let index = 1; index <= 10; index++) hub.onApplied(applied(index));
    const sentBeforeDrain = revisions(socket).length;
    expect(sentBeforeDrain).toBeGreaterThan(0);
    expect(sentBeforeDrain).toBeLessThan(10);
    for (let round = 0; round < 10 && revisions(socket).length < 10; round++) socket.drain();
    expect(revisions(socket)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(socket.closedWith).toBeNull();
  });

  it("disconnects a consumer that falls a whole history behind with overloaded", () => {
    const hub = new WatchHub({ historyEventsMax: 4, bufferedBytesMax: 100, clientsMax: 4, appliedIndex: 0 });
    const slow = new FakeSocket();
    const fast = new FakeSocket();
    hub.subscribe(slow, undefined);
    hub.subscribe(fast, undefined);
    for (let index = 1; index <= 12; index++) {
      hub.onApplied(applied(index));
      fast.drain();
    }
    slow.drain();
    expect(slow.sent.at(-1)).toMatchObject({ type: "error", code: "overloaded" });
    expect(slow.closedWith?.reason).toBe("overloaded");
    expect(revisions(fast)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(hub.clientCount).toBe(1);
  });

  it("ends every watch with compacted when applied indexes jump (a snapshot was installed)", () => {
    const hub = new WatchHub({ historyEventsMax: 10, bufferedBytesMax: 1 << 20, clientsMax: 4, appliedIndex: 0 });
    const socket = new FakeSocket();
    hub.subscribe(socket, undefined);
    hub.onApplied(applied(1));
    hub.onApplied(applied(50));
    socket.drain();
    expect(socket.sent.at(-1)).toMatchObject({ type: "error", code: "compacted", oldestRevision: 50 });
    expect(hub.oldestRevision).toBe(50);
    const late = new FakeSocket();
    hub.subscribe(late, 2);
    late.drain();
    expect(late.sent[0]).toMatchObject({ type: "error", code: "compacted" });
  });

  it("refuses watches beyond clientsMax with overloaded", () => {
    const hub = new WatchHub({ historyEventsMax: 10, bufferedBytesMax: 1 << 20, clientsMax: 1, appliedIndex: 0 });
    hub.subscribe(new FakeSocket(), undefined);
    const refused = new FakeSocket();
    hub.subscribe(refused, undefined);
    refused.drain();
    expect(refused.sent[0]).toMatchObject({ type: "error", code: "overloaded" });
    expect(refused.closedWith).not.toBeNull();
  });

  it("keeps the entries re-applied from the log at start, after the snapshot they follow", () => {
    // A restarted node: its store holds a snapshot at 20 and re-applies 21..23 from its log.
    const hub = new WatchHub({ historyEventsMax: 10, bufferedBytesMax: 1 << 20, clientsMax: 4, appliedIndex: 0 });
    for (const index of [21, 22, 23]) hub.onApplied(applied(index));
    hub.startAfter(23);
    expect(hub.oldestRevision).toBe(21);
    const socket = new FakeSocket();
    hub.subscribe(socket, 21);
    expect(revisions(socket)).toEqual([21, 22, 23]);
    const below = new FakeSocket();
    hub.subscribe(below, 20);
    expect(below.sent[0]).toMatchObject({ type: "error", code: "compacted", oldestRevision: 21 });
  });

  it("starts after the snapshot when the node re-applied nothing", () => {
    const hub = new WatchHub({ historyEventsMax: 10, bufferedBytesMax: 1 << 20, clientsMax: 4, appliedIndex: 0 });
    hub.startAfter(20);
    expect(hub.oldestRevision).toBe(21);
    const socket = new FakeSocket();
    hub.subscribe(socket, 5);
    expect(socket.sent[0]).toMatchObject({ type: "error", code: "compacted", oldestRevision: 21 });
    const next = new FakeSocket();
    hub.subscribe(next, 21);
    hub.onApplied(applied(21));
    expect(revisions(next)).toEqual([21]);
    expect(() => hub.startAfter(3)).toThrow(/below the last entry/);
  });
});
