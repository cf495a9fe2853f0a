import { describe, expect, it } from "vitest";
import { RecordingMetrics, startSingleNode } from "../testing/driver-harness.js";
import { sessionWrite } from "./session-write.js";

describe("sessionWrite", () => {
  it("builds the command a write is proposed as, with expect only when given", () => {
    const session = { clientId: "4", seq: 9 };
    expect(sessionWrite({ kind: "transition", key: "a", to: "Running", expect: undefined }, session)).toStrictEqual({ kind: "transition", key: "a", to: "Running", session });
    expect(sessionWrite({ kind: "transition", key: "a", to: "Running", expect: "Init" }, session)).toStrictEqual({
      kind: "transition",
      key: "a",
      to: "Running",
      expect: "Init",
      session,
    });
    expect(sessionWrite({ kind: "delete", key: "a", expect: undefined }, session)).toStrictEqual({ kind: "delete", key: "a", session });
    expect(sessionWrite({ kind: "delete", key: "a", expect: "Running" }, session)).toStrictEqual({ kind: "delete", key: "a", expect: "Running", session });
  });

  // The simulator's checker caught this: with `expect` added after the session, a leader's entry
  // and the same entry copied or decoded on a follower had different JSON.
  it("orders the fields as a decoded or copied command does, so its JSON is the same text everywhere", () => {
    const session = { clientId: "4", seq: 9 };
    expect(JSON.stringify(sessionWrite({ kind: "transition", key: "a", to: "Running", expect: "Init" }, session))).toBe(
      '{"kind":"transition","key":"a","to":"Running","expect":"Init","session":{"clientId":"4","seq":9}}',
    );
    expect(JSON.stringify(sessionWrite({ kind: "delete", key: "a", expect: "Running" }, session))).toBe(
      '{"kind":"delete","key":"a","expect":"Running","session":{"clientId":"4","seq":9}}',
    );
  });
});

describe("a node's writes", () => {
  it("apply with their expect and session, and each answer is counted once in proposals_total", async () => {
    const metrics = new RecordingMetrics();
    const { node, clock, storage } = await startSingleNode({ seed: 3, metrics });
    const registered = await node.registerSession();
    if (!registered.ok) throw new Error(`registration failed: ${registered.code}`);
    const session = (seq: number) => ({ clientId: registered.clientId, seq });
    const answer = async (outcome: Promise<unknown>) => {
      await clock.advance(10);
      return outcome;
    };
    // A retry joins the first request: two waiters, one answer each, both counted.
    const first = node.transition({ key: "a", to: "Running", session: session(1) });
    const retry = node.transition({ key: "a", to: "Running", session: session(1) });
    expect(await answer(Promise.all([first, retry]))).toMatchObject([{ ok: true, revision: 3 }, { ok: true, revision: 3 }]);
    expect(await answer(node.transition({ key: "a", to: "Stopped", expect: "Init", session: session(2) }))).toMatchObject({ code: "expect_failed" });
    expect(await answer(node.delete({ key: "a", expect: "Running", session: session(3) }))).toMatchObject({ ok: true, kind: "delete" });
    // The same request id with another command is refused at once, and counted.
    expect(await answer(node.transition({ key: "b", to: "Running", session: session(3) }))).toMatchObject({ code: "request_id_reused" });
    // A write without a session takes the node's own.
    expect(await answer(node.transition({ key: "c", to: "Running" }))).toMatchObject({ ok: true });
    const written = storage.entries.map((entry) => entry.command).filter((command) => command.kind === "transition" || command.kind === "delete");
    // The retry was proposed again too (its first copy could have been lost); the session applied it once.
    expect(written.slice(0, 4)).toStrictEqual([
      { kind: "transition", key: "a", to: "Running", session: session(1) },
      { kind: "transition", key: "a", to: "Running", session: session(1) },
      { kind: "transition", key: "a", to: "Stopped", expect: "Init", session: session(2) },
      { kind: "delete", key: "a", expect: "Running", session: session(3) },
    ]);
    expect(metrics.counter("proposals_total", { result: "ok" })).toBe(4);
    expect(metrics.counter("proposals_total", { result: "expect_failed" })).toBe(1);
    expect(metrics.counter("proposals_total", { result: "request_id_reused" })).toBe(1);
    await node.stop(0);
  });
});
