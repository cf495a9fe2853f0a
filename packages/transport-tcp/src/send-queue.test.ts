import { describe, expect, it } from "vitest";
import { SendQueue, type QueuedFrame } from "./send-queue.js";

function item(id: number, bytes = 10): QueuedFrame {
  return { frame: new Uint8Array(bytes).fill(id), type: `t${id}`, retries: 0 };
}

const ids = (items: readonly QueuedFrame[]): string[] => items.map((queued) => queued.type);

describe("SendQueue", () => {
  it("drops the oldest when the message bound is reached", () => {
    const queue = new SendQueue({ messagesMax: 3, bytesMax: 1000 });
    expect(ids([1, 2, 3].flatMap((id) => queue.push(item(id))))).toEqual([]);
    expect(ids(queue.push(item(4)))).toEqual(["t1"]);
    expect(queue.length).toBe(3);
    expect(ids(queue.takeBatch(1000))).toEqual(["t2", "t3", "t4"]);
  });

  it("drops as many of the oldest as needed to respect the byte bound", () => {
    const queue = new SendQueue({ messagesMax: 100, bytesMax: 30 });
    queue.push(item(1));
    queue.push(item(2));
    queue.push(item(3));
    expect(ids(queue.push(item(4, 25)))).toEqual(["t1", "t2", "t3"]);
    expect(queue.bytes).toBe(25);
  });

  it("takes batches up to a byte budget, but always at least one frame", () => {
    const queue = new SendQueue({ messagesMax: 100, bytesMax: 1000 });
    queue.push(item(1, 50));
    queue.push(item(2, 10));
    queue.push(item(3, 10));
    expect(ids(queue.takeBatch(20))).toEqual(["t1"]);
    expect(ids(queue.takeBatch(20))).toEqual(["t2", "t3"]);
    expect(queue.length).toBe(0);
    expect(queue.bytes).toBe(0);
  });

  it("retain removes what the visitor rejects and keeps order", () => {
    const queue = new SendQueue({ messagesMax: 100, bytesMax: 1000 });
    for (const id of [1, 2, 3, 4]) queue.push(item(id));
    queue.takeBatch(10);
    expect(ids(queue.retain((queued) => queued.type !== "t3"))).toEqual(["t3"]);
    expect(ids(queue.clear())).toEqual(["t2", "t4"]);
  });

  it("stays consistent over many pushes and takes (head compaction)", () => {
    const queue = new SendQueue({ messagesMax: 5000, bytesMax: 1_000_000 });
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 50; round++) {
      for (let index = 0; index < 300; index++) queue.push(item(next++, 1));
      for (const taken of queue.takeBatch(250)) expect(taken.type).toBe(`t${expected++}`);
    }
    expect(queue.length).toBe(next - expected);
    expect(queue.bytes).toBe(next - expected);
  });
});
