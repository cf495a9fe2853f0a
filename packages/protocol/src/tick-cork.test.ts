import { describe, expect, it } from "vitest";
import { tickCork } from "./tick-cork.js";

function fakeSocket(): { calls: string[]; cork(): void; uncork(): void } {
  const calls: string[] = [];
  return { calls, cork: () => calls.push("cork"), uncork: () => calls.push("uncork") };
}

describe("tickCork", () => {
  it("corks once for all the writes of one tick and uncorks before the next tick's I/O", async () => {
    const socket = fakeSocket();
    const hold = tickCork(socket);
    hold();
    hold();
    hold();
    expect(socket.calls).toEqual(["cork"]);
    await new Promise<void>((resolve) => process.nextTick(resolve));
    expect(socket.calls).toEqual(["cork", "uncork"]);
  });

  it("corks again in a later tick", async () => {
    const socket = fakeSocket();
    const hold = tickCork(socket);
    hold();
    await new Promise<void>((resolve) => setImmediate(resolve));
    hold();
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(socket.calls).toEqual(["cork", "uncork", "cork", "uncork"]);
  });
});
