import { describe, expect, it } from "vitest";
import type { Clock } from "../interfaces.js";
import { PendingRequests, type PendingCommand } from "./pending-requests.js";

function fakeClock(): Clock & { nowMsValue: number } {
  return {
    nowMsValue: 0,
    nowMs() {
      return this.nowMsValue;
    },
    setTimeout: () => {
      throw new Error("PendingRequests sets no timers");
    },
    clearTimeout: () => undefined,
  };
}

const write = (key: string, to: string, seq: number, expect?: string): PendingCommand => ({
  kind: "transition",
  key,
  to,
  ...(expect === undefined ? {} : { expect }),
  session: { clientId: "7", seq },
});

describe("PendingRequests", () => {
  it("joins a retry of the same command: both waiters get the one answer", async () => {
    const pending = new PendingRequests<string>(fakeClock(), 10, 1000);
    const first = pending.add(write("a", "Running", 1));
    const retry = pending.add(write("a", "Running", 1));
    expect([first.accepted, retry.accepted, pending.size]).toEqual([true, true, 1]);
    expect(pending.settle(write("a", "Running", 1), "applied", 0)).toBe(0);
    expect(await Promise.all([first.outcome, retry.outcome])).toEqual(["applied", "applied"]);
    expect(pending.size).toBe(0);
  });

  it("refuses the same request id with another command as request_id_reused, without proposing it", async () => {
    const pending = new PendingRequests<string>(fakeClock(), 10, 1000);
    pending.add(write("a", "Running", 1));
    const reused = { ok: false, code: "request_id_reused", clientId: "7", seq: 1 };
    for (const other of [write("b", "Running", 1), write("a", "Stopped", 1), write("a", "Running", 1, "Init")]) {
      const attempt = pending.add(other);
      expect(attempt.accepted).toBe(false);
      expect(await attempt.outcome).toEqual(reused);
    }
    const deleteCommand: PendingCommand = { kind: "delete", key: "a", session: { clientId: "7", seq: 1 } };
    expect(await pending.add(deleteCommand).outcome).toEqual(reused);
    expect(pending.size).toBe(1);
  });

  it("joins a repeated session registration with the same nonce", async () => {
    const pending = new PendingRequests<string>(fakeClock(), 10, 1000);
    const first = pending.add({ kind: "register_session", nonce: "n1" });
    const again = pending.add({ kind: "register_session", nonce: "n1" });
    expect(again.accepted).toBe(true);
    pending.settle({ kind: "register_session", nonce: "n1" }, "registered", 0);
    expect(await Promise.all([first.outcome, again.outcome])).toEqual(["registered", "registered"]);
  });

  it("answers overloaded past pendingMax, and settles nothing it does not hold", async () => {
    const pending = new PendingRequests<string>(fakeClock(), 1, 1000);
    expect(pending.settle(write("a", "Running", 1), "applied", 0)).toBeNull();
    pending.add(write("a", "Running", 1));
    const second = pending.add(write("b", "Running", 2));
    expect(second.accepted).toBe(false);
    expect(await second.outcome).toEqual({ ok: false, code: "overloaded" });
    expect(pending.settle(write("b", "Running", 2), "applied", 0)).toBeNull();
  });

  it("times out a proposed request as timeout and an unproposed one as no_quorum", async () => {
    const clock = fakeClock();
    const pending = new PendingRequests<string>(clock, 10, 1000);
    const proposed = pending.add(write("a", "Running", 1));
    pending.markProposed(write("a", "Running", 1));
    const unproposed = pending.add(write("b", "Running", 2));
    clock.nowMsValue = 999;
    pending.expireDue(clock.nowMs());
    expect(pending.size).toBe(2);
    clock.nowMsValue = 1000;
    pending.expireDue(clock.nowMs());
    expect(await proposed.outcome).toEqual({ ok: false, code: "timeout" });
    expect(await unproposed.outcome).toEqual({ ok: false, code: "no_quorum" });
  });
});
